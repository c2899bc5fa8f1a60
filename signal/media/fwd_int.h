/*
 * fwd_int.h - what the forwarding core's files share (fwd.c: membership,
 * forwarding and output; fwd_rate.c: the REMBs to publishers). Not for
 * anything outside the core: fwd.h is its interface.
 */
#ifndef MEDIA_FWD_INT_H
#define MEDIA_FWD_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "bwe.h"
#include "fwd.h"
#include "rtcp_parse.h"

struct pktbuf {
    uint16_t len;
    uint8_t data[MEDIA_FWD_BUF];
};

struct slot {
    bool used;
    enum media_kind kind;
    int src; /* index into sources, -1 when unbound */
    struct media_rewriter rw;
    uint8_t remote_fraction_lost;
    int32_t remote_lost;
    struct media_bwe bwe; /* the path of its video source to this endpoint */
};

struct endpoint {
    void *user;
    struct slot slots[MEDIA_FWD_MAX_SLOTS];
    unsigned n_slots;
    struct pktbuf *queue;
    unsigned head, count;
    uint8_t rtcp[MEDIA_FWD_RTCP_MAX];
    size_t rtcp_len;
    struct media_fwd_ep_stats st;
};

struct source {
    bool used;
    unsigned ep;
    uint32_t ssrc, clock_hz;
    enum media_kind kind;
    struct media_rx_stats rx;
    uint32_t sr_lsr;
    uint64_t sr_arrival_us, last_pli_us;
    bool pli_wanted, pli_sent;
    uint64_t in_bytes, in_t0_us; /* arrival rate, measured over a second */
    uint32_t in_bps;
    uint32_t target_bps; /* what the last REMB to its publisher gave it; 0: none yet */
    uint32_t *fanout; /* ep << 8 | slot, one per endpoint at most: max_endpoints of room */
    unsigned n_fanout;
};

struct media_fwd {
    struct media_fwd_config cfg;
    struct media_bwe_config bwe;
    struct endpoint **eps; /* NULL where no endpoint is */
    bool *on_ready;        /* per endpoint id: on the ready list (outlives a leave) */
    struct source *srcs;
    unsigned *ready;
    unsigned n_ready, n_members;
};

static inline void mark_ready(struct media_fwd *f, unsigned ep)
{
    if (!f->on_ready[ep]) {
        f->on_ready[ep] = true;
        f->ready[f->n_ready++] = ep;
    }
}

static inline bool outbox_add(struct endpoint *e, const uint8_t *p, int n)
{
    if (n <= 0 || (size_t)n > sizeof e->rtcp - e->rtcp_len)
        return false;
    memmove(e->rtcp + e->rtcp_len, p, (size_t)n);
    e->rtcp_len += (size_t)n;
    return true;
}

static inline struct slot *slot_by_out(struct endpoint *e, uint32_t out_ssrc)
{
    for (unsigned i = 0; i < e->n_slots; i++)
        if (e->slots[i].rw.out_ssrc == out_ssrc)
            return &e->slots[i];
    return NULL;
}

/* fwd_rate.c */
/* The report blocks of an SR or RR from e: per slot, the loss it saw; for a
 * video slot, its path's estimate, and a REMB at once on a big drop. */
void fwd_take_blocks(struct media_fwd *f, struct endpoint *e, const struct media_rtcp_item *it,
                     uint64_t now_us);
/* A subscriber's REMB about its slots. */
void fwd_take_remb(struct media_fwd *f, struct endpoint *e, const struct media_rtcp_item *it,
                   uint64_t now_us);
/* A REMB for publisher ep about its video sources: length, or 0 when no
 * subscriber has a say yet (or REMBs are off). */
int fwd_write_remb(struct media_fwd *f, unsigned ep, uint64_t now_us, uint8_t *out, size_t cap);

#endif
