/*
 * events.c - the event stream behind the signalling protocol's sequence
 * numbers. Every durable event takes the next seq of one stream and is
 * addressed to one user or to one room, so a message to a room of 5,000 is
 * one row, not 5,000 (storage/migrations/004_room_streams.sql).
 *
 * A user's stream is their personal events plus the events of each room
 * while they were a member (memberships.joined_seq, past_memberships). The
 * seqs a user sees only go up; a reconnecting client says the last one it saw
 * and gets exactly its events after it, in order, or -ERANGE when some of
 * the stream after it was pruned and it must resync.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TYPE_MAX 64

static const char SQL_INSERT_USER[] = "INSERT INTO events (user_id, type, payload, created_at) "
                                      "VALUES (?1, ?2, ?3, ?4) RETURNING seq";
static const char SQL_INSERT_ROOM[] = "INSERT INTO events (room_id, type, payload, created_at) "
                                      "VALUES (?1, ?2, ?3, ?4) RETURNING seq";
static const char SQL_MEMBERS[] = "SELECT user_id FROM memberships WHERE room_id = ?1";
static const char SQL_HEAD[] = "SELECT coalesce((SELECT seq FROM sqlite_sequence "
                               "WHERE name = 'events'), 0)";
static const char SQL_META[] = "SELECT value FROM stream_meta WHERE key = ?1";
static const char SQL_LEGACY[] = "SELECT first_seq, last_seq, base FROM legacy_cursors "
                                 "WHERE user_id = ?1";
/* Three runs, each in seq order through its index: the user's own events, the
 * rooms they are in (since they joined), the rooms they left (while in). */
static const char SQL_SINCE[] =
    "SELECT seq, type, payload, created_at FROM events WHERE user_id = ?1 AND seq > ?2 "
    "UNION ALL "
    "SELECT e.seq, e.type, e.payload, e.created_at FROM memberships m JOIN events e "
    "  ON e.room_id = m.room_id AND e.seq > max(?2, m.joined_seq) WHERE m.user_id = ?1 "
    "UNION ALL "
    "SELECT e.seq, e.type, e.payload, e.created_at FROM past_memberships p JOIN events e "
    "  ON e.room_id = p.room_id AND e.seq > max(?2, p.joined_seq) AND e.seq <= p.left_seq "
    "  WHERE p.user_id = ?1 AND p.left_seq > ?2 "
    "ORDER BY 1 LIMIT ?3";
/* The new floor: the newest event created before ?1, but no further than the
 * ?2-th oldest row, so one call deletes at most ?2. Past that row the floor
 * stops there when any later event is old enough (the prune goes on next
 * call); otherwise it is the newest old-enough event up to it. Both lookups
 * walk at most about ?2 rows, so a call costs the same on any backlog. */
static const char SQL_PRUNE_FLOOR[] =
    "WITH top(s) AS (SELECT coalesce((SELECT seq FROM events ORDER BY seq LIMIT 1 OFFSET ?2 - 1), "
    "                                (SELECT max(seq) FROM events))) "
    "UPDATE stream_meta SET value = max(value, coalesce("
    "  CASE WHEN EXISTS (SELECT 1 FROM events, top WHERE seq > top.s AND created_at < ?1) "
    "       THEN (SELECT s FROM top) "
    "       ELSE (SELECT max(seq) FROM events, top WHERE seq <= top.s AND created_at < ?1) END, 0)) "
    "WHERE key = 'pruned_through' RETURNING value";
static const char SQL_PRUNE[] = "DELETE FROM events WHERE seq <= ?1";
static const char SQL_PRUNE_PAST[] = "DELETE FROM past_memberships WHERE left_seq <= ?1";
static const char SQL_PRUNE_LEGACY[] = "DELETE FROM legacy_cursors WHERE base + last_seq < ?1";

static int check_event(struct sto_db *db, const char *type, const char *payload)
{
    if (!sto_name_valid(type, TYPE_MAX))
        return sto_fail(db, -EINVAL, "event type must be 1..%d bytes", TYPE_MAX);
    if (!payload || !sto_utf8_valid(payload, 0))
        return sto_fail(db, -EINVAL, "event payload missing or not UTF-8");
    return 0;
}

/* One integer from sql (bound to a text at ?1, or nothing); *v = dflt when
 * there is no row. */
static int one_int(struct sto_db *db, const char *sql, const char *text, int64_t dflt, int64_t *v)
{
    sqlite3_stmt *st = sto_stmt(db, sql);
    if (!st) return sto_stmt_err(db);
    int err = 0;
    if (text) err = sto_bind_text(db, st, 1, text);
    int rc = err ? SQLITE_DONE : sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        *v = dflt;
    else
        err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return err;
}

/* Inserts one event addressed to id (a user or a room, by sql); *seq = its seq. */
static int insert_event(struct sto_db *db, const char *sql, int64_t id, const char *type,
                        const char *payload, int64_t *seq)
{
    sqlite3_stmt *st = sto_stmt(db, sql);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 4, sto_now(db));
    int err;
    if ((err = sto_bind_text(db, st, 2, type)) || (err = sto_bind_text(db, st, 3, payload))) {
        sto_stmt_done(st);
        return err;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *seq = sqlite3_column_int64(st, 0);
    else
        err = sto_sqlite_err(db, rc == SQLITE_DONE ? SQLITE_ERROR : rc);
    sto_stmt_done(st);
    /* The only constraints are the JSON check and the foreign key. */
    if (err == -EINVAL) sto_fail(db, err, "payload is not valid JSON, or no such user or room");
    return err;
}

int sto_event_append(struct sto_db *db, int64_t user_id, const char *type, const char *payload,
                     int64_t *seq)
{
    int err = check_event(db, type, payload);
    if (err) return err;
    int64_t s = 0;
    if ((err = insert_event(db, SQL_INSERT_USER, user_id, type, payload, &s))) return err;
    if (seq) *seq = s;
    return 0;
}

static int member_row(sqlite3_stmt *st, void *item)
{
    *(int64_t *)item = sqlite3_column_int64(st, 0);
    return 0;
}

int sto_event_append_room(struct sto_db *db, int64_t room_id, const char *type, const char *payload,
                          int64_t *seq, int64_t **members, size_t *n)
{
    *members = NULL;
    *n = 0;
    int err = check_event(db, type, payload);
    if (err) return err;
    /* The event and the member list it goes to, as of the same moment. */
    if ((err = sto_tx_begin(db))) return err;
    int64_t s = 0, *arr = NULL;
    size_t count = 0;
    if ((err = insert_event(db, SQL_INSERT_ROOM, room_id, type, payload, &s))) goto out;
    sqlite3_stmt *st = sto_stmt(db, SQL_MEMBERS);
    if (!st) {
        err = sto_stmt_err(db);
        goto out;
    }
    sqlite3_bind_int64(st, 1, room_id);
    err = sto_rows(db, st, sizeof(*arr), member_row, &arr, &count);
out:
    if ((err = sto_tx_end(db, err))) {
        free(arr);
        return err;
    }
    if (seq) *seq = s;
    *members = arr;
    *n = count;
    return 0;
}

int sto_event_last_seq(struct sto_db *db, int64_t user_id, int64_t *seq)
{
    (void)user_id; /* one stream: the same head for everyone */
    return one_int(db, SQL_HEAD, NULL, 0, seq);
}

/* A cursor from before 004_room_streams (1..legacy_top) into the stream's
 * numbering; -ERANGE when it cannot be translated (its events are gone). */
static int translate_legacy(struct sto_db *db, int64_t user_id, int64_t *after_seq)
{
    int64_t top = 0;
    int err = one_int(db, SQL_META, "legacy_top", 0, &top);
    if (err || *after_seq < 1 || *after_seq > top) return err;
    sqlite3_stmt *st = sto_stmt(db, SQL_LEGACY);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, user_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && *after_seq >= sqlite3_column_int64(st, 0) - 1 &&
        *after_seq <= sqlite3_column_int64(st, 1))
        *after_seq += sqlite3_column_int64(st, 2);
    else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        err = -ERANGE;
    else
        err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return err;
}

static int event_row(sqlite3_stmt *st, void *item)
{
    struct sto_event *e = item;
    e->seq = sqlite3_column_int64(st, 0);
    e->created_at = sqlite3_column_int64(st, 3);
    e->type = sto_col_strdup(st, 1);
    e->payload = sto_col_strdup(st, 2);
    if (e->type && e->payload) return 0;
    free(e->type); /* not counted, so not freed by the caller */
    free(e->payload);
    return -ENOMEM;
}

int sto_event_since(struct sto_db *db, int64_t user_id, int64_t after_seq, int limit,
                    struct sto_event **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int64_t last = 0, floor = 0;
    int err = sto_check_limit(db, limit);
    if (err) return err;
    /* Read the head first: events appended after this point only add rows
     * past the ones read below, and the client gets those live anyway. */
    if ((err = sto_event_last_seq(db, user_id, &last))) return err;
    if (after_seq < 0 || after_seq > last)
        return sto_fail(db, -EINVAL, "seq %lld was never handed out (last is %lld)",
                        (long long)after_seq, (long long)last);
    if ((err = translate_legacy(db, user_id, &after_seq)) ||
        (err = one_int(db, SQL_META, "pruned_through", 0, &floor)))
        goto fail;
    /* Pruning removes a prefix of the stream: past its end, nothing is missing. */
    if (after_seq < floor) {
        err = -ERANGE;
        goto fail;
    }
    if (after_seq == last) return 0;

    sqlite3_stmt *st = sto_stmt(db, SQL_SINCE);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, after_seq);
    sqlite3_bind_int(st, 3, limit);
    struct sto_event *arr = NULL;
    size_t count = 0;
    if ((err = sto_rows(db, st, sizeof(*arr), event_row, &arr, &count))) {
        sto_events_free(arr, count);
        return err;
    }
    *out = arr;
    *n = count;
    return 0;
fail:
    if (err == -ERANGE)
        return sto_fail(db, err, "events after seq %lld were pruned; resync",
                        (long long)after_seq);
    return err;
}

/* Raises stream_meta.pruned_through (see SQL_PRUNE_FLOOR); *floor = its value. */
static int prune_floor(struct sto_db *db, int64_t cutoff_ms, int64_t limit, int64_t *floor)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_PRUNE_FLOOR);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, cutoff_ms);
    sqlite3_bind_int64(st, 2, limit);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_ROW)
        *floor = sqlite3_column_int64(st, 0);
    else
        err = sto_sqlite_err(db, rc == SQLITE_DONE ? SQLITE_ERROR : rc);
    sto_stmt_done(st);
    return err;
}

int sto_event_prune(struct sto_db *db, int64_t cutoff_ms, int64_t limit, int64_t *n)
{
    if (limit < 1) return sto_fail(db, -EINVAL, "prune limit must be at least 1");
    int err = sto_tx_begin(db);
    if (err) return err;
    int64_t floor = 0, removed = 0;
    if ((err = prune_floor(db, cutoff_ms, limit, &floor))) goto out;
    const char *const del[] = {SQL_PRUNE, SQL_PRUNE_PAST, SQL_PRUNE_LEGACY};
    for (size_t i = 0; i < sizeof(del) / sizeof(del[0]) && !err; i++) {
        sqlite3_stmt *st = sto_stmt(db, del[i]);
        if (!st) {
            err = sto_stmt_err(db);
            break;
        }
        sqlite3_bind_int64(st, 1, floor);
        if ((err = sto_exec_stmt(db, st)) == 0 && i == 0) removed = sqlite3_changes64(db->sql);
    }
out:
    if ((err = sto_tx_end(db, err)) == 0 && n) *n = removed;
    return err;
}

void sto_events_free(struct sto_event *e, size_t n)
{
    if (!e) return;
    for (size_t i = 0; i < n; i++) {
        free(e[i].type);
        free(e[i].payload);
    }
    free(e);
}
