/*
 * sto_backup_test.c - online backup and restore: a restore brings back
 * exactly the data backed up, a backup is one self-contained private file,
 * cancellation leaves nothing, other writers do not spoil a backup, and
 * restore refuses anything that is not a lanturn backup it understands.
 */
#include "fixture.h"
#include "internal.h"
#include "migrations.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every row of every table (FTS index included), as one string. SQLite's own
 * tables are left out: restore deliberately keeps sqlite_sequence ahead. */
static char *dump(sqlite3 *s)
{
    sqlite3_str *out = sqlite3_str_new(s);
    sqlite3_stmt *tables = NULL;
    assert_int_equal(sqlite3_prepare_v2(s,
                                        "SELECT name FROM sqlite_schema WHERE type = 'table' "
                                        "AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE "
                                        "'CREATE VIRTUAL%' ORDER BY name",
                                        -1, &tables, NULL),
                     SQLITE_OK);
    while (sqlite3_step(tables) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        char *q = sqlite3_mprintf("SELECT * FROM \"%w\"", name); /* our own table names */
        sqlite3_stmt *rows = NULL;
        assert_int_equal(sqlite3_prepare_v2(s, q, -1, &rows, NULL), SQLITE_OK);
        sqlite3_free(q);
        sqlite3_str_appendf(out, "== %s\n", name);
        while (sqlite3_step(rows) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(rows); c++) {
                int type = sqlite3_column_type(rows, c);
                const unsigned char *p = type == SQLITE_BLOB ? sqlite3_column_blob(rows, c)
                                                             : sqlite3_column_text(rows, c);
                int n = sqlite3_column_bytes(rows, c);
                sqlite3_str_appendf(out, "%d:", type);
                for (int i = 0; i < n; i++)
                    sqlite3_str_appendf(out, "%02x", p[i]);
                sqlite3_str_appendchar(out, 1, '|');
            }
            sqlite3_str_appendchar(out, 1, '\n');
        }
        sqlite3_finalize(rows);
    }
    sqlite3_finalize(tables);
    char *text = sqlite3_str_finish(out);
    assert_non_null(text);
    return text;
}

static int64_t fill(struct fx *f)
{
    int64_t alice = fx_user(f, "alice"), bob = fx_user(f, "bob");
    const uint8_t hash[] = {1, 2, 3, 0, 4}, salt[] = {9, 0, 8};
    struct sto_password pw = {hash, sizeof(hash), salt, sizeof(salt), "kdf:1"};
    assert_int_equal(sto_user_set_password(f->db, alice, &pw), 0);
    char token[STO_TOKEN_LEN + 1];
    assert_int_equal(sto_session_create(f->db, alice, 3600000, "ua", token, NULL), 0);
    int64_t room = fx_group(f, alice, "team"), dm;
    assert_int_equal(sto_member_add(f->db, room, bob, STO_ROLE_ADMIN), 0);
    assert_int_equal(sto_room_create_direct(f->db, alice, bob, &dm, NULL), 0);
    int64_t m1 = fx_msg(f, room, alice, "the quick brown fox");
    int64_t m2 = fx_msg(f, room, bob, "今日は会議があります");
    fx_msg(f, dm, bob, "private");
    assert_int_equal(sto_message_delete(f->db, m2, bob), 0);
    assert_int_equal(sto_reaction_add(f->db, m1, bob, "👍"), 0);
    assert_int_equal(sto_read_set(f->db, room, bob, m1), 0);
    int64_t seq;
    assert_int_equal(sto_event_append(f->db, bob, "message.new", "{\"id\":1}", &seq), 0);
    char id[STO_FILE_ID_LEN + 1];
    assert_int_equal(sto_file_put_buf(f->db, alice, room, "a.txt", "text/plain", "abc", 3, id), 0);
    assert_int_equal(sto_audit_append(f->db, alice, "room.create", "room:1", ""), 0);
    return room;
}

struct progress_log {
    int calls, last_done, last_total, cancel_at;
    struct sto_db *writer; /* writes through another connection on the first call */
    int64_t room, user;
};

static int on_progress(void *ctx, int done, int total)
{
    struct progress_log *p = ctx;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
    if (p->writer && p->calls == 1) {
        struct sto_message_new m = {.room_id = p->room, .sender_id = p->user, .body = "late"};
        assert_int_equal(sto_message_insert(p->writer, &m, NULL, NULL), 0);
    }
    return p->cancel_at && p->calls >= p->cancel_at;
}

static void test_restore_brings_back_exactly_the_backup(void **state)
{
    struct fx *f = *state;
    int64_t room = fill(f);
    char *before = dump(f->db->sql);

    char path[300];
    fx_path(f, "backup.db", path, sizeof(path));
    struct progress_log log = {0};
    struct sto_progress progress = {on_progress, &log};
    assert_int_equal(sto_backup(f->db, path, &progress), 0);
    assert_true(log.calls >= 1);
    assert_int_equal(log.last_done, log.last_total);

    /* Change everything a little. */
    int64_t carol = fx_user(f, "carol");
    assert_int_equal(sto_member_add(f->db, room, carol, STO_ROLE_MEMBER), 0);
    int64_t later = fx_msg(f, room, carol, "written after the backup");
    assert_int_equal(sto_user_set_disabled(f->db, 1, true), 0);
    int64_t seq;
    assert_int_equal(sto_event_append(f->db, 2, "x", "{}", &seq), 0);
    char *changed = dump(f->db->sql);
    assert_string_not_equal(before, changed);

    memset(&log, 0, sizeof(log));
    assert_int_equal(sto_restore(f->db, path, &progress), 0);
    assert_true(log.calls >= 1);
    char *after = dump(f->db->sql);
    assert_string_equal(before, after);

    /* The restored database works: search, ids that are never reused. */
    struct sto_search_hit *h;
    size_t n;
    assert_int_equal(sto_search(f->db, 2, "brown", 0, 10, &h, &n), 0);
    assert_int_equal(n, 1);
    sto_search_free(h, n);
    assert_int_equal(sto_exec(f->db, "INSERT INTO messages_fts(messages_fts, rank) "
                                     "VALUES ('integrity-check', 1)"),
                     0);
    int64_t next = fx_msg(f, room, 2, "after restore");
    assert_true(next > later); /* AUTOINCREMENT: never the id of a message since lost */
    sqlite3_free(before);
    sqlite3_free(changed);
    sqlite3_free(after);
}

static void test_backup_is_one_private_self_contained_file(void **state)
{
    struct fx *f = *state;
    fill(f);
    char path[300], wal[320], dir[300], copy[320];
    fx_path(f, "backup.db", path, sizeof(path));
    assert_int_equal(sto_backup(f->db, path, NULL), 0);
    snprintf(wal, sizeof(wal), "%s-wal", path);
    assert_int_equal(access(wal, F_OK), -1);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    /* It opens as a data directory of its own. */
    fx_path(f, "elsewhere", dir, sizeof(dir));
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(copy, sizeof(copy), "%s/%s", dir, STO_DB_FILE);
    assert_int_equal(rename(path, copy), 0);
    struct sto_db *db = NULL;
    char err[STO_ERR_MAX];
    assert_int_equal(sto_open(dir, &db, err, sizeof(err)), 0);
    struct sto_user u;
    assert_int_equal(sto_user_by_name(db, "alice", &u), 0);
    sto_user_clear(&u);
    sto_close(db);
}

static void test_cancelled_backup_leaves_nothing(void **state)
{
    struct fx *f = *state;
    fill(f);
    int before = fx_count_entries(f->dir);
    char path[300];
    fx_path(f, "backup.db", path, sizeof(path));
    struct progress_log log = {.cancel_at = 1};
    struct sto_progress progress = {on_progress, &log};
    assert_int_equal(sto_backup(f->db, path, &progress), -ECANCELED);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(fx_count_entries(f->dir), before); /* no temporary file either */
}

static void test_backup_while_another_connection_writes(void **state)
{
    struct fx *f = *state;
    int64_t room = fill(f);
    /* Several steps' worth of pages, so the write lands mid-backup. */
    assert_int_equal(sto_begin(f->db), 0);
    char body[1024];
    memset(body, 'x', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    for (int i = 0; i < 3000; i++)
        fx_msg(f, room, 1, body);
    assert_int_equal(sto_commit(f->db), 0);

    struct sto_db *other = NULL;
    char err[STO_ERR_MAX];
    assert_int_equal(sto_open(f->dir, &other, err, sizeof(err)), 0);
    char path[300];
    fx_path(f, "backup.db", path, sizeof(path));
    struct progress_log log = {.writer = other, .room = room, .user = 1};
    struct sto_progress progress = {on_progress, &log};
    assert_int_equal(sto_backup(f->db, path, &progress), 0);
    assert_true(log.calls > 1);
    sto_close(other);

    /* A consistent snapshot that includes the write (the copy restarted). */
    sqlite3 *s = NULL;
    assert_int_equal(sqlite3_open_v2(path, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(s, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    assert_int_equal(
        sqlite3_prepare_v2(s, "SELECT count(*) FROM messages WHERE body = 'late'", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(s);
}

/* Backs up, lets edit() change the backup file, and expects restore to fail
 * with want and the live data to stay as it was. */
static void expect_refused(struct fx *f, void (*edit)(const char *path), int want)
{
    fill(f);
    char path[300];
    fx_path(f, "backup.db", path, sizeof(path));
    assert_int_equal(sto_backup(f->db, path, NULL), 0);
    edit(path);
    fx_msg(f, 1, 1, "not in the backup");
    char *before = dump(f->db->sql);
    int rc = sto_restore(f->db, path, NULL);
    if (rc != want) fail_msg("restore gave %d (%s), wanted %d", rc, sto_errmsg(f->db), want);
    print_message("refused: %s\n", sto_errmsg(f->db));
    char *after = dump(f->db->sql);
    assert_string_equal(before, after);
    sqlite3_free(before);
    sqlite3_free(after);
    /* Still usable. */
    fx_msg(f, 1, 1, "still writable");
}

static void exec_on(const char *path, const char *sql)
{
    sqlite3 *s = NULL;
    assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
    assert_int_equal(sqlite3_exec(s, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(s);
}

static void make_newer(const char *path)
{
    char q[64];
    snprintf(q, sizeof(q), "PRAGMA user_version = %d", sto_schema_latest() + 1);
    exec_on(path, q);
}

static void add_trigger(const char *path)
{
    exec_on(path, "CREATE TRIGGER evil AFTER INSERT ON users BEGIN DELETE FROM messages; END");
}

static void make_foreign(const char *path)
{
    unlink(path);
    exec_on(path, "CREATE TABLE users(x); INSERT INTO users VALUES (1)");
}

static void make_garbage(const char *path)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 100; i++)
        fputs("not a database at all ", fp);
    fclose(fp);
}

static void corrupt_page_2(const char *path)
{
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 4096, SEEK_SET), 0);
    for (int i = 0; i < 64; i++)
        fputc(0xa5, fp);
    fclose(fp);
}

static void break_foreign_key(const char *path)
{
    exec_on(path, "PRAGMA foreign_keys = OFF; UPDATE messages SET sender_id = 999");
}

static void test_restore_refuses_newer_schema(void **state)
{
    expect_refused(*state, make_newer, -ENOTSUP);
}

static void test_restore_refuses_changed_schema(void **state)
{
    expect_refused(*state, add_trigger, -EINVAL);
}

static void test_restore_refuses_foreign_database(void **state)
{
    expect_refused(*state, make_foreign, -EINVAL);
}

static void test_restore_refuses_non_database(void **state)
{
    expect_refused(*state, make_garbage, -EINVAL);
}

static void test_restore_refuses_corrupt_backup(void **state)
{
    expect_refused(*state, corrupt_page_2, -EINVAL);
}

static void test_restore_refuses_broken_references(void **state)
{
    expect_refused(*state, break_foreign_key, -EINVAL);
}

static void test_restore_missing_file(void **state)
{
    struct fx *f = *state;
    char path[300];
    fx_path(f, "nope.db", path, sizeof(path));
    assert_int_equal(sto_restore(f->db, path, NULL), -ENOENT);
    assert_int_equal(sto_begin(f->db), 0);
    assert_int_equal(sto_restore(f->db, path, NULL), -EBUSY);
    assert_int_equal(sto_rollback(f->db), 0);
}

static void test_restore_of_an_older_schema_is_migrated(void **state)
{
    struct fx *f = *state;
    char path[300];
    fx_path(f, "v1.db", path, sizeof(path));
    sqlite3 *s = NULL;
    assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
    assert_int_equal(sqlite3_exec(s, sto_migrations[0].sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(s,
                                  "PRAGMA user_version = 1;"
                                  "INSERT INTO users (id, name, created_at) VALUES (1, 'old', 0);"
                                  "INSERT INTO rooms (id, kind, name, created_by, created_at) "
                                  "  VALUES (1, 'group', 'r', 1, 0);"
                                  "INSERT INTO memberships VALUES (1, 1, 'owner', 0);"
                                  "INSERT INTO messages (room_id, sender_id, body, created_at) "
                                  "  VALUES (1, 1, 'from an old backup', 0);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(s);

    assert_int_equal(sto_restore(f->db, path, NULL), 0);
    int v = 0;
    assert_int_equal(sto_schema_version(f->db, &v), 0);
    assert_int_equal(v, sto_schema_latest());
    struct sto_search_hit *h;
    size_t n;
    assert_int_equal(sto_search(f->db, 1, "old backup", 0, 10, &h, &n), 0);
    assert_int_equal(n, 1);
    sto_search_free(h, n);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_restore_brings_back_exactly_the_backup),
        T(test_backup_is_one_private_self_contained_file),
        T(test_cancelled_backup_leaves_nothing),
        T(test_backup_while_another_connection_writes),
        T(test_restore_refuses_newer_schema),
        T(test_restore_refuses_changed_schema),
        T(test_restore_refuses_foreign_database),
        T(test_restore_refuses_non_database),
        T(test_restore_refuses_corrupt_backup),
        T(test_restore_refuses_broken_references),
        T(test_restore_missing_file),
        T(test_restore_of_an_older_schema_is_migrated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
