/*
 * sig_conn_index_test.c - signald's connection index across its growth:
 * 5,000 connections of 2,000 users (some with several devices) added one by
 * one through several doublings of the tables, every connection found by id
 * and every user's devices found exactly, then half of them removed and the
 * rest still found.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "hub/internal.h"

#define CONNS 5000
#define USERS 2000

/* How many connections of user the index finds, walking as deliver_event does. */
static int devices_found(const struct conn_index *x, int64_t user)
{
    int n = 0;
    for (struct sig_conn *c = conn_index_user(x, user); c; c = c->user_next)
        n += c->user_id == user;
    return n;
}

static int devices_owned(const struct sig_conn *conns, int64_t user, bool alive_only)
{
    int n = 0;
    for (int i = 0; i < CONNS; i++)
        n += conns[i].user_id == user && (!alive_only || conns[i].id % 2 == 0);
    return n;
}

static void test_lookups_survive_growth_and_removal(void **state)
{
    (void)state;
    struct conn_index x;
    assert_int_equal(conn_index_init(&x), 0);
    unsigned bits_at_start = x.bits;
    struct sig_conn *conns = calloc(CONNS, sizeof *conns);
    assert_non_null(conns);
    for (int i = 0; i < CONNS; i++) {
        conns[i].id = (uint32_t)i + 1;
        conns[i].user_id = 1 + (i * 7) % USERS; /* users 1..2000, 2-3 devices each */
        conn_index_add(&x, &conns[i]);
        if (i % 3 != 2) /* a third never said hello: by id only */
            conn_index_link_user(&x, &conns[i]);
        else
            conns[i].user_id = 0;
    }
    assert_true(x.bits > bits_at_start); /* it grew, more than once */
    assert_true(((size_t)1 << x.bits) >= CONNS);
    assert_int_equal(x.n, CONNS);
    for (int i = 0; i < CONNS; i++)
        assert_ptr_equal(conn_index_id(&x, conns[i].id), &conns[i]);
    assert_null(conn_index_id(&x, CONNS + 1));
    for (int64_t u = 1; u <= USERS; u++)
        assert_int_equal(devices_found(&x, u), devices_owned(conns, u, false));
    assert_null(conn_index_user(&x, USERS + 1));

    for (int i = 0; i < CONNS; i += 2) { /* close the odd ids' connections */
        if (conns[i].user_id)
            conn_index_unlink_user(&x, &conns[i]);
        conn_index_remove(&x, &conns[i]);
    }
    assert_int_equal(x.n, CONNS / 2);
    for (int i = 0; i < CONNS; i++)
        assert_ptr_equal(conn_index_id(&x, conns[i].id), i % 2 ? &conns[i] : NULL);
    for (int64_t u = 1; u <= USERS; u++)
        assert_int_equal(devices_found(&x, u), devices_owned(conns, u, true));
    conn_index_free(&x);
    free(conns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookups_survive_growth_and_removal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
