/*
 * users.c - accounts: names, display names, admin and disabled flags, and the
 * password verifier the auth module hands us as opaque bytes.
 *
 * Users are never deleted (their messages and audit entries point at them);
 * disabling one also revokes every session in the same transaction, so a
 * disabled user is out at once.
 */
#include "internal.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define USER_COLS "id, name, display_name, is_admin, disabled, created_at"

static const char SQL_CREATE[] =
    "INSERT INTO users (name, display_name, pw_hash, pw_salt, pw_params, is_admin, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_GET[] = "SELECT " USER_COLS " FROM users WHERE id = ?1";
static const char SQL_BY_NAME[] = "SELECT " USER_COLS " FROM users WHERE name = ?1";
static const char SQL_LIST[] = "SELECT " USER_COLS " FROM users WHERE id > ?1 ORDER BY id LIMIT ?2";
static const char SQL_SET_PW[] =
    "UPDATE users SET pw_hash = ?2, pw_salt = ?3, pw_params = ?4 WHERE id = ?1";
static const char SQL_GET_PW[] =
    "SELECT pw_hash, pw_salt, pw_params FROM users WHERE id = ?1 AND pw_hash IS NOT NULL";
static const char SQL_SET_DISPLAY[] = "UPDATE users SET display_name = ?2 WHERE id = ?1";
static const char SQL_SET_ADMIN[] = "UPDATE users SET is_admin = ?2 WHERE id = ?1";
static const char SQL_SET_DISABLED[] = "UPDATE users SET disabled = ?2 WHERE id = ?1";
static const char SQL_REVOKE_ALL[] = "UPDATE sessions SET revoked = 1 WHERE user_id = ?1";

static int check_password(struct sto_db *db, const struct sto_password *pw)
{
    if (!pw->hash || !pw->hash_len || !pw->salt || !pw->salt_len || !pw->params ||
        !sto_utf8_valid(pw->params, 1024))
        return sto_fail(db, -EINVAL, "incomplete password verifier");
    return 0;
}

static int bind_password(struct sto_db *db, sqlite3_stmt *st, int first,
                         const struct sto_password *pw)
{
    int err;
    if (!pw) {
        sqlite3_bind_null(st, first);
        sqlite3_bind_null(st, first + 1);
        sqlite3_bind_null(st, first + 2);
        return 0;
    }
    if ((err = sto_bind_blob(db, st, first, pw->hash, pw->hash_len)) ||
        (err = sto_bind_blob(db, st, first + 1, pw->salt, pw->salt_len)) ||
        (err = sto_bind_text(db, st, first + 2, pw->params)))
        return err;
    return 0;
}

int sto_user_create(struct sto_db *db, const char *name, const char *display_name, bool is_admin,
                    const struct sto_password *pw, int64_t *id)
{
    int err;
    if (!sto_name_valid(name, STO_NAME_MAX))
        return sto_fail(db, -EINVAL, "user name must be 1..%d bytes of text", STO_NAME_MAX);
    if (display_name && !sto_utf8_valid(display_name, STO_DISPLAY_NAME_MAX))
        return sto_fail(db, -EINVAL, "display name too long or not UTF-8");
    if (pw && (err = check_password(db, pw))) return err;
    sqlite3_stmt *st = sto_stmt(db, SQL_CREATE);
    if (!st) return sto_stmt_err(db);
    if ((err = sto_bind_text(db, st, 1, name)) ||
        (err = sto_bind_text(db, st, 2, display_name ? display_name : name)) ||
        (err = bind_password(db, st, 3, pw)) || (err = sto_bind_i64(db, st, 6, is_admin)) ||
        (err = sto_bind_i64(db, st, 7, sto_now(db)))) {
        sto_stmt_done(st);
        return err;
    }
    if ((err = sto_exec_stmt(db, st))) {
        if (err == -EEXIST) sto_fail(db, err, "user name \"%s\" is taken", name);
        return err;
    }
    if (id) *id = sqlite3_last_insert_rowid(db->sql);
    return 0;
}

static int user_from_row(sqlite3_stmt *st, struct sto_user *u)
{
    memset(u, 0, sizeof(*u));
    u->id = sqlite3_column_int64(st, 0);
    u->name = sto_col_strdup(st, 1);
    u->display_name = sto_col_strdup(st, 2);
    u->is_admin = sqlite3_column_int(st, 3);
    u->disabled = sqlite3_column_int(st, 4);
    u->created_at = sqlite3_column_int64(st, 5);
    if (!u->name || !u->display_name) {
        sto_user_clear(u);
        return -ENOMEM;
    }
    return 0;
}

static int get_one(struct sto_db *db, sqlite3_stmt *st, struct sto_user *out)
{
    int rc = sqlite3_step(st);
    int err;
    if (rc == SQLITE_ROW)
        err = user_from_row(st, out);
    else if (rc == SQLITE_DONE)
        err = sto_fail(db, -ENOENT, "no such user");
    else
        err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return err;
}

int sto_user_get(struct sto_db *db, int64_t id, struct sto_user *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = sto_stmt(db, SQL_GET);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, id);
    return get_one(db, st, out);
}

int sto_user_by_name(struct sto_db *db, const char *name, struct sto_user *out)
{
    memset(out, 0, sizeof(*out));
    if (!name) return sto_fail(db, -EINVAL, "no name");
    sqlite3_stmt *st = sto_stmt(db, SQL_BY_NAME);
    if (!st) return sto_stmt_err(db);
    int err = sto_bind_text(db, st, 1, name);
    if (err) {
        sto_stmt_done(st);
        return err;
    }
    return get_one(db, st, out);
}

int sto_user_list(struct sto_db *db, int64_t after_id, int limit, struct sto_user **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int err = sto_check_limit(db, limit);
    if (err) return err;
    sqlite3_stmt *st = sto_stmt(db, SQL_LIST);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int(st, 2, limit);
    struct sto_user *arr = NULL;
    size_t cap = 0, count = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((err = sto_grow(&arr, &cap, count, sizeof(*arr))) ||
            (err = user_from_row(st, &arr[count])))
            break;
        count++;
    }
    if (!err && rc != SQLITE_DONE) err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    if (err) {
        sto_users_free(arr, count);
        return err == -ENOMEM ? sto_fail(db, err, "out of memory") : err;
    }
    *out = arr;
    *n = count;
    return 0;
}

/* Runs an UPDATE ... WHERE id = ?1 bound by the caller; -ENOENT if no row. */
static int update_one(struct sto_db *db, sqlite3_stmt *st, const char *what)
{
    int err = sto_exec_stmt(db, st);
    if (err == 0 && sqlite3_changes(db->sql) == 0) err = sto_fail(db, -ENOENT, "no such %s", what);
    return err;
}

int sto_user_set_password(struct sto_db *db, int64_t id, const struct sto_password *pw)
{
    int err;
    if (!pw || (err = check_password(db, pw)))
        return pw ? err : sto_fail(db, -EINVAL, "no password");
    sqlite3_stmt *st = sto_stmt(db, SQL_SET_PW);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, id);
    if ((err = bind_password(db, st, 2, pw))) {
        sto_stmt_done(st);
        return err;
    }
    return update_one(db, st, "user");
}

static void *dup_blob(sqlite3_stmt *st, int col, size_t *len)
{
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    const void *p = sqlite3_column_blob(st, col);
    void *out = malloc(n ? n : 1);
    if (out && n) memcpy(out, p, n);
    *len = n;
    return out;
}

int sto_user_password(struct sto_db *db, int64_t id, struct sto_password_buf *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = sto_stmt(db, SQL_GET_PW);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_ROW) {
        out->hash = dup_blob(st, 0, &out->hash_len);
        out->salt = dup_blob(st, 1, &out->salt_len);
        out->params = sto_col_strdup(st, 2);
        if (!out->hash || !out->salt || !out->params) {
            sto_password_clear(out);
            err = sto_fail(db, -ENOMEM, "out of memory");
        }
    } else if (rc == SQLITE_DONE) {
        err = sto_fail(db, -ENOENT, "no such user or no password set");
    } else {
        err = sto_sqlite_err(db, rc);
    }
    sto_stmt_done(st);
    return err;
}

int sto_user_set_display_name(struct sto_db *db, int64_t id, const char *display_name)
{
    if (!display_name || !sto_utf8_valid(display_name, STO_DISPLAY_NAME_MAX))
        return sto_fail(db, -EINVAL, "display name too long or not UTF-8");
    sqlite3_stmt *st = sto_stmt(db, SQL_SET_DISPLAY);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, id);
    int err = sto_bind_text(db, st, 2, display_name);
    if (err) {
        sto_stmt_done(st);
        return err;
    }
    return update_one(db, st, "user");
}

static int set_flag(struct sto_db *db, const char *sql, int64_t id, bool on)
{
    sqlite3_stmt *st = sto_stmt(db, sql);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, on);
    return update_one(db, st, "user");
}

int sto_user_set_admin(struct sto_db *db, int64_t id, bool is_admin)
{
    return set_flag(db, SQL_SET_ADMIN, id, is_admin);
}

int sto_user_set_disabled(struct sto_db *db, int64_t id, bool disabled)
{
    int err = sto_tx_begin(db);
    if (err) return err;
    err = set_flag(db, SQL_SET_DISABLED, id, disabled);
    if (err == 0 && disabled) {
        sqlite3_stmt *st = sto_stmt(db, SQL_REVOKE_ALL);
        if (!st) {
            err = sto_stmt_err(db);
        } else {
            sqlite3_bind_int64(st, 1, id);
            err = sto_exec_stmt(db, st);
        }
    }
    return sto_tx_end(db, err);
}

void sto_user_clear(struct sto_user *u)
{
    if (!u) return;
    free(u->name);
    free(u->display_name);
    memset(u, 0, sizeof(*u));
}

void sto_users_free(struct sto_user *u, size_t n)
{
    if (!u) return;
    for (size_t i = 0; i < n; i++)
        sto_user_clear(&u[i]);
    free(u);
}

void sto_password_clear(struct sto_password_buf *p)
{
    if (!p) return;
    if (p->hash) OPENSSL_cleanse(p->hash, p->hash_len);
    if (p->salt) OPENSSL_cleanse(p->salt, p->salt_len);
    free(p->hash);
    free(p->salt);
    free(p->params);
    memset(p, 0, sizeof(*p));
}
