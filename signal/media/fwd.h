/*
 * fwd.h - the SFU's forwarding core, sans-I/O: a room of endpoints, each of
 * which may publish sources (its own SSRCs) and receive on slots (outgoing
 * streams with mediad's SSRCs, one rewriter each, see rewrite.h). Every RTP
 * packet of a source is copied once into the queue of each endpoint that has
 * a slot bound to it, and rewritten there; the shell takes the queued packets
 * off (media_fwd_ready / peek / pop), protects them with SRTP in place and
 * sends them. Queues are bounded (a full one drops and counts) and allocated
 * when an endpoint joins, so forwarding allocates nothing.
 *
 * Upstream: a PLI or FIR about a slot becomes one PLI to the bound source's
 * publisher, at most once per pli_interval_us per source (later requests in
 * the interval are merged and sent by media_fwd_tick); binding a video slot
 * asks for a keyframe the same way. A NACK about a slot is mapped to the
 * source's sequence numbers and goes to its publisher. Forwarded packets
 * carry no header extension (the receiver's negotiated ids may differ).
 *
 * Rate: each subscriber's report blocks (and REMBs) about a video slot feed a
 * loss-based estimate of that path (bwe.h); a publisher is sent, with its
 * periodic reports, a REMB about its video SSRCs whose bitrate is the sum
 * over them of the minimum over each one's paths, and at once when that
 * minimum falls by a fifth or more since the last REMB.
 */
#ifndef MEDIA_FWD_H
#define MEDIA_FWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rewrite.h"
#include "sdp.h"

#define MEDIA_FWD_MAX_SLOTS 12                  /* outgoing streams per endpoint */
#define MEDIA_FWD_MAX_OWN 8                     /* sources per endpoint */
#define MEDIA_FWD_PKT_MAX 1500                  /* longest RTP packet forwarded */
#define MEDIA_FWD_BUF (MEDIA_FWD_PKT_MAX + 160) /* plus room for an SRTP trailer */
#define MEDIA_FWD_RTCP_MAX 1200

struct media_fwd;

struct media_fwd_config {
    unsigned max_endpoints;   /* members of the room */
    unsigned max_sources;     /* published streams in the room */
    unsigned queue_len;       /* packets waiting per endpoint */
    uint64_t pli_interval_us; /* keyframe requests per source at most this often */
    uint32_t local_ssrc;      /* sender SSRC of the room's own RTCP */
    uint32_t min_video_bps;   /* floor and cap of the REMBs to publishers; */
    uint32_t max_video_bps;   /* max 0: no REMB */
};

struct media_fwd_slot_stats {
    enum media_kind kind;
    uint32_t out_ssrc, src_ssrc, packets, octets;
    uint8_t remote_fraction_lost; /* from the endpoint's receiver reports */
    int32_t remote_lost;
    uint32_t bwe_bps; /* video: what the path to the endpoint can take; 0 when unknown */
};

struct media_fwd_ep_stats {
    uint64_t rx_packets, rx_bytes; /* RTP it published */
    uint64_t queued, dropped;      /* copies queued for it; dropped on a full queue */
    uint64_t plis_in, nacks_in;    /* feedback it sent about its slots */
    uint64_t plis_out, nacks_out;  /* keyframe requests and NACKs sent to it as a publisher */
    uint64_t rtcp_errors;
    uint64_t rembs_out;  /* REMBs sent to it as a publisher */
    uint32_t remb_bps;   /* the last one's bitrate; 0 before the first */
    unsigned n_slots, n_sources;
    struct media_fwd_slot_stats slots[MEDIA_FWD_MAX_SLOTS];
};

/* 0, -EINVAL (a zero size) or -ENOMEM. */
int media_fwd_new(struct media_fwd **out, const struct media_fwd_config *cfg);
void media_fwd_free(struct media_fwd *f);

/* A new endpoint (user is the shell's): its id in *ep. 0, -ENOSPC or -ENOMEM. */
int media_fwd_join(struct media_fwd *f, void *user, unsigned *ep);
/* It leaves: its sources end (slots bound to them take another source of the
 * same kind if there is one) and its queue is freed. */
void media_fwd_leave(struct media_fwd *f, uint64_t now_us, unsigned ep);
void *media_fwd_user(const struct media_fwd *f, unsigned ep);
unsigned media_fwd_members(const struct media_fwd *f);

/* ep sends ssrc. Unbound slots of other endpoints of that kind take it.
 * 0, -EINVAL (SSRC 0, which the rewriter reads as "none"), -EEXIST (the SSRC
 * is taken), -ENOSPC or -ENOMEM. */
int media_fwd_publish(struct media_fwd *f, uint64_t now_us, unsigned ep, uint32_t ssrc,
                      enum media_kind kind, uint32_t clock_hz);
/* ep receives an outgoing stream out_ssrc (payload type out_pt, or
 * MEDIA_REWRITE_KEEP_PT); it takes a source of that kind at once if one is
 * free for it. Slot index in *slot. 0, -EEXIST, -ENOSPC. */
int media_fwd_add_slot(struct media_fwd *f, uint64_t now_us, unsigned ep, enum media_kind kind,
                       uint32_t out_ssrc, uint32_t clock_hz, uint8_t out_pt, unsigned *slot);
/* Switch ep's slot to source src_ssrc (0: none). 0, -EINVAL (no such slot,
 * or a source of another kind or of ep's own), -ENOENT (no such source),
 * -EEXIST (ep receives that source on another slot already). */
int media_fwd_bind(struct media_fwd *f, uint64_t now_us, unsigned ep, unsigned slot,
                   uint32_t src_ssrc);

/* Ask for a keyframe on every video source ep receives (when it becomes able
 * to receive: keyframes sent before that were lost on it). */
void media_fwd_want_keyframes(struct media_fwd *f, uint64_t now_us, unsigned ep);
/* A decrypted RTP packet from ep: how many copies were queued (0 or more),
 * -EBADMSG when it is not RTP or longer than MEDIA_FWD_PKT_MAX, -ENOENT when
 * ep does not publish its SSRC. */
int media_fwd_rtp(struct media_fwd *f, uint64_t now_us, unsigned ep, const uint8_t *pkt,
                  size_t len);
/* A decrypted compound RTCP packet from ep. 0 or -EBADMSG. */
int media_fwd_rtcp(struct media_fwd *f, uint64_t now_us, unsigned ep, const uint8_t *pkt,
                   size_t len);
/* Send merged keyframe requests whose interval has passed. */
void media_fwd_tick(struct media_fwd *f, uint64_t now_us);

/* The next endpoint with queued RTP or RTCP, or -1. Take all of it: the
 * endpoint comes back only when something new is queued for it. */
int media_fwd_ready(struct media_fwd *f);
/* The oldest queued packet of ep (writable; cap is its buffer's size), or NULL. */
uint8_t *media_fwd_peek(struct media_fwd *f, unsigned ep, size_t *len, size_t *cap);
void media_fwd_pop(struct media_fwd *f, unsigned ep);
/* The feedback queued for ep as a publisher, as one compound RTCP packet
 * (an empty RR first): its length, or 0 when there is none. */
int media_fwd_take_rtcp(struct media_fwd *f, unsigned ep, uint8_t *out, size_t cap);
/* Periodic reports for ep: an RR about what it publishes and an SR per slot
 * that sent anything. Length, 0 for nothing, or -ENOSPC. */
int media_fwd_reports(struct media_fwd *f, unsigned ep, uint64_t now_us, uint8_t *out, size_t cap);
void media_fwd_stats(const struct media_fwd *f, unsigned ep, struct media_fwd_ep_stats *st);
/* Over the room: REMBs sent to publishers, and the lowest bitrate the
 * publishers were last given (0 when none was sent one). */
void media_fwd_remb_summary(const struct media_fwd *f, uint64_t *rembs, uint32_t *min_bps);

#endif
