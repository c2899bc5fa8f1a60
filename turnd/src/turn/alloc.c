/*
 * alloc.c - the TURN core's tables: allocations by 5-tuple, relay ports,
 * per-user counts, reservations, and each allocation's permissions and
 * channels. Everything here runs on the control path (requests and timers);
 * the data path only reads.
 */
#include "internal.h"
#include "../util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- 5-tuple hash ---- */

static unsigned tuple_bucket(const struct turn_core *c, int lsock, const struct stun_addr *client)
{
    uint32_t h = stun_addr_hash(client) ^ ((uint32_t)lsock * 0x9e3779b1u);
    return h & (c->n_buckets - 1);
}

struct turn_alloc *turn_alloc_find(struct turn_core *c, int lsock, const struct stun_addr *client)
{
    for (struct turn_alloc *a = c->buckets[tuple_bucket(c, lsock, client)]; a; a = a->hash_next)
        if (a->lsock == lsock && stun_addr_equal(&a->client, client))
            return a;
    return NULL;
}

static void grow_buckets(struct turn_core *c)
{
    unsigned n = c->n_buckets * 2;
    struct turn_alloc **b = calloc(n, sizeof(*b));
    if (!b)
        return; /* keep the old table: slower chains, still correct */
    struct turn_alloc **old = c->buckets;
    unsigned old_n = c->n_buckets;
    c->buckets = b;
    c->n_buckets = n;
    for (unsigned i = 0; i < old_n; i++) {
        struct turn_alloc *a = old[i];
        while (a) {
            struct turn_alloc *next = a->hash_next;
            unsigned k = tuple_bucket(c, a->lsock, &a->client);
            a->hash_next = b[k];
            b[k] = a;
            a = next;
        }
    }
    free(old);
}

/* ---- per-user counts ---- */

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static struct turn_user_entry **user_slot(struct turn_core *c, const char *name)
{
    struct turn_user_entry **p = &c->users[name_hash(name) & (c->n_user_buckets - 1)];
    while (*p && strcmp((*p)->name, name) != 0)
        p = &(*p)->next;
    return p;
}

unsigned turn_user_alloc_count(struct turn_core *c, const char *user)
{
    struct turn_user_entry *e = *user_slot(c, user);
    return e ? e->n_allocs : 0;
}

static struct turn_user_entry *user_ref(struct turn_core *c, const char *name)
{
    struct turn_user_entry **p = user_slot(c, name);
    if (!*p) {
        size_t n = strlen(name);
        struct turn_user_entry *e = calloc(1, sizeof(*e) + n + 1);
        if (!e)
            return NULL;
        memcpy(e->name, name, n + 1);
        *p = e;
    }
    (*p)->n_allocs++;
    return *p;
}

static void user_unref(struct turn_core *c, struct turn_user_entry *e)
{
    if (--e->n_allocs > 0)
        return;
    struct turn_user_entry **p = user_slot(c, e->name);
    *p = e->next;
    free(e);
}

/* ---- allocations ---- */

/* Record who holds a relay port; with workers, tell the others when it is
 * an allocation's (reserved ports are nobody's relay address yet). */
static void port_set(struct turn_core *c, int fam, uint32_t port, struct turn_alloc *owner)
{
    c->port_owner[fam][port] = owner;
    if (c->shared)
        turn_shared_mark_relay(c->shared, fam, (uint16_t)port,
                               owner && owner != TURN_PORT_RESERVED, c->worker);
}

struct turn_alloc *turn_alloc_create(struct turn_core *c, int lsock, bool stream,
                                     const struct stun_addr *local, const struct stun_addr *client,
                                     const char *user)
{
    struct turn_alloc *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->user = user_ref(c, user);
    if (!a->user) {
        free(a);
        return NULL;
    }
    if (c->shared && !a->user->shared_bandwidth)
        a->user->shared_bandwidth = turn_shared_user_bandwidth(c->shared, user);
    a->lsock = lsock;
    a->stream = stream;
    a->local = *local;
    a->client = *client;
    a->relay_handle = -1;
    a->relay2_handle = -1;
    if (c->stats.allocations + 1 > c->n_buckets)
        grow_buckets(c);
    unsigned k = tuple_bucket(c, lsock, client);
    a->hash_next = c->buckets[k];
    c->buckets[k] = a;
    a->next = c->all;
    if (c->all)
        c->all->prev = a;
    c->all = a;
    c->stats.allocations++;
    c->stats.allocations_total++;
    a->id = c->shared ? turn_shared_next_id(c->shared) : c->stats.allocations_total;
    return a;
}

void turn_alloc_destroy(struct turn_core *c, struct turn_alloc *a, const char *reason)
{
    turn_tcp_release_all(c, a);
    if (a->relay2.family)
        turn_relay_drop(c, a, a->relay2.family);
    if (a->relay_handle >= 0) {
        char relay[64], client[64], name[128];
        stun_addr_format(&a->relay, true, relay, sizeof(relay));
        stun_addr_format(&a->client, true, client, sizeof(client));
        lt_log(LT_LOG_INFO, "turn", "alloc_deleted", "user=%s client=%s relay=%s reason=%s",
               lt_log_token(a->user->name, name, sizeof(name)), client, relay, reason);
        port_set(c, turn_family_index(a->relay.family), a->relay.port, NULL);
        c->env.relay_close(c->env.ctx, a->relay_handle);
    }
    struct turn_alloc **p = &c->buckets[tuple_bucket(c, a->lsock, &a->client)];
    while (*p != a)
        p = &(*p)->hash_next;
    *p = a->hash_next;
    if (a->prev)
        a->prev->next = a->next;
    else
        c->all = a->next;
    if (a->next)
        a->next->prev = a->prev;
    c->stats.permissions -= a->n_perms;
    c->stats.channels -= a->n_chans;
    c->stats.allocations--;
    if (c->shared)
        turn_shared_release(c->shared, a->user->name);
    user_unref(c, a->user);
    free(a->perms);
    free(a->chans);
    free(a);
}

/* ---- relay ports ---- */

/* Free here, and not another worker's live relay (binding it would fail:
 * skipping it keeps those failures from ending the walk early). */
static bool port_free(const struct turn_core *c, int fam, uint32_t port)
{
    return port >= c->cfg->port_lo && port <= c->cfg->port_hi && !c->port_owner[fam][port] &&
           !(c->shared && turn_shared_relay_is_live(c->shared, fam, (uint16_t)port));
}

/* The reservations: this core's, or with workers everyone's, locked. A
 * client's second socket may hash to another worker than its first. */
static struct turn_reservation **lock_reservations(struct turn_core *c)
{
    if (!c->shared)
        return &c->reservations;
    pthread_mutex_lock(&c->shared->mu);
    return &c->shared->reservations;
}

static void unlock_reservations(struct turn_core *c)
{
    if (c->shared)
        pthread_mutex_unlock(&c->shared->mu);
}

/* Try to bind `port`; on success record the owner. */
static int try_bind(struct turn_core *c, const struct stun_addr *ip, uint16_t port, void *owner,
                    bool dont_fragment, int *handle)
{
    struct stun_addr addr = *ip;
    addr.port = port;
    const struct turn_alloc *a = owner;
    int rc = a && a->tcp ? c->env.tcp_listen(c->env.ctx, &addr, owner, handle)
                         : c->env.relay_open(c->env.ctx, &addr, owner, dont_fragment, handle);
    /* With workers a reservation is no core's (any may take it): its
     * socket alone keeps the port from everyone else. */
    if (rc == 0 && (owner || !c->shared))
        port_set(c, turn_family_index(ip->family), port, owner ? owner : TURN_PORT_RESERVED);
    return rc;
}

int turn_relay_bind(struct turn_core *c, struct turn_alloc *a, const struct stun_addr *ip,
                    bool even, bool reserve_next, bool dont_fragment, uint64_t now_ms,
                    struct stun_addr *relay, int *handle_out)
{
    int fam = turn_family_index(ip->family);
    uint32_t lo = c->cfg->port_lo, hi = c->cfg->port_hi, span = hi - lo + 1;
    uint32_t start;
    c->env.random(c->env.ctx, (uint8_t *)&start, sizeof(start));
    /* Random start, then a linear walk: ports are unpredictable yet the walk
     * finds the last free one. Ports other processes hold make bind fail
     * with EADDRINUSE (the range overlaps Linux's ephemeral ports); skip them. */
    unsigned bind_failures = 0;
    for (uint32_t i = 0; i < span && bind_failures < 64; i++) {
        uint32_t port = lo + (start + i) % span;
        if (even && (port & 1))
            continue;
        if (!port_free(c, fam, port) || (reserve_next && !port_free(c, fam, port + 1)))
            continue;
        int handle, next_handle = -1;
        if (try_bind(c, ip, (uint16_t)port, a, dont_fragment, &handle) != 0) {
            bind_failures++;
            continue;
        }
        if (reserve_next &&
            try_bind(c, ip, (uint16_t)(port + 1), NULL, false, &next_handle) != 0) {
            port_set(c, fam, port, NULL);
            c->env.relay_close(c->env.ctx, handle);
            bind_failures++;
            continue;
        }
        *relay = *ip;
        relay->port = (uint16_t)port;
        *handle_out = handle;
        if (reserve_next) {
            struct turn_reservation *r = calloc(1, sizeof(*r));
            if (!r) {
                c->env.relay_close(c->env.ctx, next_handle);
                port_set(c, fam, port + 1, NULL);
                return 0; /* the allocation itself is fine; just no token */
            }
            c->env.random(c->env.ctx, r->token, sizeof(r->token));
            r->relay = *ip;
            r->relay.port = (uint16_t)(port + 1);
            r->handle = next_handle;
            r->expires_ms = now_ms + TURN_RESERVATION_TTL_MS;
            memcpy(a->reservation_token, r->token, TURN_TOKEN_LEN);
            a->has_reservation_token = true;
            /* Published last: with workers another may take it at once. */
            struct turn_reservation **list = lock_reservations(c);
            r->next = *list;
            *list = r;
            if (c->shared)
                atomic_fetch_add_explicit(&c->shared->n_reservations, 1, memory_order_relaxed);
            unlock_reservations(c);
        }
        return 0;
    }
    return -ENOSPC;
}

static void reservation_release(struct turn_core *c, struct turn_reservation *r)
{
    port_set(c, turn_family_index(r->relay.family), r->relay.port, NULL);
    c->env.relay_close(c->env.ctx, r->handle);
    free(r);
}

int turn_relay_take_reservation(struct turn_core *c, struct turn_alloc *a, const uint8_t *token,
                                bool dont_fragment)
{
    struct turn_reservation **p = lock_reservations(c);
    while (*p && memcmp((*p)->token, token, TURN_TOKEN_LEN) != 0)
        p = &(*p)->next;
    struct turn_reservation *r = *p;
    if (r) {
        *p = r->next;
        if (c->shared)
            atomic_fetch_sub_explicit(&c->shared->n_reservations, 1, memory_order_relaxed);
    }
    unlock_reservations(c);
    if (!r)
        return -ENOENT;
    struct stun_addr relay = r->relay;
    reservation_release(c, r);
    /* Rebind at once with the allocation as owner; the port was ours until now. */
    int handle;
    if (try_bind(c, &relay, relay.port, a, dont_fragment, &handle) != 0)
        return -EADDRINUSE;
    a->relay = relay;
    a->relay_handle = handle;
    return 0;
}

void turn_reservations_expire(struct turn_core *c, uint64_t now_ms)
{
    struct turn_reservation **p = lock_reservations(c);
    while (*p) {
        struct turn_reservation *r = *p;
        if (r->expires_ms <= now_ms) {
            *p = r->next;
            if (c->shared)
                atomic_fetch_sub_explicit(&c->shared->n_reservations, 1, memory_order_relaxed);
            reservation_release(c, r);
        } else {
            p = &r->next;
        }
    }
    unlock_reservations(c);
}

/* A relay port of another worker's core: our relay IP of that family and a
 * live bit in the shared map. */
static bool live_elsewhere(const struct turn_core *c, const struct stun_addr *addr)
{
    if (!c->shared ||
        !turn_shared_relay_is_live(c->shared, turn_family_index(addr->family), addr->port))
        return false;
    for (unsigned i = 0; i < c->cfg->n_relay_ip; i++)
        if (stun_addr_ip_equal(&c->cfg->relay_ip[i], addr))
            return true;
    return false;
}

int turn_relay_worker(const struct turn_core *c, const struct stun_addr *addr)
{
    if (!live_elsewhere(c, addr))
        return -1;
    return turn_shared_relay_worker(c->shared, turn_family_index(addr->family), addr->port);
}

bool turn_is_live_relay(const struct turn_core *c, const struct stun_addr *addr)
{
    struct turn_alloc *owner = c->port_owner[turn_family_index(addr->family)][addr->port];
    if (!owner)
        return live_elsewhere(c, addr);
    int handle;
    const struct stun_addr *relay =
        owner != TURN_PORT_RESERVED ? turn_alloc_relay(owner, addr->family, &handle) : NULL;
    return relay && stun_addr_equal(relay, addr);
}

/* TCP relays belong to stream clients, which one worker serves: this core's own. */
bool turn_is_live_tcp_relay(const struct turn_core *c, const struct stun_addr *addr)
{
    struct turn_alloc *owner = c->port_owner[turn_family_index(addr->family)][addr->port];
    return owner && turn_is_live_relay(c, addr) && owner->tcp;
}

const struct stun_addr *turn_alloc_relay(const struct turn_alloc *a, uint16_t af, int *handle)
{
    if (a->relay.family == af && a->relay_handle >= 0) {
        *handle = a->relay_handle;
        return &a->relay;
    }
    if (a->relay2.family == af) {
        *handle = a->relay2_handle;
        return &a->relay2;
    }
    return NULL;
}

void turn_relay_drop(struct turn_core *c, struct turn_alloc *a, uint16_t af)
{
    if (!a->relay2.family)
        return; /* never the only one: that is deleting the allocation */
    if (a->relay.family == af) {
        struct stun_addr keep = a->relay2;
        int keep_handle = a->relay2_handle;
        a->relay2 = a->relay;
        a->relay2_handle = a->relay_handle;
        a->relay = keep;
        a->relay_handle = keep_handle;
    }
    port_set(c, turn_family_index(a->relay2.family), a->relay2.port, NULL);
    c->env.relay_close(c->env.ctx, a->relay2_handle);
    memset(&a->relay2, 0, sizeof(a->relay2));
    a->relay2_handle = -1;
}

/* ---- permissions and channels ---- */

struct turn_perm *turn_perm_find(struct turn_alloc *a, const struct stun_addr *ip, uint64_t now_ms)
{
    for (unsigned i = 0; i < a->n_perms; i++) {
        struct turn_perm *p = &a->perms[i];
        if (stun_addr_ip_equal(&p->ip, ip))
            return p->expires_ms > now_ms ? p : NULL;
    }
    return NULL;
}

int turn_perm_install(struct turn_core *c, struct turn_alloc *a, const struct stun_addr *ip,
                      bool relay_only, uint64_t now_ms)
{
    uint64_t expires = now_ms + (uint64_t)c->cfg->perm_lifetime * 1000;
    for (unsigned i = 0; i < a->n_perms; i++) {
        if (stun_addr_ip_equal(&a->perms[i].ip, ip)) {
            a->perms[i].expires_ms = expires; /* RFC 8656 §9.2: refresh */
            a->perms[i].relay_only = relay_only;
            return 0;
        }
    }
    if (a->n_perms >= c->cfg->max_permissions)
        return -ENOSPC;
    if (a->n_perms == a->cap_perms) {
        unsigned cap = a->cap_perms ? a->cap_perms * 2 : 4;
        struct turn_perm *p = realloc(a->perms, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        a->perms = p;
        a->cap_perms = cap;
    }
    struct turn_perm *p = &a->perms[a->n_perms++];
    p->ip = *ip;
    p->ip.port = 0;
    p->expires_ms = expires;
    p->relay_only = relay_only;
    c->stats.permissions++;
    return 0;
}

struct turn_chan *turn_chan_by_number(struct turn_alloc *a, uint16_t number)
{
    for (unsigned i = 0; i < a->n_chans; i++)
        if (a->chans[i].number == number)
            return &a->chans[i];
    return NULL;
}

struct turn_chan *turn_chan_by_peer(struct turn_alloc *a, const struct stun_addr *peer)
{
    for (unsigned i = 0; i < a->n_chans; i++)
        if (stun_addr_equal(&a->chans[i].peer, peer))
            return &a->chans[i];
    return NULL;
}

int turn_chan_install(struct turn_core *c, struct turn_alloc *a, uint16_t number,
                      const struct stun_addr *peer, uint64_t now_ms)
{
    uint64_t expires = now_ms + (uint64_t)c->cfg->chan_lifetime * 1000;
    struct turn_chan *ch = turn_chan_by_number(a, number);
    if (ch) {
        ch->expires_ms = expires;
        return 0;
    }
    if (a->n_chans >= c->cfg->max_channels)
        return -ENOSPC;
    if (a->n_chans == a->cap_chans) {
        unsigned cap = a->cap_chans ? a->cap_chans * 2 : 2;
        struct turn_chan *p = realloc(a->chans, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        a->chans = p;
        a->cap_chans = cap;
    }
    ch = &a->chans[a->n_chans++];
    ch->number = number;
    ch->peer = *peer;
    ch->expires_ms = expires;
    c->stats.channels++;
    return 0;
}

void turn_alloc_expire_entries(struct turn_core *c, struct turn_alloc *a, uint64_t now_ms)
{
    for (unsigned i = 0; i < a->n_perms;) {
        if (a->perms[i].expires_ms <= now_ms) {
            a->perms[i] = a->perms[--a->n_perms];
            c->stats.permissions--;
        } else {
            i++;
        }
    }
    /* A channel stops carrying data at expiry but keeps its number and peer
     * for the cooldown, so neither can be rebound to something else. */
    for (unsigned i = 0; i < a->n_chans;) {
        if (a->chans[i].expires_ms + TURN_CHANNEL_COOLDOWN_MS <= now_ms) {
            a->chans[i] = a->chans[--a->n_chans];
            c->stats.channels--;
        } else {
            i++;
        }
    }
}
