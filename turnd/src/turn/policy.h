/*
 * policy.h - where a relay may send: turnd's peer address policy.
 *
 * Secure by default: loopback, "this network" (0.0.0.0/8, ::), link-local,
 * multicast, broadcast and the server's own addresses are refused, in every
 * encoding that embeds an IPv4 address in IPv6 (mapped ::ffff:a.b.c.d,
 * compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16). The server's own
 * relay addresses are the exception: two clients relaying through the same
 * appliance is the normal case; the I/O path then lets datagrams reach only
 * live relay ports there (TURN_PEER_RELAY_ONLY). Admin rules (allow/deny
 * CIDRs) come first; the longest matching prefix wins, deny on a tie.
 */
#ifndef LANTURN_TURN_POLICY_H
#define LANTURN_TURN_POLICY_H

#include "../stun/stun.h"

#include <stdbool.h>

#define TURN_POLICY_MAX_RULES 64
#define TURN_POLICY_MAX_OWN 64

enum turn_peer_verdict {
    TURN_PEER_ALLOW = 0,
    TURN_PEER_RELAY_ONLY, /* an own relay address: only its live relay ports */
    TURN_PEER_DENY,
};

struct turn_cidr {
    struct stun_addr net; /* port unused */
    uint8_t prefix;       /* 0..32 or 0..128 */
};

struct turn_policy_rule {
    struct turn_cidr cidr;
    bool allow;
};

struct turn_policy {
    struct turn_policy_rule rules[TURN_POLICY_MAX_RULES];
    unsigned n_rules;
    struct stun_addr own[TURN_POLICY_MAX_OWN]; /* listening and interface addresses */
    unsigned n_own;
    struct stun_addr relay[TURN_POLICY_MAX_OWN]; /* this server's relay addresses */
    unsigned n_relay;
    /* Closed loop: peers only on our relay addresses and in client_subnets. */
    bool closed_loop;
    struct turn_cidr client_subnets[TURN_POLICY_MAX_RULES];
    unsigned n_client_subnets;
};

/* "10.0.0.0/8", "fd00::/8", or a bare address (a host route). 0 or -EINVAL. */
int turn_cidr_parse(const char *s, struct turn_cidr *out);
bool turn_cidr_contains(const struct turn_cidr *c, const struct stun_addr *ip);
int turn_cidr_format(const struct turn_cidr *c, char *out, size_t cap);

void turn_policy_init(struct turn_policy *p);
/* 0, -EINVAL (bad CIDR) or -ENOSPC (too many rules). */
int turn_policy_add_rule(struct turn_policy *p, const char *cidr, bool allow);
int turn_policy_add_own(struct turn_policy *p, const struct stun_addr *ip);
int turn_policy_add_relay(struct turn_policy *p, const struct stun_addr *ip);
/* A subnet clients are in, reachable in closed-loop mode. 0, -EINVAL or -ENOSPC. */
int turn_policy_add_client_subnet(struct turn_policy *p, const char *cidr);

/* The verdict for sending to peer (port ignored); *why names the rule that
 * decided a denial ("loopback", "admin-deny", ...) for the log. */
enum turn_peer_verdict turn_policy_check(const struct turn_policy *p, const struct stun_addr *peer,
                                         const char **why);

#endif
