/*
 * reactions.c - what hangs off a message: emoji reactions (one of each emoji
 * per user) and mentions. Both are dropped when the message becomes a
 * tombstone, and only members of the message's room can react or be mentioned.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_TARGET[] = "SELECT room_id, deleted FROM messages WHERE id = ?1";
static const char SQL_ADD[] = "INSERT INTO reactions (message_id, user_id, emoji, created_at) "
                              "VALUES (?1, ?2, ?3, ?4)";
static const char SQL_REMOVE[] =
    "DELETE FROM reactions WHERE message_id = ?1 AND user_id = ?2 AND emoji = ?3";
static const char SQL_LIST[] = "SELECT user_id, emoji, created_at FROM reactions "
                               "WHERE message_id = ?1 ORDER BY created_at, user_id, emoji";
static const char SQL_MENTION_ADD[] =
    "INSERT OR IGNORE INTO mentions (message_id, user_id) VALUES (?1, ?2)";
static const char SQL_MENTIONS[] =
    "SELECT user_id FROM mentions WHERE message_id = ?1 ORDER BY user_id";
static const char SQL_INBOX[] =
    "SELECT " STO_MESSAGE_COLS("m.") " FROM mentions x "
                                     "JOIN messages m ON m.id = x.message_id "
                                     "WHERE x.user_id = ?1 AND x.message_id < ?2 AND m.deleted = 0 "
                                     "AND m.room_id IN (SELECT room_id FROM memberships "
                                     "WHERE user_id = ?1) "
                                     "ORDER BY x.message_id DESC LIMIT ?3";

/* The room of a live message; -ENOENT for a missing message or a tombstone. */
static int live_message_room(struct sto_db *db, int64_t message_id, int64_t *room_id)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_TARGET);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, message_id);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_ROW && !sqlite3_column_int(st, 1))
        *room_id = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        err = sto_fail(db, -ENOENT, "no such message");
    else
        err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return err;
}

static int check_emoji(struct sto_db *db, const char *emoji)
{
    if (!sto_name_valid(emoji, STO_EMOJI_MAX))
        return sto_fail(db, -EINVAL, "emoji must be 1..%d bytes of text", STO_EMOJI_MAX);
    return 0;
}

int sto_reaction_add(struct sto_db *db, int64_t message_id, int64_t user_id, const char *emoji)
{
    int err = check_emoji(db, emoji);
    if (err) return err;
    if ((err = sto_tx_begin(db))) return err;
    int64_t room_id = 0;
    if ((err = live_message_room(db, message_id, &room_id)) ||
        (err = sto_require_member(db, room_id, user_id, NULL)))
        goto out;
    sqlite3_stmt *st = sto_stmt(db, SQL_ADD);
    if (!st) {
        err = sto_stmt_err(db);
        goto out;
    }
    sqlite3_bind_int64(st, 1, message_id);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 4, sto_now(db));
    if ((err = sto_bind_text(db, st, 3, emoji))) {
        sto_stmt_done(st);
        goto out;
    }
    if ((err = sto_exec_stmt(db, st)) == -EEXIST)
        sto_fail(db, err, "already reacted with this emoji");
out:
    return sto_tx_end(db, err);
}

int sto_reaction_remove(struct sto_db *db, int64_t message_id, int64_t user_id, const char *emoji)
{
    int err = check_emoji(db, emoji);
    if (err) return err;
    sqlite3_stmt *st = sto_stmt(db, SQL_REMOVE);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, message_id);
    sqlite3_bind_int64(st, 2, user_id);
    if ((err = sto_bind_text(db, st, 3, emoji))) {
        sto_stmt_done(st);
        return err;
    }
    err = sto_exec_stmt(db, st);
    if (err == 0 && sqlite3_changes(db->sql) == 0) err = sto_fail(db, -ENOENT, "no such reaction");
    return err;
}

int sto_reaction_list(struct sto_db *db, int64_t message_id, struct sto_reaction **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sto_stmt(db, SQL_LIST);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, message_id);
    struct sto_reaction *arr = NULL;
    size_t cap = 0, count = 0;
    int rc, err = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((err = sto_grow(&arr, &cap, count, sizeof(*arr)))) break;
        arr[count].user_id = sqlite3_column_int64(st, 0);
        arr[count].created_at = sqlite3_column_int64(st, 2);
        if (!(arr[count].emoji = sto_col_strdup(st, 1))) {
            err = -ENOMEM;
            break;
        }
        count++;
    }
    if (!err && rc != SQLITE_DONE) err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    if (err) {
        sto_reactions_free(arr, count);
        return err == -ENOMEM ? sto_fail(db, err, "out of memory") : err;
    }
    *out = arr;
    *n = count;
    return 0;
}

void sto_reactions_free(struct sto_reaction *r, size_t n)
{
    if (!r) return;
    for (size_t i = 0; i < n; i++)
        free(r[i].emoji);
    free(r);
}

int sto_mentions_insert(struct sto_db *db, int64_t message_id, int64_t room_id, const int64_t *ids,
                        size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int err = sto_member_get(db, room_id, ids[i], NULL);
        if (err == -ENOENT)
            return sto_fail(db, -EINVAL, "mentioned user %lld is not a member of the room",
                            (long long)ids[i]);
        if (err) return err;
        sqlite3_stmt *st = sto_stmt(db, SQL_MENTION_ADD);
        if (!st) return sto_stmt_err(db);
        sqlite3_bind_int64(st, 1, message_id);
        sqlite3_bind_int64(st, 2, ids[i]);
        if ((err = sto_exec_stmt(db, st))) return err;
    }
    return 0;
}

int sto_mention_list(struct sto_db *db, int64_t message_id, int64_t **user_ids, size_t *n)
{
    *user_ids = NULL;
    *n = 0;
    sqlite3_stmt *st = sto_stmt(db, SQL_MENTIONS);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, message_id);
    int64_t *arr = NULL;
    size_t cap = 0, count = 0;
    int rc, err = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((err = sto_grow(&arr, &cap, count, sizeof(*arr)))) break;
        arr[count++] = sqlite3_column_int64(st, 0);
    }
    if (!err && rc != SQLITE_DONE) err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    if (err) {
        free(arr);
        return err == -ENOMEM ? sto_fail(db, err, "out of memory") : err;
    }
    *user_ids = arr;
    *n = count;
    return 0;
}

int sto_mention_inbox(struct sto_db *db, int64_t user_id, int64_t before_id, int limit,
                      struct sto_message **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int err = sto_check_limit(db, limit);
    if (err) return err;
    sqlite3_stmt *st = sto_stmt(db, SQL_INBOX);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, before_id > 0 ? before_id : INT64_MAX);
    sqlite3_bind_int(st, 3, limit);
    return sto_message_rows(db, st, out, n);
}
