/*
 * ratelimit.c - failed authentications per client IP address, to slow
 * password guessing (RFC 8489 §9.2 leaves it to the server).
 *
 * A fixed open-addressed table sized at start: a lookup probes at most
 * TURN_FAIL_PROBE slots, so the cost per request is bounded and a flood of
 * addresses cannot grow memory. When every probed slot is live, the one
 * whose window started longest ago is replaced: an attacker with many
 * addresses can push an entry out early, but never make the table grow.
 *
 * Once an address has auth_fail_limit failures inside auth_fail_window, its
 * TURN requests are dropped until the window that began with its first
 * failure ends. Dropped, not answered: no STUN error code means "slow
 * down" (a 429 would be read as a final failure by clients that know it
 * not), an answer to a forged source address would be a reflection, and a
 * dropped request costs a guesser a full retransmission timeout (39.5 s
 * over UDP, RFC 8489 §6.2.1). Clients behind one NAT share the limit, which
 * is why the default is generous.
 */
#include "internal.h"
#include "../util/log.h"

#include <stdlib.h>
#include <string.h>

#define TURN_FAIL_PROBE 8

int turn_fails_init(struct turn_core *c)
{
    c->n_fails = TURN_FAIL_TABLE;
    c->fails = calloc(c->n_fails, sizeof(*c->fails));
    return c->fails ? 0 : -1;
}

static uint32_t ip_hash(const struct stun_addr *ip)
{
    struct stun_addr a = *ip;
    a.port = 0;
    return stun_addr_hash(&a);
}

static bool live(const struct turn_core *c, const struct turn_fail_entry *e, uint64_t now_ms)
{
    return e->count > 0 && now_ms - e->window_start_ms < (uint64_t)c->cfg->auth_fail_window * 1000;
}

static struct turn_fail_entry *find(struct turn_core *c, const struct stun_addr *ip)
{
    uint32_t h = ip_hash(ip);
    for (unsigned i = 0; i < TURN_FAIL_PROBE; i++) {
        struct turn_fail_entry *e = &c->fails[(h + i) & (c->n_fails - 1)];
        if (e->count > 0 && stun_addr_ip_equal(&e->ip, ip))
            return e;
    }
    return NULL;
}

bool turn_fails_blocked(struct turn_core *c, const struct stun_addr *ip, uint64_t now_ms)
{
    if (!c->cfg->auth_fail_limit)
        return false;
    const struct turn_fail_entry *e = find(c, ip);
    return e && live(c, e, now_ms) && e->count >= c->cfg->auth_fail_limit;
}

void turn_fails_record(struct turn_core *c, const struct stun_addr *ip, uint64_t now_ms)
{
    if (!c->cfg->auth_fail_limit)
        return;
    struct turn_fail_entry *e = find(c, ip);
    if (!e) {
        uint32_t h = ip_hash(ip);
        for (unsigned i = 0; i < TURN_FAIL_PROBE; i++) {
            struct turn_fail_entry *s = &c->fails[(h + i) & (c->n_fails - 1)];
            if (!live(c, s, now_ms)) {
                e = s;
                break;
            }
            if (!e || s->window_start_ms < e->window_start_ms)
                e = s;
        }
        e->count = 0;
    }
    if (!live(c, e, now_ms)) {
        e->ip = *ip;
        e->ip.port = 0;
        e->window_start_ms = now_ms;
        e->count = 0;
    }
    if (++e->count == c->cfg->auth_fail_limit) {
        char who[64];
        stun_addr_format(ip, false, who, sizeof(who));
        lt_log(LT_LOG_WARN, "auth", "rate_limited", "client=%s failures=%u window=%u", who,
               e->count, c->cfg->auth_fail_window);
    }
}
