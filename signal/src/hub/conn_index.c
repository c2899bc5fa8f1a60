/*
 * conn_index.c - connections by user and by id: two chained hash tables over
 * the same connections, doubled whenever there are more connections than
 * buckets. A fixed table of 1,024 chains made every delivery to one of
 * 20,000 users walk about twenty connections (a cache miss each), which was a
 * tenth of signald's CPU in steady chat.
 */
#include "internal.h"

#include <stdlib.h>

#define INDEX_MIN_BITS 10

/* Fibonacci hashing: user ids and connection ids are both small counters. */
static size_t slot(const struct conn_index *x, uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> (64 - x->bits));
}

int conn_index_init(struct conn_index *x)
{
    x->bits = INDEX_MIN_BITS;
    x->by_user = calloc((size_t)1 << x->bits, sizeof *x->by_user);
    x->by_id = calloc((size_t)1 << x->bits, sizeof *x->by_id);
    x->n = 0;
    if (!x->by_user || !x->by_id) {
        conn_index_free(x);
        return -1;
    }
    return 0;
}

void conn_index_free(struct conn_index *x)
{
    free(x->by_user);
    free(x->by_id);
    x->by_user = x->by_id = NULL;
}

/* Rehash into twice the buckets; on failure keep the old ones (longer chains). */
static void grow(struct conn_index *x)
{
    unsigned bits = x->bits + 1;
    size_t old = (size_t)1 << x->bits, cap = (size_t)1 << bits;
    struct sig_conn **by_user = calloc(cap, sizeof *by_user);
    struct sig_conn **by_id = calloc(cap, sizeof *by_id);
    if (!by_user || !by_id) {
        free(by_user);
        free(by_id);
        return;
    }
    struct conn_index next = {.by_user = by_user, .by_id = by_id, .bits = bits, .n = x->n};
    for (size_t i = 0; i < old; i++) {
        for (struct sig_conn *c = x->by_id[i], *following; c; c = following) {
            following = c->id_next;
            struct sig_conn **b = &by_id[slot(&next, c->id)];
            c->id_next = *b;
            *b = c;
        }
        for (struct sig_conn *c = x->by_user[i], *following; c; c = following) {
            following = c->user_next;
            struct sig_conn **b = &by_user[slot(&next, (uint64_t)c->user_id)];
            c->user_next = *b;
            *b = c;
        }
    }
    conn_index_free(x);
    *x = next;
}

void conn_index_add(struct conn_index *x, struct sig_conn *c)
{
    if (x->n >= (size_t)1 << x->bits && x->bits < 30)
        grow(x);
    struct sig_conn **b = &x->by_id[slot(x, c->id)];
    c->id_next = *b;
    *b = c;
    x->n++;
}

void conn_index_remove(struct conn_index *x, struct sig_conn *c)
{
    for (struct sig_conn **p = &x->by_id[slot(x, c->id)]; *p; p = &(*p)->id_next)
        if (*p == c) {
            *p = c->id_next;
            x->n--;
            return;
        }
}

void conn_index_link_user(struct conn_index *x, struct sig_conn *c)
{
    struct sig_conn **b = &x->by_user[slot(x, (uint64_t)c->user_id)];
    c->user_next = *b;
    *b = c;
}

void conn_index_unlink_user(struct conn_index *x, struct sig_conn *c)
{
    for (struct sig_conn **p = &x->by_user[slot(x, (uint64_t)c->user_id)]; *p;
         p = &(*p)->user_next)
        if (*p == c) {
            *p = c->user_next;
            return;
        }
}

struct sig_conn *conn_index_user(const struct conn_index *x, int64_t user_id)
{
    for (struct sig_conn *c = x->by_user[slot(x, (uint64_t)user_id)]; c; c = c->user_next)
        if (c->user_id == user_id)
            return c;
    return NULL;
}

struct sig_conn *conn_index_id(const struct conn_index *x, uint32_t id)
{
    for (struct sig_conn *c = x->by_id[slot(x, id)]; c; c = c->id_next)
        if (c->id == id)
            return c;
    return NULL;
}
