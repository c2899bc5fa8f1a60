-- 004_room_streams: a room's event is stored once, not once per member.
--
-- Before, every event was copied into each member's log (events keyed by user
-- and a per-user seq 1, 2, 3, ...): a message to a room of 500 cost 500 rows
-- and 500 counter updates in its commit. Now every event takes the next
-- number of one stream (events.seq, AUTOINCREMENT: never reused, even after
-- pruning) and is addressed either to one user (user_id) or to one room
-- (room_id). A user's stream is their own events plus each room's events
-- from when they joined it to when they left it; memberships.joined_seq and
-- past_memberships hold those bounds, kept by the triggers below so that
-- every way in and out of a room is covered. The seqs a user sees still only
-- go up, but no longer one by one.
--
-- Pruning removes a prefix of the stream: stream_meta.pruned_through is the
-- highest seq that may be gone, so a cursor below it means "resync".
--
-- Existing data: each old (user, seq) event becomes a personal event, numbered
-- after the largest old seq (legacy_top), user after user in old seq order.
-- A client that still holds an old cursor (1..legacy_top) is translated with
-- legacy_cursors (new = base + old); one number is skipped after the copied
-- events, so no cursor handed out from now on can be mistaken for an old one.

CREATE TABLE stream_meta (
    key           TEXT PRIMARY KEY,
    value         INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO stream_meta (key, value)
    SELECT 'legacy_top', coalesce(max(last_seq), 0) FROM event_seqs;
INSERT INTO stream_meta (key, value) VALUES ('pruned_through', 0);

ALTER TABLE events RENAME TO events_v3;
DROP INDEX events_created;

CREATE TABLE events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER REFERENCES users(id) ON DELETE CASCADE,
    room_id       INTEGER REFERENCES rooms(id) ON DELETE CASCADE,
    type          TEXT NOT NULL,
    payload       TEXT NOT NULL CHECK (json_valid(payload)),
    created_at    INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (room_id IS NULL))
) STRICT;
CREATE INDEX events_user ON events(user_id, seq) WHERE user_id IS NOT NULL;
CREATE INDEX events_room ON events(room_id, seq) WHERE room_id IS NOT NULL;
CREATE INDEX events_created ON events(created_at);

INSERT INTO events (seq, user_id, room_id, type, payload, created_at)
    SELECT (SELECT value FROM stream_meta WHERE key = 'legacy_top')
               + row_number() OVER (ORDER BY user_id, seq),
           user_id, NULL, type, payload, created_at
    FROM events_v3;

-- new seq = base + old seq, for old seqs first_seq - 1 .. last_seq (the old
-- log of a user is a run of consecutive seqs: pruning removed its oldest).
CREATE TABLE legacy_cursors (
    user_id       INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    first_seq     INTEGER NOT NULL,
    last_seq      INTEGER NOT NULL,
    base          INTEGER NOT NULL
) STRICT;
INSERT INTO legacy_cursors (user_id, first_seq, last_seq, base)
    SELECT s.user_id,
           coalesce((SELECT min(o.seq) FROM events_v3 o WHERE o.user_id = s.user_id),
                    s.last_seq + 1),
           s.last_seq,
           coalesce((SELECT min(e.seq) FROM events e WHERE e.user_id = s.user_id)
                        - (SELECT min(o.seq) FROM events_v3 o WHERE o.user_id = s.user_id),
                    (SELECT value FROM stream_meta WHERE key = 'legacy_top') - s.last_seq)
    FROM event_seqs s;

DELETE FROM sqlite_sequence WHERE name = 'events';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'events', value + (SELECT count(*) FROM events_v3) + (value > 0)
    FROM stream_meta WHERE key = 'legacy_top';

DROP TABLE events_v3;
DROP TABLE event_seqs;

-- Room membership over time, in stream positions: a member sees the room's
-- events with joined_seq < seq (<= left_seq once gone).
ALTER TABLE memberships ADD COLUMN joined_seq INTEGER NOT NULL DEFAULT 0;

CREATE TABLE past_memberships (
    user_id       INTEGER NOT NULL,
    room_id       INTEGER NOT NULL,
    joined_seq    INTEGER NOT NULL,
    left_seq      INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id, joined_seq)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER memberships_joined AFTER INSERT ON memberships BEGIN
    UPDATE memberships
        SET joined_seq = coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)
        WHERE room_id = NEW.room_id AND user_id = NEW.user_id;
END;

CREATE TRIGGER memberships_left AFTER DELETE ON memberships BEGIN
    INSERT OR REPLACE INTO past_memberships (user_id, room_id, joined_seq, left_seq)
        SELECT OLD.user_id, OLD.room_id, OLD.joined_seq, s.seq
        FROM sqlite_sequence s WHERE s.name = 'events' AND s.seq > OLD.joined_seq;
END;
