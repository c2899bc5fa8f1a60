/*
 * turn_dual_test.c - dual-stack allocations (RFC 8656 §7.2,
 * ADDITIONAL-ADDRESS-FAMILY) in the TURN core: two relayed addresses or one
 * and ADDRESS-ERROR-CODE, data for peers of either family over the relay of
 * that family, and Refresh with REQUESTED-ADDRESS-FAMILY (§7.3).
 */
#include "turn_test_env.h"

#include <string.h>
#include <sys/socket.h>

static void with_ipv6_relay(struct turn_core_config *cfg)
{
    stun_addr_parse("fd00::1", &cfg->relay_ip[1]);
    cfg->n_relay_ip = 2;
    turn_policy_add_relay(&cfg->policy, &cfg->relay_ip[1]);
}

static int setup_dual(void **state)
{
    return turn_test_setup(state, with_ipv6_relay);
}

static void add_udp_family(struct stun_builder *b, const void *arg)
{
    const uint16_t *a = arg; /* attribute type, family byte */
    add_udp(b, NULL);
    stun_put_attr(b, a[0], (uint8_t[4]){(uint8_t)a[1], 0, 0, 0}, 4);
}

static void add_refresh_family(struct stun_builder *b, const void *arg)
{
    const uint32_t zero = 0;
    stun_put_u32(b, STUN_ATTR_LIFETIME, zero);
    stun_put_attr(b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY,
                  (uint8_t[4]){*(const uint8_t *)arg, 0, 0, 0}, 4);
}

/* The relayed addresses in t->resp; how many. */
static unsigned relayed(struct t *t, struct stun_addr out[2])
{
    unsigned n = 0;
    for (unsigned i = 0; i < t->resp.n_attrs && n < 2; i++)
        if (t->resp.attrs[i].type == STUN_ATTR_XOR_RELAYED_ADDRESS)
            assert_int_equal(stun_attr_get_addr(&t->resp, &t->resp.attrs[i], true, &out[n++]), 0);
    return n;
}

static const uint16_t dual[2] = {STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, STUN_FAMILY_IPV6};

static void dual_allocate(struct t *t, struct stun_addr out[2])
{
    request_from(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL, NULL); /* nonce */
    assert_int_equal(request(t, TURN_ALLOCATE, add_udp_family, dual), 0);
    assert_int_equal(relayed(t, out), 2);
}

static void dual_allocation_gets_an_ipv4_and_an_ipv6_relayed_address(void **state)
{
    struct t *t = *state;
    struct stun_addr r[2];
    dual_allocate(t, r);
    assert_int_equal(r[0].family, AF_INET);
    assert_int_equal(r[1].family, AF_INET6);
    assert_true(stun_addr_ip_equal(&r[0], &t->cfg.relay_ip[0]));
    assert_true(stun_addr_ip_equal(&r[1], &t->cfg.relay_ip[1]));
    assert_null(stun_find(&t->resp, STUN_ATTR_ADDRESS_ERROR_CODE));
    assert_int_equal(t->f.opened, 2);
    /* a retransmission gets the same two */
    struct stun_addr again[2];
    t->tid_seed--;
    assert_int_equal(request(t, TURN_ALLOCATE, add_udp_family, dual), 0);
    assert_int_equal(relayed(t, again), 2);
    assert_true(stun_addr_equal(&again[1], &r[1]));
}

static void without_an_ipv6_relay_the_answer_says_why(void **state)
{
    struct t *t = *state;
    request_from(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL, NULL);
    assert_int_equal(request(t, TURN_ALLOCATE, add_udp_family, dual), 0);
    struct stun_addr r[2];
    assert_int_equal(relayed(t, r), 1);
    assert_int_equal(r[0].family, AF_INET);
    const struct stun_attr *e = stun_find(&t->resp, STUN_ATTR_ADDRESS_ERROR_CODE);
    assert_non_null(e);
    assert_true(e->len >= 4);
    assert_int_equal(e->val[0], STUN_FAMILY_IPV6);
    assert_int_equal(e->val[2] * 100 + e->val[3], 440);
}

static void additional_family_must_be_ipv6_and_alone(void **state)
{
    struct t *t = *state;
    request_from(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL, NULL);
    const uint16_t v4[2] = {STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, STUN_FAMILY_IPV4};
    assert_int_equal(request(t, TURN_ALLOCATE, add_udp_family, v4), 400);
    const uint16_t bogus[2] = {STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, 7};
    assert_int_equal(request(t, TURN_ALLOCATE, add_udp_family, bogus), 400);
    assert_int_equal(t->f.opened, 0);
}

/* Index of the relay handle the fake env gave for port. */
static int handle_of(struct t *t, uint16_t port)
{
    for (int i = 0; i < 16; i++)
        if (t->f.owner[i] && t->f.port[i] == port)
            return 100 + i;
    fail();
    return -1;
}

static void peers_of_each_family_use_the_relay_of_their_family(void **state)
{
    struct t *t = *state;
    struct stun_addr r[2], peer6;
    dual_allocate(t, r);
    stun_addr_parse("[2001:db8::20]:5000", &peer6);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &t->peer), 0);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &peer6), 0);
    struct bind_arg bind = {0x4001, &peer6};
    assert_int_equal(request(t, TURN_CHANNEL_BIND, add_channel, &bind), 0);

    /* ChannelData to the IPv6 peer leaves from the IPv6 relay */
    uint8_t cd[8] = {0x40, 0x01, 0x00, 0x04, 'p', 'i', 'n', 'g'};
    unsigned sent = t->f.n_sent;
    turn_core_on_client(t->core, 1, &t->local, &t->client, cd, sizeof(cd), t->now);
    assert_int_equal(t->f.n_sent, sent + 1);
    assert_int_equal(t->f.sent[sent].handle, handle_of(t, r[1].port));
    assert_true(stun_addr_equal(&t->f.sent[sent].to, &peer6));

    /* a Send indication to the IPv4 peer from the IPv4 relay */
    uint8_t buf[256], tid[STUN_TID_LEN] = {9};
    struct stun_builder b;
    size_t len;
    stun_build_init(&b, buf, sizeof(buf), TURN_SEND, STUN_INDICATION, tid);
    stun_put_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &t->peer, true);
    stun_put_attr(&b, STUN_ATTR_DATA, "pong", 4);
    stun_build_finish(&b, &len);
    turn_core_on_client(t->core, 1, &t->local, &t->client, buf, len, t->now);
    assert_int_equal(t->f.n_sent, sent + 2);
    assert_int_equal(t->f.sent[sent + 1].handle, handle_of(t, r[0].port));
    assert_true(stun_addr_equal(&t->f.sent[sent + 1].to, &t->peer));

    /* the IPv6 peer's answer reaches the client on its channel */
    uint8_t in[TURN_HEADROOM + 8 + TURN_TAILROOM];
    memcpy(in + TURN_HEADROOM, "data", 4);
    turn_core_on_peer(t->core, t->f.owner[(handle_of(t, r[1].port) - 100)], &peer6,
                      in + TURN_HEADROOM, 4, t->now);
    assert_int_equal(t->f.n_sent, sent + 3);
    assert_int_equal(t->f.sent[sent + 2].buf[0], 0x40);
    assert_int_equal(t->f.sent[sent + 2].buf[1], 0x01);
}

static void refresh_with_a_family_deletes_only_that_relayed_address(void **state)
{
    struct t *t = *state;
    struct stun_addr r[2], peer6;
    dual_allocate(t, r);
    stun_addr_parse("[2001:db8::20]:5000", &peer6);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &peer6), 0);
    const uint8_t v6 = STUN_FAMILY_IPV6, v4 = STUN_FAMILY_IPV4;
    assert_int_equal(request(t, TURN_REFRESH, add_refresh_family, &v6), 0);
    assert_int_equal(t->f.closed, 1);
    assert_int_equal(turn_core_stats(t->core)->allocations, 1);
    /* the IPv6 half is gone: its family is now a mismatch */
    assert_int_equal(request(t, TURN_REFRESH, add_refresh_family, &v6), 443);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &peer6), 443);
    /* the last one takes the allocation with it */
    assert_int_equal(request(t, TURN_REFRESH, add_refresh_family, &v4), 0);
    assert_int_equal(t->f.closed, 2);
    assert_int_equal(turn_core_stats(t->core)->allocations, 0);
}

static void single_family_allocation_refuses_the_other_family(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    struct stun_addr peer6;
    stun_addr_parse("[2001:db8::20]:5000", &peer6);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &peer6), 443);
    const uint8_t v6 = STUN_FAMILY_IPV6;
    assert_int_equal(request(t, TURN_REFRESH, add_refresh_family, &v6), 443);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define D(name) cmocka_unit_test_setup_teardown(name, setup_dual, turn_test_teardown)
        D(dual_allocation_gets_an_ipv4_and_an_ipv6_relayed_address),
        cmocka_unit_test_setup_teardown(without_an_ipv6_relay_the_answer_says_why,
                                        turn_test_setup_default, turn_test_teardown),
        D(additional_family_must_be_ipv6_and_alone),
        D(peers_of_each_family_use_the_relay_of_their_family),
        D(refresh_with_a_family_deletes_only_that_relayed_address),
        D(single_family_allocation_refuses_the_other_family),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
