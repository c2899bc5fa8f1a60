/*
 * shared.c - what several TURN cores of one process share when turnd runs
 * one core per worker thread: the allocation quotas (per user and in total),
 * the per-address limits of ratelimit.c, the nonce key, allocation ids, each
 * user's bandwidth bucket and a map of live relay ports.
 *
 * Everything but the buckets and the relay port map sits behind one mutex,
 * taken only on Allocate, on deleting an allocation and on unauthenticated
 * requests: never for a relayed datagram. The data path reads the port map
 * (a datagram towards one of our own relay addresses), a bitmap of relaxed
 * atomics: a bit is set after the owning worker bound the port and cleared
 * before it closes it, and no other worker can bind that port meanwhile. It
 * charges a user's bucket with relaxed atomics too (core.c).
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SHARED_USER_BUCKETS 256

struct shared_user {
    struct shared_user *next;
    unsigned n_allocs;
    struct turn_shared_bucket bandwidth; /* user_bandwidth over all workers */
    char name[];                         /* NUL-terminated */
};

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

struct turn_shared *turn_shared_new(void)
{
    struct turn_shared *sh = calloc(1, sizeof(*sh));
    if (!sh)
        return NULL;
    sh->users = calloc(SHARED_USER_BUCKETS, sizeof(*sh->users));
    sh->fails.n = sh->unauth.n = TURN_IP_TABLE;
    sh->fails.slots = calloc(TURN_IP_TABLE, sizeof(*sh->fails.slots));
    sh->unauth.slots = calloc(TURN_IP_TABLE, sizeof(*sh->unauth.slots));
    if (!sh->users || !sh->fails.slots || !sh->unauth.slots ||
        pthread_mutex_init(&sh->mu, NULL) != 0) {
        free(sh->users);
        free(sh->fails.slots);
        free(sh->unauth.slots);
        free(sh);
        return NULL;
    }
    return sh;
}

void turn_shared_free(struct turn_shared *sh)
{
    if (!sh)
        return;
    for (unsigned i = 0; i < SHARED_USER_BUCKETS; i++)
        while (sh->users[i]) {
            struct shared_user *u = sh->users[i];
            sh->users[i] = u->next;
            free(u);
        }
    free(sh->users);
    free(sh->fails.slots);
    free(sh->unauth.slots);
    pthread_mutex_destroy(&sh->mu);
    free(sh);
}

void turn_core_share(struct turn_core *c, struct turn_shared *sh, unsigned worker)
{
    c->worker = worker;
    /* Called before the workers start: the first core's key becomes everyone's. */
    if (!sh->keyed) {
        memcpy(sh->nonce_key, c->nonce_key, sizeof(sh->nonce_key));
        sh->keyed = true;
    }
    memcpy(c->nonce_key, sh->nonce_key, sizeof(c->nonce_key));
    c->shared = sh;
}

static struct shared_user **user_slot(struct turn_shared *sh, const char *name)
{
    struct shared_user **p = &sh->users[name_hash(name) & (SHARED_USER_BUCKETS - 1)];
    while (*p && strcmp((*p)->name, name) != 0)
        p = &(*p)->next;
    return p;
}

unsigned turn_shared_user_count(struct turn_shared *sh, const char *user)
{
    pthread_mutex_lock(&sh->mu);
    struct shared_user *u = *user_slot(sh, user);
    unsigned n = u ? u->n_allocs : 0;
    pthread_mutex_unlock(&sh->mu);
    return n;
}

int turn_shared_take(struct turn_shared *sh, const char *user, unsigned per_user, unsigned total)
{
    int rc = 0;
    pthread_mutex_lock(&sh->mu);
    struct shared_user **p = user_slot(sh, user);
    if (per_user && *p && (*p)->n_allocs >= per_user) {
        rc = -EDQUOT;
    } else if (total && sh->allocations >= total) {
        rc = -ENOSPC;
    } else if (!*p) {
        size_t n = strlen(user);
        *p = calloc(1, sizeof(**p) + n + 1);
        if (*p)
            memcpy((*p)->name, user, n + 1);
        else
            rc = -ENOMEM;
    }
    if (rc == 0) {
        (*p)->n_allocs++;
        sh->allocations++;
    }
    pthread_mutex_unlock(&sh->mu);
    return rc;
}

void turn_shared_release(struct turn_shared *sh, const char *user)
{
    pthread_mutex_lock(&sh->mu);
    struct shared_user **p = user_slot(sh, user);
    struct shared_user *u = *p;
    if (u && --u->n_allocs == 0) {
        *p = u->next;
        free(u);
    }
    if (sh->allocations)
        sh->allocations--;
    pthread_mutex_unlock(&sh->mu);
}

struct turn_shared_bucket *turn_shared_user_bandwidth(struct turn_shared *sh, const char *user)
{
    pthread_mutex_lock(&sh->mu);
    struct shared_user *u = *user_slot(sh, user);
    pthread_mutex_unlock(&sh->mu);
    return u ? &u->bandwidth : NULL;
}

uint64_t turn_shared_next_id(struct turn_shared *sh)
{
    return atomic_fetch_add_explicit(&sh->next_id, 1, memory_order_relaxed) + 1;
}

void turn_shared_mark_relay(struct turn_shared *sh, int fam, uint16_t port, bool live,
                            unsigned worker)
{
    uint64_t bit = (uint64_t)1 << (port & 63);
    if (live) {
        /* Who to hand datagrams to; read only after the bit says live. */
        atomic_store_explicit(&sh->relay_worker[fam][port], (uint8_t)worker, memory_order_relaxed);
        atomic_fetch_or_explicit(&sh->live_relay[fam][port >> 6], bit, memory_order_release);
    } else
        atomic_fetch_and_explicit(&sh->live_relay[fam][port >> 6], ~bit, memory_order_relaxed);
}

unsigned turn_shared_relay_worker(const struct turn_shared *sh, int fam, uint16_t port)
{
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&sh->relay_worker[fam][port], memory_order_relaxed);
}

bool turn_shared_relay_is_live(const struct turn_shared *sh, int fam, uint16_t port)
{
    uint64_t word = atomic_load_explicit(&sh->live_relay[fam][port >> 6], memory_order_relaxed);
    return word & ((uint64_t)1 << (port & 63));
}
