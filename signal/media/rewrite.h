/*
 * rewrite.h - one outgoing RTP stream of an SFU subscriber, fed from one
 * source at a time. The subscriber sees a single stable stream: its own SSRC,
 * a sequence number that goes on +1 across a switch of source, and a timestamp
 * that goes on from where it was by the wall-clock time that passed, so a
 * decoder's jitter buffer sees neither a jump nor a restart. NACKs from the
 * subscriber are mapped back to the current source's sequence numbers.
 * Pure arithmetic on header fields (modulo 2^16 and 2^32); no I/O, no malloc.
 */
#ifndef MEDIA_REWRITE_H
#define MEDIA_REWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp.h"

#define MEDIA_REWRITE_KEEP_PT 0xff

struct media_rewriter {
    uint32_t out_ssrc, clock_hz;
    uint8_t out_pt;    /* MEDIA_REWRITE_KEEP_PT: the source's */
    uint32_t src_ssrc; /* 0: no source */
    bool src_started;  /* a packet of src_ssrc went out since the switch */
    bool sent_any;     /* anything went out on out_ssrc */
    uint16_t seq_off;  /* out = in + seq_off, for the current source */
    uint32_t ts_off;
    uint16_t src_first_seq;   /* the current source's first sequence number sent */
    uint16_t last_seq;        /* highest sequence number sent */
    uint32_t last_ts;         /* timestamp of that packet */
    uint64_t last_us;         /* when it went out */
    uint32_t packets, octets; /* sent: for the sender report */
    uint32_t dropped_old;     /* packets of a source from before it was switched to */
};

void media_rewriter_init(struct media_rewriter *w, uint32_t out_ssrc, uint32_t clock_hz,
                         uint8_t out_pt);
/* From the next packet on, take src_ssrc (0: none). Switching to the current
 * source changes nothing. */
void media_rewriter_switch(struct media_rewriter *w, uint32_t src_ssrc);
/* Rewrite pkt (parsed into r, writable) for the outgoing stream: 1 when it is
 * to be sent, 0 when it is dropped (another source than the current one, or
 * older than the current source's first packet sent). */
int media_rewriter_rtp(struct media_rewriter *w, uint64_t now_us, uint8_t *pkt,
                       const struct media_rtp *r);
/* The current source's sequence number for an outgoing one: 0, or -ENOENT
 * when out_seq was not sent from the current source. */
int media_rewriter_to_src(const struct media_rewriter *w, uint16_t out_seq, uint16_t *src_seq);
/* The outgoing timestamp that corresponds to now (for a sender report). */
uint32_t media_rewriter_ts_now(const struct media_rewriter *w, uint64_t now_us);

#endif
