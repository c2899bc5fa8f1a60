/*
 * sto_oom_test.c - every SQLite allocation failing in turn, the way SQLite
 * tests itself: opening (and migrating) a new database, then each storage
 * operation. A failure must come back as a negative errno, leak nothing
 * (ASan checks), and leave the database consistent: each operation happened
 * completely or not at all.
 */
#include "fixture.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sqlite3_mem_methods real;
static long countdown; /* allocations left before one fails; <= 0: never fail */
static long failures;

static bool fail_now(void)
{
    if (countdown <= 0) return false;
    if (--countdown == 0) {
        failures++;
        return true;
    }
    return false;
}

static void *oom_malloc(int n)
{
    return fail_now() ? NULL : real.xMalloc(n);
}

static void *oom_realloc(void *p, int n)
{
    return fail_now() ? NULL : real.xRealloc(p, n);
}

static void inject(long nth)
{
    countdown = nth;
    failures = 0;
}

static void install(void)
{
    assert_int_equal(sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real), SQLITE_OK);
    sqlite3_mem_methods m = real;
    m.xMalloc = oom_malloc;
    m.xRealloc = oom_realloc;
    assert_int_equal(sqlite3_config(SQLITE_CONFIG_MALLOC, &m), SQLITE_OK);
}

static bool acceptable(int rc)
{
    return rc == -ENOMEM || rc == -EIO || rc == -EINVAL || rc == -EBUSY;
}

/* Checks the file on disk through a connection of its own: the library's
 * connection may hold state that the next operation discards. */
static void check_consistent(const char *dir)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, STO_DB_FILE);
    inject(0);
    sqlite3 *s = NULL;
    assert_int_equal(sqlite3_open_v2(path, &s, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(s, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    if (sqlite3_exec(s,
                     "INSERT INTO messages_fts(messages_fts, rank) "
                     "VALUES ('integrity-check', 1)",
                     NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("search index: %s", sqlite3_errmsg(s));
    /* Atomicity of the compound writes below: a message with "@" in it was
     * inserted together with its mention, a room together with its owner, an
     * event together with its seq. */
    assert_int_equal(sqlite3_prepare_v2(s,
                                        "SELECT (SELECT count(*) FROM messages WHERE body LIKE "
                                        "'%@%' AND deleted = 0 AND id NOT IN (SELECT message_id "
                                        "FROM mentions)) + (SELECT count(*) FROM rooms WHERE id "
                                        "NOT IN (SELECT room_id FROM memberships)) + (SELECT "
                                        "count(*) FROM events WHERE seq > (SELECT seq FROM "
                                        "sqlite_sequence WHERE name = 'events'))",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(s);
}

/* Opening runs every migration: thousands of allocations, each failure point
 * a fresh database with fsyncs. ctest tries every STRIDE-th one (all
 * failure points across runs of different strides); STO_OOM_STRIDE=1 tries
 * them all. */
static long stride(void)
{
    const char *s = getenv("STO_OOM_STRIDE");
    long v = s ? atol(s) : 0;
    return v > 0 ? v : 13;
}

static void test_open_survives_allocation_failures(void **state)
{
    (void)state;
    long n, tried = 0;
    for (n = 1;; n += stride(), tried++) {
        char dir[64] = "/tmp/sto-oom-XXXXXX";
        assert_non_null(mkdtemp(dir));
        struct sto_db *db = NULL;
        char err[STO_ERR_MAX];
        inject(n);
        int rc = sto_open(dir, &db, err, sizeof(err));
        long hit = failures;
        inject(0);
        if (rc != 0) {
            if (!acceptable(rc)) fail_msg("open with allocation %ld failing: %d %s", n, rc, err);
            assert_null(db);
            /* Whatever was applied is whole: a clean open finishes the job. */
            assert_int_equal(sto_open(dir, &db, err, sizeof(err)), 0);
            int v = 0;
            assert_int_equal(sto_schema_version(db, &v), 0);
            assert_int_equal(v, sto_schema_latest());
            check_consistent(dir);
        }
        sto_close(db);
        fx_rm_rf(dir);
        if (!hit) break; /* ran to the end without reaching allocation n */
    }
    print_message("open: %ld of %ld allocation failure points tried\n", tried, n);
}

struct world {
    int64_t alice, bob, room;
};

/* One step of the scenario; returns its result. */
static int step(struct sto_db *db, struct world *w, int i)
{
    int64_t id, seq;
    struct sto_search_hit *hits;
    struct sto_event *events;
    struct sto_unread *unread;
    struct sto_message *page;
    size_t n;
    int rc;
    switch (i) {
    case 0:
        return sto_room_create_group(db, w->alice, "oom", "topic", &id);
    case 1: {
        int64_t who[] = {w->bob};
        struct sto_message_new m = {.room_id = w->room,
                                    .sender_id = w->alice,
                                    .body = "hello @bob, 会議は明日です",
                                    .mentions = who,
                                    .n_mentions = 1};
        return sto_message_insert(db, &m, &id, NULL);
    }
    case 2:
        rc = sto_search(db, w->bob, "会議は", 0, 10, &hits, &n);
        sto_search_free(hits, n);
        return rc;
    case 3:
        rc = sto_search(db, w->bob, "明日", 0, 10, &hits, &n);
        sto_search_free(hits, n);
        return rc;
    case 4:
        return sto_event_append(db, w->bob, "message.new", "{\"id\":1}", &seq);
    case 5:
        rc = sto_event_since(db, w->bob, 0, 100, &events, &n);
        sto_events_free(events, n);
        return rc;
    case 6:
        rc = sto_unread_counts(db, w->bob, &unread, &n);
        free(unread);
        return rc;
    case 7:
        rc = sto_message_page(db, w->room, 0, 50, &page, &n);
        if (rc == 0 && n > 0) {
            int64_t first = page[n - 1].id;
            sto_messages_free(page, n);
            return sto_message_edit(db, first, w->alice, "edited @bob", NULL, 0);
        }
        sto_messages_free(page, n);
        return rc;
    case 8: {
        char token[STO_TOKEN_LEN + 1];
        struct sto_session s;
        if ((rc = sto_session_create(db, w->bob, 1000, "ua", token, &id))) return rc;
        rc = sto_session_get(db, token, &s);
        sto_session_clear(&s);
        return rc;
    }
    case 9: {
        int64_t *members;
        rc = sto_event_append_room(db, w->room, "room.update", "{}", NULL, &members, &n);
        free(members);
        return rc;
    }
    default:
        return 1; /* end of the scenario */
    }
}

static void test_operations_survive_every_allocation_failure(void **state)
{
    struct fx *f = *state;
    struct world w;
    w.alice = fx_user(f, "alice");
    w.bob = fx_user(f, "bob");
    w.room = fx_group(f, w.alice, "room");
    assert_int_equal(sto_member_add(f->db, w.room, w.bob, STO_ROLE_MEMBER), 0);

    long points = 0;
    for (int i = 0; step(f->db, &w, i) != 1; i++) {
        for (long n = 1;; n++) {
            /* A fresh connection each time, so the failure can also hit the
             * lazy set-up SQLite does on first use (FTS5 loads its index
             * structure then). */
            assert_int_equal(sto_reconnect(f->db), 0);
            inject(n);
            int rc = step(f->db, &w, i);
            long hit = failures;
            inject(0);
            if (rc != 0 && !acceptable(rc))
                fail_msg("step %d with allocation %ld failing: %d %s", i, n, rc, sto_errmsg(f->db));
            if (rc != 0) {
                /* The same connection must be fit for the next operation, and
                 * that operation must leave a sound database. */
                rc = step(f->db, &w, i);
                if (rc != 0) fail_msg("step %d after a failure: %d %s", i, rc, sto_errmsg(f->db));
                check_consistent(f->dir);
            }
            if (!hit) break;
            points++;
        }
    }
    check_consistent(f->dir);
    print_message("operations: %ld allocation failure points\n", points);
}

static void test_failure_inside_a_transaction_aborts_all_of_it(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice"), bob = fx_user(f, "bob");
    int64_t room = fx_group(f, alice, "room");
    assert_int_equal(sto_member_add(f->db, room, bob, STO_ROLE_MEMBER), 0);
    int64_t who[] = {bob};
    struct sto_message_new m = {
        .room_id = room, .sender_id = alice, .body = "@bob 会議", .mentions = who, .n_mentions = 1};
    long aborted = 0;
    for (long n = 1;; n++) {
        assert_int_equal(sto_reconnect(f->db), 0);
        assert_int_equal(sto_begin(f->db), 0);
        int64_t first;
        assert_int_equal(sto_message_insert(f->db, &m, &first, NULL), 0);
        inject(n);
        int rc = sto_message_insert(f->db, &m, NULL, NULL);
        long hit = failures;
        inject(0);
        if (rc == 0) {
            assert_int_equal(sto_commit(f->db), 0);
        } else {
            if (!acceptable(rc)) fail_msg("insert with allocation %ld failing: %d", n, rc);
            if (rc != -EINVAL) {
                /* Nothing of the transaction may commit, even piecemeal. */
                assert_int_equal(sto_message_insert(f->db, &m, NULL, NULL), -EIO);
                assert_int_equal(sto_commit(f->db), -EIO);
                struct sto_message got;
                assert_int_equal(sto_message_get(f->db, first, &got), -ENOENT);
                aborted++;
            } else {
                assert_int_equal(sto_rollback(f->db), 0);
            }
            check_consistent(f->dir);
        }
        if (!hit) break;
    }
    print_message("transactions aborted: %ld\n", aborted);
}

int main(void)
{
    install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_survives_allocation_failures),
        cmocka_unit_test_setup_teardown(test_operations_survive_every_allocation_failure, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_failure_inside_a_transaction_aborts_all_of_it,
                                        fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
