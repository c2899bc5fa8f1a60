/*
 * rtcp_parse.h - compound RTCP (RFC 3550 §6, A.2) read into typed packets:
 * SR, RR, SDES (CNAME), BYE, generic NACK (RFC 4585 §6.2.1), PLI (§6.3.1),
 * FIR (RFC 5104 §4.3.1), and REMB and transport-wide CC recognised by their
 * headers only. Reduced-size RTCP (RFC 5506) is accepted, so a compound may
 * start with feedback. Also the NACK writer an SFU needs to ask a sender for
 * retransmissions. Pure functions; pointers are borrowed from the input.
 */
#ifndef MEDIA_RTCP_PARSE_H
#define MEDIA_RTCP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp.h"

#define MEDIA_RTCP_FMT_REMB 15 /* PSFB application layer FB, "REMB" */
#define MEDIA_RTCP_FMT_TWCC 15 /* RTPFB transport-wide congestion control */
#define MEDIA_RTCP_MAX_CHUNKS 31

enum media_rtcp_type {
    MEDIA_RTCP_T_OTHER = 0, /* well framed, not one we read (APP, XR, ...) */
    MEDIA_RTCP_T_SR,
    MEDIA_RTCP_T_RR,
    MEDIA_RTCP_T_SDES,
    MEDIA_RTCP_T_BYE,
    MEDIA_RTCP_T_NACK,
    MEDIA_RTCP_T_PLI,
    MEDIA_RTCP_T_FIR,
    MEDIA_RTCP_T_REMB,
    MEDIA_RTCP_T_TWCC,
};

struct media_rtcp_item {
    enum media_rtcp_type type;
    uint8_t pt, count;   /* packet type; RC, SC or FMT */
    const uint8_t *data; /* the whole packet, header included */
    size_t len;          /* its length without padding */
    uint32_t sender;     /* SSRC of the packet's sender (first SSRC of SDES/BYE; 0 if none) */
    uint32_t media;      /* feedback: the media source's SSRC */
    union {
        struct {
            struct media_rtcp_sr sr; /* SR only */
            struct media_rtcp_rb rb[MEDIA_RTCP_MAX_RB];
            unsigned n_rb;
        } report;
        struct {
            unsigned n;
            uint32_t ssrc[MEDIA_RTCP_MAX_CHUNKS];
            const char *cname[MEDIA_RTCP_MAX_CHUNKS]; /* not NUL-terminated; NULL if none */
            uint8_t cname_len[MEDIA_RTCP_MAX_CHUNKS];
        } sdes;
        struct {
            unsigned n;
            uint32_t ssrc[MEDIA_RTCP_MAX_CHUNKS];
            const char *reason; /* NULL if none; not NUL-terminated */
            uint8_t reason_len;
        } bye;
        struct {
            unsigned n; /* FCI entries: PID/BLP (NACK) or SSRC/seq (FIR) */
            const uint8_t *fci;
        } fci;
        struct {
            uint64_t bitrate; /* bits per second */
            unsigned n_ssrcs;
        } remb;
        struct {
            uint16_t base_seq, status_count;
        } twcc;
    } u;
};

/* Read the packet at *off of the compound p and advance *off: 1 with it in
 * item, 0 at the end, -EBADMSG when the compound is malformed (version not 2,
 * a length past the buffer, padding not on the last packet or longer than the
 * packet, or a known packet type whose body does not fit its header). */
int media_rtcp_read(const uint8_t *p, size_t len, size_t *off, struct media_rtcp_item *item);
/* Every packet of a compound reads: the number of packets (>= 1) or -EBADMSG. */
int media_rtcp_check(const uint8_t *p, size_t len);

/* The sequence numbers a NACK item asks for (PID plus its BLP bits, in
 * order), at most max: how many were written. */
unsigned media_rtcp_nack_seqs(const struct media_rtcp_item *item, uint16_t *out, unsigned max);
/* REMB item's SSRC i (i < u.remb.n_ssrcs). */
uint32_t media_rtcp_remb_ssrc(const struct media_rtcp_item *item, unsigned i);
/* FIR entry i: the target SSRC and command sequence number. */
void media_rtcp_fir_entry(const struct media_rtcp_item *item, unsigned i, uint32_t *ssrc,
                          uint8_t *seq);

/* A generic NACK asking media for seqs (any order, wrapping allowed; packed
 * into PID/BLP pairs): bytes written, or -ENOSPC. */
int media_rtcp_write_nack(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media,
                          const uint16_t *seqs, unsigned n);
/* A FIR (RFC 5104 §4.3.1) for target with command sequence number seq. */
int media_rtcp_write_fir(uint8_t *buf, size_t cap, uint32_t sender, uint32_t target, uint8_t seq);

/* A REMB (draft-alvestrand-rmcat-remb: PSFB FMT 15, "REMB", 6-bit exponent,
 * 18-bit mantissa rounded down) telling the sender of ssrcs (1-255) to keep
 * their total under bps. Bytes written, -EINVAL or -ENOSPC. */
int media_rtcp_write_remb(uint8_t *buf, size_t cap, uint32_t sender, uint64_t bps,
                          const uint32_t *ssrcs, unsigned n);

#endif
