/*
 * sto_db_test.c - opening the store: migrations from empty and from an older
 * schema, idempotent re-open, refusal of newer or foreign databases, the
 * pragmas the durability promise rests on, transactions, and the errno
 * mapping of constraint violations.
 */
#include "fixture.h"
#include "internal.h"
#include "migrations.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static sqlite3 *raw_open(const struct fx *f)
{
    char path[256];
    fx_path(f, STO_DB_FILE, path, sizeof(path));
    sqlite3 *s = NULL;
    assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
    return s;
}

static int64_t raw_int(sqlite3 *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(s, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static const char *raw_text(sqlite3 *s, const char *sql, char *buf, size_t len)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(s, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return buf;
}

static void test_embedded_migrations_are_numbered_from_one(void **state)
{
    (void)state;
    assert_true(sto_migrations_count >= 2);
    for (unsigned i = 0; i < sto_migrations_count; i++) {
        assert_int_equal(sto_migrations[i].version, (int)i + 1);
        assert_int_equal(strlen(sto_migrations[i].sql), sto_migrations[i].len);
    }
    assert_int_equal(sto_schema_latest(), (int)sto_migrations_count);
}

static void test_new_database_is_migrated_to_latest(void **state)
{
    struct fx *f = *state;
    int v = -1;
    assert_int_equal(sto_schema_version(f->db, &v), 0);
    assert_int_equal(v, sto_schema_latest());
    sqlite3 *s = raw_open(f);
    assert_int_equal(raw_int(s, "PRAGMA application_id"), STO_APPLICATION_ID);
    const char *tables[] = {"users",     "sessions",   "rooms",          "memberships", "messages",
                            "reactions", "mentions",   "read_positions", "stream_meta", "events",
                            "files",     "file_rooms", "audit_log",      "messages_fts"};
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(s, "SELECT count(*) FROM sqlite_schema WHERE name = ?",
                                            -1, &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_text(st, 1, tables[i], -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        if (sqlite3_column_int(st, 0) != 1) fail_msg("table %s missing", tables[i]);
        sqlite3_finalize(st);
    }
    /* The indexes the history, membership and event queries rely on. */
    assert_int_equal(raw_int(s, "SELECT count(*) FROM sqlite_schema WHERE name IN "
                                "('messages_room', 'memberships_user', 'events_created', "
                                "'mentions_user', 'sessions_user')"),
                     5);
    sqlite3_close(s);
}

static void test_reopen_is_idempotent(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    fx_reopen(f);
    fx_reopen(f);
    int v = 0;
    assert_int_equal(sto_schema_version(f->db, &v), 0);
    assert_int_equal(v, sto_schema_latest());
    struct sto_user u;
    assert_int_equal(sto_user_get(f->db, alice, &u), 0);
    assert_string_equal(u.name, "alice");
    sto_user_clear(&u);
    struct sto_user *list;
    size_t n;
    assert_int_equal(sto_user_list(f->db, 0, 10, &list, &n), 0);
    assert_int_equal(n, 1);
    sto_users_free(list, n);
}

static void test_newer_schema_is_refused_with_upgrade_message(void **state)
{
    struct fx *f = *state;
    sto_close(f->db);
    f->db = NULL;
    sqlite3 *s = raw_open(f);
    char q[64];
    snprintf(q, sizeof(q), "PRAGMA user_version = %d", sto_schema_latest() + 5);
    assert_int_equal(sqlite3_exec(s, q, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(s);

    struct sto_db *db = (struct sto_db *)1;
    char err[STO_ERR_MAX], want[STO_ERR_MAX];
    assert_int_equal(sto_open(f->dir, &db, err, sizeof(err)), -ENOTSUP);
    assert_null(db);
    snprintf(want, sizeof(want),
             "database schema %d is newer than this build (%d); upgrade lanturn",
             sto_schema_latest() + 5, sto_schema_latest());
    assert_string_equal(err, want);

    /* Nothing was written: the version is still the newer one. */
    s = raw_open(f);
    assert_int_equal(raw_int(s, "PRAGMA user_version"), sto_schema_latest() + 5);
    snprintf(q, sizeof(q), "PRAGMA user_version = %d", sto_schema_latest());
    assert_int_equal(sqlite3_exec(s, q, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(s);
    fx_reopen(f); /* back at a known version, so teardown has a database to close */
}

static void test_foreign_database_is_refused_and_untouched(void **state)
{
    struct fx *f = *state;
    char dir[300], path[320], err[STO_ERR_MAX];
    fx_path(f, "foreign", dir, sizeof(dir));
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/%s", dir, STO_DB_FILE);
    sqlite3 *s = NULL;
    assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(s, "CREATE TABLE t(x); INSERT INTO t VALUES (1)", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(s);

    struct sto_db *db = NULL;
    assert_int_equal(sto_open(dir, &db, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not a lanturn database"));
    assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
    char mode[16];
    assert_string_equal(raw_text(s, "PRAGMA journal_mode", mode, sizeof(mode)), "delete");
    assert_int_equal(raw_int(s, "PRAGMA user_version"), 0);
    sqlite3_close(s);

    /* Not SQLite at all. */
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("this is not a database, just some text that is long enough to have a header\n", fp);
    fclose(fp);
    assert_int_equal(sto_open(dir, &db, err, sizeof(err)), -EINVAL);
    assert_null(db);
}

static void test_pragmas_make_commits_durable(void **state)
{
    struct fx *f = *state;
    char buf[16];
    /* The library's own connection: these are per-connection settings. */
    assert_string_equal(raw_text(f->db->sql, "PRAGMA journal_mode", buf, sizeof(buf)), "wal");
    assert_int_equal(raw_int(f->db->sql, "PRAGMA synchronous"), 2); /* FULL */
    assert_int_equal(raw_int(f->db->sql, "PRAGMA foreign_keys"), 1);
    assert_int_equal(raw_int(f->db->sql, "PRAGMA busy_timeout"), STO_BUSY_TIMEOUT_DEFAULT);
    /* WAL is a property of the file: a second connection sees it too. */
    sqlite3 *s = raw_open(f);
    assert_string_equal(raw_text(s, "PRAGMA journal_mode", buf, sizeof(buf)), "wal");
    sqlite3_close(s);
}

static void test_data_is_private(void **state)
{
    struct fx *f = *state;
    char path[256];
    struct stat sb;
    fx_path(f, STO_DB_FILE, path, sizeof(path));
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    fx_path(f, "files", path, sizeof(path));
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
}

static void test_migration_from_schema_1_indexes_existing_messages(void **state)
{
    struct fx *f = *state;
    char dir[300];
    fx_old_database(f, 1,
                    "PRAGMA user_version = 1;"
                    "INSERT INTO users (id, name, created_at) VALUES (1, 'old', 0);"
                    "INSERT INTO rooms (id, kind, name, created_by, created_at) "
                    "  VALUES (1, 'group', 'r', 1, 0);"
                    "INSERT INTO memberships VALUES (1, 1, 'owner', 0);"
                    "INSERT INTO messages (room_id, sender_id, body, created_at) "
                    "  VALUES (1, 1, 'written before search existed', 0);",
                    dir, sizeof(dir));

    struct sto_db *db = NULL;
    char err[STO_ERR_MAX];
    assert_int_equal(sto_open(dir, &db, err, sizeof(err)), 0);
    int v = 0;
    assert_int_equal(sto_schema_version(db, &v), 0);
    assert_int_equal(v, sto_schema_latest());
    struct sto_search_hit *hits;
    size_t n;
    assert_int_equal(sto_search(db, 1, "before search", 0, 10, &hits, &n), 0);
    assert_int_equal(n, 1);
    sto_search_free(hits, n);
    sto_close(db);
}

static void test_user_transaction_commits_and_rolls_back(void **state)
{
    struct fx *f = *state;
    assert_int_equal(sto_begin(f->db), 0);
    assert_int_equal(sto_begin(f->db), -EINVAL); /* no nesting at the API */
    fx_user(f, "temp1");
    fx_user(f, "temp2");
    assert_int_equal(sto_rollback(f->db), 0);
    struct sto_user u;
    assert_int_equal(sto_user_by_name(f->db, "temp1", &u), -ENOENT);

    int64_t alice = fx_user(f, "alice");
    int64_t room = fx_group(f, alice, "bulk");
    int64_t outsider = fx_user(f, "outsider");
    assert_int_equal(sto_begin(f->db), 0);
    for (int i = 0; i < 100; i++)
        fx_msg(f, room, alice, "bulk message");
    /* A failing call inside the transaction undoes only itself. */
    struct sto_message_new bad = {.room_id = room, .sender_id = outsider, .body = "x"};
    assert_int_equal(sto_message_insert(f->db, &bad, NULL, NULL), -EACCES);
    assert_int_equal(sto_commit(f->db), 0);
    assert_int_equal(sto_commit(f->db), -EINVAL);

    fx_reopen(f);
    struct sto_message *page;
    size_t n;
    assert_int_equal(sto_message_page(f->db, room, 0, 1000, &page, &n), 0);
    assert_int_equal(n, 100);
    sto_messages_free(page, n);
}

static void test_constraint_violations_map_to_errno(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    int64_t id;
    assert_int_equal(sto_user_create(f->db, "ALICE", NULL, false, NULL, &id), -EEXIST);
    assert_non_null(strstr(sto_errmsg(f->db), "taken"));
    assert_int_equal(sto_user_create(f->db, "", NULL, false, NULL, &id), -EINVAL);
    assert_int_equal(sto_user_create(f->db, "bad\x01name", NULL, false, NULL, &id), -EINVAL);
    assert_int_equal(sto_user_create(f->db, "\xff\xfe", NULL, false, NULL, &id), -EINVAL);
    /* Foreign keys: references to users and rooms that do not exist. */
    assert_int_equal(sto_room_create_group(f->db, 9999, "nobody's", NULL, &id), -EINVAL);
    int64_t room = fx_group(f, alice, "room");
    assert_int_equal(sto_member_add(f->db, room, 9999, STO_ROLE_MEMBER), -EINVAL);
    assert_int_equal(sto_member_add(f->db, 9999, alice, STO_ROLE_MEMBER), -EINVAL);
    assert_int_equal(sto_member_add(f->db, room, alice, STO_ROLE_MEMBER), -EEXIST);
    char token[STO_TOKEN_LEN + 1];
    assert_int_equal(sto_session_create(f->db, 9999, 1000, "ua", token, &id), -EINVAL);
    assert_int_equal(sto_audit_append(f->db, 9999, "x.y", "", ""), -EINVAL);
    assert_int_equal(sto_event_append(f->db, 9999, "t", "{}", &id), -EINVAL);
    /* The SQLite message is kept for the log. */
    assert_true(strlen(sto_errmsg(f->db)) > 0);
}

static void test_second_connection_sees_commits_and_gets_ebusy(void **state)
{
    struct fx *f = *state;
    struct sto_config cfg;
    sto_config_init(&cfg, f->dir);
    cfg.busy_timeout_ms = 0; /* fail at once instead of waiting: no timing in tests */
    struct sto_db *other = NULL;
    char err[STO_ERR_MAX];
    assert_int_equal(sto_open_config(&cfg, &other, err, sizeof(err)), 0);

    int64_t alice = fx_user(f, "alice");
    struct sto_user u;
    assert_int_equal(sto_user_get(other, alice, &u), 0);
    sto_user_clear(&u);

    assert_int_equal(sto_begin(f->db), 0);
    fx_user(f, "bob");
    int64_t id;
    assert_int_equal(sto_user_create(other, "carol", NULL, false, NULL, &id), -EBUSY);
    /* Readers are not blocked by the writer, and do not see its uncommitted rows. */
    assert_int_equal(sto_user_by_name(other, "bob", &u), -ENOENT);
    assert_int_equal(sto_commit(f->db), 0);
    assert_int_equal(sto_user_by_name(other, "bob", &u), 0);
    sto_user_clear(&u);
    assert_int_equal(sto_user_create(other, "carol", NULL, false, NULL, &id), 0);
    sto_close(other);
}

/* Savepoints inside one transaction: a failed part is undone alone, the
 * rest commits together. */
static void test_savepoints_undo_one_part(void **state)
{
    struct fx *f = *state;
    int64_t id;
    struct sto_user u;
    assert_int_equal(sto_savepoint(f->db), -EINVAL); /* not outside a transaction */
    assert_int_equal(sto_begin(f->db), 0);
    assert_int_equal(sto_savepoint(f->db), 0);
    assert_int_equal(sto_user_create(f->db, "kept", "Kept", false, NULL, &id), 0);
    assert_int_equal(sto_savepoint_end(f->db, 0), 0);
    assert_int_equal(sto_savepoint(f->db), 0);
    assert_int_equal(sto_user_create(f->db, "undone", "Undone", false, NULL, &id), 0);
    assert_int_equal(sto_savepoint_end(f->db, -EIO), -EIO);
    assert_int_equal(sto_savepoint_end(f->db, 0), -EINVAL); /* none open */
    assert_int_equal(sto_commit(f->db), 0);
    assert_int_equal(sto_user_by_name(f->db, "kept", &u), 0);
    sto_user_clear(&u);
    assert_int_equal(sto_user_by_name(f->db, "undone", &u), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_migrations_are_numbered_from_one),
        cmocka_unit_test_setup_teardown(test_new_database_is_migrated_to_latest, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_reopen_is_idempotent, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_is_refused_with_upgrade_message, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_foreign_database_is_refused_and_untouched, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_pragmas_make_commits_durable, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_data_is_private, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_migration_from_schema_1_indexes_existing_messages,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_user_transaction_commits_and_rolls_back, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_constraint_violations_map_to_errno, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_second_connection_sees_commits_and_gets_ebusy,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_savepoints_undo_one_part, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
