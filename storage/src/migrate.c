/*
 * migrate.c - schema versions. PRAGMA user_version is the number of the last
 * migration applied; each storage/migrations/NNN_name.sql runs in its own
 * transaction together with the user_version update, so a crash leaves the
 * database at one version or the next, never between.
 *
 * A database from a newer build is refused rather than guessed at; a file that
 * is not ours (wrong application_id, or a schema our migrations would not have
 * produced) is never written to.
 */
#include "internal.h"
#include "migrations.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sto_schema_latest(void)
{
    return (int)sto_migrations_count;
}

static int int_query(struct sto_db *db, sqlite3 *sql, const char *q, int *v, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(sql, q, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *v = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    int err = 0;
    if (rc == SQLITE_NOTADB)
        err = sto_fail(db, -EINVAL, "%s is not a lanturn database (not a SQLite file)", what);
    else if (rc != SQLITE_OK)
        err = sto_fail(db, rc == SQLITE_BUSY ? -EBUSY : -EIO, "%s: %s", what, sqlite3_errmsg(sql));
    sqlite3_finalize(st);
    return err;
}

int sto_check_identity(struct sto_db *db, sqlite3 *sql, const char *what)
{
    int app_id = 0, version = 0, objects = 0, err;
    if ((err = int_query(db, sql, "PRAGMA application_id", &app_id, what)) ||
        (err = int_query(db, sql, "PRAGMA user_version", &version, what)) ||
        (err = int_query(db, sql, "SELECT count(*) FROM sqlite_schema", &objects, what)))
        return err;
    if (app_id == 0 && version == 0 && objects == 0)
        return 0; /* a new, empty file: ours to initialise */
    if (app_id != STO_APPLICATION_ID)
        return sto_fail(db, -EINVAL, "%s is not a lanturn database (application_id %d)", what,
                        app_id);
    if (version > sto_schema_latest())
        return sto_fail(db, -ENOTSUP,
                        "database schema %d is newer than this build (%d); upgrade lanturn",
                        version, sto_schema_latest());
    return 0;
}

static int apply(struct sto_db *db, const struct sto_migration *m)
{
    int err = sto_exec(db, "BEGIN IMMEDIATE");
    if (err) return err;
    /* Read the version again under the write lock: another process opening the
     * same database may have migrated it in the meantime. */
    int version = 0;
    if ((err = sto_schema_version(db, &version))) goto fail;
    if (version >= m->version) return sto_exec(db, "COMMIT");
    if (version != m->version - 1) {
        err = sto_fail(db, -EIO, "schema is at %d, cannot apply %s", version, m->name);
        goto fail;
    }
    if ((err = sto_exec(db, m->sql))) {
        char msg[STO_ERR_MAX];
        snprintf(msg, sizeof(msg), "%s", db->errmsg);
        sto_fail(db, err, "migration %s: %s", m->name, msg);
        goto fail;
    }
    /* A pragma takes no parameters; the value is our own integer, not user data. */
    char q[64];
    snprintf(q, sizeof(q), "PRAGMA user_version = %d", m->version);
    if ((err = sto_exec(db, q)) || (err = sto_exec(db, "COMMIT"))) goto fail;
    return 0;
fail:
    if (!sqlite3_get_autocommit(db->sql)) sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
    return err;
}

int sto_migrate_to(struct sto_db *db, int target)
{
    int version = 0, err;
    if ((err = sto_schema_version(db, &version))) return err;
    for (unsigned i = 0; i < sto_migrations_count; i++) {
        const struct sto_migration *m = &sto_migrations[i];
        if (m->version <= version || m->version > target) continue;
        if ((err = apply(db, m))) return err;
    }
    /* Statements prepared against the old schema would be re-prepared anyway;
     * dropping them keeps the cache small after a restore of an old backup. */
    if (version < target) sto_stmt_cache_clear(db);
    return 0;
}

int sto_migrate(struct sto_db *db)
{
    return sto_migrate_to(db, sto_schema_latest());
}

/* ---- schema comparison for restore ---- */

static const char SCHEMA_SQL[] =
    "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema "
    "WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name";

/* Concatenates the schema description of sql into a malloc'd string. */
static int schema_text(sqlite3 *sql, char **out)
{
    sqlite3_str *s = sqlite3_str_new(sql);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(sql, SCHEMA_SQL, -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < 4; c++)
            sqlite3_str_appendf(s, "%s\x1f", (const char *)sqlite3_column_text(st, c));
        sqlite3_str_appendchar(s, 1, '\n');
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    char *text = sqlite3_str_finish(s);
    if (rc != SQLITE_DONE || !text) {
        sqlite3_free(text);
        return rc == SQLITE_DONE ? -ENOMEM : -EIO;
    }
    *out = text;
    return 0;
}

int sto_schema_matches(struct sto_db *db, sqlite3 *other, int version, const char *what)
{
    sqlite3 *ref = NULL;
    char *want = NULL, *have = NULL;
    int err = 0;
    if (sqlite3_open_v2(":memory:", &ref, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, NULL) !=
        SQLITE_OK) {
        err = sto_fail(db, -ENOMEM, "cannot open a reference database");
        goto out;
    }
    for (unsigned i = 0; i < sto_migrations_count && sto_migrations[i].version <= version; i++) {
        if (sqlite3_exec(ref, sto_migrations[i].sql, NULL, NULL, NULL) != SQLITE_OK) {
            err = sto_fail(db, -EIO, "reference schema: %s", sqlite3_errmsg(ref));
            goto out;
        }
    }
    if ((err = schema_text(ref, &want)) || (err = schema_text(other, &have))) {
        sto_fail(db, err, "%s: cannot read its schema", what);
        goto out;
    }
    if (strcmp(want, have) != 0)
        err = sto_fail(db, -EINVAL, "%s: schema differs from lanturn schema %d", what, version);
out:
    sqlite3_free(want);
    sqlite3_free(have);
    sqlite3_close(ref);
    return err;
}
