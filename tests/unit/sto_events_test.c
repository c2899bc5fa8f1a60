/*
 * sto_events_test.c - the event stream: one row per event whatever the room's
 * size, seqs that only go up, and resume that returns exactly a user's missed
 * events (their own and their rooms', while they were members), in order and
 * once, or -ERANGE once the stream after the cursor was pruned.
 */
#include "fixture.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t personal(struct fx *f, int64_t user, const char *tag)
{
    char payload[64];
    snprintf(payload, sizeof(payload), "{\"tag\":\"%s\"}", tag);
    int64_t seq = 0;
    assert_int_equal(sto_event_append(f->db, user, "test", payload, &seq), 0);
    return seq;
}

static int64_t in_room(struct fx *f, int64_t room, const char *tag)
{
    char payload[64];
    snprintf(payload, sizeof(payload), "{\"tag\":\"%s\"}", tag);
    int64_t seq = 0, *members = NULL;
    size_t n = 0;
    assert_int_equal(sto_event_append_room(f->db, room, "room.test", payload, &seq, &members, &n),
                     0);
    free(members);
    return seq;
}

static int64_t count_rows(struct fx *f, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(f->db->sql, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* What a client resuming from after gets, read in pages of page: the tags
 * joined with ',' into out; asserts the seqs strictly increase. */
static void resume(struct fx *f, int64_t user, int64_t after, int page, char *out, size_t len)
{
    out[0] = '\0';
    int64_t prev = after;
    for (;;) {
        struct sto_event *e;
        size_t n;
        assert_int_equal(sto_event_since(f->db, user, after, page, &e, &n), 0);
        for (size_t i = 0; i < n; i++) {
            if (e[i].seq <= prev) fail_msg("seq %lld after %lld", (long long)e[i].seq,
                                           (long long)prev);
            prev = e[i].seq;
            const char *tag = strstr(e[i].payload, "\"tag\":\"");
            assert_non_null(tag);
            tag += 7;
            size_t used = strlen(out);
            snprintf(out + used, len - used, "%s%.*s", used ? "," : "", (int)strcspn(tag, "\""),
                     tag);
        }
        if (n) after = e[n - 1].seq;
        sto_events_free(e, n);
        if (n < (size_t)page) return;
    }
}

/* Resuming from after gives want, whether read in pages of 1, 2 or 100. */
static void expect_resume(struct fx *f, int64_t user, int64_t after, const char *want)
{
    static const int pages[] = {1, 2, 100};
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        char got[256];
        resume(f, user, after, pages[i], got, sizeof(got));
        if (strcmp(got, want) != 0)
            fail_msg("pages of %d: got \"%s\", want \"%s\"", pages[i], got, want);
    }
}

static void test_seqs_only_go_up_and_survive_a_restart(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice"), bob = fx_user(f, "bob");
    int64_t last = -1, prev = 0;
    assert_int_equal(sto_event_last_seq(f->db, alice, &last), 0);
    assert_int_equal(last, 0);
    for (int i = 0; i < 10; i++) {
        int64_t s = personal(f, i % 3 ? alice : bob, "x");
        assert_true(s > prev);
        prev = s;
    }
    /* The head is every user's valid cursor. */
    assert_int_equal(sto_event_last_seq(f->db, alice, &last), 0);
    assert_int_equal(last, prev);
    assert_int_equal(sto_event_last_seq(f->db, bob, &last), 0);
    assert_int_equal(last, prev);
    fx_reopen(f);
    assert_true(personal(f, alice, "y") > prev);
}

static void test_room_event_is_one_row_for_any_number_of_members(void **state)
{
    struct fx *f = *state;
    int64_t owner = fx_user(f, "owner");
    int64_t room = fx_group(f, owner, "big");
    for (int i = 0; i < 50; i++) {
        char name[16];
        snprintf(name, sizeof(name), "m%d", i);
        assert_int_equal(sto_member_add(f->db, room, fx_user(f, name), STO_ROLE_MEMBER), 0);
    }
    int64_t rows = count_rows(f, "SELECT count(*) FROM events");
    int64_t seq = 0, *members = NULL;
    size_t n = 0;
    assert_int_equal(
        sto_event_append_room(f->db, room, "message.new", "{\"id\":1}", &seq, &members, &n), 0);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM events"), rows + 1);
    /* ... and it names everyone it is owed to, once. */
    assert_int_equal(n, 51);
    bool seen_owner = false;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++)
            assert_true(members[i] != members[j]);
        seen_owner |= members[i] == owner;
    }
    assert_true(seen_owner);
    free(members);
    int64_t last;
    assert_int_equal(sto_event_last_seq(f->db, owner, &last), 0);
    assert_int_equal(last, seq);
}

static void test_resume_interleaves_own_and_room_events_in_order(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice"), bob = fx_user(f, "bob"), carol = fx_user(f, "carol");
    int64_t a = fx_group(f, alice, "a"), b = fx_group(f, alice, "b"), c = fx_group(f, carol, "c");
    assert_int_equal(sto_member_add(f->db, a, bob, STO_ROLE_MEMBER), 0);
    int64_t cursor = personal(f, alice, "seen");
    in_room(f, a, "a1");
    personal(f, alice, "p1");
    in_room(f, c, "c1"); /* not alice's room */
    personal(f, bob, "bob1");
    in_room(f, b, "b1");
    in_room(f, a, "a2");
    personal(f, alice, "p2");

    expect_resume(f, alice, cursor, "a1,p1,b1,a2,p2");
    expect_resume(f, bob, 0, "a1,bob1,a2");
    expect_resume(f, carol, 0, "c1");

    /* Up to date: nothing. Ahead of the server: a client bug, said so. */
    int64_t last;
    assert_int_equal(sto_event_last_seq(f->db, alice, &last), 0);
    expect_resume(f, alice, last, "");
    struct sto_event *e;
    size_t n;
    assert_int_equal(sto_event_since(f->db, alice, last + 1, 10, &e, &n), -EINVAL);
}

static void test_resume_follows_joins_and_leaves(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice"), dave = fx_user(f, "dave");
    int64_t room = fx_group(f, alice, "team");
    int64_t cursor = personal(f, dave, "start");
    in_room(f, room, "before-join");
    assert_int_equal(sto_member_add(f->db, room, dave, STO_ROLE_MEMBER), 0);
    in_room(f, room, "while-in");
    assert_int_equal(sto_member_remove(f->db, room, dave), 0);
    in_room(f, room, "after-leave");
    personal(f, dave, "left");
    assert_int_equal(sto_member_add(f->db, room, dave, STO_ROLE_MEMBER), 0);
    in_room(f, room, "back");

    expect_resume(f, dave, cursor, "while-in,left,back");
    expect_resume(f, alice, 0, "before-join,while-in,after-leave,back");
}

/* alice and bob, both in room "team" (the result). */
static int64_t team_of_two(struct fx *f, int64_t *alice, int64_t *bob)
{
    *alice = fx_user(f, "alice");
    *bob = fx_user(f, "bob");
    int64_t room = fx_group(f, *alice, "team");
    assert_int_equal(sto_member_add(f->db, room, *bob, STO_ROLE_MEMBER), 0);
    return room;
}

static void test_pruned_stream_makes_since_ask_for_resync(void **state)
{
    struct fx *f = *state;
    int64_t alice, bob, room = team_of_two(f, &alice, &bob);
    int64_t first = personal(f, alice, "old1");
    in_room(f, room, "old2");
    int64_t old_last = personal(f, bob, "old3");
    f->now += 60000;
    int64_t cutoff = f->now;
    in_room(f, room, "new1");
    personal(f, alice, "new2");

    int64_t pruned = 0;
    assert_int_equal(sto_event_prune(f->db, cutoff, 1000, &pruned), 0);
    assert_int_equal(pruned, 3);

    struct sto_event *e;
    size_t n;
    assert_int_equal(sto_event_since(f->db, alice, first, 10, &e, &n), -ERANGE);
    assert_null(e);
    assert_int_equal(sto_event_since(f->db, bob, 0, 10, &e, &n), -ERANGE);
    expect_resume(f, alice, old_last, "new1,new2"); /* nothing it needs was pruned */
    expect_resume(f, bob, old_last, "new1");

    /* Everything pruned: seqs still continue, never reused. */
    int64_t last;
    assert_int_equal(sto_event_last_seq(f->db, alice, &last), 0);
    f->now += 60000;
    assert_int_equal(sto_event_prune(f->db, f->now, 1000, &pruned), 0);
    assert_int_equal(pruned, 2);
    assert_int_equal(sto_event_since(f->db, alice, last - 1, 10, &e, &n), -ERANGE);
    expect_resume(f, alice, last, "");
    fx_reopen(f);
    assert_true(personal(f, alice, "later") > last);
}

/* pruned_through as stored. */
static int64_t prune_floor(struct fx *f)
{
    return count_rows(f, "SELECT value FROM stream_meta WHERE key = 'pruned_through'");
}

static void test_prune_in_chunks_keeps_resume_exact_between_them(void **state)
{
    struct fx *f = *state;
    int64_t alice, bob, room = team_of_two(f, &alice, &bob);
    int64_t start = personal(f, bob, "o0");
    personal(f, alice, "o1");
    in_room(f, room, "o2");
    int64_t third = personal(f, alice, "o3");
    in_room(f, room, "o4");
    personal(f, bob, "o5");
    in_room(f, room, "o6");
    f->now += 60000;
    int64_t cutoff = f->now;
    in_room(f, room, "n1");
    personal(f, alice, "n2");

    int64_t pruned = -1;
    assert_int_equal(sto_event_prune(f->db, cutoff, 0, &pruned), -EINVAL);
    assert_int_equal(sto_event_prune(f->db, cutoff, 3, &pruned), 0);
    assert_int_equal(pruned, 3); /* o0 o1 o2: a prefix, no more than asked */
    assert_int_equal(prune_floor(f), third - 1);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM events"), 6);
    /* Between chunks: below the floor resyncs, at it the rest is all there. */
    struct sto_event *e;
    size_t n;
    assert_int_equal(sto_event_since(f->db, alice, start, 10, &e, &n), -ERANGE);
    expect_resume(f, alice, third - 1, "o3,o4,o6,n1,n2");
    expect_resume(f, bob, third - 1, "o4,o5,o6,n1");

    assert_int_equal(sto_event_prune(f->db, cutoff, 3, &pruned), 0);
    assert_int_equal(pruned, 3); /* o3 o4 o5 */
    assert_int_equal(sto_event_prune(f->db, cutoff, 3, &pruned), 0);
    assert_int_equal(pruned, 1); /* o6: fewer than the limit, so done */
    assert_int_equal(sto_event_prune(f->db, cutoff, 3, &pruned), 0);
    assert_int_equal(pruned, 0);
    expect_resume(f, alice, prune_floor(f), "n1,n2");
    expect_resume(f, bob, prune_floor(f), "n1");
    assert_int_equal(sto_event_since(f->db, bob, prune_floor(f) - 1, 10, &e, &n), -ERANGE);
}

/* An event stamped late (the clock stepped back after it) among old ones is
 * still part of the pruned prefix, in chunks as in one go; nothing past the
 * newest old-enough event goes. */
static void test_chunked_prune_removes_the_same_prefix_as_one_call(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    personal(f, alice, "old1");
    f->now += 120000;
    personal(f, alice, "stamped-late");
    f->now -= 120000;
    personal(f, alice, "old2");
    int64_t last_old = personal(f, alice, "old3");
    f->now += 60000;
    int64_t cutoff = f->now;
    f->now += 120000;
    personal(f, alice, "new1");

    int64_t pruned = 0, total = 0;
    do {
        assert_int_equal(sto_event_prune(f->db, cutoff, 1, &pruned), 0);
        total += pruned;
    } while (pruned == 1);
    assert_int_equal(total, 4);
    assert_int_equal(prune_floor(f), last_old);
    expect_resume(f, alice, last_old, "new1");
}

static void test_payload_must_be_json(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    int64_t room = fx_group(f, alice, "team");
    int64_t seq, *members;
    size_t n;
    assert_int_equal(sto_event_append(f->db, alice, "t", "{not json", &seq), -EINVAL);
    assert_int_equal(sto_event_append(f->db, alice, "", "{}", &seq), -EINVAL);
    assert_int_equal(sto_event_append_room(f->db, room, "t", "[", &seq, &members, &n), -EINVAL);
    assert_null(members);
    /* A refused event left nothing behind. */
    assert_int_equal(count_rows(f, "SELECT count(*) FROM events"), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_seqs_only_go_up_and_survive_a_restart),
        T(test_room_event_is_one_row_for_any_number_of_members),
        T(test_resume_interleaves_own_and_room_events_in_order),
        T(test_resume_follows_joins_and_leaves),
        T(test_pruned_stream_makes_since_ask_for_resync),
        T(test_prune_in_chunks_keeps_resume_exact_between_them),
        T(test_chunked_prune_removes_the_same_prefix_as_one_call),
        T(test_payload_must_be_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
