/*
 * sig_retention_test.c - signald's event retention on a real database with a
 * clock the test controls: a run at start and one an hour later, a backlog
 * deleted a chunk per call with resume exact in between, events newer than
 * the retention kept, and 0 keeping everything.
 */
#include "fixture.h"
#include "retention.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define DAY_MS ((int64_t)86400 * 1000)

static int64_t personal(struct fx *f, int64_t user)
{
    int64_t seq = 0;
    assert_int_equal(sto_event_append(f->db, user, "test", "{}", &seq), 0);
    return seq;
}

/* How many of user's events a resume from after returns; -ERANGE: resync. */
static int resumed(struct fx *f, int64_t user, int64_t after)
{
    struct sto_event *e;
    size_t n;
    int err = sto_event_since(f->db, user, after, 1000, &e, &n);
    sto_events_free(e, n);
    return err ? err : (int)n;
}

static void test_backlog_goes_a_chunk_per_call_at_start_and_again_an_hour_later(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    int64_t first = personal(f, alice);
    for (int i = 0; i < 6; i++)
        personal(f, alice);
    int64_t old_last = personal(f, alice); /* 8 old events */
    f->now += 3 * DAY_MS;
    personal(f, alice);
    personal(f, alice); /* 2 within the retention */

    struct sig_retention r;
    int64_t mono = 5000;
    sig_retention_init(&r, 2 * DAY_MS, mono);
    r.chunk = 3;
    assert_int_equal(sig_retention_step(&r, f->db, mono, f->now), 1); /* 3 gone, more to do */
    assert_int_equal(resumed(f, alice, first), -ERANGE);
    assert_int_equal(resumed(f, alice, first + 2), 7); /* between chunks: exact */
    assert_int_equal(sig_retention_step(&r, f->db, mono + 250, f->now), 1);
    assert_int_equal(sig_retention_step(&r, f->db, mono + 500, f->now), 0); /* the last 2 */
    assert_int_equal(r.removed, 8);
    assert_int_equal(r.steps, 3);
    assert_int_equal(resumed(f, alice, old_last - 1), -ERANGE);
    assert_int_equal(resumed(f, alice, old_last), 2);

    /* Idle until an hour after the run started, whatever happens meanwhile. */
    f->now += 3 * DAY_MS;
    assert_int_equal(sig_retention_step(&r, f->db, mono + SIG_RETENTION_EVERY_MS - 1, f->now), 0);
    assert_int_equal(resumed(f, alice, old_last), 2);
    assert_int_equal(sig_retention_step(&r, f->db, mono + SIG_RETENTION_EVERY_MS, f->now), 0);
    assert_int_equal(r.removed, 2);
    assert_int_equal(resumed(f, alice, old_last), -ERANGE);
}

static void test_zero_keeps_every_event(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    personal(f, alice);
    personal(f, alice);
    f->now += 3650 * DAY_MS;
    struct sig_retention r;
    sig_retention_init(&r, 0, 0);
    for (int64_t t = 0; t <= 2 * SIG_RETENTION_EVERY_MS; t += SIG_RETENTION_EVERY_MS / 2)
        assert_int_equal(sig_retention_step(&r, f->db, t, f->now), 0);
    assert_int_equal(resumed(f, alice, 0), 2);
}

static void test_events_within_the_retention_stay(void **state)
{
    struct fx *f = *state;
    int64_t alice = fx_user(f, "alice");
    personal(f, alice);
    f->now += DAY_MS;
    struct sig_retention r;
    sig_retention_init(&r, 2 * DAY_MS, 0);
    assert_int_equal(sig_retention_step(&r, f->db, 0, f->now), 0);
    assert_int_equal(r.steps, 1);
    assert_int_equal(resumed(f, alice, 0), 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_backlog_goes_a_chunk_per_call_at_start_and_again_an_hour_later),
        T(test_zero_keeps_every_event),
        T(test_events_within_the_retention_stay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
