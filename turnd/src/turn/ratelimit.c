/*
 * ratelimit.c - limits per client IP address: failed authentications, to
 * slow password guessing (RFC 8489 §9.2 leaves it to the server), and
 * unsigned answers over UDP, to bound what turnd reflects at a forged source.
 *
 * Each limit counts events in a fixed open-addressed table sized at start:
 * a lookup probes at most TURN_IP_PROBE slots, so the cost per request is
 * bounded and a flood of addresses cannot grow memory. When every probed
 * slot is live, the one whose window started longest ago is replaced: an
 * attacker with many addresses can push an entry out early, but never make
 * the table grow.
 *
 * Failed authentications: once an address has auth_fail_limit failures
 * inside auth_fail_window, its TURN requests are dropped until the window
 * that began with its first failure ends. Dropped, not answered: no STUN
 * error code means "slow down" (a 429 would be read as a final failure by
 * clients that know it not), an answer to a forged source address would be
 * a reflection, and a dropped request costs a guesser a full retransmission
 * timeout (39.5 s over UDP, RFC 8489 §6.2.1). Clients behind one NAT share
 * the limit, which is why the default is generous.
 *
 * Unsigned answers: a Binding response or a 401 is larger than the request
 * that asked for it (docs/SECURITY.md), and over UDP the asker may be a
 * forged address. Past unauth_answer_limit such answers to one address per
 * unauth_answer_window they are dropped, so the bytes aimed at any one host
 * stay small whatever the attacker sends. Signed answers need the password
 * and are never limited; nor are streams, whose handshake proves the source.
 */
#include "internal.h"
#include "../util/log.h"

#include <stdlib.h>
#include <string.h>

#define TURN_IP_PROBE 8

static int table_init(struct turn_ip_counts *t)
{
    t->n = TURN_IP_TABLE;
    t->slots = calloc(t->n, sizeof(*t->slots));
    return t->slots ? 0 : -1;
}

int turn_ratelimit_init(struct turn_core *c)
{
    return table_init(&c->fails) == 0 && table_init(&c->unauth) == 0 ? 0 : -1;
}

void turn_ratelimit_free(struct turn_core *c)
{
    free(c->fails.slots);
    free(c->unauth.slots);
}

static uint32_t ip_hash(const struct stun_addr *ip)
{
    struct stun_addr a = *ip;
    a.port = 0;
    return stun_addr_hash(&a);
}

static bool live(const struct turn_ip_count *e, uint64_t now_ms, uint64_t window_ms)
{
    return e->count > 0 && now_ms - e->window_start_ms < window_ms;
}

static struct turn_ip_count *find(struct turn_ip_counts *t, const struct stun_addr *ip)
{
    uint32_t h = ip_hash(ip);
    for (unsigned i = 0; i < TURN_IP_PROBE; i++) {
        struct turn_ip_count *e = &t->slots[(h + i) & (t->n - 1)];
        if (e->count > 0 && stun_addr_ip_equal(&e->ip, ip))
            return e;
    }
    return NULL;
}

/* The events ip had in its current window (0 when it has none). */
static uint32_t count_of(struct turn_ip_counts *t, const struct stun_addr *ip, uint64_t now_ms,
                         uint64_t window_ms)
{
    const struct turn_ip_count *e = find(t, ip);
    return e && live(e, now_ms, window_ms) ? e->count : 0;
}

/* Counts one event of ip; returns its count in the current window. */
static uint32_t count_one(struct turn_ip_counts *t, const struct stun_addr *ip, uint64_t now_ms,
                          uint64_t window_ms)
{
    struct turn_ip_count *e = find(t, ip);
    if (!e) {
        uint32_t h = ip_hash(ip);
        for (unsigned i = 0; i < TURN_IP_PROBE; i++) {
            struct turn_ip_count *s = &t->slots[(h + i) & (t->n - 1)];
            if (!live(s, now_ms, window_ms)) {
                e = s;
                break;
            }
            if (!e || s->window_start_ms < e->window_start_ms)
                e = s;
        }
        e->count = 0;
    }
    if (!live(e, now_ms, window_ms)) {
        e->ip = *ip;
        e->ip.port = 0;
        e->window_start_ms = now_ms;
        e->count = 0;
    }
    return ++e->count;
}

static void log_limited(const char *event, const char *what, const struct stun_addr *ip,
                        uint32_t count, unsigned window_s)
{
    char who[64];
    stun_addr_format(ip, false, who, sizeof(who));
    lt_log(LT_LOG_WARN, "auth", event, "client=%s %s=%u window=%u", who, what, count, window_s);
}

/* With workers every core counts in the shared tables, under their lock:
 * one address's events add up whichever worker its ports hash to. These
 * run per request, never per relayed datagram. */
static struct turn_ip_counts *lock_table(struct turn_core *c, bool fails)
{
    if (!c->shared)
        return fails ? &c->fails : &c->unauth;
    pthread_mutex_lock(&c->shared->mu);
    return fails ? &c->shared->fails : &c->shared->unauth;
}

static void unlock_table(struct turn_core *c)
{
    if (c->shared)
        pthread_mutex_unlock(&c->shared->mu);
}

bool turn_fails_blocked(struct turn_core *c, const struct stun_addr *ip, uint64_t now_ms)
{
    unsigned limit = c->cfg->auth_fail_limit;
    uint64_t window_ms = (uint64_t)c->cfg->auth_fail_window * 1000;
    if (!limit)
        return false;
    uint32_t n = count_of(lock_table(c, true), ip, now_ms, window_ms);
    unlock_table(c);
    return n >= limit;
}

void turn_fails_record(struct turn_core *c, const struct stun_addr *ip, uint64_t now_ms)
{
    unsigned limit = c->cfg->auth_fail_limit;
    if (!limit)
        return;
    uint32_t n =
        count_one(lock_table(c, true), ip, now_ms, (uint64_t)c->cfg->auth_fail_window * 1000);
    unlock_table(c);
    if (n == limit)
        log_limited("rate_limited", "failures", ip, n, c->cfg->auth_fail_window);
}

bool turn_unauth_answer_allowed(struct turn_core *c, const struct stun_addr *ip, uint64_t now_ms)
{
    unsigned limit = c->cfg->unauth_answer_limit;
    if (!limit)
        return true;
    uint64_t window_ms = (uint64_t)c->cfg->unauth_answer_window * 1000;
    uint32_t n = count_one(lock_table(c, false), ip, now_ms, window_ms);
    unlock_table(c);
    if (n <= limit)
        return true;
    if (n == limit + 1) /* once per window, however long the flood */
        log_limited("unauth_limited", "answers", ip, limit, c->cfg->unauth_answer_window);
    c->stats.unauth_dropped++;
    return false;
}
