/*
 * sendq.h - a bounded single-producer, single-consumer ring of packets
 * between two worker threads (worker.h): a large room's worker copies a
 * member's outgoing packet in, the member's sending worker takes it out,
 * protects it with SRTP and sends it, so one room's fan-out can use more than
 * one core. Slots are allocated once; pushing copies, nothing else.
 *
 * A barrier item says "this session is going away": when the consumer gets
 * to it, nothing of that session is left in the ring.
 */
#ifndef MEDIA_SENDQ_H
#define MEDIA_SENDQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fwd.h" /* MEDIA_FWD_BUF */

struct media_sendq;

struct media_sendq_item {
    void *session;
    uint16_t len;
    bool rtcp, barrier;
    uint8_t pkt[MEDIA_FWD_BUF]; /* room for the SRTP trailer behind len */
};

/* slots: a power of two. 0 or -ENOMEM. */
int media_sendq_new(struct media_sendq **out, unsigned slots);
void media_sendq_free(struct media_sendq *q);
/* Producer: copy a packet in (len <= MEDIA_FWD_PKT_MAX), or a barrier
 * (pkt NULL). 0, -ENOBUFS when full, -EMSGSIZE. */
int media_sendq_push(struct media_sendq *q, void *session, bool rtcp, const uint8_t *pkt,
                     size_t len);
/* Consumer: the oldest item (NULL when empty), then pop it once done. */
struct media_sendq_item *media_sendq_peek(struct media_sendq *q);
void media_sendq_pop(struct media_sendq *q);

#endif
