/*
 * reads.c - how far each member has read each room, and the unread and
 * mention counts a client shows next to its room list.
 *
 * A read position only moves forward: with two devices open, the one that is
 * behind must not mark messages unread again. It disappears with the
 * membership (foreign key cascade). An id past the room's newest message is
 * clamped to it, so messages that arrive later still count as unread.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

static const char SQL_SET[] =
    "INSERT INTO read_positions (room_id, user_id, last_read_id, updated_at) "
    "VALUES (?1, ?2, min(?3, (SELECT coalesce(max(id), 0) FROM messages WHERE room_id = ?1)), "
    "?4) ON CONFLICT (room_id, user_id) DO UPDATE "
    "SET last_read_id = excluded.last_read_id, updated_at = excluded.updated_at "
    "WHERE excluded.last_read_id > last_read_id";
static const char SQL_GET[] =
    "SELECT coalesce(r.last_read_id, 0) FROM memberships m LEFT JOIN read_positions r "
    "ON r.room_id = m.room_id AND r.user_id = m.user_id "
    "WHERE m.room_id = ?1 AND m.user_id = ?2";
static const char SQL_ROOM[] =
    "SELECT m.user_id, coalesce(r.last_read_id, 0) FROM memberships m LEFT JOIN read_positions r "
    "ON r.room_id = m.room_id AND r.user_id = m.user_id WHERE m.room_id = ?1 ORDER BY m.user_id";
/* Each count is a range scan of messages_room (or mentions_user) that stops at
 * the cap, so a room with a huge backlog costs no more than STO_UNREAD_CAP rows. */
static const char SQL_UNREAD[] =
    "SELECT m.room_id, coalesce(r.last_read_id, 0) AS pos, "
    " (SELECT count(*) FROM (SELECT 1 FROM messages x WHERE x.room_id = m.room_id "
    "   AND x.id > coalesce(r.last_read_id, 0) AND x.sender_id != ?1 AND x.deleted = 0 "
    "   LIMIT ?2)), "
    " (SELECT count(*) FROM (SELECT 1 FROM mentions t JOIN messages x ON x.id = t.message_id "
    "   WHERE t.user_id = ?1 AND t.message_id > coalesce(r.last_read_id, 0) "
    "   AND x.room_id = m.room_id AND x.sender_id != ?1 AND x.deleted = 0 LIMIT ?2)) "
    "FROM memberships m LEFT JOIN read_positions r "
    "ON r.room_id = m.room_id AND r.user_id = m.user_id "
    "WHERE m.user_id = ?1 ORDER BY m.room_id";

int sto_read_set(struct sto_db *db, int64_t room_id, int64_t user_id, int64_t message_id)
{
    if (message_id < 0) return sto_fail(db, -EINVAL, "bad message id");
    sqlite3_stmt *st = sto_stmt(db, SQL_SET);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, room_id);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 3, message_id);
    sqlite3_bind_int64(st, 4, sto_now(db));
    int err = sto_exec_stmt(db, st);
    if (err == -EINVAL) /* the foreign key to memberships */
        return sto_fail(db, -EACCES, "user %lld is not a member of room %lld", (long long)user_id,
                        (long long)room_id);
    return err;
}

int sto_read_get(struct sto_db *db, int64_t room_id, int64_t user_id, int64_t *message_id)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_GET);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, room_id);
    sqlite3_bind_int64(st, 2, user_id);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_ROW)
        *message_id = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        err = sto_fail(db, -ENOENT, "not a member");
    else
        err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return err;
}

static int position_row(sqlite3_stmt *st, void *item)
{
    struct sto_read_position *p = item;
    p->user_id = sqlite3_column_int64(st, 0);
    p->last_read_id = sqlite3_column_int64(st, 1);
    return 0;
}

int sto_read_positions(struct sto_db *db, int64_t room_id, struct sto_read_position **out,
                       size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sto_stmt(db, SQL_ROOM);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, room_id);
    int err = sto_rows(db, st, sizeof **out, position_row, out, n);
    if (err) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return err;
}

static int unread_row(sqlite3_stmt *st, void *item)
{
    struct sto_unread *u = item;
    u->room_id = sqlite3_column_int64(st, 0);
    u->last_read_id = sqlite3_column_int64(st, 1);
    u->unread = sqlite3_column_int64(st, 2);
    u->mentions = sqlite3_column_int64(st, 3);
    return 0;
}

int sto_unread_counts(struct sto_db *db, int64_t user_id, struct sto_unread **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sto_stmt(db, SQL_UNREAD);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int(st, 2, STO_UNREAD_CAP);
    int err = sto_rows(db, st, sizeof **out, unread_row, out, n);
    if (err) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return err;
}
