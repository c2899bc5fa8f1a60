/*
 * events.c - the per-user event log behind the signalling protocol's
 * sequence numbers. Every event for a user gets the next seq (1, 2, 3, ...);
 * a reconnecting client says the last seq it saw and gets exactly the events
 * after it, or -ERANGE when some of those were pruned and it must resync.
 *
 * The counter lives in event_seqs, apart from the events, so pruning can
 * never make a seq be handed out twice.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TYPE_MAX 64

static const char SQL_NEXT_SEQ[] =
    "INSERT INTO event_seqs (user_id, last_seq) VALUES (?1, 1) "
    "ON CONFLICT (user_id) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq";
static const char SQL_INSERT[] = "INSERT INTO events (user_id, seq, type, payload, created_at) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_ROOM_SEQS[] = "INSERT INTO event_seqs (user_id, last_seq) "
                                    "SELECT user_id, 1 FROM memberships WHERE room_id = ?1 "
                                    "ON CONFLICT (user_id) DO UPDATE SET last_seq = last_seq + 1";
static const char SQL_ROOM_INSERT[] =
    "INSERT INTO events (user_id, seq, type, payload, created_at) "
    "SELECT m.user_id, s.last_seq, ?2, ?3, ?4 FROM memberships m "
    "JOIN event_seqs s ON s.user_id = m.user_id WHERE m.room_id = ?1 "
    "RETURNING user_id, seq";
static const char SQL_LAST[] = "SELECT last_seq FROM event_seqs WHERE user_id = ?1";
static const char SQL_SINCE[] = "SELECT seq, type, payload, created_at FROM events "
                                "WHERE user_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3";
static const char SQL_PRUNE[] = "DELETE FROM events WHERE created_at < ?1";

static int check_event(struct sto_db *db, const char *type, const char *payload)
{
    if (!sto_name_valid(type, TYPE_MAX))
        return sto_fail(db, -EINVAL, "event type must be 1..%d bytes", TYPE_MAX);
    if (!payload || !sto_utf8_valid(payload, 0))
        return sto_fail(db, -EINVAL, "event payload missing or not UTF-8");
    return 0;
}

/* Binds type, payload and now at first, first + 1, first + 2. */
static int bind_event(struct sto_db *db, sqlite3_stmt *st, int first, const char *type,
                      const char *payload)
{
    sqlite3_bind_int64(st, first + 2, sto_now(db));
    int err;
    if ((err = sto_bind_text(db, st, first, type)) ||
        (err = sto_bind_text(db, st, first + 1, payload))) {
        sto_stmt_done(st);
        return err;
    }
    return 0;
}

static int insert_failed(struct sto_db *db, int err)
{
    /* The only constraints left are the JSON check and the user foreign key. */
    if (err == -EINVAL) sto_fail(db, err, "payload is not valid JSON, or no such user");
    return err;
}

int sto_event_append(struct sto_db *db, int64_t user_id, const char *type, const char *payload,
                     int64_t *seq)
{
    int err = check_event(db, type, payload);
    if (err) return err;
    if ((err = sto_tx_begin(db))) return err;
    int64_t s = 0;
    sqlite3_stmt *st = sto_stmt(db, SQL_NEXT_SEQ);
    if (!st) {
        err = sto_stmt_err(db);
        goto out;
    }
    sqlite3_bind_int64(st, 1, user_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        s = sqlite3_column_int64(st, 0);
    else
        err = insert_failed(db, sto_sqlite_err(db, rc));
    sto_stmt_done(st);
    if (err) goto out;
    if (!(st = sto_stmt(db, SQL_INSERT))) {
        err = sto_stmt_err(db);
        goto out;
    }
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, s);
    if ((err = bind_event(db, st, 3, type, payload))) goto out;
    err = insert_failed(db, sto_exec_stmt(db, st));
out:
    if ((err = sto_tx_end(db, err)) == 0 && seq) *seq = s;
    return err;
}

int sto_event_append_room(struct sto_db *db, int64_t room_id, const char *type, const char *payload,
                          struct sto_event_target **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int err = check_event(db, type, payload);
    if (err) return err;
    if ((err = sto_tx_begin(db))) return err;
    struct sto_event_target *arr = NULL;
    size_t cap = 0, count = 0;
    sqlite3_stmt *st = sto_stmt(db, SQL_ROOM_SEQS);
    if (!st) {
        err = sto_stmt_err(db);
        goto out;
    }
    sqlite3_bind_int64(st, 1, room_id);
    if ((err = sto_exec_stmt(db, st))) goto out;
    if (!(st = sto_stmt(db, SQL_ROOM_INSERT))) {
        err = sto_stmt_err(db);
        goto out;
    }
    sqlite3_bind_int64(st, 1, room_id);
    if ((err = bind_event(db, st, 2, type, payload))) goto out;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((err = sto_grow(&arr, &cap, count, sizeof(*arr)))) {
            sto_fail(db, err, "out of memory");
            break;
        }
        arr[count].user_id = sqlite3_column_int64(st, 0);
        arr[count].seq = sqlite3_column_int64(st, 1);
        count++;
    }
    if (!err && rc != SQLITE_DONE) err = insert_failed(db, sto_sqlite_err(db, rc));
    sto_stmt_done(st);
out:
    if ((err = sto_tx_end(db, err))) {
        free(arr);
        return err;
    }
    *out = arr;
    *n = count;
    return 0;
}

int sto_event_last_seq(struct sto_db *db, int64_t user_id, int64_t *seq)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_LAST);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, user_id);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_ROW)
        *seq = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        *seq = 0;
    else
        err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return err;
}

int sto_event_since(struct sto_db *db, int64_t user_id, int64_t after_seq, int limit,
                    struct sto_event **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int64_t last = 0;
    int err = sto_check_limit(db, limit);
    if (err) return err;
    /* Read the counter first: events appended after this point only add rows
     * past the ones checked below, and the client gets those live anyway. */
    if ((err = sto_event_last_seq(db, user_id, &last))) return err;
    if (after_seq < 0 || after_seq > last)
        return sto_fail(db, -EINVAL, "seq %lld was never handed out (last is %lld)",
                        (long long)after_seq, (long long)last);
    if (after_seq == last) return 0;

    sqlite3_stmt *st = sto_stmt(db, SQL_SINCE);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, after_seq);
    sqlite3_bind_int(st, 3, limit);
    struct sto_event *arr = NULL;
    size_t cap = 0, count = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* Seqs are consecutive; a hole means pruned events in between. */
        if (sqlite3_column_int64(st, 0) != after_seq + 1 + (int64_t)count) {
            err = -ERANGE;
            break;
        }
        if ((err = sto_grow(&arr, &cap, count, sizeof(*arr)))) break;
        struct sto_event *e = &arr[count];
        e->seq = sqlite3_column_int64(st, 0);
        e->created_at = sqlite3_column_int64(st, 3);
        e->type = sto_col_strdup(st, 1);
        e->payload = sto_col_strdup(st, 2);
        count++;
        if (!e->type || !e->payload) {
            err = -ENOMEM;
            break;
        }
    }
    if (!err && rc != SQLITE_DONE) err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    if (!err && count == 0) err = -ERANGE; /* after_seq < last, yet nothing is left after it */
    if (err) {
        sto_events_free(arr, count);
        if (err == -ERANGE)
            return sto_fail(db, err, "events after seq %lld were pruned; resync",
                            (long long)after_seq);
        return err == -ENOMEM ? sto_fail(db, err, "out of memory") : err;
    }
    *out = arr;
    *n = count;
    return 0;
}

int sto_event_prune(struct sto_db *db, int64_t cutoff_ms, int64_t *n)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_PRUNE);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, cutoff_ms);
    int err = sto_exec_stmt(db, st);
    if (err == 0 && n) *n = sqlite3_changes64(db->sql);
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
