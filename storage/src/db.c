/*
 * db.c - opening and closing the store: the data directory, the SQLite
 * connection and the pragmas that make the durability promise true.
 *
 * journal_mode=WAL     readers never block the writer and the writer never
 *                      blocks readers; one fsync per commit.
 * synchronous=FULL     in WAL mode NORMAL may lose the last commits on power
 *                      loss; FULL syncs the WAL on every commit, so a message
 *                      acknowledged to a client survives a crash.
 * foreign_keys=ON      SQLite's default is off, per connection.
 * busy_timeout         a second writer waits instead of failing at once.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sto_config_init(struct sto_config *cfg, const char *data_dir)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->data_dir = data_dir;
    cfg->file_max_bytes = STO_FILE_MAX_DEFAULT;
    cfg->busy_timeout_ms = STO_BUSY_TIMEOUT_DEFAULT;
    cfg->search_short_window = STO_SEARCH_SHORT_WINDOW;
}

const char *sto_errmsg(const struct sto_db *db)
{
    return db ? db->errmsg : "no database";
}

static int make_dir(struct sto_db *db, const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST) return 0;
    return sto_fail(db, -errno, "mkdir %s: %s", path, strerror(errno));
}

static char *path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", a, b);
    return p;
}

/* SQLite creates the database with the umask's mode (often 0644); it holds
 * password hashes and every message, so create it 0600 ourselves first. */
static int precreate(struct sto_db *db, const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return sto_fail(db, -errno, "open %s: %s", path, strerror(errno));
    close(fd);
    return 0;
}

static int pragma_text(struct sto_db *db, const char *sql, const char *want)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return sto_sqlite_err(db, rc);
    rc = sqlite3_step(st);
    int err = 0;
    if (rc != SQLITE_ROW)
        err = sto_sqlite_err(db, rc);
    else if (want && sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), want) != 0)
        err = sto_fail(db, -EIO, "%s gave %s, not %s", sql, sqlite3_column_text(st, 0), want);
    sqlite3_finalize(st);
    return err;
}

static int set_pragmas(struct sto_db *db)
{
    int err;
    /* Turning WAL on takes a lock; the busy timeout set at open covers it. */
    if ((err = pragma_text(db, "PRAGMA journal_mode=WAL", "wal"))) return err;
    /* trusted_schema stays ON: the FTS triggers write to a virtual table, which
     * SQLite allows only in a trusted schema. The schema is ours: sto_restore
     * refuses a file whose schema differs from what our migrations produce. */
    if ((err = sto_exec(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                            "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384")))
        return err;
    /* Schema changes and hidden writes to sqlite_master only through our code. */
    int ignored;
    if (sqlite3_db_config(db->sql, SQLITE_DBCONFIG_DEFENSIVE, 1, &ignored) != SQLITE_OK ||
        sqlite3_db_config(db->sql, SQLITE_DBCONFIG_DQS_DML, 0, &ignored) != SQLITE_OK ||
        sqlite3_db_config(db->sql, SQLITE_DBCONFIG_DQS_DDL, 0, &ignored) != SQLITE_OK)
        return sto_fail(db, -EIO, "cannot configure the connection: %s", sqlite3_errmsg(db->sql));
    /* Check what the pragmas really did: a SQLite built without foreign keys
     * would accept the pragma and ignore it. */
    if ((err = pragma_text(db, "PRAGMA foreign_keys", "1")) ||
        (err = pragma_text(db, "PRAGMA synchronous", "2")))
        return err;
    return 0;
}

static void db_free(struct sto_db *db)
{
    if (!db) return;
    sto_stmt_cache_clear(db);
    if (db->sql) sqlite3_close_v2(db->sql);
    free(db->data_dir);
    free(db->files_dir);
    free(db->db_path);
    free(db);
}

/* A new connection to db->db_path with our settings, in *out. */
static int connect(struct sto_db *db, sqlite3 **out)
{
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    sqlite3 *sql = NULL;
    int rc = sqlite3_open_v2(db->db_path, &sql, flags, NULL);
    if (rc != SQLITE_OK) {
        int err = sto_fail(db, rc == SQLITE_NOMEM ? -ENOMEM : -EIO, "%s: %s", db->db_path,
                           sql ? sqlite3_errmsg(sql) : sqlite3_errstr(rc));
        sqlite3_close_v2(sql);
        return err;
    }
    sqlite3_extended_result_codes(sql, 1);
    sqlite3_busy_timeout(sql, db->busy_timeout_ms);
    *out = sql;
    return 0;
}

static int open_db(struct sto_db *db, const struct sto_config *cfg)
{
    int err;
    if (!cfg->data_dir || !*cfg->data_dir) return sto_fail(db, -EINVAL, "no data directory");
    if (cfg->busy_timeout_ms < 0 || cfg->file_max_bytes == 0 || cfg->search_short_window <= 0)
        return sto_fail(db, -EINVAL, "bad storage configuration");
    db->file_max_bytes = cfg->file_max_bytes;
    db->busy_timeout_ms = cfg->busy_timeout_ms;
    db->search_window = cfg->search_short_window;
    db->data_dir = strdup(cfg->data_dir);
    db->files_dir = path_join(cfg->data_dir, "files");
    db->db_path = path_join(cfg->data_dir, STO_DB_FILE);
    if (!db->data_dir || !db->files_dir || !db->db_path)
        return sto_fail(db, -ENOMEM, "out of memory");
    if ((err = make_dir(db, db->data_dir)) || (err = precreate(db, db->db_path)) ||
        (err = connect(db, &db->sql)))
        return err;
    if ((err = sto_check_identity(db, db->sql, db->db_path)) == 0 && (err = set_pragmas(db)) == 0 &&
        (err = sto_migrate(db)) == 0)
        err = sto_files_init(db);
    return err;
}

int sto_reconnect(struct sto_db *db)
{
    sqlite3 *fresh = NULL, *old = db->sql;
    int err = connect(db, &fresh);
    if (err) return err;
    db->sql = fresh;
    if ((err = set_pragmas(db))) {
        db->sql = old;
        sqlite3_close_v2(fresh);
        return err;
    }
    sto_stmt_cache_clear(db); /* prepared on the old connection */
    sqlite3_close_v2(old);
    db->reconnect = false;
    return 0;
}

int sto_open_config(const struct sto_config *cfg, struct sto_db **out, char *err_buf,
                    size_t err_len)
{
    *out = NULL;
    struct sto_db *db = calloc(1, sizeof(*db));
    if (!db) {
        if (err_buf && err_len) snprintf(err_buf, err_len, "out of memory");
        return -ENOMEM;
    }
    int err = open_db(db, cfg);
    if (err) {
        if (err_buf && err_len) snprintf(err_buf, err_len, "%s", db->errmsg);
        db_free(db);
        return err;
    }
    *out = db;
    return 0;
}

int sto_open(const char *data_dir, struct sto_db **out, char *err, size_t err_len)
{
    struct sto_config cfg;
    sto_config_init(&cfg, data_dir);
    return sto_open_config(&cfg, out, err, err_len);
}

void sto_close(struct sto_db *db)
{
    if (!db) return;
    if (db->user_tx && !sqlite3_get_autocommit(db->sql)) sto_exec(db, "ROLLBACK");
    /* Keeps the planner's statistics fresh; cheap when nothing changed. */
    sto_exec(db, "PRAGMA optimize");
    db_free(db);
}

int sto_schema_version(struct sto_db *db, int *version)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK) return sto_sqlite_err(db, rc);
    rc = sqlite3_step(st);
    int err = 0;
    if (rc == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    else
        err = sto_sqlite_err(db, rc);
    sqlite3_finalize(st);
    return err;
}
