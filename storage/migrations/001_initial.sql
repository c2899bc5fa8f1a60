-- 001_initial: the chat schema.
--
-- Times are integer milliseconds since the Unix epoch (UTC). Ids are SQLite rowids.
-- Users, rooms and messages are never deleted by the service: users are disabled,
-- rooms archived, messages turned into tombstones. Cascades exist so that an
-- administrator's purge of a room removes everything that hangs off it.

-- 'LNTR': marks the file as a lanturn database (checked at open and before a restore).
PRAGMA application_id = 1280201810;

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL COLLATE NOCASE UNIQUE,
    display_name  TEXT NOT NULL DEFAULT '',
    -- Opaque to storage: written and read by the auth module.
    pw_hash       BLOB,
    pw_salt       BLOB,
    pw_params     TEXT,
    is_admin      INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    token_hash    BLOB NOT NULL UNIQUE,     -- SHA-256 of the bearer token, never the token
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked       INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
    last_seen_at  INTEGER NOT NULL,
    user_agent    TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE rooms (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('direct', 'group')),
    name          TEXT NOT NULL DEFAULT '',
    topic         TEXT NOT NULL DEFAULT '',
    created_by    INTEGER NOT NULL REFERENCES users(id),
    created_at    INTEGER NOT NULL,
    archived      INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    -- 'low:high' user ids for a direct room, so each pair has exactly one; NULL for groups.
    direct_key    TEXT UNIQUE,
    CHECK ((kind = 'direct') = (direct_key IS NOT NULL))
) STRICT;

CREATE TABLE memberships (
    room_id       INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_at     INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX memberships_user ON memberships(user_id, room_id);

-- AUTOINCREMENT: a message id is never reused, even after a purge, because read
-- positions, replies and clients' caches refer to ids.
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id       INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    sender_id     INTEGER NOT NULL REFERENCES users(id),
    body          TEXT NOT NULL,            -- '' once deleted
    created_at    INTEGER NOT NULL,
    edited_at     INTEGER,                  -- NULL: never edited
    deleted       INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    thread_id     INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    reply_to      INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    CHECK (deleted = 0 OR body = '')
) STRICT;
-- History pages walk (room_id, id); sender_id and deleted make it covering for
-- unread counts, which then never touch the table rows.
CREATE INDEX messages_room ON messages(room_id, id, sender_id, deleted);
CREATE INDEX messages_thread ON messages(thread_id, id) WHERE thread_id IS NOT NULL;
CREATE INDEX messages_reply ON messages(reply_to) WHERE reply_to IS NOT NULL;

CREATE TABLE reactions (
    message_id    INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    emoji         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
) STRICT, WITHOUT ROWID;

CREATE TABLE mentions (
    message_id    INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX mentions_user ON mentions(user_id, message_id);

-- A read position exists only while its membership does.
CREATE TABLE read_positions (
    room_id       INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    last_read_id  INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id),
    FOREIGN KEY (room_id, user_id) REFERENCES memberships(room_id, user_id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- The last sequence number handed to each user. Kept apart from events so that
-- pruning every event of a user never lets a sequence number be reused.
CREATE TABLE event_seqs (
    user_id       INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    last_seq      INTEGER NOT NULL
) STRICT;

CREATE TABLE events (
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    type          TEXT NOT NULL,
    payload       TEXT NOT NULL CHECK (json_valid(payload)),
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX events_created ON events(created_at);

-- One row per stored content; the bytes live in <data>/files/ab/cdef... named by
-- the lowercase hex SHA-256 (id). Metadata is that of the first upload.
CREATE TABLE files (
    id            TEXT PRIMARY KEY CHECK (length(id) = 64),
    size          INTEGER NOT NULL CHECK (size >= 0),
    mime          TEXT NOT NULL,
    name          TEXT NOT NULL,
    uploader_id   INTEGER NOT NULL REFERENCES users(id),
    room_id       INTEGER REFERENCES rooms(id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Every room a content was shared in: who may download it.
CREATE TABLE file_rooms (
    file_id       TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    room_id       INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    uploader_id   INTEGER NOT NULL REFERENCES users(id),
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (file_id, room_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX file_rooms_room ON file_rooms(room_id);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    actor_id      INTEGER REFERENCES users(id) ON DELETE SET NULL,   -- NULL: the system
    action        TEXT NOT NULL,
    target        TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_log_at ON audit_log(at);
