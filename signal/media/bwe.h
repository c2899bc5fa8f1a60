/*
 * bwe.h - a loss-based bandwidth estimate for one forwarding path: one
 * published video stream as one subscriber receives it. It follows the
 * loss-based controller of draft-ietf-rmcat-gcc §6, fed by the fraction lost
 * of the subscriber's receiver report blocks about the stream and by time:
 * under 2 % loss the estimate grows about 8 % a second, from 2 to 10 % it
 * holds, over 10 % it is multiplied by (1 - loss/2). A REMB the subscriber
 * sends up (Chromium does when goog-remb is negotiated) caps the path too.
 *
 * The SFU sends a publisher the minimum over the paths of its stream: with no
 * simulcast there is one encoding for everyone, so the weakest subscriber
 * decides. The floor keeps one poor subscriber from starving a big room below
 * min_bps; the cap (max_bps) is the most a room's video stream may use.
 * Sans-I/O and allocation-free: the caller keeps one struct per path.
 */
#ifndef MEDIA_BWE_H
#define MEDIA_BWE_H

#include <stdint.h>

/* A path whose subscriber has not reported for this long has no say. */
#define MEDIA_BWE_STALE_US 5000000

struct media_bwe_config {
    uint32_t min_bps, max_bps; /* floor and cap of every estimate */
};

struct media_bwe {
    uint32_t bps;      /* the loss-based estimate */
    uint32_t remb_bps; /* the subscriber's own REMB; 0 when it sent none */
    uint64_t rr_us;    /* its last report block; 0 before the first */
    uint64_t seen_us;  /* its last report block or REMB */
};

/* A new path starts at the cap: the publisher's own controller already
 * adapts to the first hop (mediad's reports about it); this one only lowers
 * the rate for the subscribers' side. */
void media_bwe_init(struct media_bwe *b, const struct media_bwe_config *cfg);
/* A report block about the stream: fraction_lost in 1/256 (RFC 3550 §6.4.1).
 * in_bps is the rate the stream arrives at (0 when unknown): a decrease
 * starts from it when it is below the estimate, since a cap the sender does
 * not reach would take many reports to bite. */
void media_bwe_on_loss(struct media_bwe *b, const struct media_bwe_config *cfg, uint64_t now_us,
                       uint8_t fraction_lost, uint32_t in_bps);
/* A REMB from the subscriber covering the stream. */
void media_bwe_on_remb(struct media_bwe *b, uint64_t now_us, uint64_t bps);
/* What the path can take (within the floor and cap), or 0 when it has no say
 * (no report yet, or none for MEDIA_BWE_STALE_US). */
uint32_t media_bwe_limit(const struct media_bwe *b, const struct media_bwe_config *cfg,
                         uint64_t now_us);

#endif
