/*
 * core.c - the TURN core's entry points: demultiplexing client datagrams,
 * the data path in both directions, and timers. Request handling lives in
 * requests.c, the tables in alloc.c.
 *
 * The data path allocates nothing and formats nothing: a client's
 * ChannelData or Send indication becomes one env->send() on the relay
 * handle, and a peer's datagram gets its 4-byte ChannelData header or its
 * Data indication header written into the headroom in front of it.
 */
#include "internal.h"
#include "../util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct turn_core *turn_core_new(const struct turn_core_config *cfg, const struct turn_env *env)
{
    struct turn_core *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->cfg = cfg;
    c->env = *env;
    c->n_buckets = 64;
    c->buckets = calloc(c->n_buckets, sizeof(*c->buckets));
    c->n_user_buckets = 256;
    c->users = calloc(c->n_user_buckets, sizeof(*c->users));
    /* 65536 pointers per family; untouched pages cost no memory. */
    c->port_owner[0] = calloc(65536, sizeof(*c->port_owner[0]));
    c->port_owner[1] = calloc(65536, sizeof(*c->port_owner[1]));
    if (!c->buckets || !c->users || !c->port_owner[0] || !c->port_owner[1] ||
        turn_ratelimit_init(c) != 0) {
        turn_core_free(c);
        return NULL;
    }
    env->random(env->ctx, c->nonce_key, sizeof(c->nonce_key));
    env->random(env->ctx, c->tid_prefix, sizeof(c->tid_prefix));
    c->next_tick_ms = UINT64_MAX;
    return c;
}

void turn_core_clear(struct turn_core *c)
{
    while (c->all)
        turn_alloc_destroy(c, c->all, "shutdown");
    turn_reservations_expire(c, UINT64_MAX);
}

void turn_core_free(struct turn_core *c)
{
    if (!c)
        return;
    if (c->buckets && c->users && c->port_owner[0] && c->port_owner[1])
        turn_core_clear(c);
    free(c->buckets);
    free(c->users);
    free(c->port_owner[0]);
    free(c->port_owner[1]);
    turn_ratelimit_free(c);
    free(c);
}

const struct turn_stats *turn_core_stats(const struct turn_core *c)
{
    return &c->stats;
}

void turn_stats_add(struct turn_stats *sum, const struct turn_stats *add)
{
    _Static_assert(sizeof(*sum) % sizeof(uint64_t) == 0, "counters only");
    uint64_t a[sizeof(*sum) / sizeof(uint64_t)], b[sizeof(*sum) / sizeof(uint64_t)];
    memcpy(a, sum, sizeof(a));
    memcpy(b, add, sizeof(b));
    for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++)
        a[i] += b[i];
    memcpy(sum, a, sizeof(a));
}

void turn_send_to_client(struct turn_core *c, int lsock, const struct stun_addr *to,
                         const uint8_t *buf, size_t len)
{
    c->env.send(c->env.ctx, lsock, to, buf, len);
}

static void schedule_tick(struct turn_core *c, uint64_t now_ms)
{
    if (c->next_tick_ms == UINT64_MAX)
        c->next_tick_ms = now_ms + TURN_TICK_MS;
}

/* Permission for the peer, and towards our own relay address only its live
 * relay ports: the per-datagram half of the peer policy. */
bool turn_peer_send_allowed(struct turn_core *c, struct turn_alloc *a, const struct stun_addr *peer,
                            uint64_t now_ms)
{
    struct turn_perm *p = turn_perm_find(a, peer, now_ms);
    if (!p) {
        c->stats.no_permission_dropped++;
        return false;
    }
    if (p->relay_only && !turn_is_live_relay(c, peer)) {
        c->stats.own_port_dropped++;
        return false;
    }
    return true;
}

/* A bucket of `rate` bytes/s holds one second of traffic, but at least one
 * full-size Ethernet datagram so a low rate still passes something; in
 * thousandths of a byte. */
static uint64_t bucket_depth(uint32_t rate)
{
    return (uint64_t)(rate > 1500 ? rate : 1500) * 1000;
}

/* Refill a bucket of `rate` bytes/s up to its depth. */
static void bucket_refill(struct turn_bucket *b, uint32_t rate, uint64_t now_ms)
{
    uint64_t depth = bucket_depth(rate);
    if (now_ms > b->last_ms) {
        uint64_t add = (now_ms - b->last_ms) * rate;
        b->tokens = add >= depth || b->tokens + add >= depth ? depth : b->tokens + add;
        b->last_ms = now_ms;
    }
}

/* The same refill on a bucket all workers charge: the worker that moves
 * last_ms forward adds the tokens for that span, so no span counts twice. */
static uint64_t shared_bucket_refill(struct turn_shared_bucket *b, uint32_t rate, uint64_t now_ms)
{
    int64_t depth = (int64_t)bucket_depth(rate);
    uint64_t last = atomic_load_explicit(&b->last_ms, memory_order_relaxed);
    if (now_ms > last && atomic_compare_exchange_strong_explicit(&b->last_ms, &last, now_ms,
                                                                 memory_order_relaxed,
                                                                 memory_order_relaxed)) {
        uint64_t span = now_ms - last;
        int64_t add = span >= (uint64_t)depth / rate + 1 ? depth : (int64_t)(span * rate);
        int64_t t = atomic_fetch_add_explicit(&b->tokens, add, memory_order_relaxed) + add;
        while (t > depth && !atomic_compare_exchange_weak_explicit(&b->tokens, &t, depth,
                                                                   memory_order_relaxed,
                                                                   memory_order_relaxed))
            ; /* t now holds the current count: clamp it while it is above */
    }
    int64_t t = atomic_load_explicit(&b->tokens, memory_order_relaxed);
    return t > 0 ? (uint64_t)t : 0;
}

size_t turn_bandwidth_budget(struct turn_core *c, struct turn_alloc *a, uint64_t now_ms)
{
    uint32_t ar = c->cfg->alloc_bandwidth, ur = c->cfg->user_bandwidth;
    uint64_t tokens = UINT64_MAX;
    if (ar) {
        bucket_refill(&a->bandwidth, ar, now_ms);
        tokens = a->bandwidth.tokens;
    }
    if (ur) {
        uint64_t user_tokens;
        if (a->user->shared_bandwidth) {
            user_tokens = shared_bucket_refill(a->user->shared_bandwidth, ur, now_ms);
        } else {
            bucket_refill(&a->user->bandwidth, ur, now_ms);
            user_tokens = a->user->bandwidth.tokens;
        }
        if (user_tokens < tokens)
            tokens = user_tokens;
    }
    return tokens == UINT64_MAX || tokens / 1000 > SIZE_MAX ? SIZE_MAX : (size_t)(tokens / 1000);
}

void turn_bandwidth_charge(struct turn_core *c, struct turn_alloc *a, size_t len)
{
    uint64_t need = (uint64_t)len * 1000;
    if (c->cfg->alloc_bandwidth)
        a->bandwidth.tokens -= need < a->bandwidth.tokens ? need : a->bandwidth.tokens;
    if (!c->cfg->user_bandwidth)
        return;
    if (a->user->shared_bandwidth)
        atomic_fetch_sub_explicit(&a->user->shared_bandwidth->tokens, (int64_t)need,
                                  memory_order_relaxed);
    else
        a->user->bandwidth.tokens -=
            need < a->user->bandwidth.tokens ? need : a->user->bandwidth.tokens;
}

/* RFC 8656 §7 leaves bandwidth to the server: the datagram passes only when
 * both the allocation's and its user's buckets hold len bytes; both pay. */
static bool bandwidth_allows(struct turn_core *c, struct turn_alloc *a, size_t len, uint64_t now_ms)
{
    if (turn_bandwidth_budget(c, a, now_ms) < len) {
        c->stats.bandwidth_dropped_packets++;
        c->stats.bandwidth_dropped_bytes += len;
        return false;
    }
    turn_bandwidth_charge(c, a, len);
    return true;
}

/* Relay-to-relay shortcut: when the peer is another allocation's relay
 * address on this core, hand the datagram to that allocation as its relay
 * socket would have received it from ours (turn_core_on_peer(): the same
 * permission check, the same bytes to its client), saving a send and a
 * receive. The copy gives turn_core_on_peer() the headroom it writes into. */
static struct turn_alloc *own_udp_relay(struct turn_core *c, const struct stun_addr *peer)
{
    struct turn_alloc *b = c->port_owner[turn_family_index(peer->family)][peer->port];
    return !b || b == TURN_PORT_RESERVED || b->tcp || !turn_is_live_relay(c, peer) ? NULL : b;
}

static bool deliver_to_own_relay(struct turn_core *c, const struct stun_addr *from,
                                 const struct stun_addr *peer, const uint8_t *data, size_t len,
                                 uint64_t now_ms)
{
    struct turn_alloc *b = own_udp_relay(c, peer);
    if (!b || len > TURN_MAX_DATAGRAM)
        return false;
    uint8_t buf[TURN_HEADROOM + TURN_MAX_DATAGRAM + TURN_TAILROOM];
    memcpy(buf + TURN_HEADROOM, data, len);
    turn_core_on_peer(c, b, from, buf + TURN_HEADROOM, len, now_ms);
    return true;
}

/* With workers, the same shortcut to another worker's relay: the shell
 * queues the datagram for that worker, whose core delivers it with
 * turn_core_on_handoff(). false (its queue is full, no hook): the socket. */
static bool hand_to_other_worker(struct turn_core *c, const struct stun_addr *from,
                                 const struct stun_addr *peer, const uint8_t *data, size_t len)
{
    if (!c->env.relay_handoff)
        return false;
    int w = turn_relay_worker(c, peer);
    return w >= 0 && (unsigned)w != c->worker &&
           c->env.relay_handoff(c->env.ctx, (unsigned)w, from, peer, data, len);
}

void turn_core_on_handoff(struct turn_core *c, const struct stun_addr *from,
                          const struct stun_addr *to, uint8_t *buf, size_t len, uint64_t now_ms)
{
    struct turn_alloc *b = own_udp_relay(c, to);
    if (b)
        turn_core_on_peer(c, b, from, buf, len, now_ms);
    else
        c->stats.own_port_dropped++; /* deleted since the sender looked */
}

static void relay_to_peer(struct turn_core *c, struct turn_alloc *a, const struct stun_addr *peer,
                          const uint8_t *data, size_t len, uint64_t now_ms)
{
    /* A dual-stack allocation sends from the relayed address of the peer's family. */
    int handle;
    const struct stun_addr *relay = turn_alloc_relay(a, peer->family, &handle);
    if (!relay || a->tcp || !turn_peer_send_allowed(c, a, peer, now_ms) ||
        !bandwidth_allows(c, a, len, now_ms))
        return;
    c->stats.client_to_peer_packets++;
    c->stats.client_to_peer_bytes += len;
    a->to_peer_packets++;
    a->to_peer_bytes += len;
    if (!deliver_to_own_relay(c, relay, peer, data, len, now_ms) &&
        !hand_to_other_worker(c, relay, peer, data, len))
        c->env.send(c->env.ctx, handle, peer, data, len);
}

static void handle_channel_data(struct turn_core *c, int lsock, const struct stun_addr *from,
                                const uint8_t *buf, size_t len, uint64_t now_ms)
{
    uint16_t number, plen;
    const uint8_t *payload;
    if (stun_chandata_parse(buf, len, &number, &payload, &plen) != 0) {
        c->stats.malformed++;
        return;
    }
    struct turn_alloc *a = turn_alloc_find(c, lsock, from);
    if (!a)
        return;
    struct turn_chan *ch = turn_chan_by_number(a, number);
    if (!ch || ch->expires_ms <= now_ms) {
        c->stats.no_permission_dropped++;
        return;
    }
    relay_to_peer(c, a, &ch->peer, payload, plen, now_ms);
}

/* RFC 8656 §10.2: a Send indication with no allocation, no peer, no data or
 * no permission is dropped silently. */
static void handle_send(struct turn_core *c, int lsock, const struct stun_addr *from,
                        const struct stun_msg *m, uint64_t now_ms)
{
    struct turn_alloc *a = turn_alloc_find(c, lsock, from);
    if (!a)
        return;
    const struct stun_attr *peer_attr = stun_find(m, STUN_ATTR_XOR_PEER_ADDRESS);
    const struct stun_attr *data = stun_find(m, STUN_ATTR_DATA);
    struct stun_addr peer;
    int handle;
    if (!peer_attr || !data || stun_attr_get_addr(m, peer_attr, true, &peer) != 0 ||
        !turn_alloc_relay(a, peer.family, &handle)) {
        c->stats.malformed++;
        return;
    }
    relay_to_peer(c, a, &peer, data->val, data->len, now_ms);
}

static void client_input(struct turn_core *c, int lsock, bool stream, const struct stun_addr *local,
                         const struct stun_addr *from, uint8_t *buf, size_t len, uint64_t now_ms)
{
    if (stun_looks_like_chandata(buf, len)) {
        handle_channel_data(c, lsock, from, buf, len, now_ms);
        return;
    }
    struct stun_msg m;
    if (stun_parse(&m, buf, len) != 0) {
        c->stats.malformed++; /* RFC 8489 §6.3: discard silently */
        return;
    }
    if (m.cls == STUN_REQUEST) {
        turn_handle_request(c, lsock, stream, local, from, &m, now_ms);
        schedule_tick(c, now_ms);
    } else if (m.cls == STUN_INDICATION && m.method == TURN_SEND && m.has_cookie) {
        handle_send(c, lsock, from, &m, now_ms);
    }
}

void turn_core_on_client(struct turn_core *c, int lsock, const struct stun_addr *local,
                         const struct stun_addr *from, uint8_t *buf, size_t len, uint64_t now_ms)
{
    client_input(c, lsock, false, local, from, buf, len, now_ms);
}

void turn_core_on_stream(struct turn_core *c, int conn, const struct stun_addr *local,
                         const struct stun_addr *from, uint8_t *buf, size_t len, uint64_t now_ms)
{
    client_input(c, conn, true, local, from, buf, len, now_ms);
}

/* An allocation made over TCP or TLS lives only as long as its connection
 * (RFC 8656: its 5-tuple is the connection's); the shell may reuse the
 * handle for a new connection, so nothing of the old one may remain. */
void turn_core_on_client_closed(struct turn_core *c, int conn, const struct stun_addr *from)
{
    struct turn_alloc *a = turn_alloc_find(c, conn, from);
    if (a && a->stream)
        turn_alloc_destroy(c, a, "connection-closed");
}

bool turn_core_has_allocation(struct turn_core *c, int handle, const struct stun_addr *from)
{
    return turn_alloc_find(c, handle, from) != NULL;
}

/* Write a Data indication header for `len` payload bytes from `peer` in the
 * headroom before payload; pads the payload (tailroom). Returns the header
 * length. */
static size_t data_indication_header(struct turn_core *c, const struct stun_addr *peer,
                                     uint8_t *payload, size_t len)
{
    uint8_t tid[STUN_TID_LEN];
    uint64_t n = ++c->tid_counter;
    memcpy(tid, c->tid_prefix, 4);
    memcpy(tid + 4, &n, 8);
    size_t addr_len = 4 + (peer->family == AF_INET ? 8 : 20);
    size_t header = STUN_HEADER_LEN + addr_len + 4;
    struct stun_builder b;
    stun_build_init(&b, payload - header, header, TURN_DATA, STUN_INDICATION, tid);
    stun_put_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer, true);
    /* The DATA attribute header by hand: its value is already in place. */
    uint8_t *h = payload - 4;
    h[0] = STUN_ATTR_DATA >> 8;
    h[1] = STUN_ATTR_DATA & 0xff;
    h[2] = (uint8_t)(len >> 8);
    h[3] = (uint8_t)len;
    size_t pad = (4 - (len & 3)) & 3;
    memset(payload + len, 0, pad);
    size_t body = addr_len + 4 + len + pad;
    uint8_t *msg = payload - header;
    msg[2] = (uint8_t)(body >> 8);
    msg[3] = (uint8_t)body;
    return header;
}

void turn_core_on_peer(struct turn_core *c, void *owner, const struct stun_addr *from, uint8_t *buf,
                       size_t len, uint64_t now_ms)
{
    struct turn_alloc *a = owner;
    if (!turn_perm_find(a, from, now_ms)) {
        c->stats.no_permission_dropped++;
        return;
    }
    if (!bandwidth_allows(c, a, len, now_ms))
        return;
    struct turn_chan *ch = turn_chan_by_peer(a, from);
    if (ch && ch->expires_ms > now_ms) {
        if (len > 0xffff)
            return;
        stun_chandata_put_header(buf - STUN_CHANDATA_HEADER_LEN, ch->number, (uint16_t)len);
        /* RFC 8656 §12.5: over a stream, ChannelData is padded to 4 bytes. */
        size_t pad = a->stream ? (4 - (len & 3)) & 3 : 0;
        memset(buf + len, 0, pad);
        c->env.send(c->env.ctx, a->lsock, &a->client, buf - STUN_CHANDATA_HEADER_LEN,
                    len + STUN_CHANDATA_HEADER_LEN + pad);
    } else {
        if (len > 0xffff - 64)
            return;
        size_t header = data_indication_header(c, from, buf, len);
        size_t pad = (4 - (len & 3)) & 3;
        c->env.send(c->env.ctx, a->lsock, &a->client, buf - header, header + len + pad);
    }
    c->stats.peer_to_client_packets++;
    c->stats.peer_to_client_bytes += len;
    a->to_client_packets++;
    a->to_client_bytes += len;
}

void turn_core_tick(struct turn_core *c, uint64_t now_ms)
{
    if (now_ms < c->next_tick_ms)
        return;
    struct turn_alloc *a = c->all;
    while (a) {
        struct turn_alloc *next = a->next;
        if (a->expires_ms <= now_ms)
            turn_alloc_destroy(c, a, "expired");
        else
            turn_alloc_expire_entries(c, a, now_ms);
        a = next;
    }
    turn_reservations_expire(c, now_ms);
    turn_tcp_expire(c, now_ms);
    /* With workers a reservation is everyone's: any core may have to expire it. */
    bool reserved = c->reservations || (c->shared && atomic_load_explicit(
                                                          &c->shared->n_reservations,
                                                          memory_order_relaxed));
    c->next_tick_ms = c->all || reserved ? now_ms + TURN_TICK_MS : UINT64_MAX;
}

uint64_t turn_core_next_deadline(const struct turn_core *c)
{
    return c->next_tick_ms;
}
