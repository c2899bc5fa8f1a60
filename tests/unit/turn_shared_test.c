/*
 * turn_shared_test.c - two TURN cores sharing one turn_shared, as turnd's
 * workers do: quotas count both cores' allocations, a nonce from one is
 * good at the other, a relay address the other core owns is reached
 * through its socket (not the in-core shortcut) or handed to that core, which
 * checks its own permission, and is forgotten once deleted, a port one
 * core reserved (EVEN-PORT) is taken on the other, and a user's bandwidth
 * is one budget over both cores.
 */
#include "turn_test_env.h"

#include <string.h>
#include <sys/socket.h>

static struct turn_core *other;
static struct turn_shared *shared;
static struct stun_addr x, y, z; /* three clients */
static uint8_t bob_key[STUN_LONG_TERM_KEY_LEN];

static int share(void **state, void (*tweak)(struct turn_core_config *cfg))
{
    turn_test_setup(state, tweak);
    struct t *t = *state;
    shared = turn_shared_new();
    other = turn_test_core_new(t);
    assert_non_null(shared);
    assert_non_null(other);
    turn_core_share(t->core, shared, 0);
    turn_core_share(other, shared, 1);
    stun_addr_parse("192.168.1.10:40000", &x);
    stun_addr_parse("192.168.1.11:40001", &y);
    stun_addr_parse("192.168.1.12:40002", &z);
    stun_long_term_key("bob", "lanturn", "builder", bob_key);
    return 0;
}

static int teardown(void **state)
{
    turn_core_free(other);
    turn_test_teardown(state);
    turn_shared_free(shared);
    return 0;
}

/* A request on core c (through a challenge when needed); the response code. */
static int on(struct t *t, struct turn_core *c, const struct stun_addr *from, uint16_t method,
              attrs_fn add, const void *arg, const char *user)
{
    struct turn_core *keep = t->core;
    const uint8_t *key = !strcmp(user, "bob") ? bob_key : t->key;
    t->core = c;
    int code = request_from(t, from, method, add, arg, user, key);
    if (code == 401 || code == 438)
        code = request_from(t, from, method, add, arg, user, key);
    t->core = keep;
    return code;
}

static struct stun_addr relay_of_response(struct t *t)
{
    struct stun_addr a;
    assert_int_equal(stun_attr_get_addr(&t->resp, stun_find(&t->resp, STUN_ATTR_XOR_RELAYED_ADDRESS),
                                        true, &a),
                     0);
    return a;
}

static void quota_of_one(struct turn_core_config *cfg)
{
    cfg->max_allocations_per_user = 1;
}

static int setup_user_quota(void **state)
{
    return share(state, quota_of_one);
}

static void user_quota_counts_the_allocations_of_both_cores(void **state)
{
    struct t *t = *state;
    uint32_t zero = 0;
    assert_int_equal(on(t, t->core, &x, TURN_ALLOCATE, add_udp, NULL, "alice"), 0);
    assert_int_equal(on(t, other, &y, TURN_ALLOCATE, add_udp, NULL, "alice"), 486);
    assert_int_equal(on(t, other, &z, TURN_ALLOCATE, add_udp, NULL, "bob"), 0);
    /* deleted on the first core: the second may allocate for alice now */
    assert_int_equal(on(t, t->core, &x, TURN_REFRESH, add_lifetime, &zero, "alice"), 0);
    assert_int_equal(on(t, other, &y, TURN_ALLOCATE, add_udp, NULL, "alice"), 0);
}

static void two_in_total(struct turn_core_config *cfg)
{
    cfg->max_allocations = 2;
}

static int setup_total(void **state)
{
    return share(state, two_in_total);
}

static void max_allocations_counts_both_cores(void **state)
{
    struct t *t = *state;
    assert_int_equal(on(t, t->core, &x, TURN_ALLOCATE, add_udp, NULL, "alice"), 0);
    assert_int_equal(on(t, other, &y, TURN_ALLOCATE, add_udp, NULL, "bob"), 0);
    assert_int_equal(on(t, t->core, &z, TURN_ALLOCATE, add_udp, NULL, "alice"), 508);
    assert_int_equal(turn_core_stats(t->core)->allocations, 1);
}

static int setup_shared(void **state)
{
    return share(state, NULL);
}

static void a_nonce_from_one_core_is_good_at_the_other(void **state)
{
    struct t *t = *state;
    struct turn_core *keep = t->core;
    assert_int_equal(request_from(t, &x, TURN_ALLOCATE, add_udp, NULL, NULL, NULL), 401);
    t->core = other;
    assert_int_equal(request_from(t, &x, TURN_ALLOCATE, add_udp, NULL, "alice", t->key), 0);
    t->core = keep;
}

static void send_from(struct t *t, struct turn_core *c, const struct stun_addr *from,
                      const struct stun_addr *peer)
{
    uint8_t buf[128];
    size_t len = build_send_indication(buf, sizeof(buf), peer, "hi", 2);
    turn_core_on_client(c, 1, &t->local, from, buf, len, t->now);
}

static void the_other_cores_relay_is_reached_through_the_socket_until_deleted(void **state)
{
    struct t *t = *state;
    uint32_t zero = 0;
    assert_int_equal(on(t, t->core, &x, TURN_ALLOCATE, add_udp, NULL, "alice"), 0);
    struct stun_addr alice_relay = relay_of_response(t);
    assert_int_equal(on(t, other, &y, TURN_ALLOCATE, add_udp, NULL, "bob"), 0);
    struct stun_addr bob_relay = relay_of_response(t);
    assert_int_not_equal(alice_relay.port, bob_relay.port);
    assert_int_equal(on(t, t->core, &x, TURN_CREATE_PERMISSION, add_peer, &bob_relay, "alice"), 0);

    /* not this core's relay: out through alice's relay socket, to bob's relay */
    unsigned before = t->f.n_sent;
    send_from(t, t->core, &x, &bob_relay);
    assert_int_equal(t->f.n_sent, before + 1);
    const struct sent *s = &t->f.sent[t->f.n_sent - 1];
    assert_int_not_equal(s->handle, 1);
    assert_true(stun_addr_equal(&s->to, &bob_relay));
    assert_int_equal(s->len, 2);
    assert_int_equal(turn_core_stats(t->core)->own_port_dropped, 0);

    /* bob's allocation gone: that port of our relay address is no relay any more */
    assert_int_equal(on(t, other, &y, TURN_REFRESH, add_lifetime, &zero, "bob"), 0);
    before = t->f.n_sent;
    send_from(t, t->core, &x, &bob_relay);
    assert_int_equal(t->f.n_sent, before);
    assert_int_equal(turn_core_stats(t->core)->own_port_dropped, 1);
}

static void a_datagram_handed_to_the_other_core_meets_its_permission(void **state)
{
    struct t *t = *state;
    assert_int_equal(on(t, t->core, &x, TURN_ALLOCATE, add_udp, NULL, "alice"), 0);
    struct stun_addr alice_relay = relay_of_response(t);
    assert_int_equal(on(t, other, &y, TURN_ALLOCATE, add_udp, NULL, "bob"), 0);
    struct stun_addr bob_relay = relay_of_response(t);
    assert_int_equal(on(t, t->core, &x, TURN_CREATE_PERMISSION, add_peer, &bob_relay, "alice"), 0);

    /* handed over, not sent: to worker 1, from alice's relayed address */
    t->f.handoff_on = true;
    unsigned before = t->f.n_sent;
    send_from(t, t->core, &x, &bob_relay);
    assert_int_equal(t->f.n_sent, before);
    assert_int_equal(t->f.handoffs, 1);
    assert_int_equal(t->f.handoff_worker, 1);
    assert_true(stun_addr_equal(&t->f.handoff_from, &alice_relay));
    assert_true(stun_addr_equal(&t->f.handoff_to, &bob_relay));
    assert_int_equal(t->f.handoff_len, 2);
    assert_int_equal(turn_core_stats(t->core)->client_to_peer_packets, 1);

    /* the other core: nothing for bob without his permission for alice's relay */
    uint8_t buf[TURN_HEADROOM + 16 + TURN_TAILROOM];
    memcpy(buf + TURN_HEADROOM, "hi", 2);
    turn_core_on_handoff(other, &alice_relay, &bob_relay, buf + TURN_HEADROOM, 2, t->now);
    assert_int_equal(t->f.n_sent, before);
    assert_int_equal(turn_core_stats(other)->no_permission_dropped, 1);

    /* with it: a Data indication to bob's client, from alice's relayed address */
    assert_int_equal(on(t, other, &y, TURN_CREATE_PERMISSION, add_peer, &alice_relay, "bob"), 0);
    before = t->f.n_sent;
    memcpy(buf + TURN_HEADROOM, "hi", 2);
    turn_core_on_handoff(other, &alice_relay, &bob_relay, buf + TURN_HEADROOM, 2, t->now);
    assert_int_equal(t->f.n_sent, before + 1);
    const struct sent *s = &t->f.sent[t->f.n_sent - 1];
    assert_int_equal(s->handle, 1);
    assert_true(stun_addr_equal(&s->to, &y));
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, s->buf, s->len), 0);
    assert_int_equal(m.method, TURN_DATA);
    struct stun_addr from;
    assert_int_equal(stun_attr_get_addr(&m, stun_find(&m, STUN_ATTR_XOR_PEER_ADDRESS), true, &from),
                     0);
    assert_true(stun_addr_equal(&from, &alice_relay));
    const struct stun_attr *data = stun_find(&m, STUN_ATTR_DATA);
    assert_non_null(data);
    assert_int_equal(data->len, 2);
    assert_memory_equal(data->val, "hi", 2);

    /* a relay deleted meanwhile: counted, nothing sent */
    uint32_t zero = 0;
    assert_int_equal(on(t, other, &y, TURN_REFRESH, add_lifetime, &zero, "bob"), 0);
    before = t->f.n_sent;
    turn_core_on_handoff(other, &alice_relay, &bob_relay, buf + TURN_HEADROOM, 2, t->now);
    assert_int_equal(t->f.n_sent, before);
    assert_int_equal(turn_core_stats(other)->own_port_dropped, 1);
}

static void add_even_reserve(struct stun_builder *b, const void *arg)
{
    (void)arg;
    add_udp(b, NULL);
    stun_put_attr(b, STUN_ATTR_EVEN_PORT, "\x80", 1);
}

static void add_token(struct stun_builder *b, const void *arg)
{
    add_udp(b, NULL);
    stun_put_attr(b, STUN_ATTR_RESERVATION_TOKEN, arg, 8);
}

static void a_port_reserved_on_one_core_is_taken_on_the_other(void **state)
{
    struct t *t = *state;
    assert_int_equal(on(t, t->core, &x, TURN_ALLOCATE, add_even_reserve, NULL, "alice"), 0);
    struct stun_addr first = relay_of_response(t);
    const struct stun_attr *tok = stun_find(&t->resp, STUN_ATTR_RESERVATION_TOKEN);
    assert_non_null(tok);
    assert_int_equal(tok->len, 8);
    uint8_t token[8];
    memcpy(token, tok->val, 8);
    assert_int_equal(first.port % 2, 0);

    assert_int_equal(on(t, other, &y, TURN_ALLOCATE, add_token, token, "alice"), 0);
    struct stun_addr second = relay_of_response(t);
    assert_int_equal(second.port, first.port + 1);
    /* taken once: a second use finds nothing, on either core */
    assert_int_equal(on(t, t->core, &z, TURN_ALLOCATE, add_token, token, "alice"), 508);
}

static void a_reservation_outliving_its_allocation_still_expires(void **state)
{
    struct t *t = *state;
    uint32_t zero = 0;
    assert_int_equal(on(t, t->core, &x, TURN_ALLOCATE, add_even_reserve, NULL, "alice"), 0);
    const struct stun_attr *tok = stun_find(&t->resp, STUN_ATTR_RESERVATION_TOKEN);
    assert_non_null(tok);
    uint8_t token[8];
    memcpy(token, tok->val, 8);
    unsigned closed = t->f.closed;
    assert_int_equal(on(t, t->core, &x, TURN_REFRESH, add_lifetime, &zero, "alice"), 0);
    assert_int_equal(t->f.closed, closed + 1); /* the relay; the reserved port stays held */
    /* no allocation left on either core, yet one keeps ticking for the reservation */
    turn_core_tick(t->core, t->now + 1000);
    assert_int_not_equal(turn_core_next_deadline(t->core), UINT64_MAX);
    turn_core_tick(t->core, t->now + 31000);
    assert_int_equal(t->f.closed, closed + 2);
    assert_int_equal(turn_core_next_deadline(t->core), UINT64_MAX);
    assert_int_equal(on(t, other, &y, TURN_ALLOCATE, add_token, token, "alice"), 508);
}

static void ten_kilobytes_per_user(struct turn_core_config *cfg)
{
    cfg->user_bandwidth = 10000;
}

static int setup_user_bandwidth(void **state)
{
    return share(state, ten_kilobytes_per_user);
}

/* n Send indications of 1000 bytes from `from` to the peer on core c; how
 * many were relayed. */
static unsigned sends_of_1000(struct t *t, struct turn_core *c, const struct stun_addr *from,
                              unsigned n)
{
    static uint8_t payload[1000];
    uint8_t buf[1200];
    size_t len = build_send_indication(buf, sizeof(buf), &t->peer, payload, sizeof(payload));
    unsigned passed = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned before = t->f.n_sent;
        turn_core_on_client(c, 1, &t->local, from, buf, len, t->now);
        passed += t->f.n_sent - before;
    }
    return passed;
}

static void user_bandwidth_counts_the_allocations_of_both_cores(void **state)
{
    struct t *t = *state;
    assert_int_equal(on(t, t->core, &x, TURN_ALLOCATE, add_udp, NULL, "alice"), 0);
    assert_int_equal(on(t, t->core, &x, TURN_CREATE_PERMISSION, add_peer, &t->peer, "alice"), 0);
    assert_int_equal(on(t, other, &y, TURN_ALLOCATE, add_udp, NULL, "alice"), 0);
    assert_int_equal(on(t, other, &y, TURN_CREATE_PERMISSION, add_peer, &t->peer, "alice"), 0);
    assert_int_equal(on(t, other, &z, TURN_ALLOCATE, add_udp, NULL, "bob"), 0);
    assert_int_equal(on(t, other, &z, TURN_CREATE_PERMISSION, add_peer, &t->peer, "bob"), 0);

    /* one second's worth (10 kB) for alice over both cores, not per core */
    assert_int_equal(sends_of_1000(t, t->core, &x, 6) + sends_of_1000(t, other, &y, 6), 10);
    /* bob, on the same core as alice's second allocation, has his own */
    assert_int_equal(sends_of_1000(t, other, &z, 12), 10);
    /* half a second refills half of alice's, whichever core asks first */
    t->now += 500;
    assert_int_equal(sends_of_1000(t, other, &y, 4) + sends_of_1000(t, t->core, &x, 4), 5);
    assert_int_equal(turn_core_stats(t->core)->bandwidth_dropped_packets +
                         turn_core_stats(other)->bandwidth_dropped_packets,
                     2 + 2 + 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(user_quota_counts_the_allocations_of_both_cores,
                                        setup_user_quota, teardown),
        cmocka_unit_test_setup_teardown(max_allocations_counts_both_cores, setup_total, teardown),
        cmocka_unit_test_setup_teardown(a_nonce_from_one_core_is_good_at_the_other, setup_shared,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            the_other_cores_relay_is_reached_through_the_socket_until_deleted, setup_shared,
            teardown),
        cmocka_unit_test_setup_teardown(a_datagram_handed_to_the_other_core_meets_its_permission,
                                        setup_shared, teardown),
        cmocka_unit_test_setup_teardown(a_port_reserved_on_one_core_is_taken_on_the_other,
                                        setup_shared, teardown),
        cmocka_unit_test_setup_teardown(a_reservation_outliving_its_allocation_still_expires,
                                        setup_shared, teardown),
        cmocka_unit_test_setup_teardown(user_bandwidth_counts_the_allocations_of_both_cores,
                                        setup_user_bandwidth, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
