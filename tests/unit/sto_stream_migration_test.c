/*
 * sto_stream_migration_test.c - migration 004 (room streams) on a database
 * written by schema 3, with per-user event logs in it: every old event is
 * kept, a client holding an old per-user seq resumes exactly where it was,
 * a cursor whose events were pruned before the upgrade resyncs, and new
 * seqs can never be taken for old ones.
 */
#include "fixture.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Schema 3 with: alice (1) with old seqs 3..5 held (1..2 pruned), bob (2)
 * with 1..3, carol (3) whose 2 events were all pruned, dan (4) never given
 * one; alice and bob in room 1. */
static const char OLD_DATA[] =
    "PRAGMA user_version = 3;"
    "INSERT INTO users (id, name, created_at) VALUES (1, 'alice', 0), (2, 'bob', 0),"
    "  (3, 'carol', 0), (4, 'dan', 0);"
    "INSERT INTO rooms (id, kind, name, created_by, created_at) VALUES (1, 'group', 'r', 1, 0);"
    "INSERT INTO memberships VALUES (1, 1, 'owner', 0), (1, 2, 'member', 0);"
    "INSERT INTO event_seqs VALUES (1, 5), (2, 3), (3, 2);"
    "INSERT INTO events VALUES (1, 3, 't', '{\"old\":\"a3\"}', 10), (1, 4, 't', '{\"old\":\"a4\"}', 11),"
    "  (1, 5, 't', '{\"old\":\"a5\"}', 12), (2, 1, 't', '{\"old\":\"b1\"}', 10),"
    "  (2, 2, 't', '{\"old\":\"b2\"}', 11), (2, 3, 't', '{\"old\":\"b3\"}', 12);";

static struct sto_db *open_old(struct fx *f)
{
    char dir[300];
    fx_old_database(f, 3, OLD_DATA, dir, sizeof(dir));
    struct sto_db *db = NULL;
    char err[STO_ERR_MAX];
    if (sto_open(dir, &db, err, sizeof(err)) != 0) fail_msg("open: %s", err);
    int v = 0;
    assert_int_equal(sto_schema_version(db, &v), 0);
    assert_int_equal(v, sto_schema_latest());
    return db;
}

/* The "old" values of user's events after cursor, joined with ','. */
static int since(struct sto_db *db, int64_t user, int64_t cursor, char *out, size_t len)
{
    struct sto_event *e;
    size_t n;
    out[0] = '\0';
    int err = sto_event_since(db, user, cursor, 100, &e, &n);
    if (err) return err;
    for (size_t i = 0; i < n; i++) {
        assert_true(i == 0 || e[i].seq > e[i - 1].seq);
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", used ? "," : "", e[i].payload);
    }
    sto_events_free(e, n);
    return 0;
}

static void test_old_cursors_resume_exactly_after_the_upgrade(void **state)
{
    struct fx *f = *state;
    struct sto_db *db = open_old(f);
    char got[256];
    /* alice's old cursors: 2 (just before what is held) .. 5 (up to date). */
    assert_int_equal(since(db, 1, 2, got, sizeof(got)), 0);
    assert_string_equal(got, "{\"old\":\"a3\"},{\"old\":\"a4\"},{\"old\":\"a5\"}");
    assert_int_equal(since(db, 1, 4, got, sizeof(got)), 0);
    assert_string_equal(got, "{\"old\":\"a5\"}");
    assert_int_equal(since(db, 1, 5, got, sizeof(got)), 0);
    assert_string_equal(got, "");
    assert_int_equal(since(db, 2, 1, got, sizeof(got)), 0);
    assert_string_equal(got, "{\"old\":\"b2\"},{\"old\":\"b3\"}");
    assert_int_equal(since(db, 2, 0, got, sizeof(got)), 0);
    assert_string_equal(got, "{\"old\":\"b1\"},{\"old\":\"b2\"},{\"old\":\"b3\"}");
    assert_int_equal(since(db, 3, 2, got, sizeof(got)), 0); /* carol: up to date, nothing held */
    assert_string_equal(got, "");

    /* Pruned before the upgrade, or never handed out to this user: resync. */
    assert_int_equal(since(db, 1, 1, got, sizeof(got)), -ERANGE);
    assert_int_equal(since(db, 3, 1, got, sizeof(got)), -ERANGE);
    assert_int_equal(since(db, 4, 1, got, sizeof(got)), -ERANGE);

    /* New events come after every old cursor, and reach the old members. */
    int64_t head = 0, seq = 0, *members;
    size_t n;
    assert_int_equal(sto_event_last_seq(db, 1, &head), 0);
    assert_true(head > 5); /* no new cursor looks like an old one */
    assert_int_equal(sto_event_append_room(db, 1, "message.new", "{\"new\":1}", &seq, &members,
                                           &n),
                     0);
    assert_int_equal(n, 2);
    free(members);
    assert_true(seq > head);
    assert_int_equal(since(db, 1, 4, got, sizeof(got)), 0);
    assert_string_equal(got, "{\"old\":\"a5\"},{\"new\":1}");
    assert_int_equal(since(db, 2, 3, got, sizeof(got)), 0);
    assert_string_equal(got, "{\"new\":1}");
    assert_int_equal(since(db, 1, head, got, sizeof(got)), 0);
    assert_string_equal(got, "{\"new\":1}");
    assert_int_equal(since(db, 4, head, got, sizeof(got)), 0); /* not in the room */
    assert_string_equal(got, "");
    sto_close(db);
}

static void test_empty_schema_3_needs_no_translation(void **state)
{
    struct fx *f = *state;
    /* The fixture's database went through every migration with no events:
     * the stream starts at 1 and 1 is a new cursor, not an old one. */
    int64_t alice = fx_user(f, "alice");
    int64_t seq = 0;
    assert_int_equal(sto_event_append(f->db, alice, "t", "{\"n\":1}", &seq), 0);
    assert_int_equal(seq, 1);
    assert_int_equal(sto_event_append(f->db, alice, "t", "{\"n\":2}", &seq), 0);
    char got[64];
    assert_int_equal(since(f->db, alice, 1, got, sizeof(got)), 0);
    assert_string_equal(got, "{\"n\":2}");
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_old_cursors_resume_exactly_after_the_upgrade),
        T(test_empty_schema_3_needs_no_translation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
