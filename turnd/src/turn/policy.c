/*
 * policy.c - the peer address policy (see policy.h for the rules).
 *
 * The order of checks matters and is the security argument:
 *  1. IPv4 embedded in IPv6 is judged as the IPv4 address it reaches
 *     (coturn CVE-2020-26262 and CVE-2026-27624 were bypasses of exactly this);
 *     mapped and compatible forms are never relayed at all.
 *  2. The server's own addresses: only a relay address is reachable (and then
 *     only its live relay ports), unless the admin allowed that exact host.
 *     A broad admin allow such as 10.0.0.0/8 never opens the appliance itself.
 *  3. Admin rules, longest prefix first, deny winning a tie.
 *  4. The built-in denials: this-network, loopback, link-local, multicast,
 *     reserved and broadcast.
 */
#include "policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct builtin_range {
    const char *cidr;
    const char *why;
};

static const struct builtin_range builtin_denied[] = {
    {"0.0.0.0/8", "this-network"},     {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local"},  {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved"}, /* includes 255.255.255.255 broadcast */
    {"::/128", "unspecified"},         {"::1/128", "loopback"},
    {"fe80::/10", "link-local"},       {"ff00::/8", "multicast"},
};

static bool builtin_parsed;
static struct turn_cidr builtin_cidr[sizeof(builtin_denied) / sizeof(builtin_denied[0])];

int turn_cidr_parse(const char *s, struct turn_cidr *out)
{
    char buf[64];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, n + 1);
    char *slash = strchr(buf, '/');
    long prefix = -1;
    if (slash) {
        *slash = '\0';
        char *end;
        if (slash[1] < '0' || slash[1] > '9')
            return -EINVAL;
        prefix = strtol(slash + 1, &end, 10);
        if (*end != '\0')
            return -EINVAL;
    }
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->net.ip) == 1) {
        out->net.family = AF_INET;
        if (prefix < 0)
            prefix = 32;
        if (prefix > 32)
            return -EINVAL;
    } else if (inet_pton(AF_INET6, buf, out->net.ip) == 1) {
        out->net.family = AF_INET6;
        if (prefix < 0)
            prefix = 128;
        if (prefix > 128)
            return -EINVAL;
    } else {
        return -EINVAL;
    }
    out->prefix = (uint8_t)prefix;
    /* Normalise: clear host bits so formatting shows the network. */
    unsigned bytes = out->net.family == AF_INET ? 4 : 16;
    for (unsigned i = 0; i < bytes; i++) {
        int bits = (int)prefix - (int)(i * 8);
        if (bits >= 8)
            continue;
        out->net.ip[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
    }
    return 0;
}

bool turn_cidr_contains(const struct turn_cidr *c, const struct stun_addr *ip)
{
    if (c->net.family != ip->family)
        return false;
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->net.ip, ip->ip, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (c->net.ip[full] & mask) == (ip->ip[full] & mask);
}

int turn_cidr_format(const struct turn_cidr *c, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    if (!inet_ntop(c->net.family, c->net.ip, ip, sizeof(ip)))
        return -EINVAL;
    int n = snprintf(out, cap, "%s/%u", ip, c->prefix);
    return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}

void turn_policy_init(struct turn_policy *p)
{
    memset(p, 0, sizeof(*p));
    if (!builtin_parsed) {
        for (size_t i = 0; i < sizeof(builtin_denied) / sizeof(builtin_denied[0]); i++)
            turn_cidr_parse(builtin_denied[i].cidr, &builtin_cidr[i]);
        builtin_parsed = true;
    }
}

int turn_policy_add_rule(struct turn_policy *p, const char *cidr, bool allow)
{
    if (p->n_rules >= TURN_POLICY_MAX_RULES)
        return -ENOSPC;
    struct turn_policy_rule *r = &p->rules[p->n_rules];
    if (turn_cidr_parse(cidr, &r->cidr) != 0)
        return -EINVAL;
    r->allow = allow;
    p->n_rules++;
    return 0;
}

static bool ip_in_list(const struct stun_addr *list, unsigned n, const struct stun_addr *ip)
{
    for (unsigned i = 0; i < n; i++)
        if (stun_addr_ip_equal(&list[i], ip))
            return true;
    return false;
}

static int add_unique(struct stun_addr *list, unsigned *n, const struct stun_addr *ip)
{
    if (ip_in_list(list, *n, ip))
        return 0;
    if (*n >= TURN_POLICY_MAX_OWN)
        return -ENOSPC;
    list[*n] = *ip;
    list[*n].port = 0;
    (*n)++;
    return 0;
}

int turn_policy_add_own(struct turn_policy *p, const struct stun_addr *ip)
{
    return add_unique(p->own, &p->n_own, ip);
}

int turn_policy_add_relay(struct turn_policy *p, const struct stun_addr *ip)
{
    return add_unique(p->relay, &p->n_relay, ip);
}

/* The IPv4 address an IPv6 address carries in the well-known embeddings, if any. */
enum embedding { EMBED_NONE, EMBED_MAPPED, EMBED_COMPATIBLE, EMBED_NAT64, EMBED_6TO4 };

static enum embedding embedded_ipv4(const struct stun_addr *ip6, struct stun_addr *ip4)
{
    static const uint8_t zero[12];
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    memset(ip4, 0, sizeof(*ip4));
    ip4->family = AF_INET;
    if (memcmp(ip6->ip, mapped, 12) == 0) {
        memcpy(ip4->ip, ip6->ip + 12, 4);
        return EMBED_MAPPED;
    }
    if (memcmp(ip6->ip, zero, 12) == 0) {
        memcpy(ip4->ip, ip6->ip + 12, 4); /* ::a.b.c.d, including :: and ::1 */
        return EMBED_COMPATIBLE;
    }
    if (memcmp(ip6->ip, nat64, 12) == 0) { /* RFC 6052 well-known prefix */
        memcpy(ip4->ip, ip6->ip + 12, 4);
        return EMBED_NAT64;
    }
    if (ip6->ip[0] == 0x20 && ip6->ip[1] == 0x02) { /* RFC 3056 6to4: 2002:AABB:CCDD::/48 */
        memcpy(ip4->ip, ip6->ip + 2, 4);
        return EMBED_6TO4;
    }
    return EMBED_NONE;
}

/* Exact host rule (a /32 or /128) for ip, if the admin wrote one. */
static const struct turn_policy_rule *host_rule(const struct turn_policy *p,
                                                const struct stun_addr *ip)
{
    unsigned full = ip->family == AF_INET ? 32 : 128;
    for (unsigned i = 0; i < p->n_rules; i++)
        if (p->rules[i].cidr.prefix == full && turn_cidr_contains(&p->rules[i].cidr, ip))
            return &p->rules[i];
    return NULL;
}

static const struct turn_policy_rule *best_rule(const struct turn_policy *p,
                                                const struct stun_addr *ip)
{
    const struct turn_policy_rule *best = NULL;
    for (unsigned i = 0; i < p->n_rules; i++) {
        const struct turn_policy_rule *r = &p->rules[i];
        if (!turn_cidr_contains(&r->cidr, ip))
            continue;
        if (!best || r->cidr.prefix > best->cidr.prefix ||
            (r->cidr.prefix == best->cidr.prefix && !r->allow))
            best = r;
    }
    return best;
}

static enum turn_peer_verdict check_plain(const struct turn_policy *p, const struct stun_addr *ip,
                                          const char **why)
{
    if (ip_in_list(p->relay, p->n_relay, ip) || ip_in_list(p->own, p->n_own, ip)) {
        const struct turn_policy_rule *host = host_rule(p, ip);
        if (host) {
            *why = host->allow ? "admin-allow" : "admin-deny";
            return host->allow ? TURN_PEER_ALLOW : TURN_PEER_DENY;
        }
        if (ip_in_list(p->relay, p->n_relay, ip)) {
            *why = "own-relay";
            return TURN_PEER_RELAY_ONLY;
        }
        *why = "own-address";
        return TURN_PEER_DENY;
    }
    const struct turn_policy_rule *rule = best_rule(p, ip);
    if (rule) {
        *why = rule->allow ? "admin-allow" : "admin-deny";
        return rule->allow ? TURN_PEER_ALLOW : TURN_PEER_DENY;
    }
    for (size_t i = 0; i < sizeof(builtin_denied) / sizeof(builtin_denied[0]); i++) {
        if (turn_cidr_contains(&builtin_cidr[i], ip)) {
            *why = builtin_denied[i].why;
            return TURN_PEER_DENY;
        }
    }
    *why = "default";
    return TURN_PEER_ALLOW;
}

static enum turn_peer_verdict check_open(const struct turn_policy *p, const struct stun_addr *peer,
                                        const char **why)
{
    if (peer->family != AF_INET && peer->family != AF_INET6) {
        *why = "bad-family";
        return TURN_PEER_DENY;
    }
    if (peer->family == AF_INET6) {
        struct stun_addr v4;
        enum embedding e = embedded_ipv4(peer, &v4);
        if (e == EMBED_MAPPED) {
            *why = "ipv4-mapped";
            return TURN_PEER_DENY;
        }
        if (e == EMBED_COMPATIBLE) {
            /* :: and ::1 get their own names; the rest of ::/96 is deprecated. */
            enum turn_peer_verdict v = check_plain(p, peer, why);
            if (v == TURN_PEER_DENY)
                return v;
            *why = "ipv4-compatible";
            return TURN_PEER_DENY;
        }
        if (e != EMBED_NONE) {
            const char *inner;
            if (check_plain(p, &v4, &inner) != TURN_PEER_ALLOW) {
                *why = e == EMBED_NAT64 ? "nat64-embedded" : "6to4-embedded";
                return TURN_PEER_DENY;
            }
        }
    }
    return check_plain(p, peer, why);
}

int turn_policy_add_client_subnet(struct turn_policy *p, const char *cidr)
{
    if (p->n_client_subnets >= TURN_POLICY_MAX_RULES)
        return -ENOSPC;
    if (turn_cidr_parse(cidr, &p->client_subnets[p->n_client_subnets]) != 0)
        return -EINVAL;
    p->n_client_subnets++;
    return 0;
}

enum turn_peer_verdict turn_policy_check(const struct turn_policy *p, const struct stun_addr *peer,
                                         const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    enum turn_peer_verdict v = check_open(p, peer, why);
    if (v != TURN_PEER_ALLOW || !p->closed_loop)
        return v;
    /* Closed loop: beyond our own relay addresses (RELAY_ONLY above), only
     * the client subnets; everything the open policy refuses stays refused. */
    for (unsigned i = 0; i < p->n_client_subnets; i++)
        if (turn_cidr_contains(&p->client_subnets[i], peer))
            return TURN_PEER_ALLOW;
    *why = "closed-loop";
    return TURN_PEER_DENY;
}
