/*
 * turn_tcp_test.c - RFC 6062 TCP allocations in the TURN core, driven with
 * the fake env: Allocate's rules, Connect (policy first, answered when the
 * shell reports the connection, 446/447), ConnectionAttempt for incoming
 * peers, ConnectionBind, the 30 s timeouts and the per-allocation quota.
 */
#include "turn_test_env.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define CONTROL 7 /* the client's control connection */
#define DATA 8    /* a second connection, for ConnectionBind */

static void add_tcp(struct stun_builder *b, const void *arg)
{
    (void)arg;
    stun_put_attr(b, STUN_ATTR_REQUESTED_TRANSPORT, (uint8_t[4]){6, 0, 0, 0}, 4);
}

static void add_tcp_even(struct stun_builder *b, const void *arg)
{
    add_tcp(b, arg);
    stun_put_attr(b, STUN_ATTR_EVEN_PORT, (uint8_t[1]){0}, 1);
}

static void add_tcp_df(struct stun_builder *b, const void *arg)
{
    add_tcp(b, arg);
    stun_put_attr(b, STUN_ATTR_DONT_FRAGMENT, NULL, 0);
}

static void add_conn_id(struct stun_builder *b, const void *arg)
{
    stun_put_u32(b, STUN_ATTR_CONNECTION_ID, *(const uint32_t *)arg);
}

/* A TCP allocation on the control connection; its relayed address. */
static struct stun_addr tcp_allocate(struct t *t)
{
    t->conn = CONTROL;
    request_from(t, &t->client, TURN_ALLOCATE, add_tcp, NULL, NULL, NULL); /* nonce */
    assert_int_equal(request(t, TURN_ALLOCATE, add_tcp, NULL), 0);
    struct stun_addr relay;
    assert_int_equal(stun_attr_get_addr(&t->resp, stun_find(&t->resp, STUN_ATTR_XOR_RELAYED_ADDRESS),
                                        true, &relay),
                     0);
    return relay;
}

static uint32_t connection_id(struct t *t)
{
    uint32_t id;
    assert_int_equal(stun_attr_get_u32(stun_find(&t->resp, STUN_ATTR_CONNECTION_ID), &id), 0);
    return id;
}

/* Connect to t->peer and let the shell report success: the CONNECTION-ID. */
static uint32_t connect_ok(struct t *t)
{
    assert_int_equal(request(t, TURN_CONNECT, add_peer, &t->peer), -1); /* answered later */
    turn_core_on_tcp_connected(t->core, t->f.last_connect, true, t->now);
    assert_int_equal(last_response(t), 0);
    assert_int_equal(t->resp.method, TURN_CONNECT);
    assert_true(stun_check_integrity(&t->resp, t->key, sizeof(t->key)));
    return connection_id(t);
}

static void tcp_allocation_needs_a_stream_client_and_no_udp_attributes(void **state)
{
    struct t *t = *state;
    request_from(t, &t->client, TURN_ALLOCATE, add_tcp, NULL, NULL, NULL);
    assert_int_equal(request(t, TURN_ALLOCATE, add_tcp, NULL), 400); /* over UDP */
    t->conn = CONTROL;
    assert_int_equal(request(t, TURN_ALLOCATE, add_tcp_even, NULL), 400);
    assert_int_equal(request(t, TURN_ALLOCATE, add_tcp_df, NULL), 400);
    assert_int_equal(t->f.tcp_listens, 0);
    struct stun_addr relay = tcp_allocate(t);
    assert_int_equal(t->f.tcp_listens, 1);
    assert_true(relay.port >= 50000 && relay.port <= 50099);
    /* §5: no channels on a TCP relay */
    struct bind_arg bind = {0x4001, &t->peer};
    assert_int_equal(request(t, TURN_CHANNEL_BIND, add_channel, &bind), 400);
}

static void connect_to_forbidden_peers_gets_403_before_any_connection(void **state)
{
    struct t *t = *state;
    tcp_allocate(t);
    const char *forbidden[] = {"127.0.0.1:22", "169.254.169.254:80", "0.0.0.0:80",
                               "10.0.0.1:3478", "10.0.0.1:50098"};
    for (unsigned i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
        struct stun_addr peer;
        assert_int_equal(stun_addr_parse(forbidden[i], &peer), 0);
        assert_int_equal(request(t, TURN_CONNECT, add_peer, &peer), 403);
    }
    assert_int_equal(t->f.connects, 0);
    assert_int_equal(turn_core_stats(t->core)->peer_denied, 5);
    /* the relayed address of a live UDP allocation is no TCP peer... */
    struct stun_addr udp_client = t->client, udp_relay;
    udp_client.port = 41000;
    t->conn = 0;
    assert_int_equal(request_from(t, &udp_client, TURN_ALLOCATE, add_udp, NULL, "alice", t->key), 0);
    stun_attr_get_addr(&t->resp, stun_find(&t->resp, STUN_ATTR_XOR_RELAYED_ADDRESS), true, &udp_relay);
    t->conn = CONTROL;
    assert_int_equal(request(t, TURN_CONNECT, add_peer, &udp_relay), 403);
    /* ...another TCP allocation's is (two clients of one appliance) */
    struct stun_addr other_client = t->client;
    other_client.port = 42000;
    t->conn = CONTROL + 10;
    assert_int_equal(request_from(t, &other_client, TURN_ALLOCATE, add_tcp, NULL, "alice", t->key), 0);
    struct stun_addr tcp_relay;
    stun_attr_get_addr(&t->resp, stun_find(&t->resp, STUN_ATTR_XOR_RELAYED_ADDRESS), true, &tcp_relay);
    t->conn = CONTROL;
    assert_int_equal(request(t, TURN_CONNECT, add_peer, &tcp_relay), -1);
    assert_int_equal(t->f.connects, 1);
    assert_true(stun_addr_equal(&t->f.connect_to, &tcp_relay));
    struct stun_addr v6;
    stun_addr_parse("[2001:db8::1]:80", &v6);
    assert_int_equal(request(t, TURN_CONNECT, add_peer, &v6), 443);
    assert_int_equal(request(t, TURN_CONNECT, NULL, NULL), 400);
}

static void connect_answers_with_connection_id_once_the_peer_is_reached(void **state)
{
    struct t *t = *state;
    struct stun_addr relay = tcp_allocate(t);
    uint32_t id = connect_ok(t);
    assert_int_not_equal(id, 0);
    assert_true(stun_addr_equal(&t->f.connect_from, &relay)); /* from the relayed address */
    assert_true(stun_addr_equal(&t->f.connect_to, &t->peer));
    assert_int_equal(request(t, TURN_CONNECT, add_peer, &t->peer), 446);
    assert_int_equal(turn_core_stats(t->core)->tcp_connections, 1);
    /* the Connect installed a permission: the peer may also connect in */
    struct stun_addr other = t->peer;
    other.port = 6000;
    assert_true(turn_core_on_tcp_incoming(t->core, t->f.owner[0], 400, &other, t->now));
}

static void connect_failure_and_timeout_give_447(void **state)
{
    struct t *t = *state;
    tcp_allocate(t);
    assert_int_equal(request(t, TURN_CONNECT, add_peer, &t->peer), -1);
    turn_core_on_tcp_connected(t->core, t->f.last_connect, false, t->now);
    assert_int_equal(last_response(t), 447);
    assert_true(stun_check_integrity(&t->resp, t->key, sizeof(t->key)));

    assert_int_equal(request(t, TURN_CONNECT, add_peer, &t->peer), -1);
    int handle = t->f.last_connect;
    t->now += 29 * 1000;
    turn_core_tick(t->core, t->now);
    unsigned sent = t->f.n_sent;
    t->now += 2 * 1000;
    turn_core_tick(t->core, t->now);
    assert_int_equal(t->f.n_sent, sent + 1);
    assert_int_equal(last_response(t), 447);
    assert_int_equal(t->f.tcp_closed[0], handle);
    assert_int_equal(turn_core_stats(t->core)->tcp_connect_failures, 2);
    assert_int_equal(turn_core_stats(t->core)->tcp_connections, 0);
    /* a late report changes nothing */
    turn_core_on_tcp_connected(t->core, handle, true, t->now);
    assert_int_equal(t->f.n_sent, sent + 1);
}

static void connection_bind_splices_a_new_connection_of_the_same_user(void **state)
{
    struct t *t = *state;
    tcp_allocate(t);
    uint32_t id = connect_ok(t);
    int peer = t->f.last_connect;
    uint32_t unknown = id + 1;
    struct stun_addr data_from = t->client;
    data_from.port++;

    /* never on the control connection, never an unknown id */
    assert_int_equal(request(t, TURN_CONNECTION_BIND, add_conn_id, &id), 400);
    t->conn = DATA;
    assert_int_equal(request_from(t, &data_from, TURN_CONNECTION_BIND, add_conn_id, &unknown,
                                  "alice", t->key),
                     400);
    uint8_t bob[STUN_LONG_TERM_KEY_LEN];
    stun_long_term_key("bob", "lanturn", "builder", bob);
    assert_int_equal(
        request_from(t, &data_from, TURN_CONNECTION_BIND, add_conn_id, &id, "bob", bob), 441);
    assert_int_equal(t->f.bound_peer, 0);

    assert_int_equal(
        request_from(t, &data_from, TURN_CONNECTION_BIND, add_conn_id, &id, "alice", t->key), 0);
    assert_int_equal(t->f.sent[t->f.n_sent - 1].handle, DATA);
    assert_int_equal(t->f.bound_peer, peer);
    assert_int_equal(t->f.bound_conn, DATA);
    /* bound: no second ConnectionBind, and no timeout */
    assert_int_equal(
        request_from(t, &data_from, TURN_CONNECTION_BIND, add_conn_id, &id, "alice", t->key), 400);
    t->now += 60 * 1000;
    turn_core_tick(t->core, t->now);
    assert_int_equal(t->f.n_tcp_closed, 0);
    /* the shell closed the pair */
    turn_core_on_tcp_closed(t->core, peer);
    assert_int_equal(turn_core_stats(t->core)->tcp_connections, 0);
}

static void incoming_peer_needs_a_permission_and_is_announced(void **state)
{
    struct t *t = *state;
    tcp_allocate(t);
    void *owner = t->f.owner[0];
    assert_false(turn_core_on_tcp_incoming(t->core, owner, 400, &t->peer, t->now));
    assert_int_equal(turn_core_stats(t->core)->tcp_refused, 1);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &t->peer), 0);
    unsigned sent = t->f.n_sent;
    assert_true(turn_core_on_tcp_incoming(t->core, owner, 401, &t->peer, t->now));
    assert_int_equal(t->f.n_sent, sent + 1);
    struct sent *s = &t->f.sent[sent];
    assert_int_equal(s->handle, CONTROL);
    assert_true(stun_addr_equal(&s->to, &t->client));
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, s->buf, s->len), 0);
    assert_int_equal(m.method, TURN_CONNECTION_ATTEMPT);
    assert_int_equal(m.cls, STUN_INDICATION);
    struct stun_addr from;
    assert_int_equal(
        stun_attr_get_addr(&m, stun_find(&m, STUN_ATTR_XOR_PEER_ADDRESS), true, &from), 0);
    assert_true(stun_addr_equal(&from, &t->peer));
    uint32_t id;
    assert_int_equal(stun_attr_get_u32(stun_find(&m, STUN_ATTR_CONNECTION_ID), &id), 0);
    assert_int_not_equal(id, 0);
    /* §5.3: not bound within 30 s, closed */
    t->now += 29 * 1000;
    turn_core_tick(t->core, t->now);
    assert_int_equal(t->f.n_tcp_closed, 0);
    t->now += 2 * 1000;
    turn_core_tick(t->core, t->now);
    assert_int_equal(t->f.n_tcp_closed, 1);
    assert_int_equal(t->f.tcp_closed[0], 401);
}

static void one_connection(struct turn_core_config *cfg)
{
    cfg->max_tcp_connections = 1;
}

static int setup_one_connection(void **state)
{
    return turn_test_setup(state, one_connection);
}

static void quota_and_closing_the_control_connection(void **state)
{
    struct t *t = *state;
    tcp_allocate(t);
    connect_ok(t);
    int first = t->f.last_connect;
    struct stun_addr other;
    stun_addr_parse("192.168.1.21:80", &other);
    assert_int_equal(request(t, TURN_CONNECT, add_peer, &other), 486);
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &other), 0);
    assert_false(turn_core_on_tcp_incoming(t->core, t->f.owner[0], 401, &other, t->now));
    /* the allocation goes with its control connection, and its peers with it */
    turn_core_on_client_closed(t->core, CONTROL, &t->client);
    assert_int_equal(t->f.n_tcp_closed, 1);
    assert_int_equal(t->f.tcp_closed[0], first);
    assert_int_equal(turn_core_stats(t->core)->tcp_connections, 0);
    assert_int_equal(turn_core_stats(t->core)->allocations, 0);
}

/* A TCP allocation, a Connect and its ConnectionBind: the pair's token. */
static void *bound_pair(struct t *t)
{
    tcp_allocate(t);
    uint32_t id = connect_ok(t);
    struct stun_addr data_from = t->client;
    data_from.port++;
    t->conn = DATA;
    assert_int_equal(
        request_from(t, &data_from, TURN_CONNECTION_BIND, add_conn_id, &id, "alice", t->key), 0);
    assert_non_null(t->f.bound_token);
    return t->f.bound_token;
}

static void ten_kilobytes_per_second(struct turn_core_config *cfg)
{
    cfg->alloc_bandwidth = 10000;
}

static int setup_bandwidth(void **state)
{
    return turn_test_setup(state, ten_kilobytes_per_second);
}

/* The spliced bytes are counted and obey alloc_bandwidth: the shell may read
 * what the bucket holds, nothing when it is empty, more as it refills. */
static void spliced_bytes_are_counted_and_held_to_the_bandwidth_limit(void **state)
{
    struct t *t = *state;
    void *pair = bound_pair(t);
    assert_int_equal(turn_core_tcp_budget(t->core, pair, 1 << 20, t->now), 10000);
    turn_core_tcp_moved(t->core, pair, true, 6000);
    turn_core_tcp_moved(t->core, pair, false, 4000);
    assert_int_equal(turn_core_tcp_budget(t->core, pair, 1 << 20, t->now), 0);
    t->now += 500;
    assert_int_equal(turn_core_tcp_budget(t->core, pair, 1 << 20, t->now), 5000);
    assert_int_equal(turn_core_tcp_budget(t->core, pair, 100, t->now), 100);
    const struct turn_stats *st = turn_core_stats(t->core);
    assert_int_equal(st->client_to_peer_bytes, 6000);
    assert_int_equal(st->peer_to_client_bytes, 4000);
    assert_int_equal(st->bandwidth_dropped_bytes, 0); /* a stream slows down, never drops */
}

static void without_limits_the_budget_is_what_is_asked(void **state)
{
    struct t *t = *state;
    assert_int_equal(turn_core_tcp_budget(t->core, bound_pair(t), 1 << 20, t->now), 1 << 20);
}

/* RFC 6062 §5.5: data connections last as long as their allocation; a
 * permission is checked only when a peer connects (§5.3), so its expiry
 * leaves a bound pair alone. */
static void a_bound_pair_outlives_its_permission_not_its_allocation(void **state)
{
    struct t *t = *state;
    bound_pair(t);
    int peer = t->f.last_connect;
    t->conn = CONTROL;
    assert_int_equal(request(t, TURN_CREATE_PERMISSION, add_peer, &t->peer), 0);
    t->now += 301 * 1000; /* past the permission's 300 s */
    turn_core_tick(t->core, t->now);
    assert_int_equal(t->f.n_tcp_closed, 0);
    assert_int_equal(turn_core_stats(t->core)->tcp_connections, 1);
    t->now += 300 * 1000; /* past the allocation's 600 s */
    turn_core_tick(t->core, t->now);
    assert_int_equal(t->f.n_tcp_closed, 1);
    assert_int_equal(t->f.tcp_closed[0], peer);
    assert_int_equal(turn_core_stats(t->core)->tcp_connections, 0);
    assert_int_equal(turn_core_stats(t->core)->allocations, 0);
}

static void socket_error_on_connect_gives_447_at_once(void **state)
{
    struct t *t = *state;
    tcp_allocate(t);
    t->f.connect_rc = -ENETUNREACH;
    assert_int_equal(request(t, TURN_CONNECT, add_peer, &t->peer), 447);
    assert_int_equal(turn_core_stats(t->core)->tcp_connections, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, turn_test_setup_default, turn_test_teardown)
        T(tcp_allocation_needs_a_stream_client_and_no_udp_attributes),
        T(connect_to_forbidden_peers_gets_403_before_any_connection),
        T(connect_answers_with_connection_id_once_the_peer_is_reached),
        T(connect_failure_and_timeout_give_447),
        T(connection_bind_splices_a_new_connection_of_the_same_user),
        T(incoming_peer_needs_a_permission_and_is_announced),
        T(socket_error_on_connect_gives_447_at_once),
        T(without_limits_the_budget_is_what_is_asked),
        T(a_bound_pair_outlives_its_permission_not_its_allocation),
        cmocka_unit_test_setup_teardown(spliced_bytes_are_counted_and_held_to_the_bandwidth_limit,
                                        setup_bandwidth, turn_test_teardown),
        cmocka_unit_test_setup_teardown(quota_and_closing_the_control_connection,
                                        setup_one_connection, turn_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
