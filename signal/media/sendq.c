/*
 * sendq.c - the packet ring between two workers (see sendq.h). The producer
 * owns `tail`, the consumer `head`; each publishes its index with release
 * and reads the other's with acquire, so an item's bytes are visible before
 * the index that hands it over.
 */
#include "sendq.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct media_sendq {
    _Alignas(64) atomic_uint head; /* next to take (consumer) */
    _Alignas(64) atomic_uint tail; /* next to fill (producer) */
    unsigned mask;
    struct media_sendq_item *items;
};

int media_sendq_new(struct media_sendq **out, unsigned slots)
{
    *out = NULL;
    if (slots < 2 || (slots & (slots - 1)))
        return -EINVAL;
    struct media_sendq *q = calloc(1, sizeof *q);
    if (!q || !(q->items = calloc(slots, sizeof *q->items))) {
        free(q);
        return -ENOMEM;
    }
    q->mask = slots - 1;
    *out = q;
    return 0;
}

void media_sendq_free(struct media_sendq *q)
{
    if (!q)
        return;
    free(q->items);
    free(q);
}

int media_sendq_push(struct media_sendq *q, void *session, bool rtcp, const uint8_t *pkt,
                     size_t len)
{
    if (pkt && len > MEDIA_FWD_PKT_MAX)
        return -EMSGSIZE;
    unsigned tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (tail - atomic_load_explicit(&q->head, memory_order_acquire) > q->mask)
        return -ENOBUFS;
    struct media_sendq_item *it = &q->items[tail & q->mask];
    it->session = session;
    it->barrier = pkt == NULL;
    it->rtcp = rtcp;
    it->len = pkt ? (uint16_t)len : 0;
    if (pkt)
        memcpy(it->pkt, pkt, len);
    atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
    return 0;
}

struct media_sendq_item *media_sendq_peek(struct media_sendq *q)
{
    unsigned head = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (head == atomic_load_explicit(&q->tail, memory_order_acquire))
        return NULL;
    return &q->items[head & q->mask];
}

void media_sendq_pop(struct media_sendq *q)
{
    atomic_fetch_add_explicit(&q->head, 1, memory_order_release);
}
