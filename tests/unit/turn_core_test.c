/*
 * turn_core_test.c - the TURN state machine driven with no sockets, through
 * the fake env and test client of turn_test_env.h.
 */
#include "turn_test_env.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static void allocate_without_integrity_gets_401_with_realm_and_nonce(void **state)
{
    struct t *t = *state;
    assert_int_equal(request_from(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL, NULL), 401);
    assert_non_null(stun_find(&t->resp, STUN_ATTR_REALM));
    assert_non_null(stun_find(&t->resp, STUN_ATTR_NONCE));
    assert_int_equal(t->resp.integrity, -1);
}

static void wrong_password_and_unknown_user_get_401(void **state)
{
    struct t *t = *state;
    request_from(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL, NULL);
    uint8_t bad[STUN_LONG_TERM_KEY_LEN];
    stun_long_term_key("alice", "lanturn", "guess", bad);
    assert_int_equal(request_from(t, &t->client, TURN_ALLOCATE, add_udp, NULL, "alice", bad), 401);
    stun_long_term_key("mallory", "lanturn", "x", bad);
    assert_int_equal(request_from(t, &t->client, TURN_ALLOCATE, add_udp, NULL, "mallory", bad),
                     401);
    assert_int_equal(turn_core_stats(t->core)->auth_failures, 2);
    assert_int_equal(t->f.opened, 0);
}

static void allocate_succeeds_with_relay_in_range_and_default_lifetime(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    struct stun_addr relay, mapped;
    uint32_t lifetime;
    assert_int_equal(stun_attr_get_addr(&t->resp, stun_find(&t->resp, STUN_ATTR_XOR_RELAYED_ADDRESS),
                                        true, &relay),
                     0);
    assert_int_equal(stun_attr_get_addr(&t->resp, stun_find(&t->resp, STUN_ATTR_XOR_MAPPED_ADDRESS),
                                        true, &mapped),
                     0);
    assert_int_equal(stun_attr_get_u32(stun_find(&t->resp, STUN_ATTR_LIFETIME), &lifetime), 0);
    assert_true(relay.port >= 50000 && relay.port <= 50099);
    assert_true(stun_addr_ip_equal(&relay, &t->cfg.relay_ip[0]));
    assert_true(stun_addr_equal(&mapped, &t->client));
    assert_int_equal(lifetime, 600);
    assert_int_equal(turn_core_stats(t->core)->allocations, 1);
}

static void nonce_goes_stale_after_its_lifetime(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    t->now += 601 * 1000;
    uint32_t lifetime = 600;
    assert_int_equal(request(t, TURN_REFRESH, add_lifetime, &lifetime), 438);
    assert_non_null(stun_find(&t->resp, STUN_ATTR_NONCE));
    assert_int_equal(request(t, TURN_REFRESH, add_lifetime, &lifetime), 0); /* the new nonce */
}

static void nonce_from_another_address_is_stale(void **state)
{
    struct t *t = *state;
    request_from(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL, NULL);
    struct stun_addr other;
    stun_addr_parse("192.168.1.99:40000", &other);
    assert_int_equal(request_from(t, &other, TURN_ALLOCATE, add_udp, NULL, "alice", t->key), 438);
}

static void second_allocate_on_same_5tuple_gets_437_but_retransmit_is_answered(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    assert_int_equal(request(t, TURN_ALLOCATE, add_udp, NULL), 437);
    /* a retransmission: same transaction id as the successful Allocate */
    t->tid_seed -= 2;
    assert_int_equal(request(t, TURN_ALLOCATE, add_udp, NULL), 0);
    assert_int_equal(t->f.opened, 1);
}

static void lifetime_is_clamped_between_default_and_max(void **state)
{
    struct t *t = *state;
    uint32_t lifetime = 100000;
    request_from(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL, NULL);
    assert_int_equal(request(t, TURN_ALLOCATE, add_udp, &lifetime), 0);
    uint32_t got;
    stun_attr_get_u32(stun_find(&t->resp, STUN_ATTR_LIFETIME), &got);
    assert_int_equal(got, 3600);
    lifetime = 10;
    assert_int_equal(request(t, TURN_REFRESH, add_lifetime, &lifetime), 0);
    stun_attr_get_u32(stun_find(&t->resp, STUN_ATTR_LIFETIME), &got);
    assert_int_equal(got, 600);
}

static void refresh_with_zero_lifetime_deletes_allocation(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    uint32_t zero = 0;
    assert_int_equal(request(t, TURN_REFRESH, add_lifetime, &zero), 0);
    assert_int_equal(t->f.closed, 1);
    assert_int_equal(turn_core_stats(t->core)->allocations, 0);
    assert_int_equal(request(t, TURN_REFRESH, add_lifetime, &zero), 437);
}

static void allocation_expires_after_its_lifetime(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    t->now += 599 * 1000;
    turn_core_tick(t->core, t->now);
    assert_int_equal(t->f.closed, 0);
    t->now += 2 * 1000;
    turn_core_tick(t->core, t->now);
    assert_int_equal(t->f.closed, 1);
    assert_int_equal(turn_core_stats(t->core)->allocations, 0);
    assert_int_equal(turn_core_next_deadline(t->core), UINT64_MAX);
}

/* Feed a peer datagram to the first allocation; returns how many datagrams
 * the core sent for it (0 or 1). */
static unsigned peer_sends(struct t *t, const struct stun_addr *from, const char *payload)
{
    uint8_t buf[TURN_HEADROOM + 256 + TURN_TAILROOM];
    size_t n = strlen(payload);
    memcpy(buf + TURN_HEADROOM, payload, n);
    unsigned before = t->f.n_sent;
    turn_core_on_peer(t->core, t->f.owner[0], from, buf + TURN_HEADROOM, n, t->now);
    return t->f.n_sent - before;
}

static void permission_lets_peer_data_through_as_data_indication(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    assert_int_equal(peer_sends(t, &t->peer, "early"), 0);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &t->peer), 0);
    assert_int_equal(peer_sends(t, &t->peer, "hello"), 1);
    struct sent *s = &t->f.sent[t->f.n_sent - 1];
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, s->buf, s->len), 0);
    assert_int_equal(m.method, TURN_DATA);
    assert_int_equal(m.cls, STUN_INDICATION);
    struct stun_addr from;
    stun_attr_get_addr(&m, stun_find(&m, STUN_ATTR_XOR_PEER_ADDRESS), true, &from);
    assert_true(stun_addr_equal(&from, &t->peer));
    const struct stun_attr *data = stun_find(&m, STUN_ATTR_DATA);
    assert_int_equal(data->len, 5);
    assert_memory_equal(data->val, "hello", 5);
    assert_true(stun_addr_equal(&s->to, &t->client));
    /* permissions are per IP: another port of the same host gets through */
    struct stun_addr other_port = t->peer;
    other_port.port = 6000;
    assert_int_equal(peer_sends(t, &other_port, "x"), 1);
}

static void permission_expires_after_300_seconds(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &t->peer), 0);
    t->now += 301 * 1000;
    turn_core_tick(t->core, t->now);
    assert_int_equal(peer_sends(t, &t->peer, "late"), 0);
    assert_int_equal(turn_core_stats(t->core)->permissions, 0);
}

static void send_indication_reaches_peer_only_with_permission(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    uint8_t buf[128], tid[STUN_TID_LEN] = {7};
    struct stun_builder b;
    size_t len;
    stun_build_init(&b, buf, sizeof(buf), TURN_SEND, STUN_INDICATION, tid);
    stun_put_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &t->peer, true);
    stun_put_attr(&b, STUN_ATTR_DATA, "ping", 4);
    stun_build_finish(&b, &len);
    unsigned before = t->f.n_sent;
    turn_core_on_client(t->core, 1, &t->local, &t->client, buf, len, t->now);
    assert_int_equal(t->f.n_sent, before);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &t->peer), 0);
    before = t->f.n_sent;
    turn_core_on_client(t->core, 1, &t->local, &t->client, buf, len, t->now);
    assert_int_equal(t->f.n_sent, before + 1);
    struct sent *s = &t->f.sent[t->f.n_sent - 1];
    assert_int_equal(s->handle, 100);
    assert_true(stun_addr_equal(&s->to, &t->peer));
    assert_int_equal(s->len, 4);
    assert_memory_equal(s->buf, "ping", 4);
}

static void channel_carries_data_both_ways_and_obeys_binding_rules(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    struct bind_arg bind = {0x4001, &t->peer};
    assert_int_equal(request(t, TURN_CHANNEL_BIND, add_channel, &bind), 0);
    uint8_t cd[] = {0x40, 0x01, 0x00, 0x03, 'a', 'b', 'c', 0};
    turn_core_on_client(t->core, 1, &t->local, &t->client, cd, sizeof(cd), t->now);
    struct sent *s = &t->f.sent[t->f.n_sent - 1];
    assert_int_equal(s->handle, 100);
    assert_int_equal(s->len, 3);
    assert_memory_equal(s->buf, "abc", 3);
    assert_int_equal(peer_sends(t, &t->peer, "xyz"), 1);
    s = &t->f.sent[t->f.n_sent - 1];
    uint8_t want[] = {0x40, 0x01, 0x00, 0x03, 'x', 'y', 'z'};
    assert_int_equal(s->len, sizeof(want));
    assert_memory_equal(s->buf, want, sizeof(want));

    struct stun_addr other;
    stun_addr_parse("192.168.1.21:5000", &other);
    struct bind_arg same_number = {0x4001, &other}, same_peer = {0x4002, &t->peer};
    struct bind_arg too_low = {0x3fff, &other}, too_high = {0x7fff, &other};
    assert_int_equal(request(t, TURN_CHANNEL_BIND, add_channel, &same_number), 400);
    assert_int_equal(request(t, TURN_CHANNEL_BIND, add_channel, &same_peer), 400);
    assert_int_equal(request(t, TURN_CHANNEL_BIND, add_channel, &too_low), 400);
    assert_int_equal(request(t, TURN_CHANNEL_BIND, add_channel, &too_high), 400);

    /* expiry: no more data, but the number stays reserved during the cooldown */
    t->now += 601 * 1000;
    assert_int_equal(request(t, TURN_REFRESH, add_lifetime, &(uint32_t){600}), 438);
    assert_int_equal(request(t, TURN_REFRESH, add_lifetime, &(uint32_t){600}), 0);
    turn_core_tick(t->core, t->now);
    unsigned before = t->f.n_sent;
    turn_core_on_client(t->core, 1, &t->local, &t->client, cd, sizeof(cd), t->now);
    assert_int_equal(t->f.n_sent, before);
    assert_int_equal(request(t, TURN_CHANNEL_BIND, add_channel, &same_number), 400);
    t->now += 301 * 1000;
    turn_core_tick(t->core, t->now);
    assert_int_equal(request(t, TURN_CHANNEL_BIND, add_channel, &same_number), 0);
}

static void policy_refuses_loopback_and_own_ports_are_filtered(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    struct stun_addr loop, own_service;
    stun_addr_parse("127.0.0.1:5000", &loop);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &loop), 403);
    struct bind_arg bind = {0x4000, &loop};
    assert_int_equal(request(t, TURN_CHANNEL_BIND, add_channel, &bind), 403);
    assert_int_equal(turn_core_stats(t->core)->peer_denied, 2);

    /* our own relay address: permission granted, but only relay ports reachable */
    stun_addr_parse("10.0.0.1:3000", &own_service);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &own_service), 0);
    struct stun_addr bob_client;
    stun_addr_parse("192.168.1.11:40000", &bob_client);
    uint8_t bob_key[STUN_LONG_TERM_KEY_LEN];
    stun_long_term_key("bob", "lanturn", "builder", bob_key);
    request_from(t, &bob_client, TURN_ALLOCATE, add_udp, NULL, NULL, NULL);
    assert_int_equal(request_from(t, &bob_client, TURN_ALLOCATE, add_udp, NULL, "bob", bob_key), 0);
    struct stun_addr bob_relay;
    stun_attr_get_addr(&t->resp, stun_find(&t->resp, STUN_ATTR_XOR_RELAYED_ADDRESS), true,
                       &bob_relay);

    uint8_t buf[128], tid[STUN_TID_LEN] = {8};
    struct stun_builder b;
    size_t len;
    const struct stun_addr *targets[2] = {&own_service, &bob_relay};
    for (int i = 0; i < 2; i++) {
        stun_build_init(&b, buf, sizeof(buf), TURN_SEND, STUN_INDICATION, tid);
        stun_put_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, targets[i], true);
        stun_put_attr(&b, STUN_ATTR_DATA, "hi", 2);
        stun_build_finish(&b, &len);
        uint64_t before = turn_core_stats(t->core)->client_to_peer_packets;
        turn_core_on_client(t->core, 1, &t->local, &t->client, buf, len, t->now);
        /* to bob's relay it is relayed (and then dropped: bob has no permission) */
        assert_int_equal(turn_core_stats(t->core)->client_to_peer_packets - before, i == 0 ? 0 : 1);
    }
    assert_int_equal(turn_core_stats(t->core)->own_port_dropped, 1);
}

/* Request from `from` with its own credentials, retrying once on 438 (the
 * test env keeps one nonce, and nonces are per client address). */
static int request_as(struct t *t, const struct stun_addr *from, uint16_t method, attrs_fn add,
                      const void *arg, const char *user, const uint8_t *key)
{
    int code = request_from(t, from, method, add, arg, user, key);
    return code == 438 || code == 401 ? request_from(t, from, method, add, arg, user, key) : code;
}

static void send_indication(struct t *t, const struct stun_addr *peer, const char *data)
{
    uint8_t buf[128], tid[STUN_TID_LEN] = {9};
    struct stun_builder b;
    size_t len;
    stun_build_init(&b, buf, sizeof(buf), TURN_SEND, STUN_INDICATION, tid);
    stun_put_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer, true);
    stun_put_attr(&b, STUN_ATTR_DATA, data, strlen(data));
    stun_build_finish(&b, &len);
    turn_core_on_client(t->core, 1, &t->local, &t->client, buf, len, t->now);
}

static void relay_to_relay_goes_straight_to_the_other_client_only_with_its_permission(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    struct stun_addr alice_relay, bob_relay, bob_client;
    stun_attr_get_addr(&t->resp, stun_find(&t->resp, STUN_ATTR_XOR_RELAYED_ADDRESS), true,
                       &alice_relay);
    stun_addr_parse("192.168.1.11:40000", &bob_client);
    uint8_t bob_key[STUN_LONG_TERM_KEY_LEN];
    stun_long_term_key("bob", "lanturn", "builder", bob_key);
    assert_int_equal(request_as(t, &bob_client, TURN_ALLOCATE, add_udp, NULL, "bob", bob_key), 0);
    stun_attr_get_addr(&t->resp, stun_find(&t->resp, STUN_ATTR_XOR_RELAYED_ADDRESS), true,
                       &bob_relay);
    void *bob_alloc = t->f.owner[1];
    if (request(t, TURN_CREATE_PERMISSION, add_peer, &bob_relay) == 438) /* bob's nonce */
        assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &bob_relay), 0);

    /* bob has no permission for alice's relay: nothing reaches bob, and
     * nothing leaves on a socket either */
    const struct turn_stats *st = turn_core_stats(t->core);
    uint64_t dropped = st->no_permission_dropped;
    unsigned before = t->f.n_sent;
    send_indication(t, &bob_relay, "hi");
    assert_int_equal(t->f.n_sent, before);
    assert_int_equal(st->no_permission_dropped, dropped + 1);
    assert_int_equal(st->peer_to_client_packets, 0);

    /* with it, one datagram: to bob's client, from bob's socket, the Data
     * indication bob's relay would have built for a datagram from alice's relay */
    assert_int_equal(
        request_as(t, &bob_client, TURN_CREATE_PERMISSION, add_peer, &alice_relay, "bob", bob_key), 0);
    before = t->f.n_sent;
    send_indication(t, &bob_relay, "hi");
    assert_int_equal(t->f.n_sent, before + 1);
    struct sent shortcut = t->f.sent[t->f.n_sent - 1];
    assert_int_equal(shortcut.handle, 1);
    assert_true(stun_addr_equal(&shortcut.to, &bob_client));
    uint8_t buf[TURN_HEADROOM + 16 + TURN_TAILROOM];
    memcpy(buf + TURN_HEADROOM, "hi", 2);
    turn_core_on_peer(t->core, bob_alloc, &alice_relay, buf + TURN_HEADROOM, 2, t->now);
    struct sent *long_way = &t->f.sent[t->f.n_sent - 1];
    assert_int_equal(shortcut.len, long_way->len);
    assert_memory_equal(shortcut.buf, long_way->buf, 8); /* all but the transaction id */
    assert_memory_equal(shortcut.buf + 20, long_way->buf + 20, shortcut.len - 20);
    assert_int_equal(st->client_to_peer_packets, 2);
    assert_int_equal(st->peer_to_client_packets, 2);

    /* a channel bob binds to alice's relay carries it as ChannelData */
    struct bind_arg bind = {0x4000, &alice_relay};
    assert_int_equal(request_as(t, &bob_client, TURN_CHANNEL_BIND, add_channel, &bind, "bob", bob_key),
                     0);
    send_indication(t, &bob_relay, "hey");
    uint8_t want[] = {0x40, 0x00, 0x00, 0x03, 'h', 'e', 'y'};
    struct sent *s = &t->f.sent[t->f.n_sent - 1];
    assert_int_equal(s->len, sizeof(want));
    assert_memory_equal(s->buf, want, sizeof(want));
}

static void other_user_on_same_5tuple_gets_441(void **state)
{
    struct t *t = *state;
    allocate_ok(t);
    uint8_t bob_key[STUN_LONG_TERM_KEY_LEN];
    stun_long_term_key("bob", "lanturn", "builder", bob_key);
    assert_int_equal(request_from(t, &t->client, TURN_REFRESH, add_lifetime, &(uint32_t){600},
                                  "bob", bob_key),
                     441);
}

static void quotas_give_486_and_508(void **state)
{
    struct t *t = *state;
    t->cfg.max_allocations_per_user = 1;
    allocate_ok(t);
    struct stun_addr second;
    stun_addr_parse("192.168.1.10:40001", &second);
    assert_int_equal(request_from(t, &second, TURN_ALLOCATE, add_udp, NULL, "alice", t->key), 486);
    t->cfg.max_allocations_per_user = 0;
    t->cfg.max_allocations = 1;
    assert_int_equal(request_from(t, &second, TURN_ALLOCATE, add_udp, NULL, "alice", t->key), 508);
}

static void relay_port_exhaustion_gets_508(void **state)
{
    struct t *t = *state;
    t->cfg.port_lo = t->cfg.port_hi = 50000; /* a single relay port */
    allocate_ok(t);
    struct stun_addr second;
    stun_addr_parse("192.168.1.10:40001", &second);
    assert_int_equal(request_from(t, &second, TURN_ALLOCATE, add_udp, NULL, "alice", t->key), 508);
    uint32_t zero = 0;
    assert_int_equal(request(t, TURN_REFRESH, add_lifetime, &zero), 0);
    assert_int_equal(request_from(t, &second, TURN_ALLOCATE, add_udp, NULL, "alice", t->key), 0);
}

static void add_raw(struct stun_builder *b, const void *arg)
{
    const uint16_t *a = arg; /* type, then a 4-byte value's first byte */
    uint8_t v[4] = {(uint8_t)a[1], 0, 0, 0};
    stun_put_attr(b, a[0], v, 4);
}

static void bad_transport_family_and_unknown_attributes(void **state)
{
    struct t *t = *state;
    request_from(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL, NULL);
    assert_int_equal(request(t, TURN_ALLOCATE, NULL, NULL), 400); /* no REQUESTED-TRANSPORT */
    uint16_t tcp[2] = {STUN_ATTR_REQUESTED_TRANSPORT, 6};
    assert_int_equal(request(t, TURN_ALLOCATE, add_raw, tcp), 400); /* RFC 6062 §5.1: UDP client */
    uint16_t sctp[2] = {STUN_ATTR_REQUESTED_TRANSPORT, 132};
    assert_int_equal(request(t, TURN_ALLOCATE, add_raw, sctp), 442);
    uint16_t unknown[2] = {0x0031, 1};
    assert_int_equal(request(t, TURN_ALLOCATE, add_raw, unknown), 420);
    const struct stun_attr *u = stun_find(&t->resp, STUN_ATTR_UNKNOWN_ATTRIBUTES);
    assert_non_null(u);
    assert_int_equal(u->len, 2);
    assert_int_equal(u->val[0] << 8 | u->val[1], 0x0031);
    assert_int_equal(t->f.opened, 0);
}

static void ipv6_allocation_needs_an_ipv6_relay(void **state)
{
    struct t *t = *state;
    request_from(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL, NULL);
    uint8_t buf[256], tid[STUN_TID_LEN] = {42};
    struct stun_builder b;
    size_t len;
    stun_build_init(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_REQUEST, tid);
    stun_put_attr(&b, STUN_ATTR_REQUESTED_TRANSPORT, (uint8_t[4]){17, 0, 0, 0}, 4);
    stun_put_attr(&b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, (uint8_t[4]){2, 0, 0, 0}, 4);
    stun_put_str(&b, STUN_ATTR_USERNAME, "alice");
    stun_put_str(&b, STUN_ATTR_REALM, "lanturn");
    stun_put_str(&b, STUN_ATTR_NONCE, t->nonce);
    stun_put_integrity(&b, t->key, sizeof(t->key));
    stun_build_finish(&b, &len);
    turn_core_on_client(t->core, 1, &t->local, &t->client, buf, len, t->now);
    assert_int_equal(last_response(t), 440);
}

static void shared_secret_credentials_work_until_they_expire(void **state)
{
    struct t *t = *state;
    const char *user = "1700000100:carol";
    char password[32];
    secret_password("s3cret", user, password);
    uint8_t key[STUN_LONG_TERM_KEY_LEN];
    stun_long_term_key(user, "lanturn", password, key);
    request_from(t, &t->client, TURN_ALLOCATE, add_udp, NULL, NULL, NULL);
    assert_int_equal(request_from(t, &t->client, TURN_ALLOCATE, add_udp, NULL, user, key), 0);
    uint32_t zero = 0;
    assert_int_equal(request_from(t, &t->client, TURN_REFRESH, add_lifetime, &zero, user, key), 0);
    t->f.wall = 1700000101; /* past the expiry in the user name */
    assert_int_equal(request_from(t, &t->client, TURN_ALLOCATE, add_udp, NULL, user, key), 401);
}
/* ---- TCP/TLS connections (turn_core_on_stream) ---- */

static void stream_allocation_answers_on_its_connection_and_pads_channel_data(void **state)
{
    struct t *t = *state;
    t->conn = 7;
    allocate_ok(t);
    assert_int_equal(t->f.sent[t->f.n_sent - 1].handle, 7);
    assert_true(turn_core_has_allocation(t->core, 7, &t->client));
    assert_false(turn_core_has_allocation(t->core, 1, &t->client)); /* UDP is another 5-tuple */
    struct bind_arg bind = {0x4001, &t->peer};
    assert_int_equal(request(t, TURN_CHANNEL_BIND, add_channel, &bind), 0);
    /* client to peer: the frame carries its padding, the peer gets the payload */
    uint8_t cd[] = {0x40, 0x01, 0x00, 0x03, 'a', 'b', 'c', 0};
    turn_core_on_stream(t->core, 7, &t->local, &t->client, cd, sizeof(cd), t->now);
    struct sent *s = &t->f.sent[t->f.n_sent - 1];
    assert_int_equal(s->handle, 100);
    assert_int_equal(s->len, 3);
    /* peer to client: RFC 8656 §12.5 padding to 4 bytes, on the connection */
    assert_int_equal(peer_sends(t, &t->peer, "xyzzy"), 1);
    s = &t->f.sent[t->f.n_sent - 1];
    uint8_t want[] = {0x40, 0x01, 0x00, 0x05, 'x', 'y', 'z', 'z', 'y', 0, 0, 0};
    assert_int_equal(s->handle, 7);
    assert_int_equal(s->len, sizeof(want));
    assert_memory_equal(s->buf, want, sizeof(want));
    /* already a multiple of 4: no padding */
    assert_int_equal(peer_sends(t, &t->peer, "abcd"), 1);
    assert_int_equal(t->f.sent[t->f.n_sent - 1].len, 8);
}

static void closing_the_connection_deletes_its_allocation(void **state)
{
    struct t *t = *state;
    t->conn = 7;
    allocate_ok(t);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &t->peer), 0);
    assert_int_equal(turn_core_stats(t->core)->allocations, 1);
    turn_core_on_client_closed(t->core, 7, &t->client);
    assert_int_equal(t->f.closed, 1);
    assert_int_equal(turn_core_stats(t->core)->allocations, 0);
    assert_int_equal(turn_core_stats(t->core)->permissions, 0);
    assert_false(turn_core_has_allocation(t->core, 7, &t->client));
    /* a new connection that gets the same handle starts from nothing */
    assert_int_equal(request(t, TURN_REFRESH, add_lifetime, &(uint32_t){600}), 437);
    assert_int_equal(request(t, TURN_ALLOCATE, add_udp, NULL), 0);
    assert_int_equal(t->f.opened, 2);
    /* closing twice, or a connection without an allocation, does nothing */
    turn_core_on_client_closed(t->core, 7, &t->client);
    turn_core_on_client_closed(t->core, 7, &t->client);
    turn_core_on_client_closed(t->core, 8, &t->client);
    assert_int_equal(t->f.closed, 2);
}

static void closing_a_stream_never_touches_udp_allocations(void **state)
{
    struct t *t = *state;
    allocate_ok(t); /* over UDP socket 1 */
    turn_core_on_client_closed(t->core, 1, &t->client);
    assert_int_equal(turn_core_stats(t->core)->allocations, 1);
    assert_int_equal(t->f.closed, 0);
    /* UDP ChannelData keeps its unpadded form */
    struct bind_arg bind = {0x4001, &t->peer};
    assert_int_equal(request(t, TURN_CHANNEL_BIND, add_channel, &bind), 0);
    assert_int_equal(peer_sends(t, &t->peer, "xyzzy"), 1);
    assert_int_equal(t->f.sent[t->f.n_sent - 1].len, 9);
}

static void stream_and_udp_allocations_from_one_address_are_separate(void **state)
{
    struct t *t = *state;
    allocate_ok(t); /* UDP */
    t->conn = 9;
    assert_int_equal(request(t, TURN_ALLOCATE, add_udp, NULL), 0);
    assert_int_equal(turn_core_stats(t->core)->allocations, 2);
    turn_core_on_client_closed(t->core, 9, &t->client);
    assert_int_equal(turn_core_stats(t->core)->allocations, 1);
    assert_true(turn_core_has_allocation(t->core, 1, &t->client));
}

static void malformed_datagrams_are_counted_and_unanswered(void **state)
{
    struct t *t = *state;
    uint8_t junk[] = {0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8,
                      9, 10, 11, 12, 0x80, 0x28, 0x00, 0x04, 0, 0, 0, 0};
    turn_core_on_client(t->core, 1, &t->local, &t->client, junk, sizeof(junk), t->now);
    uint8_t short_cd[] = {0x40, 0x00, 0x00, 0x10, 'x'};
    turn_core_on_client(t->core, 1, &t->local, &t->client, short_cd, sizeof(short_cd), t->now);
    assert_int_equal(t->f.n_sent, 0);
    assert_int_equal(turn_core_stats(t->core)->malformed, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, turn_test_setup_default, turn_test_teardown)
        T(allocate_without_integrity_gets_401_with_realm_and_nonce),
        T(wrong_password_and_unknown_user_get_401),
        T(allocate_succeeds_with_relay_in_range_and_default_lifetime),
        T(nonce_goes_stale_after_its_lifetime),
        T(nonce_from_another_address_is_stale),
        T(second_allocate_on_same_5tuple_gets_437_but_retransmit_is_answered),
        T(lifetime_is_clamped_between_default_and_max),
        T(refresh_with_zero_lifetime_deletes_allocation),
        T(allocation_expires_after_its_lifetime),
        T(permission_lets_peer_data_through_as_data_indication),
        T(permission_expires_after_300_seconds),
        T(send_indication_reaches_peer_only_with_permission),
        T(channel_carries_data_both_ways_and_obeys_binding_rules),
        T(policy_refuses_loopback_and_own_ports_are_filtered),
        T(relay_to_relay_goes_straight_to_the_other_client_only_with_its_permission),
        T(other_user_on_same_5tuple_gets_441),
        T(quotas_give_486_and_508),
        T(relay_port_exhaustion_gets_508),
        T(bad_transport_family_and_unknown_attributes),
        T(ipv6_allocation_needs_an_ipv6_relay),
        T(shared_secret_credentials_work_until_they_expire),
        T(malformed_datagrams_are_counted_and_unanswered),
        T(stream_allocation_answers_on_its_connection_and_pads_channel_data),
        T(closing_the_connection_deletes_its_allocation),
        T(closing_a_stream_never_touches_udp_allocations),
        T(stream_and_udp_allocations_from_one_address_are_separate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
