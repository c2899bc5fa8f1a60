/*
 * backup.c - online backup and restore with SQLite's backup API.
 *
 * Backup copies the live database page by page while signald keeps serving:
 * readers and the writer go on, and if another connection writes meanwhile
 * SQLite restarts the copy so the result is one consistent snapshot. The copy
 * is made under a temporary name, switched to a rollback journal so it is one
 * self-contained file, synced and renamed into place.
 *
 * Restore copies a backup over the live database inside one write
 * transaction, after checking that the file is ours: application_id, a schema
 * version this build knows, exactly the schema our migrations create for that
 * version, an integrity check and a foreign key check. A backup with a foreign
 * schema could carry triggers that run with our connection's rights, so the
 * schema comparison is not optional.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STEP_PAGES 256
#define BUSY_SLEEP_MS 10

/* Copies src into dst; cancellable through progress. */
static int copy(struct sto_db *db, sqlite3 *dst, sqlite3 *src, const struct sto_progress *progress)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) return sto_fail(db, -EIO, "backup: %s", sqlite3_errmsg(dst));
    int err = 0, busy_ms = 0;
    for (;;) {
        int rc = sqlite3_backup_step(b, STEP_PAGES);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            if (busy_ms >= db->busy_timeout_ms) {
                err = sto_fail(db, -EBUSY, "backup: database stayed locked");
                break;
            }
            sqlite3_sleep(BUSY_SLEEP_MS);
            busy_ms += BUSY_SLEEP_MS;
            continue;
        }
        if (rc != SQLITE_OK && rc != SQLITE_DONE) {
            err = sto_fail(db,
                           rc == SQLITE_NOMEM  ? -ENOMEM
                           : rc == SQLITE_FULL ? -ENOSPC
                                               : -EIO,
                           "backup: %s", sqlite3_errstr(rc));
            break;
        }
        busy_ms = 0;
        int total = sqlite3_backup_pagecount(b);
        if (progress && progress->fn &&
            progress->fn(progress->ctx, total - sqlite3_backup_remaining(b), total)) {
            err = sto_fail(db, -ECANCELED, "backup cancelled");
            break;
        }
        if (rc == SQLITE_DONE) break;
    }
    /* Unfinished: the destination's write transaction is rolled back here. */
    int rc = sqlite3_backup_finish(b);
    if (!err && rc != SQLITE_OK) err = sto_fail(db, -EIO, "backup: %s", sqlite3_errmsg(dst));
    return err;
}

static int fsync_path(const char *path, bool dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) return -errno;
    int err = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return err;
}

int sto_backup(struct sto_db *db, const char *dest_path, const struct sto_progress *progress)
{
    if (!dest_path || !*dest_path) return sto_fail(db, -EINVAL, "no backup path");
    size_t n = strlen(dest_path) + 16;
    char *tmp = malloc(n), *dir = strdup(dest_path);
    if (!tmp || !dir) {
        free(tmp);
        free(dir);
        return sto_fail(db, -ENOMEM, "out of memory");
    }
    snprintf(tmp, n, "%s.tmp-XXXXXX", dest_path);
    int fd = mkostemp(tmp, O_CLOEXEC); /* 0600: a backup holds everything */
    if (fd < 0) {
        int err = sto_fail(db, -errno, "%s: %s", tmp, strerror(errno));
        free(tmp);
        free(dir);
        return err;
    }
    close(fd);

    sqlite3 *out = NULL;
    int err = 0;
    if (sqlite3_open_v2(tmp, &out, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        err = sto_fail(db, -EIO, "%s: %s", tmp, out ? sqlite3_errmsg(out) : "cannot open");
        goto out;
    }
    if ((err = copy(db, out, db->sql, progress))) goto out;
    /* The copied header says WAL; a backup is better as one file with no -wal. */
    if (sqlite3_exec(out, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        err = sto_fail(db, -EIO, "%s: %s", tmp, sqlite3_errmsg(out));
        goto out;
    }
    if (sqlite3_close(out) != SQLITE_OK) {
        err = sto_fail(db, -EIO, "%s: %s", tmp, sqlite3_errmsg(out));
        goto out;
    }
    out = NULL;
    if ((err = fsync_path(tmp, false))) {
        sto_fail(db, err, "fsync %s: %s", tmp, strerror(-err));
        goto out;
    }
    if (rename(tmp, dest_path) < 0) {
        err = sto_fail(db, -errno, "rename to %s: %s", dest_path, strerror(errno));
        goto out;
    }
    if ((err = fsync_path(dirname(dir), true)))
        sto_fail(db, err, "fsync %s: %s", dir, strerror(-err));
out:
    if (out) sqlite3_close(out);
    if (err) {
        unlink(tmp);
        size_t jn = strlen(tmp) + 9;
        char *journal = malloc(jn);
        if (journal) {
            snprintf(journal, jn, "%s-journal", tmp);
            unlink(journal);
            free(journal);
        }
    }
    free(tmp);
    free(dir);
    return err;
}

/* Runs a check pragma that answers "ok" (or nothing at all) when all is well. */
static int check_pragma(struct sto_db *db, sqlite3 *src, const char *sql, const char *what,
                        bool rows_are_errors)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(src, sql, -1, &st, NULL), err = 0;
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && rows_are_errors)
        err = sto_fail(db, -EINVAL, "%s fails %s", what, sql);
    else if (rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
        err = sto_fail(db, -EINVAL, "%s fails %s: %s", what, sql, sqlite3_column_text(st, 0));
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        err = sto_fail(db, -EINVAL, "%s: %s", what, sqlite3_errmsg(src));
    sqlite3_finalize(st);
    return err;
}

static int validate(struct sto_db *db, sqlite3 *src, const char *path)
{
    int err, version = 0;
    if ((err = sto_check_identity(db, src, path))) return err;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(src, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version < 1) return sto_fail(db, -EINVAL, "%s is not a lanturn database (empty)", path);
    if ((err = sto_schema_matches(db, src, version, path)) ||
        (err = check_pragma(db, src, "PRAGMA quick_check", path, false)) ||
        (err = check_pragma(db, src, "PRAGMA foreign_key_check", path, true)))
        return err;
    return 0;
}

static const char SQL_LAST_ID[] = "SELECT coalesce(max(seq), 0) FROM sqlite_sequence "
                                  "WHERE name = 'messages'";
static const char SQL_KEEP_IDS[] =
    "UPDATE sqlite_sequence SET seq = max(seq, ?1) WHERE name = 'messages'";

static int last_message_id(struct sto_db *db, int64_t *id)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_LAST_ID);
    if (!st) return sto_stmt_err(db);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else
        err = sto_sqlite_err(db, rc);
    sto_stmt_done(st);
    return err;
}

/* Messages written after the backup are gone, but clients may still hold
 * their ids: new messages must not reuse them. */
static int keep_message_ids(struct sto_db *db, int64_t last_id)
{
    sqlite3_stmt *st = sto_stmt(db, SQL_KEEP_IDS);
    if (!st) return sto_stmt_err(db);
    sqlite3_bind_int64(st, 1, last_id);
    return sto_exec_stmt(db, st);
}

int sto_restore(struct sto_db *db, const char *src_path, const struct sto_progress *progress)
{
    if (db->user_tx || db->tx_depth || !sqlite3_get_autocommit(db->sql))
        return sto_fail(db, -EBUSY, "cannot restore inside a transaction");
    if (!src_path || access(src_path, R_OK) < 0)
        return sto_fail(db, -ENOENT, "%s: %s", src_path ? src_path : "(null)",
                        strerror(src_path ? errno : EINVAL));
    sqlite3 *src = NULL;
    int err;
    if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        err = sto_fail(db, -EINVAL, "%s: %s", src_path, src ? sqlite3_errmsg(src) : "cannot open");
        goto out;
    }
    if ((err = validate(db, src, src_path))) goto out;
    int64_t last_id = 0;
    if ((err = last_message_id(db, &last_id))) goto out;
    /* The backup API wants no statement of the destination connection active. */
    sto_stmt_cache_clear(db);
    if ((err = copy(db, db->sql, src, progress)) || (err = sto_migrate(db))) goto out;
    err = keep_message_ids(db, last_id);
out:
    sqlite3_close(src);
    return err;
}
