/*
 * turn_quota_test.c - relay bandwidth limits (per allocation and per user,
 * token buckets over the data path) and closed-loop peer policy.
 */
#include "turn_test_env.h"

#include <string.h>
#include <sys/socket.h>

/* A Send indication of `len` bytes to t->peer; true when the core relayed it. */
static bool client_sends(struct t *t, const struct stun_addr *from, size_t len)
{
    static uint8_t payload[1200];
    uint8_t buf[1400];
    size_t n = build_send_indication(buf, sizeof(buf), &t->peer, payload, len);
    t->f.n_sent = 0;
    turn_core_on_client(t->core, 1, &t->local, from, buf, n, t->now);
    return t->f.n_sent == 1;
}

/* A peer datagram of `len` bytes to the allocation whose relay is `owner`. */
static bool peer_sends(struct t *t, void *owner, size_t len)
{
    uint8_t buf[TURN_HEADROOM + 1200 + TURN_TAILROOM] = {0};
    t->f.n_sent = 0;
    turn_core_on_peer(t->core, owner, &t->peer, buf + TURN_HEADROOM, len, t->now);
    return t->f.n_sent == 1;
}

static unsigned count_client_sends(struct t *t, const struct stun_addr *from, unsigned n)
{
    unsigned passed = 0;
    for (unsigned i = 0; i < n; i++)
        passed += client_sends(t, from, 1000);
    return passed;
}

static void ten_kilobytes_per_allocation(struct turn_core_config *cfg)
{
    cfg->alloc_bandwidth = 10000;
}

static int setup_alloc_limit(void **state)
{
    return turn_test_setup(state, ten_kilobytes_per_allocation);
}

static void allocation_bandwidth_drops_the_excess_and_refills_with_time(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &t->peer), 0);
    /* A burst: one second's worth (10 x 1000 bytes) passes, the rest is dropped. */
    assert_int_equal(count_client_sends(t, &t->client, 30), 10);
    const struct turn_stats *st = turn_core_stats(t->core);
    assert_int_equal(st->bandwidth_dropped_packets, 20);
    assert_int_equal(st->bandwidth_dropped_bytes, 20000);
    /* Half a second later, half a second's worth; the peer's direction pays too. */
    t->now += 500;
    assert_true(peer_sends(t, t->f.owner[0], 1000));
    assert_int_equal(count_client_sends(t, &t->client, 10), 4);
    assert_false(peer_sends(t, t->f.owner[0], 1000));
    /* A long pause refills to one second's worth, never more. */
    t->now += 60000;
    assert_int_equal(count_client_sends(t, &t->client, 30), 10);
    /* At a steady 10 kB/s nothing is lost: 1000 bytes every 100 ms. */
    t->now += 1000;
    unsigned passed = 0;
    for (int i = 0; i < 50; i++) {
        t->now += 100;
        passed += client_sends(t, &t->client, 1000);
    }
    assert_int_equal(passed, 50);
}

static void ten_kilobytes_per_user(struct turn_core_config *cfg)
{
    cfg->user_bandwidth = 10000;
}

static int setup_user_limit(void **state)
{
    return turn_test_setup(state, ten_kilobytes_per_user);
}

static void user_bandwidth_is_shared_by_the_users_allocations(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &t->peer), 0);
    struct stun_addr second = t->client;
    second.port++;
    assert_int_equal(request_from(t, &second, TURN_ALLOCATE, add_udp, NULL, "alice", t->key), 0);
    assert_int_equal(
        request_from(t, &second, TURN_CREATE_PERMISSION, add_peer, &t->peer, "alice", t->key), 0);
    /* bob's allocation has its own budget. */
    struct stun_addr bobs;
    stun_addr_parse("192.168.1.30:40000", &bobs);
    uint8_t bob_key[STUN_LONG_TERM_KEY_LEN];
    stun_long_term_key("bob", "lanturn", "builder", bob_key);
    request_from(t, &bobs, TURN_ALLOCATE, add_udp, NULL, NULL, NULL);
    assert_int_equal(request_from(t, &bobs, TURN_ALLOCATE, add_udp, NULL, "bob", bob_key), 0);
    assert_int_equal(request_from(t, &bobs, TURN_CREATE_PERMISSION, add_peer, &t->peer, "bob",
                                  bob_key),
                     0);
    assert_int_equal(count_client_sends(t, &t->client, 6) + count_client_sends(t, &second, 6), 10);
    assert_int_equal(count_client_sends(t, &bobs, 12), 10);
    assert_int_equal(turn_core_stats(t->core)->bandwidth_dropped_packets, 4);
}

static void closed_loop(struct turn_core_config *cfg)
{
    cfg->policy.closed_loop = true;
    assert_int_equal(turn_policy_add_client_subnet(&cfg->policy, "192.168.1.0/24"), 0);
}

static int setup_closed_loop(void **state)
{
    return turn_test_setup(state, closed_loop);
}

static void closed_loop_allows_only_client_subnets_and_own_relays(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &t->peer), 0); /* 192.168.1.20 */
    struct stun_addr relay, outside, loop;
    stun_addr_parse("10.0.0.1:50001", &relay); /* our relay address */
    stun_addr_parse("192.168.2.20:5000", &outside);
    stun_addr_parse("127.0.0.1:5000", &loop);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &relay), 0);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &outside), 403);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &loop), 403);
    struct bind_arg bind = {0x4000, &outside};
    assert_int_equal(request(t, TURN_CHANNEL_BIND, add_channel, &bind), 403);
    assert_int_equal(turn_core_stats(t->core)->peer_denied, 3);
    const char *why = "";
    assert_int_equal(turn_policy_check(&t->cfg.policy, &outside, &why), TURN_PEER_DENY);
    assert_string_equal(why, "closed-loop");
}

static void quota_and_capacity_answer_486_and_508(void **state)
{
    struct t *t = *state;
    t->cfg.max_allocations_per_user = 1;
    t->cfg.max_allocations = 2;
    allocate_ok(t);
    struct stun_addr second = t->client, third = t->client;
    second.port++;
    third.port += 2;
    /* RFC 8656 §7.2: the user's quota is 486, the server's capacity 508. */
    assert_int_equal(request_from(t, &second, TURN_ALLOCATE, add_udp, NULL, "alice", t->key), 486);
    uint8_t bob_key[STUN_LONG_TERM_KEY_LEN];
    stun_long_term_key("bob", "lanturn", "builder", bob_key);
    assert_int_equal(request_from(t, &second, TURN_ALLOCATE, add_udp, NULL, "bob", bob_key), 0);
    assert_int_equal(request_from(t, &third, TURN_ALLOCATE, add_udp, NULL, "bob", bob_key), 486);
    t->cfg.max_allocations_per_user = 0;
    assert_int_equal(request_from(t, &third, TURN_ALLOCATE, add_udp, NULL, "bob", bob_key), 508);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(allocation_bandwidth_drops_the_excess_and_refills_with_time,
                                        setup_alloc_limit, turn_test_teardown),
        cmocka_unit_test_setup_teardown(user_bandwidth_is_shared_by_the_users_allocations,
                                        setup_user_limit, turn_test_teardown),
        cmocka_unit_test_setup_teardown(closed_loop_allows_only_client_subnets_and_own_relays,
                                        setup_closed_loop, turn_test_teardown),
        cmocka_unit_test_setup_teardown(quota_and_capacity_answer_486_and_508,
                                        turn_test_setup_default, turn_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
