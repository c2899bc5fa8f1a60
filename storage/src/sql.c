/*
 * sql.c - the thin layer every storage file uses to talk to SQLite: a cache of
 * prepared statements keyed by the address of their SQL text, nesting write
 * transactions, bind helpers, and the mapping from SQLite result codes to the
 * errno values the API promises.
 *
 * SQL is always a static string with ? parameters; user data only ever reaches
 * SQLite through sqlite3_bind_*.
 */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ---- */

int sto_fail(struct sto_db *db, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db->errmsg, sizeof(db->errmsg), fmt, ap);
    va_end(ap);
    return err;
}

static int errno_of(int rc)
{
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return -EEXIST;
    case SQLITE_BUSY_SNAPSHOT:
        return -EBUSY;
    default:
        break;
    }
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: /* foreign key, check, not null */
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
        return -EINVAL;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_READONLY:
    case SQLITE_PERM:
        return -EROFS;
    case SQLITE_AUTH:
        return -EACCES;
    case SQLITE_CANTOPEN:
        return -ENOENT;
    default:
        return -EIO;
    }
}

static bool leaves_stale_state(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CORRUPT:
        return true;
    default:
        return false;
    }
}

int sto_sqlite_err(struct sto_db *db, int rc)
{
    if (leaves_stale_state(rc)) db->reconnect = true;
    const char *msg = db->sql ? sqlite3_errmsg(db->sql) : sqlite3_errstr(rc);
    snprintf(db->errmsg, sizeof(db->errmsg), "%s", msg);
    return errno_of(rc);
}

/* ---- statement cache ---- */

static unsigned slot_of(const char *sql, unsigned cap)
{
    uintptr_t h = (uintptr_t)sql;
    h ^= h >> 17;
    h *= 0x9e3779b1u;
    return (unsigned)(h ^ (h >> 15)) & (cap - 1);
}

static int cache_grow(struct sto_db *db)
{
    unsigned cap = db->cap_stmts ? db->cap_stmts * 2 : 64;
    struct sto_stmt_slot *s = calloc(cap, sizeof(*s));
    if (!s) return -ENOMEM;
    for (unsigned i = 0; i < db->cap_stmts; i++) {
        if (!db->stmts[i].sql) continue;
        unsigned k = slot_of(db->stmts[i].sql, cap);
        while (s[k].sql)
            k = (k + 1) & (cap - 1);
        s[k] = db->stmts[i];
    }
    free(db->stmts);
    db->stmts = s;
    db->cap_stmts = cap;
    return 0;
}

/* Called before each statement: is the connection fit for a new operation? */
static int check_connection(struct sto_db *db)
{
    bool autocommit = sqlite3_get_autocommit(db->sql);
    if (db->user_tx && (autocommit || db->reconnect)) {
        /* SQLite rolled the caller's transaction back, or we must (see
         * sto_db.reconnect); either way the rest of it must not commit alone. */
        if (!autocommit) sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
        return sto_fail(db, -EIO, "the transaction was rolled back after an error");
    }
    /* Only between operations: no transaction of ours or the caller's open. */
    if (db->reconnect && !db->user_tx && db->tx_depth == 0 && autocommit) return sto_reconnect(db);
    return 0;
}

sqlite3_stmt *sto_stmt(struct sto_db *db, const char *sql)
{
    int err = check_connection(db);
    if (err) {
        db->stmt_err = err;
        return NULL;
    }
    if (db->n_stmts * 2 >= db->cap_stmts && cache_grow(db) < 0) {
        db->stmt_err = sto_fail(db, -ENOMEM, "out of memory");
        return NULL;
    }
    db->n_run++;
    unsigned k = slot_of(sql, db->cap_stmts);
    while (db->stmts[k].sql && db->stmts[k].sql != sql)
        k = (k + 1) & (db->cap_stmts - 1);
    struct sto_stmt_slot *slot = &db->stmts[k];
    if (slot->sql) return slot->stmt;

    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(db->sql, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        db->stmt_err = sto_sqlite_err(db, rc);
        return NULL;
    }
    slot->sql = sql;
    slot->stmt = st;
    db->n_stmts++;
    return st;
}

int sto_stmt_err(struct sto_db *db)
{
    return db->stmt_err ? db->stmt_err : -EIO;
}

void sto_stmt_done(sqlite3_stmt *st)
{
    if (!st) return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

void sto_stmt_cache_clear(struct sto_db *db)
{
    for (unsigned i = 0; i < db->cap_stmts; i++)
        sqlite3_finalize(db->stmts[i].stmt);
    free(db->stmts);
    db->stmts = NULL;
    db->n_stmts = db->cap_stmts = 0;
}

/* ---- running statements ---- */

int sto_exec_stmt(struct sto_db *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    int err = 0;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return err;
}

int sto_exec(struct sto_db *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db->sql, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK) return 0;
    int code = sqlite3_extended_errcode(db->sql);
    int err = errno_of(code);
    if (leaves_stale_state(code)) db->reconnect = true;
    snprintf(db->errmsg, sizeof(db->errmsg), "%s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return err;
}

/* sqlite3_bind_int64() and sqlite3_bind_int() fail only for a parameter index
 * the statement lacks, a bug every test would hit, so call sites bind integers
 * directly without checking. Text and blobs can fail at run time (out of
 * memory, too big) and always go through these helpers. */
int sto_bind_i64(struct sto_db *db, sqlite3_stmt *st, int i, int64_t v)
{
    int rc = sqlite3_bind_int64(st, i, v);
    return rc == SQLITE_OK ? 0 : sto_sqlite_err(db, rc);
}

int sto_bind_text(struct sto_db *db, sqlite3_stmt *st, int i, const char *s)
{
    int rc = sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
    return rc == SQLITE_OK ? 0 : sto_sqlite_err(db, rc);
}

int sto_bind_blob(struct sto_db *db, sqlite3_stmt *st, int i, const void *p, size_t n)
{
    int rc = p ? sqlite3_bind_blob64(st, i, p, n, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
    return rc == SQLITE_OK ? 0 : sto_sqlite_err(db, rc);
}

int sto_bind_id(struct sto_db *db, sqlite3_stmt *st, int i, int64_t id)
{
    int rc = id ? sqlite3_bind_int64(st, i, id) : sqlite3_bind_null(st, i);
    return rc == SQLITE_OK ? 0 : sto_sqlite_err(db, rc);
}

/* ---- transactions ---- */

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";
static const char SQL_SAVEPOINT[] = "SAVEPOINT sto";
static const char SQL_RELEASE[] = "RELEASE sto";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO sto";

static int run(struct sto_db *db, const char *sql)
{
    sqlite3_stmt *st = sto_stmt(db, sql);
    if (!st) return sto_stmt_err(db);
    return sto_exec_stmt(db, st);
}

int sto_tx_begin(struct sto_db *db)
{
    /* Outside any transaction (ours or the caller's sto_begin): take the write
     * lock up front. Inside one: a savepoint, so our part can be undone alone. */
    bool outer = sqlite3_get_autocommit(db->sql);
    int err = run(db, outer ? SQL_BEGIN : SQL_SAVEPOINT);
    if (err == 0 && db->tx_depth++ == 0) db->tx_outer = outer;
    return err;
}

int sto_tx_end(struct sto_db *db, int rc)
{
    bool savepoint = !(--db->tx_depth == 0 && db->tx_outer);
    if (rc == 0) {
        int err = run(db, savepoint ? SQL_RELEASE : SQL_COMMIT);
        if (err == 0) return 0;
        rc = err;
    }
    /* An error may already have rolled the whole transaction back (SQLITE_FULL,
     * SQLITE_IOERR): then there is nothing left to undo. */
    if (sqlite3_get_autocommit(db->sql)) return rc;
    /* After an error that leaves the connection's FTS5 state stale (see
     * sto_db.reconnect) undoing our savepoint is not enough: the caller's
     * whole transaction goes, and its next call says so. */
    if (savepoint && !db->reconnect) {
        run(db, SQL_ROLLBACK_TO);
        run(db, SQL_RELEASE);
    } else {
        run(db, SQL_ROLLBACK);
    }
    return rc;
}

int sto_begin(struct sto_db *db)
{
    if (db->user_tx || db->tx_depth) return sto_fail(db, -EINVAL, "a transaction is already open");
    int err = run(db, SQL_BEGIN);
    if (err == 0) db->user_tx = true;
    return err;
}

int sto_savepoint(struct sto_db *db)
{
    if (!db->user_tx) return sto_fail(db, -EINVAL, "a savepoint needs an open transaction");
    return sto_tx_begin(db);
}

int sto_savepoint_end(struct sto_db *db, int rc)
{
    if (!db->user_tx || db->tx_depth == 0) return sto_fail(db, -EINVAL, "no savepoint is open");
    return sto_tx_end(db, rc);
}

int sto_commit(struct sto_db *db)
{
    if (!db->user_tx) return sto_fail(db, -EINVAL, "no transaction is open");
    int err = run(db, SQL_COMMIT);
    if (err == 0 || sqlite3_get_autocommit(db->sql)) db->user_tx = false;
    return err;
}

int sto_rollback(struct sto_db *db)
{
    if (!db->user_tx) return sto_fail(db, -EINVAL, "no transaction is open");
    db->user_tx = false;
    if (sqlite3_get_autocommit(db->sql))
        return 0; /* SQLite already rolled it back after an I/O error */
    return run(db, SQL_ROLLBACK);
}

/* ---- rows ---- */

char *sto_col_strdup(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    int n = sqlite3_column_bytes(st, col);
    char *out = malloc((size_t)n + 1);
    if (!out) return NULL;
    if (s) memcpy(out, s, (size_t)n);
    out[n] = '\0';
    return out;
}

int sto_grow(void *arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap) return 0;
    size_t c = *cap ? *cap * 2 : 16;
    void *p = realloc(*(void **)arr, c * elem);
    if (!p) return -ENOMEM;
    *(void **)arr = p;
    *cap = c;
    return 0;
}

int sto_check_limit(struct sto_db *db, int limit)
{
    if (limit <= 0 || limit > STO_LIMIT_MAX)
        return sto_fail(db, -EINVAL, "limit %d is outside 1..%d", limit, STO_LIMIT_MAX);
    return 0;
}

uint64_t sto_statements_run(const struct sto_db *db)
{
    return db->n_run;
}

int sto_rows(struct sto_db *db, sqlite3_stmt *st, size_t elem,
             int (*row)(sqlite3_stmt *st, void *item), void *out, size_t *n)
{
    void **arr = out;
    size_t cap = 0;
    int rc, err = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((err = sto_grow(arr, &cap, *n, elem)) || (err = row(st, (char *)*arr + *n * elem)))
            break;
        (*n)++;
    }
    if (!err && rc != SQLITE_DONE) err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return err == -ENOMEM ? sto_fail(db, err, "out of memory") : err;
}
