/*
 * attachments.c - files attached to messages.
 *
 * Attaching also shares the file into the message's room (file_rooms), so
 * every member may download it: the sender must be able to read the file,
 * which stops anyone from attaching an id they merely guessed.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_MSG[] = "SELECT sender_id, room_id, deleted FROM messages WHERE id = ?1";
static const char SQL_LINK[] =
    "INSERT INTO message_files (message_id, position, file_id) VALUES (?1, ?2, ?3)";
static const char SQL_SHARE[] =
    "INSERT OR IGNORE INTO file_rooms (file_id, room_id, uploader_id, created_at) "
    "VALUES (?1, ?2, ?3, ?4)";
static const char SQL_LIST[] =
    "SELECT f.id, f.size, f.mime, f.name, f.uploader_id, coalesce(f.room_id, 0), f.created_at "
    "FROM message_files mf JOIN files f ON f.id = mf.file_id "
    "WHERE mf.message_id = ?1 ORDER BY mf.position";

static int message_owner(struct sto_db *db, int64_t id, int64_t *sender, int64_t *room,
                         bool *deleted)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_MSG);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_ROW) {
        *sender = sqlite3_column_int64(st, 0);
        *room = sqlite3_column_int64(st, 1);
        *deleted = sqlite3_column_int(st, 2);
    } else {
        err = rc == SQLITE_DONE ? sto_fail(db, -ENOENT, "no such message") : sto_sqlite_err(db, rc);
    }
    sto_stmt_done(st);
    return err;
}

static int link_one(struct sto_db *db, int64_t message_id, int64_t room, int64_t actor, int pos,
                    const char *file_id)
{
    int err = sto_file_can_read(db, actor, file_id);
    if (err) return err;
    sqlite3_stmt *st = sto_stmt(db, SQL_LINK);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, message_id);
    sqlite3_bind_int64(st, 2, pos);
    if ((err = sto_bind_text(db, st, 3, file_id)) || (err = sto_exec_stmt(db, st))) {
        sto_stmt_done(st);
        return err;
    }
    if (!(st = sto_stmt(db, SQL_SHARE))) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 2, room);
    sqlite3_bind_int64(st, 3, actor);
    sqlite3_bind_int64(st, 4, sto_now(db));
    if ((err = sto_bind_text(db, st, 1, file_id))) {
        sto_stmt_done(st);
        return err;
    }
    return sto_exec_stmt(db, st);
}

int sto_message_attach(struct sto_db *db, int64_t message_id, int64_t actor_id,
                       const char *const *file_ids, size_t n)
{
    if (n > STO_ATTACH_MAX) return sto_fail(db, -EINVAL, "at most %d files", STO_ATTACH_MAX);
    int err = sto_tx_begin(db);
    if (err) return err;
    int64_t sender = 0, room = 0;
    bool deleted = false;
    if ((err = message_owner(db, message_id, &sender, &room, &deleted))) goto out;
    if (sender != actor_id || deleted) {
        err = sto_fail(db, -EACCES, "only the sender attaches files to a live message");
        goto out;
    }
    for (size_t i = 0; i < n && !err; i++) {
        for (size_t k = 0; k < i && !err; k++)
            if (strcmp(file_ids[k], file_ids[i]) == 0)
                err = sto_fail(db, -EINVAL, "a file is attached twice");
        if (!err) err = link_one(db, message_id, room, actor_id, (int)i, file_ids[i]);
    }
    if (err == -EEXIST) err = sto_fail(db, -EEXIST, "the message already has attachments");
out:
    return sto_tx_end(db, err);
}

int sto_message_files(struct sto_db *db, int64_t message_id, struct sto_file **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sto_stmt(db, SQL_LIST);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, message_id);
    struct sto_file *arr = NULL;
    size_t cap = 0, count = 0;
    int rc, err = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((err = sto_grow(&arr, &cap, count, sizeof(*arr)))) break;
        if ((err = sto_file_from_row(st, &arr[count]))) break;
        count++;
    }
    if (!err && rc != SQLITE_DONE) err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    if (err) {
        sto_files_free(arr, count);
        return err == -ENOMEM ? sto_fail(db, err, "out of memory") : err;
    }
    *out = arr;
    *n = count;
    return 0;
}

void sto_files_free(struct sto_file *f, size_t n)
{
    if (!f) return;
    for (size_t i = 0; i < n; i++) sto_file_clear(&f[i]);
    free(f);
}
