/*
 * messages.c - chat messages: insert, edit, delete and the two ways of reading
 * a room (history pages going back, catch-up going forward).
 *
 * Deleting leaves a tombstone: the row stays with an empty body and deleted = 1
 * so replies, threads and read positions keep pointing at a real id, and the
 * FTS triggers drop its text from the search index. Ids come from
 * AUTOINCREMENT: increasing, never reused, and the order of a room.
 *
 * Every page query walks the messages_room (room_id, id) index.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_INSERT[] =
    "INSERT INTO messages (room_id, sender_id, body, created_at, thread_id, reply_to) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_ROOM_OF[] = "SELECT room_id FROM messages WHERE id = ?1";
static const char SQL_STATE[] = "SELECT sender_id, room_id, deleted FROM messages WHERE id = ?1";
static const char SQL_EDIT[] = "UPDATE messages SET body = ?2, edited_at = ?3 WHERE id = ?1";
static const char SQL_TOMBSTONE[] = "UPDATE messages SET body = '', deleted = 1 WHERE id = ?1";
static const char SQL_DROP_REACTIONS[] = "DELETE FROM reactions WHERE message_id = ?1";
static const char SQL_DROP_MENTIONS[] = "DELETE FROM mentions WHERE message_id = ?1";
static const char SQL_DROP_FILES[] = "DELETE FROM message_files WHERE message_id = ?1";
static const char SQL_SITE_ADMIN[] = "SELECT is_admin FROM users WHERE id = ?1";
static const char SQL_GET[] = "SELECT " STO_MESSAGE_COLS("") " FROM messages WHERE id = ?1";
static const char SQL_PAGE[] =
    "SELECT " STO_MESSAGE_COLS("") " FROM messages "
                                   "WHERE room_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3";
static const char SQL_AFTER[] =
    "SELECT " STO_MESSAGE_COLS("") " FROM messages "
                                   "WHERE room_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3";

static int check_body(struct sto_db *db, const char *body)
{
    if (!body || !*body) return sto_fail(db, -EINVAL, "empty message");
    if (strlen(body) > STO_BODY_MAX)
        return sto_fail(db, -EMSGSIZE, "message longer than %d bytes", STO_BODY_MAX);
    if (!sto_utf8_valid(body, 0)) return sto_fail(db, -EINVAL, "message is not UTF-8");
    return 0;
}

/* A thread root or reply target must be a message of the same room. */
static int check_parent(struct sto_db *db, int64_t parent, int64_t room_id, const char *what)
{
    if (!parent) return 0;
    sqlite3_stmt *st = sto_stmt(db, SQL_ROOM_OF);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, parent);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_ROW && sqlite3_column_int64(st, 0) != room_id)
        err = sto_fail(db, -EINVAL, "%s %lld is in another room", what, (long long)parent);
    else if (rc == SQLITE_DONE)
        err = sto_fail(db, -EINVAL, "%s %lld does not exist", what, (long long)parent);
    else if (rc != SQLITE_ROW)
        err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return err;
}

int sto_message_insert(struct sto_db *db, const struct sto_message_new *m, int64_t *id,
                       int64_t *created_at)
{
    int err = check_body(db, m->body);
    if (err) return err;
    if (m->n_mentions && !m->mentions) return sto_fail(db, -EINVAL, "mentions missing");
    int64_t now = sto_now(db), new_id = 0;
    if ((err = sto_tx_begin(db))) return err;
    if ((err = sto_require_member(db, m->room_id, m->sender_id, NULL)) ||
        (err = check_parent(db, m->thread_id, m->room_id, "thread")) ||
        (err = check_parent(db, m->reply_to, m->room_id, "reply target")))
        goto out;
    sqlite3_stmt *st = sto_stmt(db, SQL_INSERT);
    if (!st) {
        err = sto_stmt_err(db);
        goto out;
    }
    sqlite3_bind_int64(st, 1, m->room_id);
    sqlite3_bind_int64(st, 2, m->sender_id);
    sqlite3_bind_int64(st, 4, now);
    if ((err = sto_bind_text(db, st, 3, m->body)) || (err = sto_bind_id(db, st, 5, m->thread_id)) ||
        (err = sto_bind_id(db, st, 6, m->reply_to))) {
        sto_stmt_done(st);
        goto out;
    }
    if ((err = sto_exec_stmt(db, st))) goto out;
    new_id = sqlite3_last_insert_rowid(db->sql);
    err = sto_mentions_insert(db, new_id, m->room_id, m->mentions, m->n_mentions);
out:
    if ((err = sto_tx_end(db, err)) == 0) {
        if (id) *id = new_id;
        if (created_at) *created_at = now;
    }
    return err;
}

struct msg_state {
    int64_t sender_id;
    int64_t room_id;
    bool deleted;
};

static int message_state(struct sto_db *db, int64_t id, struct msg_state *s)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_STATE);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_ROW) {
        s->sender_id = sqlite3_column_int64(st, 0);
        s->room_id = sqlite3_column_int64(st, 1);
        s->deleted = sqlite3_column_int(st, 2);
    } else if (rc == SQLITE_DONE) {
        err = sto_fail(db, -ENOENT, "no such message");
    } else {
        err = sto_sqlite_err(db, rc);
    }
    sto_stmt_done(st);
    return err;
}

static int run_on_id(struct sto_db *db, const char *sql, int64_t id)
{
    sqlite3_stmt *st = sto_stmt(db, sql);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, id);
    return sto_exec_stmt(db, st);
}

int sto_message_edit(struct sto_db *db, int64_t id, int64_t actor_id, const char *body,
                     const int64_t *mentions, size_t n_mentions)
{
    int err = check_body(db, body);
    if (err) return err;
    if ((err = sto_tx_begin(db))) return err;
    struct msg_state s = {0};
    if ((err = message_state(db, id, &s))) goto out;
    if (s.deleted) {
        err = sto_fail(db, -ENOENT, "message was deleted");
        goto out;
    }
    if (s.sender_id != actor_id) {
        err = sto_fail(db, -EACCES, "only the sender edits a message");
        goto out;
    }
    sqlite3_stmt *st = sto_stmt(db, SQL_EDIT);
    if (!st) {
        err = sto_stmt_err(db);
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 3, sto_now(db));
    if ((err = sto_bind_text(db, st, 2, body))) {
        sto_stmt_done(st);
        goto out;
    }
    if ((err = sto_exec_stmt(db, st))) goto out;
    if (mentions && (err = run_on_id(db, SQL_DROP_MENTIONS, id)) == 0)
        err = sto_mentions_insert(db, id, s.room_id, mentions, n_mentions);
out:
    return sto_tx_end(db, err);
}

static int is_site_admin(struct sto_db *db, int64_t user_id)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_SITE_ADMIN);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, user_id);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW)
        ret = sqlite3_column_int(st, 0);
    else if (rc != SQLITE_DONE)
        ret = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return ret;
}

/* 0 if actor may delete the message: its sender, an owner or admin of the
 * room, or a site administrator. */
static int may_delete(struct sto_db *db, const struct msg_state *s, int64_t actor_id)
{
    if (s->sender_id == actor_id) return 0;
    enum sto_role role;
    int err = sto_member_get(db, s->room_id, actor_id, &role);
    if (err == 0 && role >= STO_ROLE_ADMIN) return 0;
    if (err && err != -ENOENT) return err;
    int admin = is_site_admin(db, actor_id);
    if (admin < 0) return admin;
    return admin ? 0 : sto_fail(db, -EACCES, "not allowed to delete this message");
}

int sto_message_delete(struct sto_db *db, int64_t id, int64_t actor_id)
{
    int err = sto_tx_begin(db);
    if (err) return err;
    struct msg_state s = {0};
    if ((err = message_state(db, id, &s)) || (err = may_delete(db, &s, actor_id)) || s.deleted)
        goto out;
    if ((err = run_on_id(db, SQL_TOMBSTONE, id)) || (err = run_on_id(db, SQL_DROP_REACTIONS, id)))
        goto out;
    if (!(err = run_on_id(db, SQL_DROP_MENTIONS, id))) err = run_on_id(db, SQL_DROP_FILES, id);
out:
    return sto_tx_end(db, err);
}

int sto_message_from_row(sqlite3_stmt *st, struct sto_message *m)
{
    memset(m, 0, sizeof(*m));
    m->id = sqlite3_column_int64(st, 0);
    m->room_id = sqlite3_column_int64(st, 1);
    m->sender_id = sqlite3_column_int64(st, 2);
    m->body = sto_col_strdup(st, 3);
    m->created_at = sqlite3_column_int64(st, 4);
    m->edited_at = sqlite3_column_int64(st, 5); /* NULL reads as 0 */
    m->deleted = sqlite3_column_int(st, 6);
    m->thread_id = sqlite3_column_int64(st, 7);
    m->reply_to = sqlite3_column_int64(st, 8);
    return m->body ? 0 : -ENOMEM;
}

int sto_message_rows(struct sto_db *db, sqlite3_stmt *st, struct sto_message **out, size_t *n)
{
    struct sto_message *arr = NULL;
    size_t cap = 0, count = 0;
    int rc, err = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((err = sto_grow(&arr, &cap, count, sizeof(*arr))) ||
            (err = sto_message_from_row(st, &arr[count])))
            break;
        count++;
    }
    if (!err && rc != SQLITE_DONE) err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    if (err) {
        sto_messages_free(arr, count);
        return err == -ENOMEM ? sto_fail(db, err, "out of memory") : err;
    }
    *out = arr;
    *n = count;
    return 0;
}

int sto_message_get(struct sto_db *db, int64_t id, struct sto_message *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = sto_stmt(db, SQL_GET);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), err;
    if (rc == SQLITE_ROW)
        err = sto_message_from_row(st, out) ? sto_fail(db, -ENOMEM, "out of memory") : 0;
    else if (rc == SQLITE_DONE)
        err = sto_fail(db, -ENOENT, "no such message");
    else
        err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return err;
}

static int page(struct sto_db *db, const char *sql, int64_t room_id, int64_t from, int limit,
                struct sto_message **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int err = sto_check_limit(db, limit);
    if (err) return err;
    sqlite3_stmt *st = sto_stmt(db, sql);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, room_id);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int(st, 3, limit);
    return sto_message_rows(db, st, out, n);
}

int sto_message_page(struct sto_db *db, int64_t room_id, int64_t before_id, int limit,
                     struct sto_message **out, size_t *n)
{
    return page(db, SQL_PAGE, room_id, before_id > 0 ? before_id : INT64_MAX, limit, out, n);
}

int sto_message_after(struct sto_db *db, int64_t room_id, int64_t after_id, int limit,
                      struct sto_message **out, size_t *n)
{
    return page(db, SQL_AFTER, room_id, after_id, limit, out, n);
}

void sto_message_clear(struct sto_message *m)
{
    if (!m) return;
    free(m->body);
    memset(m, 0, sizeof(*m));
}

void sto_messages_free(struct sto_message *m, size_t n)
{
    if (!m) return;
    for (size_t i = 0; i < n; i++)
        sto_message_clear(&m[i]);
    free(m);
}
