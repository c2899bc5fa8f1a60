/*
 * requests.c - STUN/TURN request handlers: Binding (RFC 8489 §6.3),
 * Allocate, Refresh, CreatePermission, ChannelBind (RFC 8656 §7-§12), and
 * Connect and ConnectionBind (RFC 6062 §5) whose connections tcprelay.c keeps.
 * Each handler validates in the order the RFC gives, so clients see the
 * error code the RFC promises when several things are wrong at once.
 */
#include "internal.h"
#include "../util/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define REPLY_CAP 1024

/* Comprehension-required attributes each method understands. */
static const uint16_t known_binding[] = {
    STUN_ATTR_USERNAME, STUN_ATTR_MESSAGE_INTEGRITY, STUN_ATTR_MESSAGE_INTEGRITY_SHA256,
    STUN_ATTR_PRIORITY, STUN_ATTR_USE_CANDIDATE,     STUN_ATTR_CHANGE_REQUEST,
    STUN_ATTR_REALM,    STUN_ATTR_NONCE,
};
static const uint16_t known_turn[] = {
    STUN_ATTR_USERNAME,
    STUN_ATTR_USERHASH,
    STUN_ATTR_MESSAGE_INTEGRITY,
    STUN_ATTR_MESSAGE_INTEGRITY_SHA256,
    STUN_ATTR_PASSWORD_ALGORITHM,
    STUN_ATTR_REALM,
    STUN_ATTR_NONCE,
    STUN_ATTR_LIFETIME,
    STUN_ATTR_XOR_PEER_ADDRESS,
    STUN_ATTR_DATA,
    STUN_ATTR_REQUESTED_ADDRESS_FAMILY,
    STUN_ATTR_EVEN_PORT,
    STUN_ATTR_REQUESTED_TRANSPORT,
    STUN_ATTR_DONT_FRAGMENT,
    STUN_ATTR_RESERVATION_TOKEN,
    STUN_ATTR_CHANNEL_NUMBER,
    STUN_ATTR_CONNECTION_ID,
};

struct reply {
    struct stun_builder b;
    uint8_t buf[REPLY_CAP];
};

struct request {
    struct turn_core *c;
    int lsock;
    bool stream;
    const struct stun_addr *local;
    const struct stun_addr *from;
    const struct stun_msg *m;
    uint64_t now_ms;
    struct turn_auth auth;
};

static void reply_begin(struct reply *r, const struct request *q, enum stun_class cls)
{
    stun_build_init(&r->b, r->buf, sizeof(r->buf), q->m->method, cls, q->m->tid);
}

/* Finish with the request's kind of integrity (MESSAGE-INTEGRITY or
 * MESSAGE-INTEGRITY-SHA256, RFC 8489 §9.2.4) when `sign` and FINGERPRINT
 * when the request had one (§7.3), then send. */
static void reply_send(struct reply *r, const struct request *q, bool sign)
{
    bool signed_answer = sign && q->auth.key_len;
    if (!signed_answer && !q->stream && !turn_unauth_answer_allowed(q->c, q->from, q->now_ms))
        return; /* see ratelimit.c */
    if (signed_answer && q->auth.sha256)
        stun_put_integrity_sha256(&r->b, q->auth.key, q->auth.key_len);
    else if (signed_answer)
        stun_put_integrity(&r->b, q->auth.key, q->auth.key_len);
    if (q->m->has_fingerprint)
        stun_put_fingerprint(&r->b);
    size_t len;
    if (stun_build_finish(&r->b, &len) == 0)
        turn_send_to_client(q->c, q->lsock, q->from, r->buf, len);
}

static void send_error(const struct request *q, int code, bool sign)
{
    if (lt_log_enabled(LT_LOG_DEBUG) && code != STUN_ERR_UNAUTHORIZED) {
        char client[64];
        stun_addr_format(q->from, true, client, sizeof(client));
        lt_log(LT_LOG_DEBUG, "turn", "request_failed", "method=0x%03x code=%d client=%s",
               q->m->method, code, client);
    }
    struct reply r;
    reply_begin(&r, q, STUN_ERROR);
    stun_put_error(&r.b, code, NULL);
    if (code == STUN_ERR_TRY_ALTERNATE) {
        /* RFC 8489 §10: signed like any answer to an authenticated request */
        const struct turn_core_config *cfg = q->c->cfg;
        stun_put_addr(&r.b, STUN_ATTR_ALTERNATE_SERVER, &cfg->alternate_server, false);
        if (cfg->alternate_domain[0])
            stun_put_str(&r.b, STUN_ATTR_ALTERNATE_DOMAIN, cfg->alternate_domain);
    }
    if (code == STUN_ERR_UNAUTHORIZED || code == STUN_ERR_STALE_NONCE) {
        char nonce[TURN_NONCE_LEN + 1];
        turn_nonce_make(q->c, q->from, q->now_ms, nonce);
        stun_put_str(&r.b, STUN_ATTR_REALM, q->c->cfg->realm);
        stun_put_str(&r.b, STUN_ATTR_NONCE, nonce);
        /* §9.2.4: our nonces announce password algorithms, so the list too. */
        stun_put_attr(&r.b, STUN_ATTR_PASSWORD_ALGORITHMS, turn_password_algorithms,
                      sizeof(turn_password_algorithms));
        sign = false; /* §9.2.4: these carry no integrity */
    }
    reply_send(&r, q, sign);
}

static bool reject_unknown(const struct request *q, const uint16_t *known, unsigned n)
{
    uint16_t unknown[16];
    unsigned count = stun_unknown_required(q->m, known, n, unknown, 16);
    if (count == 0)
        return false;
    struct reply r;
    reply_begin(&r, q, STUN_ERROR);
    stun_put_error(&r.b, STUN_ERR_UNKNOWN_ATTRIBUTE, NULL);
    stun_put_unknown_attributes(&r.b, unknown, count < 16 ? count : 16);
    reply_send(&r, q, false);
    return true;
}

static void handle_binding(struct request *q)
{
    if (reject_unknown(q, known_binding, sizeof(known_binding) / sizeof(known_binding[0])))
        return;
    struct reply r;
    reply_begin(&r, q, STUN_SUCCESS);
    if (q->m->has_cookie) {
        stun_put_addr(&r.b, STUN_ATTR_XOR_MAPPED_ADDRESS, q->from, true);
    } else {
        /* RFC 3489 client: it only understands MAPPED-ADDRESS; the builder
         * wrote the cookie, so restore its 16-byte transaction id. */
        memcpy(r.buf + 4, q->m->buf + 4, 4);
        stun_put_addr(&r.b, STUN_ATTR_MAPPED_ADDRESS, q->from, false);
    }
    reply_send(&r, q, false);
}

/* §7.2: the granted lifetime: min(requested, max), but never below the default. */
static uint32_t granted_lifetime(const struct turn_core *c, const struct stun_msg *m, bool *zero)
{
    const struct stun_attr *a = stun_find(m, STUN_ATTR_LIFETIME);
    uint32_t req;
    *zero = false;
    if (!a || stun_attr_get_u32(a, &req) != 0)
        return c->cfg->lifetime_default;
    if (req == 0) {
        *zero = true;
        return 0;
    }
    if (req > c->cfg->lifetime_max)
        req = c->cfg->lifetime_max;
    return req > c->cfg->lifetime_default ? req : c->cfg->lifetime_default;
}

static void allocate_success(const struct request *q, const struct turn_alloc *a)
{
    struct reply r;
    reply_begin(&r, q, STUN_SUCCESS);
    stun_put_addr(&r.b, STUN_ATTR_XOR_RELAYED_ADDRESS, &a->relay, true);
    if (a->relay2.family) /* RFC 8656 §7.2: both relayed addresses of a dual allocation */
        stun_put_addr(&r.b, STUN_ATTR_XOR_RELAYED_ADDRESS, &a->relay2, true);
    else if (a->missing_af)
        stun_put_address_error(&r.b, a->missing_af, a->missing_code);
    stun_put_u32(&r.b, STUN_ATTR_LIFETIME, a->lifetime_s);
    if (a->has_reservation_token)
        stun_put_attr(&r.b, STUN_ATTR_RESERVATION_TOKEN, a->reservation_token, TURN_TOKEN_LEN);
    stun_put_addr(&r.b, STUN_ATTR_XOR_MAPPED_ADDRESS, q->from, true);
    if (q->c->cfg->software[0])
        stun_put_str(&r.b, STUN_ATTR_SOFTWARE, q->c->cfg->software);
    reply_send(&r, q, true);
}

static const struct stun_addr *relay_ip_for(const struct turn_core *c, uint16_t family)
{
    for (unsigned i = 0; i < c->cfg->n_relay_ip; i++)
        if (c->cfg->relay_ip[i].family == family)
            return &c->cfg->relay_ip[i];
    return NULL;
}

static void log_alloc(const struct request *q, const struct turn_alloc *a)
{
    char client[64], relay[64], name[128];
    stun_addr_format(q->from, true, client, sizeof(client));
    stun_addr_format(&a->relay, true, relay, sizeof(relay));
    size_t n = strlen(relay);
    if (a->relay2.family && n + 2 < sizeof(relay)) { /* both, "v4,v6" */
        relay[n] = ',';
        stun_addr_format(&a->relay2, true, relay + n + 1, sizeof(relay) - n - 1);
    }
    lt_log(LT_LOG_INFO, "turn", "alloc_created", "user=%s client=%s relay=%s transport=%s lifetime=%u",
           lt_log_token(a->user->name, name, sizeof(name)), client, relay, a->tcp ? "tcp" : "udp",
           a->lifetime_s);
}

/* This server cannot take the allocation: 300 towards the alternate server
 * when there is one, else 508 (RFC 8656 §7.2). */
static int no_capacity(struct turn_core *c)
{
    if (c->cfg->alternate_server.port) {
        c->stats.alternate_redirects++;
        return STUN_ERR_TRY_ALTERNATE;
    }
    c->stats.quota_rejections++;
    return STUN_ERR_INSUFFICIENT_CAPACITY;
}

static int handle_allocate(struct request *q)
{
    struct turn_core *c = q->c;
    const struct stun_msg *m = q->m;
    struct turn_alloc *existing = turn_alloc_find(c, q->lsock, q->from);
    if (existing) {
        /* §7.2 step 2: a retransmission gets the same answer, anything else 437. */
        if (memcmp(existing->alloc_tid, m->tid, STUN_TID_LEN) != 0)
            return STUN_ERR_ALLOCATION_MISMATCH;
        allocate_success(q, existing);
        return 0;
    }
    if (c->cfg->draining)
        return no_capacity(c);
    const struct stun_attr *transport = stun_find(m, STUN_ATTR_REQUESTED_TRANSPORT);
    uint8_t proto;
    if (!transport || stun_attr_get_transport(transport, &proto) != 0)
        return STUN_ERR_BAD_REQUEST;
    if (proto != 17 && proto != 6)
        return STUN_ERR_UNSUPPORTED_TRANSPORT;
    bool tcp = proto == 6;
    bool dont_fragment = stun_find(m, STUN_ATTR_DONT_FRAGMENT) != NULL;

    const struct stun_attr *token = stun_find(m, STUN_ATTR_RESERVATION_TOKEN);
    const struct stun_attr *even = stun_find(m, STUN_ATTR_EVEN_PORT);
    const struct stun_attr *family = stun_find(m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY);
    const struct stun_attr *additional = stun_find(m, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY);
    /* RFC 6062 §5.1: TCP relays for TCP/TLS clients only, without the
     * UDP-only attributes. */
    if (tcp && (!q->stream || dont_fragment || even || token))
        return STUN_ERR_BAD_REQUEST;
    if (tcp && !c->env.tcp_listen)
        return STUN_ERR_UNSUPPORTED_TRANSPORT;
    if (token && (even || family || additional || token->len != TURN_TOKEN_LEN))
        return STUN_ERR_BAD_REQUEST;
    if (family && additional)
        return STUN_ERR_BAD_REQUEST;
    /* RFC 8656 §7.2: IPv6 is the only valid ADDITIONAL-ADDRESS-FAMILY. */
    uint16_t af2 = 0;
    if (additional && (tcp || stun_attr_get_family(additional, &af2) != 0 || af2 != AF_INET6))
        return STUN_ERR_BAD_REQUEST;
    bool reserve_next = false;
    if (even && stun_attr_get_even_port(even, &reserve_next) != 0)
        return STUN_ERR_BAD_REQUEST;

    unsigned quota = c->cfg->max_allocations_per_user;
    if (quota && (c->shared ? turn_shared_user_count(c->shared, q->auth.user)
                            : turn_user_alloc_count(c, q->auth.user)) >= quota) {
        c->stats.quota_rejections++;
        return STUN_ERR_ALLOCATION_QUOTA_REACHED;
    }

    uint16_t af = AF_INET;
    if (family) {
        int rc = stun_attr_get_family(family, &af);
        if (rc == -EAFNOSUPPORT)
            return STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED;
        if (rc != 0)
            return STUN_ERR_BAD_REQUEST;
    }
    const struct stun_addr *ip = relay_ip_for(c, af);
    const struct stun_addr *ip2 = af2 ? relay_ip_for(c, af2) : NULL;
    uint16_t missing_af = 0;
    if (af2 && !ip2) {
        missing_af = af2; /* dual-stack without an IPv6 relay: IPv4 and the reason */
    } else if (af2 && !ip) {
        missing_af = af; /* and the other way round */
        ip = ip2;
        ip2 = NULL;
    }
    if (!token && !ip)
        return STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED;
    if (c->cfg->max_allocations && c->stats.allocations >= c->cfg->max_allocations)
        return no_capacity(c);
    /* With workers the quotas count every core's allocations; taken here,
     * given back by turn_alloc_destroy(). */
    int taken = c->shared ? turn_shared_take(c->shared, q->auth.user, quota,
                                             c->cfg->max_allocations)
                          : 0;
    if (taken == -EDQUOT) {
        c->stats.quota_rejections++;
        return STUN_ERR_ALLOCATION_QUOTA_REACHED;
    }
    if (taken != 0)
        return no_capacity(c);

    bool zero;
    uint32_t lifetime = granted_lifetime(c, m, &zero);
    if (zero)
        lifetime = c->cfg->lifetime_default;

    struct turn_alloc *a =
        turn_alloc_create(c, q->lsock, q->stream, q->local, q->from, q->auth.user);
    if (!a) {
        if (c->shared)
            turn_shared_release(c->shared, q->auth.user);
        return no_capacity(c);
    }
    a->tcp = tcp;
    int rc = token ? turn_relay_take_reservation(c, a, token->val, dont_fragment)
                   : turn_relay_bind(c, a, ip, even != NULL, reserve_next, dont_fragment,
                                     q->now_ms, &a->relay, &a->relay_handle);
    if (rc != 0) {
        turn_alloc_destroy(c, a, "no-relay-port");
        lt_log(LT_LOG_WARN, "turn", "alloc_failed", "reason=%s",
               token ? "bad-reservation-token" : "relay-ports-exhausted");
        /* a bad token is the client's problem; no other server knows it either */
        return token ? STUN_ERR_INSUFFICIENT_CAPACITY : no_capacity(c);
    }
    if (missing_af) {
        a->missing_af = missing_af;
        a->missing_code = STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED;
    } else if (ip2 && turn_relay_bind(c, a, ip2, false, false, dont_fragment, q->now_ms, &a->relay2,
                                      &a->relay2_handle) != 0) {
        a->missing_af = ip2->family; /* the first family stands alone (§7.2) */
        a->missing_code = STUN_ERR_INSUFFICIENT_CAPACITY;
    }
    memcpy(a->alloc_tid, m->tid, STUN_TID_LEN);
    a->lifetime_s = lifetime;
    a->expires_ms = q->now_ms + (uint64_t)lifetime * 1000;
    a->created_ms = q->now_ms;
    log_alloc(q, a);
    allocate_success(q, a);
    return 0;
}

/* The allocation of this 5-tuple: 437 when there is none, 441 when it
 * belongs to another user (RFC 8656 §5). */
static int owned_allocation(const struct request *q, struct turn_alloc **out)
{
    struct turn_alloc *a = turn_alloc_find(q->c, q->lsock, q->from);
    if (!a)
        return STUN_ERR_ALLOCATION_MISMATCH;
    if (strcmp(a->user->name, q->auth.user) != 0)
        return STUN_ERR_WRONG_CREDENTIALS;
    *out = a;
    return 0;
}

static int handle_refresh(struct request *q)
{
    struct turn_alloc *a;
    int err = owned_allocation(q, &a);
    if (err)
        return err;
    /* RFC 8656 §7.3: REQUESTED-ADDRESS-FAMILY names one relayed address of
     * the allocation (443 when it has none of that family); with lifetime 0
     * on a dual allocation only that one goes. */
    const struct stun_attr *family = stun_find(q->m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY);
    uint16_t af = 0;
    int handle;
    if (family && (stun_attr_get_family(family, &af) != 0 || !turn_alloc_relay(a, af, &handle)))
        return STUN_ERR_PEER_ADDRESS_FAMILY_MISMATCH;
    bool zero;
    uint32_t lifetime = granted_lifetime(q->c, q->m, &zero);
    if (zero && af && a->relay2.family) {
        turn_relay_drop(q->c, a, af);
    } else if (zero) {
        turn_alloc_destroy(q->c, a, "refresh-0");
    } else {
        a->lifetime_s = lifetime;
        a->expires_ms = q->now_ms + (uint64_t)lifetime * 1000;
    }
    struct reply r;
    reply_begin(&r, q, STUN_SUCCESS);
    stun_put_u32(&r.b, STUN_ATTR_LIFETIME, lifetime);
    reply_send(&r, q, true);
    return 0;
}

/* A peer the policy refuses: logged and counted, 403. */
static int deny_peer(const struct request *q, const struct turn_alloc *a,
                     const struct stun_addr *peer, const char *why)
{
    char p[64], client[64], name[128];
    stun_addr_format(peer, a->tcp, p, sizeof(p));
    stun_addr_format(q->from, true, client, sizeof(client));
    lt_log(LT_LOG_WARN, "policy", "peer_denied", "user=%s client=%s peer=%s rule=%s method=0x%03x",
           lt_log_token(a->user->name, name, sizeof(name)), client, p, why, q->m->method);
    q->c->stats.peer_denied++;
    return STUN_ERR_FORBIDDEN;
}

/* Decode a peer address and apply the family and policy rules; 0 or a STUN error. */
static int check_peer(const struct request *q, const struct turn_alloc *a,
                      const struct stun_attr *attr, struct stun_addr *peer, bool *relay_only)
{
    int handle;
    if (stun_attr_get_addr(q->m, attr, true, peer) != 0)
        return STUN_ERR_BAD_REQUEST;
    if (!turn_alloc_relay(a, peer->family, &handle))
        return STUN_ERR_PEER_ADDRESS_FAMILY_MISMATCH;
    const char *why = "";
    enum turn_peer_verdict v = turn_policy_check(&q->c->cfg->policy, peer, &why);
    if (v == TURN_PEER_DENY)
        return deny_peer(q, a, peer, why);
    *relay_only = v == TURN_PEER_RELAY_ONLY;
    return 0;
}

static int handle_create_permission(struct request *q)
{
    struct turn_alloc *a;
    int err = owned_allocation(q, &a);
    if (err)
        return err;
    struct stun_addr peers[STUN_MAX_ATTRS];
    bool relay_only[STUN_MAX_ATTRS];
    unsigned n = 0;
    for (unsigned i = 0; i < q->m->n_attrs; i++) {
        const struct stun_attr *attr = &q->m->attrs[i];
        if (attr->type != STUN_ATTR_XOR_PEER_ADDRESS)
            continue;
        err = check_peer(q, a, attr, &peers[n], &relay_only[n]);
        if (err)
            return err; /* §9.2: all or nothing */
        n++;
    }
    if (n == 0)
        return STUN_ERR_BAD_REQUEST;
    for (unsigned i = 0; i < n; i++)
        if (turn_perm_install(q->c, a, &peers[i], relay_only[i], q->now_ms) != 0)
            return STUN_ERR_INSUFFICIENT_CAPACITY;
    struct reply r;
    reply_begin(&r, q, STUN_SUCCESS);
    reply_send(&r, q, true);
    return 0;
}

static int handle_channel_bind(struct request *q)
{
    struct turn_alloc *a;
    int err = owned_allocation(q, &a);
    if (err)
        return err;
    if (a->tcp)
        return STUN_ERR_BAD_REQUEST; /* RFC 6062 §5: no channels on TCP relays */
    const struct stun_attr *num = stun_find(q->m, STUN_ATTR_CHANNEL_NUMBER);
    const struct stun_attr *peer_attr = stun_find(q->m, STUN_ATTR_XOR_PEER_ADDRESS);
    uint16_t number;
    if (!num || !peer_attr || stun_attr_get_channel(num, &number) != 0 ||
        number < STUN_CHANNEL_MIN || number > STUN_CHANNEL_MAX)
        return STUN_ERR_BAD_REQUEST;
    struct stun_addr peer;
    bool relay_only = false;
    err = check_peer(q, a, peer_attr, &peer, &relay_only);
    if (err)
        return err;
    /* §11.2: a number is bound to one peer and a peer to one number, also
     * during the cooldown after expiry. */
    struct turn_chan *by_num = turn_chan_by_number(a, number);
    struct turn_chan *by_peer = turn_chan_by_peer(a, &peer);
    if ((by_num && !stun_addr_equal(&by_num->peer, &peer)) || (by_peer && by_peer->number != number))
        return STUN_ERR_BAD_REQUEST;
    if (turn_chan_install(q->c, a, number, &peer, q->now_ms) != 0 ||
        turn_perm_install(q->c, a, &peer, relay_only, q->now_ms) != 0)
        return STUN_ERR_INSUFFICIENT_CAPACITY;
    struct reply r;
    reply_begin(&r, q, STUN_SUCCESS);
    reply_send(&r, q, true);
    return 0;
}

/* RFC 6062 §5.2: the peer policy first, then a connection from the relayed
 * address; the answer comes when the shell knows how it went. */
static int handle_connect(struct request *q)
{
    struct turn_alloc *a;
    int err = owned_allocation(q, &a);
    if (err)
        return err;
    const struct stun_attr *peer_attr = stun_find(q->m, STUN_ATTR_XOR_PEER_ADDRESS);
    if (!a->tcp || !peer_attr)
        return STUN_ERR_BAD_REQUEST;
    struct stun_addr peer;
    bool relay_only = false;
    err = check_peer(q, a, peer_attr, &peer, &relay_only);
    if (err)
        return err;
    /* Our own address: only another TCP allocation's live relayed address
     * (a UDP relay's port number may be a local service's TCP port). */
    if (relay_only && !turn_is_live_tcp_relay(q->c, &peer))
        return deny_peer(q, a, &peer, "own-address-port");
    if (peer.port == 0)
        return STUN_ERR_BAD_REQUEST;
    return turn_tcp_connect(q->c, a, q->m, &peer, &q->auth, q->lsock, q->from,
                            q->m->has_fingerprint, q->now_ms);
}

/* RFC 6062 §5.4: a new client data connection claims a pending peer
 * connection of the same user; after the answer the connection carries
 * raw bytes. */
static int handle_connection_bind(struct request *q)
{
    if (!q->stream || turn_alloc_find(q->c, q->lsock, q->from))
        return STUN_ERR_BAD_REQUEST; /* never the control connection */
    const struct stun_attr *id = stun_find(q->m, STUN_ATTR_CONNECTION_ID);
    uint32_t cid;
    if (!id || stun_attr_get_u32(id, &cid) != 0)
        return STUN_ERR_BAD_REQUEST;
    struct turn_tcp_conn *t = turn_tcp_find_id(q->c, cid);
    if (!t || t->state != TURN_TCP_PENDING)
        return STUN_ERR_BAD_REQUEST;
    if (strcmp(t->alloc->user->name, q->auth.user) != 0)
        return STUN_ERR_WRONG_CREDENTIALS;
    struct reply r;
    reply_begin(&r, q, STUN_SUCCESS);
    reply_send(&r, q, true);
    turn_tcp_bind(q->c, t, q->lsock);
    return 0;
}

void turn_handle_request(struct turn_core *c, int lsock, bool stream, const struct stun_addr *local,
                         const struct stun_addr *from, const struct stun_msg *m, uint64_t now_ms)
{
    struct request q = {.c = c, .lsock = lsock, .stream = stream, .local = local, .from = from,
                        .m = m, .now_ms = now_ms};
    if (m->method == STUN_BINDING) {
        handle_binding(&q);
        return;
    }
    if (!m->has_cookie)
        return; /* TURN needs RFC 5389 or later */
    switch (m->method) {
    case TURN_ALLOCATE:
    case TURN_REFRESH:
    case TURN_CREATE_PERMISSION:
    case TURN_CHANNEL_BIND:
    case TURN_CONNECT:
    case TURN_CONNECTION_BIND:
        break;
    default:
        send_error(&q, STUN_ERR_BAD_REQUEST, false);
        return;
    }
    if (reject_unknown(&q, known_turn, sizeof(known_turn) / sizeof(known_turn[0])))
        return;
    if (turn_fails_blocked(c, from, now_ms)) {
        c->stats.auth_rate_limited++; /* dropped, not answered: see ratelimit.c */
        return;
    }
    turn_auth_check(c, m, from, now_ms, &q.auth);
    if (q.auth.failed)
        turn_fails_record(c, from, now_ms);
    if (q.auth.error) {
        send_error(&q, q.auth.error, false);
        return;
    }
    int err;
    switch (m->method) {
    case TURN_ALLOCATE:
        err = handle_allocate(&q);
        break;
    case TURN_REFRESH:
        err = handle_refresh(&q);
        break;
    case TURN_CREATE_PERMISSION:
        err = handle_create_permission(&q);
        break;
    case TURN_CONNECT:
        err = handle_connect(&q);
        break;
    case TURN_CONNECTION_BIND:
        err = handle_connection_bind(&q);
        break;
    default:
        err = handle_channel_bind(&q);
        break;
    }
    if (err)
        send_error(&q, err, true);
}
