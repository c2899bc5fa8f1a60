/*
 * tcprelay.c - RFC 6062 TCP allocations: the decisions about peer data
 * connections. The shell owns the sockets (a listening socket per TCP
 * allocation, one socket per peer connection, the splice of bytes between a
 * peer connection and a client data connection); the core decides which
 * connections may exist, answers Connect when the shell says the connection
 * is up or failed, announces incoming ones with ConnectionAttempt, and
 * closes whatever is not bound within 30 s.
 *
 * Connect is answered late: the request's transaction id and key are kept
 * with the connection so the answer can be signed when it is known.
 */
#include "internal.h"
#include "../util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct turn_tcp_conn *turn_tcp_find_id(struct turn_core *c, uint32_t id)
{
    for (struct turn_tcp_conn *t = c->tcp_conns; t; t = t->next)
        if (t->id == id)
            return t;
    return NULL;
}

static struct turn_tcp_conn *find_handle(struct turn_core *c, int handle)
{
    for (struct turn_tcp_conn *t = c->tcp_conns; t; t = t->next)
        if (t->handle == handle)
            return t;
    return NULL;
}

static void log_conn(const struct turn_tcp_conn *t, const char *event, const char *reason)
{
    if (!lt_log_enabled(LT_LOG_INFO))
        return;
    char peer[64], relay[64], name[128];
    stun_addr_format(&t->peer, true, peer, sizeof(peer));
    stun_addr_format(&t->alloc->relay, true, relay, sizeof(relay));
    lt_log(LT_LOG_INFO, "turn", event, "user=%s relay=%s peer=%s connection_id=%u reason=%s",
           lt_log_token(t->alloc->user->name, name, sizeof(name)), relay, peer, t->id, reason);
}

/* A new connection record for a, with a CONNECTION-ID no live connection
 * has (0 is never used, so a zeroed id means "none"). NULL when the
 * allocation's quota is used up or memory is short. */
static struct turn_tcp_conn *conn_new(struct turn_core *c, struct turn_alloc *a,
                                      const struct stun_addr *peer)
{
    if (a->n_tcp >= c->cfg->max_tcp_connections)
        return NULL;
    struct turn_tcp_conn *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    do
        c->env.random(c->env.ctx, (uint8_t *)&t->id, sizeof(t->id));
    while (t->id == 0 || turn_tcp_find_id(c, t->id));
    t->alloc = a;
    t->peer = *peer;
    t->handle = -1;
    t->next = c->tcp_conns;
    c->tcp_conns = t;
    a->n_tcp++;
    c->stats.tcp_connections++;
    c->stats.tcp_connections_total++;
    return t;
}

static void conn_free(struct turn_core *c, struct turn_tcp_conn *t, bool close_socket)
{
    struct turn_tcp_conn **p = &c->tcp_conns;
    while (*p != t)
        p = &(*p)->next;
    *p = t->next;
    if (close_socket && t->handle >= 0)
        c->env.tcp_close(c->env.ctx, t->handle);
    t->alloc->n_tcp--;
    c->stats.tcp_connections--;
    free(t);
}

/* The deferred answer to Connect: CONNECTION-ID, or 447. */
static void answer_connect(struct turn_core *c, const struct turn_tcp_conn *t, int error)
{
    uint8_t buf[256];
    struct stun_builder b;
    stun_build_init(&b, buf, sizeof(buf), TURN_CONNECT, error ? STUN_ERROR : STUN_SUCCESS, t->tid);
    if (error)
        stun_put_error(&b, error, NULL);
    else
        stun_put_u32(&b, STUN_ATTR_CONNECTION_ID, t->id);
    if (t->sha256)
        stun_put_integrity_sha256(&b, t->key, t->key_len);
    else
        stun_put_integrity(&b, t->key, t->key_len);
    if (t->fingerprint)
        stun_put_fingerprint(&b);
    size_t len;
    if (stun_build_finish(&b, &len) == 0)
        turn_send_to_client(c, t->client_handle, &t->client, buf, len);
}

int turn_tcp_connect(struct turn_core *c, struct turn_alloc *a, const struct stun_msg *m,
                     const struct stun_addr *peer, const struct turn_auth *auth, int lsock,
                     const struct stun_addr *client, bool fingerprint, uint64_t now_ms)
{
    /* RFC 6062 §5.2: one connection per peer address while it is pending or active. */
    for (struct turn_tcp_conn *t = c->tcp_conns; t; t = t->next)
        if (t->alloc == a && stun_addr_equal(&t->peer, peer))
            return STUN_ERR_CONNECTION_ALREADY_EXISTS;
    struct turn_tcp_conn *t = conn_new(c, a, peer);
    if (!t) {
        c->stats.quota_rejections++;
        return STUN_ERR_ALLOCATION_QUOTA_REACHED;
    }
    memcpy(t->tid, m->tid, STUN_TID_LEN);
    memcpy(t->key, auth->key, auth->key_len);
    t->key_len = auth->key_len;
    t->sha256 = auth->sha256;
    t->fingerprint = fingerprint;
    t->client_handle = lsock;
    t->client = *client;
    t->state = TURN_TCP_CONNECTING;
    t->deadline_ms = now_ms + TURN_TCP_TIMEOUT_MS;
    int rc = c->env.tcp_connect(c->env.ctx, &a->relay, peer, &t->handle);
    if (rc != 0) {
        t->handle = -1;
        log_conn(t, "tcp_connect_failed", "socket");
        conn_free(c, t, false);
        c->stats.tcp_connect_failures++;
        return STUN_ERR_CONNECTION_TIMEOUT;
    }
    return 0;
}

void turn_core_on_tcp_connected(struct turn_core *c, int peer, bool ok, uint64_t now_ms)
{
    struct turn_tcp_conn *t = find_handle(c, peer);
    if (!t || t->state != TURN_TCP_CONNECTING)
        return;
    if (!ok) {
        c->stats.tcp_connect_failures++;
        log_conn(t, "tcp_connect_failed", "refused");
        answer_connect(c, t, STUN_ERR_CONNECTION_TIMEOUT);
        conn_free(c, t, false); /* the shell has closed its socket */
        return;
    }
    /* §5.2: a successful Connect installs or refreshes the peer's permission. */
    turn_perm_install(c, t->alloc, &t->peer, false, now_ms);
    t->state = TURN_TCP_PENDING;
    t->deadline_ms = now_ms + TURN_TCP_TIMEOUT_MS;
    answer_connect(c, t, 0);
    log_conn(t, "tcp_connected", "connect");
}

static bool refuse_incoming(struct turn_core *c, const struct turn_alloc *a,
                            const struct stun_addr *from, const char *reason)
{
    c->stats.tcp_refused++;
    if (lt_log_enabled(LT_LOG_DEBUG)) {
        char peer[64], relay[64];
        stun_addr_format(from, true, peer, sizeof(peer));
        stun_addr_format(&a->relay, true, relay, sizeof(relay));
        lt_log(LT_LOG_DEBUG, "turn", "tcp_refused", "relay=%s peer=%s reason=%s", relay, peer,
               reason);
    }
    return false;
}

bool turn_core_on_tcp_incoming(struct turn_core *c, void *owner, int peer,
                               const struct stun_addr *from, uint64_t now_ms)
{
    struct turn_alloc *a = owner;
    /* §5.3: only from a peer with a permission. */
    if (!turn_perm_find(a, from, now_ms)) {
        c->stats.no_permission_dropped++;
        return refuse_incoming(c, a, from, "no-permission");
    }
    struct turn_tcp_conn *t = conn_new(c, a, from);
    if (!t)
        return refuse_incoming(c, a, from, "quota");
    t->handle = peer;
    t->state = TURN_TCP_PENDING;
    t->deadline_ms = now_ms + TURN_TCP_TIMEOUT_MS;
    uint8_t buf[128], tid[STUN_TID_LEN];
    c->env.random(c->env.ctx, tid, sizeof(tid));
    struct stun_builder b;
    stun_build_init(&b, buf, sizeof(buf), TURN_CONNECTION_ATTEMPT, STUN_INDICATION, tid);
    stun_put_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, from, true);
    stun_put_u32(&b, STUN_ATTR_CONNECTION_ID, t->id);
    size_t len;
    if (stun_build_finish(&b, &len) == 0)
        turn_send_to_client(c, a->lsock, &a->client, buf, len);
    log_conn(t, "tcp_incoming", "accepted");
    return true;
}

void turn_core_on_tcp_closed(struct turn_core *c, int peer)
{
    struct turn_tcp_conn *t = find_handle(c, peer);
    if (t)
        conn_free(c, t, false);
}

/* ConnectionBind (§5.4) found a pending connection for the client data
 * connection `conn`: the shell splices them. */
void turn_tcp_bind(struct turn_core *c, struct turn_tcp_conn *t, int conn)
{
    t->state = TURN_TCP_BOUND;
    c->env.tcp_bind(c->env.ctx, t->handle, conn, t);
}

/* A TCP relay obeys alloc_bandwidth and user_bandwidth like a UDP one: the
 * shell reads no more than the buckets hold, so a slow budget slows the
 * sender down (TCP backpressure) instead of dropping bytes. */
size_t turn_core_tcp_budget(struct turn_core *c, void *token, size_t want, uint64_t now_ms)
{
    struct turn_tcp_conn *t = token;
    size_t budget = turn_bandwidth_budget(c, t->alloc, now_ms);
    return budget < want ? budget : want;
}

void turn_core_tcp_moved(struct turn_core *c, void *token, bool to_peer, size_t n)
{
    struct turn_tcp_conn *t = token;
    struct turn_alloc *a = t->alloc;
    turn_bandwidth_charge(c, a, n);
    if (to_peer) {
        c->stats.client_to_peer_bytes += n;
        a->to_peer_bytes += n;
    } else {
        c->stats.peer_to_client_bytes += n;
        a->to_client_bytes += n;
    }
}

void turn_tcp_release_all(struct turn_core *c, struct turn_alloc *a)
{
    struct turn_tcp_conn **p = &c->tcp_conns;
    while (*p) {
        struct turn_tcp_conn *t = *p;
        if (t->alloc == a)
            conn_free(c, t, true);
        else
            p = &t->next;
    }
}

void turn_tcp_expire(struct turn_core *c, uint64_t now_ms)
{
    struct turn_tcp_conn *t = c->tcp_conns;
    while (t) {
        struct turn_tcp_conn *next = t->next;
        if (t->state != TURN_TCP_BOUND && t->deadline_ms <= now_ms) {
            if (t->state == TURN_TCP_CONNECTING) {
                c->stats.tcp_connect_failures++;
                log_conn(t, "tcp_connect_failed", "timeout");
                answer_connect(c, t, STUN_ERR_CONNECTION_TIMEOUT);
            } else {
                log_conn(t, "tcp_closed", "not-bound-in-time");
            }
            conn_free(c, t, true);
        }
        t = next;
    }
}
