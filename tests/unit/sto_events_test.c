/*
 * sto_events_test.c - per-user event sequence numbers: monotonic per user,
 * replay of exactly the missed events, pruning and the resync signal.
 */
#include "fixture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void append(struct fx *f, int64_t user, int64_t want_seq)
{
    char payload[64];
    snprintf(payload, sizeof(payload), "{\"n\":%lld}", (long long)want_seq);
    int64_t seq = 0;
    assert_int_equal(sto_event_append(f->db, user, "test", payload, &seq), 0);
    assert_int_equal(seq, want_seq);
}

static void test_seq_is_monotonic_per_user(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice"), bob = fx_user(f, "bob");
    int64_t last = -1;
    assert_int_equal(sto_event_last_seq(f->db, alice, &last), 0);
    assert_int_equal(last, 0);
    for (int64_t i = 1; i <= 10; i++) {
        append(f, alice, i);
        if (i % 3 == 0) append(f, bob, i / 3); /* interleaved, counted apart */
    }
    assert_int_equal(sto_event_last_seq(f->db, alice, &last), 0);
    assert_int_equal(last, 10);
    assert_int_equal(sto_event_last_seq(f->db, bob, &last), 0);
    assert_int_equal(last, 3);
    fx_reopen(f); /* and it survives a restart */
    append(f, alice, 11);
}

static void test_since_returns_exactly_the_missed_events(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    for (int64_t i = 1; i <= 25; i++)
        append(f, alice, i);

    struct sto_event *e;
    size_t n;
    assert_int_equal(sto_event_since(f->db, alice, 17, 100, &e, &n), 0);
    assert_int_equal(n, 8);
    for (size_t i = 0; i < n; i++) {
        char want[32];
        snprintf(want, sizeof(want), "{\"n\":%zu}", 18 + i);
        assert_int_equal(e[i].seq, 18 + (int64_t)i);
        assert_string_equal(e[i].type, "test");
        assert_string_equal(e[i].payload, want);
    }
    sto_events_free(e, n);

    /* In pages: every seq once, in order. */
    int64_t after = 0, expect = 1;
    for (;;) {
        assert_int_equal(sto_event_since(f->db, alice, after, 7, &e, &n), 0);
        if (n == 0) break;
        for (size_t i = 0; i < n; i++)
            assert_int_equal(e[i].seq, expect++);
        after = e[n - 1].seq;
        sto_events_free(e, n);
    }
    sto_events_free(e, n);
    assert_int_equal(expect, 26);

    /* Up to date: nothing. Ahead of the server: a client bug, said so. */
    assert_int_equal(sto_event_since(f->db, alice, 25, 10, &e, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(sto_event_since(f->db, alice, 26, 10, &e, &n), -EINVAL);
    int64_t nobody = fx_user(f, "nobody");
    assert_int_equal(sto_event_since(f->db, nobody, 0, 10, &e, &n), 0);
    assert_int_equal(n, 0);
}

static void test_pruned_events_make_since_ask_for_resync(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    for (int64_t i = 1; i <= 5; i++)
        append(f, alice, i);
    f->now += 60000;
    int64_t cutoff = f->now;
    for (int64_t i = 6; i <= 8; i++)
        append(f, alice, i);

    int64_t pruned = 0;
    assert_int_equal(sto_event_prune(f->db, cutoff, &pruned), 0);
    assert_int_equal(pruned, 5);

    struct sto_event *e;
    size_t n;
    assert_int_equal(sto_event_since(f->db, alice, 2, 10, &e, &n), -ERANGE);
    assert_null(e);
    assert_int_equal(sto_event_since(f->db, alice, 5, 10, &e, &n), 0); /* nothing missing */
    assert_int_equal(n, 3);
    assert_int_equal(e[0].seq, 6);
    sto_events_free(e, n);

    /* Everything pruned: seqs still continue, never reused. */
    f->now += 60000;
    assert_int_equal(sto_event_prune(f->db, f->now, &pruned), 0);
    assert_int_equal(pruned, 3);
    assert_int_equal(sto_event_since(f->db, alice, 7, 10, &e, &n), -ERANGE);
    assert_int_equal(sto_event_since(f->db, alice, 8, 10, &e, &n), 0);
    assert_int_equal(n, 0);
    append(f, alice, 9);
}

static void test_room_event_gives_every_member_its_next_seq(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice"), bob = fx_user(f, "bob"), carol = fx_user(f, "carol");
    int64_t room = fx_group(f, alice, "team");
    assert_int_equal(sto_member_add(f->db, room, bob, STO_ROLE_MEMBER), 0);
    append(f, bob, 1);
    append(f, bob, 2);

    struct sto_event_target *t;
    size_t n;
    assert_int_equal(sto_event_append_room(f->db, room, "message.new", "{\"id\":1}", &t, &n), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        if (t[i].user_id == alice)
            assert_int_equal(t[i].seq, 1);
        else if (t[i].user_id == bob)
            assert_int_equal(t[i].seq, 3);
        else
            fail_msg("event for a non-member %lld", (long long)t[i].user_id);
    }
    free(t);
    int64_t last;
    assert_int_equal(sto_event_last_seq(f->db, carol, &last), 0);
    assert_int_equal(last, 0);

    struct sto_event *e;
    assert_int_equal(sto_event_since(f->db, bob, 2, 10, &e, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].type, "message.new");
    assert_string_equal(e[0].payload, "{\"id\":1}");
    sto_events_free(e, n);
}

static void test_payload_must_be_json(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    int64_t seq;
    assert_int_equal(sto_event_append(f->db, alice, "t", "{not json", &seq), -EINVAL);
    assert_int_equal(sto_event_append(f->db, alice, "", "{}", &seq), -EINVAL);
    /* A refused event consumed no seq. */
    append(f, alice, 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_seq_is_monotonic_per_user),
        T(test_since_returns_exactly_the_missed_events),
        T(test_pruned_events_make_since_ask_for_resync),
        T(test_room_event_gives_every_member_its_next_seq),
        T(test_payload_must_be_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
