/*
 * sessions.c - the allocations as an operator sees them: a read-only walk
 * for the control socket's session list, and ending them by id, by user or
 * by 5-tuple.
 * Not on the packet path.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int turn_core_sessions(struct turn_core *c, uint64_t now_ms,
                       void (*fn)(void *arg, const struct turn_session *s), void *arg)
{
    struct stun_addr *peers = NULL;
    unsigned cap = 0;
    for (const struct turn_alloc *a = c->all; a; a = a->next) {
        if (a->n_perms > cap) {
            struct stun_addr *p = realloc(peers, a->n_perms * sizeof(*p));
            if (!p) {
                free(peers);
                return -ENOMEM;
            }
            peers = p;
            cap = a->n_perms;
        }
        struct turn_session s = {
            .id = a->id,
            .user = a->user->name,
            .client = a->client,
            .relay = a->relay,
            .relay2 = a->relay2,
            .handle = a->lsock,
            .stream = a->stream,
            .age_ms = now_ms > a->created_ms ? now_ms - a->created_ms : 0,
            .to_peer_packets = a->to_peer_packets,
            .to_peer_bytes = a->to_peer_bytes,
            .to_client_packets = a->to_client_packets,
            .to_client_bytes = a->to_client_bytes,
            .peers = peers,
        };
        for (unsigned i = 0; i < a->n_perms; i++)
            if (a->perms[i].expires_ms > now_ms)
                peers[s.n_peers++] = a->perms[i].ip;
        fn(arg, &s);
    }
    free(peers);
    return 0;
}

bool turn_core_kill_client(struct turn_core *c, int handle, const struct stun_addr *client,
                           const char *reason)
{
    struct turn_alloc *a = turn_alloc_find(c, handle, client);
    if (a) turn_alloc_destroy(c, a, reason);
    return a != NULL;
}

unsigned turn_core_kill(struct turn_core *c, uint64_t id, const char *user)
{
    unsigned n = 0;
    struct turn_alloc *a = c->all;
    while (a) {
        struct turn_alloc *next = a->next;
        if (id ? a->id == id : user && !strcmp(a->user->name, user)) {
            turn_alloc_destroy(c, a, "killed");
            n++;
        }
        a = next;
    }
    return n;
}
