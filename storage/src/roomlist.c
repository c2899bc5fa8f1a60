/*
 * roomlist.c - the room list a client shows after connecting: every room the
 * user is in with the viewer's role and read position, the newest message,
 * unread and mention counts, and the members.
 *
 * Two statements whatever the number of rooms: one row per room (the room, its
 * newest message and the counts, each a bounded index lookup), then every
 * member of those rooms in room order. Asking room by room cost 1 + 3 per room
 * and made a user in a few hundred rooms wait on a thousand statements.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The unread counts are sto_unread_counts()'s (reads.c), capped the same way. */
static const char SQL_ROOMS[] =
    "SELECT r.id, r.kind, r.name, r.topic, r.created_by, r.created_at, r.archived, "
    " m.role, coalesce(p.last_read_id, 0), lm.id, lm.sender_id, lm.created_at, "
    " (SELECT count(*) FROM (SELECT 1 FROM messages x WHERE x.room_id = m.room_id "
    "   AND x.id > coalesce(p.last_read_id, 0) AND x.sender_id != ?1 AND x.deleted = 0 "
    "   LIMIT ?2)), "
    " (SELECT count(*) FROM (SELECT 1 FROM mentions t JOIN messages x ON x.id = t.message_id "
    "   WHERE t.user_id = ?1 AND t.message_id > coalesce(p.last_read_id, 0) "
    "   AND x.room_id = m.room_id AND x.sender_id != ?1 AND x.deleted = 0 LIMIT ?2)) "
    "FROM memberships m JOIN rooms r ON r.id = m.room_id "
    "LEFT JOIN read_positions p ON p.room_id = m.room_id AND p.user_id = m.user_id "
    "LEFT JOIN messages lm ON lm.id = (SELECT y.id FROM messages y WHERE y.room_id = m.room_id "
    "  ORDER BY y.id DESC LIMIT 1) "
    "WHERE m.user_id = ?1 ORDER BY r.id";
static const char SQL_MEMBERS[] =
    "SELECT x.room_id, x.user_id, x.role, x.joined_at FROM memberships m "
    "JOIN memberships x ON x.room_id = m.room_id WHERE m.user_id = ?1 "
    "ORDER BY x.room_id, x.user_id";

static int summary_from_row(sqlite3_stmt *st, void *item)
{
    struct sto_room_summary *s = item;
    memset(s, 0, sizeof *s);
    int err = sto_room_from_row(st, &s->room);
    if (err) return err;
    err = sto_role_parse((const char *)sqlite3_column_text(st, 7), &s->role);
    s->last_read_id = sqlite3_column_int64(st, 8);
    s->last_message_id = sqlite3_column_int64(st, 9); /* NULL: 0, no message yet */
    s->last_sender_id = sqlite3_column_int64(st, 10);
    s->last_created_at = sqlite3_column_int64(st, 11);
    s->unread = sqlite3_column_int64(st, 12);
    s->mentions = sqlite3_column_int64(st, 13);
    if (err) sto_room_clear(&s->room);
    return err;
}

static int read_rooms(struct sto_db *db, int64_t user_id, struct sto_room_summary **out,
                      size_t *n)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_ROOMS);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int(st, 2, STO_UNREAD_CAP);
    return sto_rows(db, st, sizeof **out, summary_from_row, out, n);
}

/* Both statements are in room id order: walk them side by side. */
static int read_members(struct sto_db *db, int64_t user_id, struct sto_room_summary *s, size_t n)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_MEMBERS);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, user_id);
    size_t i = 0, cap = 0;
    int rc, err = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t room = sqlite3_column_int64(st, 0);
        while (i < n && s[i].room.id < room) {
            i++;
            cap = 0;
        }
        if (i == n || s[i].room.id != room) continue; /* joined between the two statements */
        if ((err = sto_grow(&s[i].members, &cap, s[i].n_members, sizeof *s[i].members))) break;
        struct sto_member *m = &s[i].members[s[i].n_members];
        m->user_id = sqlite3_column_int64(st, 1);
        if ((err = sto_role_parse((const char *)sqlite3_column_text(st, 2), &m->role))) break;
        m->joined_at = sqlite3_column_int64(st, 3);
        s[i].n_members++;
    }
    if (!err && rc != SQLITE_DONE) err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return err;
}

int sto_room_summaries(struct sto_db *db, int64_t user_id, struct sto_room_summary **out,
                       size_t *n)
{
    *out = NULL;
    *n = 0;
    struct sto_room_summary *s = NULL;
    size_t count = 0;
    /* No transaction of its own (ours take the write lock): a membership that
     * changes between the two statements shows as it was in either. */
    int err = read_rooms(db, user_id, &s, &count);
    if (!err) err = read_members(db, user_id, s, count);
    if (err) {
        sto_room_summaries_free(s, count);
        return err == -ENOMEM ? sto_fail(db, err, "out of memory") : err;
    }
    *out = s;
    *n = count;
    return 0;
}

void sto_room_summaries_free(struct sto_room_summary *s, size_t n)
{
    if (!s) return;
    for (size_t i = 0; i < n; i++) {
        sto_room_clear(&s[i].room);
        free(s[i].members);
    }
    free(s);
}
