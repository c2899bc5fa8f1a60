/*
 * rtp.h - RTP and RTCP on the wire (RFC 3550, RFC 4585, RFC 5104, RFC 8285)
 * and the one demultiplexer a WebRTC transport needs (RFC 7983): parse,
 * rewrite in place, build the few RTCP packets mediad sends, and keep the
 * receive statistics a receiver report carries. Pure functions over byte
 * buffers; parsed pointers are borrowed from the input.
 */
#ifndef MEDIA_RTP_H
#define MEDIA_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Network byte order, for the RTP and RTCP files. */
static inline uint16_t media_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t media_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void media_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void media_wr32(uint8_t *p, uint32_t v)
{
    media_wr16(p, (uint16_t)(v >> 16));
    media_wr16(p + 2, (uint16_t)v);
}

enum media_pkt_class { MEDIA_PKT_UNKNOWN = 0, MEDIA_PKT_STUN, MEDIA_PKT_DTLS, MEDIA_PKT_RTP, MEDIA_PKT_RTCP };

/* RFC 7983 §7 by the first byte, then RFC 5761 §4 (payload type 192-223 is RTCP). */
enum media_pkt_class media_pkt_classify(const uint8_t *p, size_t len);

struct media_rtp {
    bool marker;
    uint8_t pt;
    uint16_t seq;
    uint32_t ts, ssrc;
    uint8_t csrc_count;
    uint16_t ext_profile;   /* 0xBEDE one-byte, 0x1000-0x100F two-byte, 0 = no extension */
    const uint8_t *ext;     /* extension data after its 4-byte header */
    size_t ext_len;
    const uint8_t *payload; /* after header, CSRCs and extension, before padding */
    size_t payload_len;
    uint8_t padding;
    size_t header_len;
};

/* 0, or -EBADMSG when p is not a well-formed RTP packet. */
int media_rtp_parse(const uint8_t *p, size_t len, struct media_rtp *out);
/* Find header extension element id (RFC 8285): 0 with the value in val and len, or -ENOENT. */
int media_rtp_find_ext(const struct media_rtp *r, uint8_t id, const uint8_t **val, size_t *len);
/* In-place rewriting of a packet that media_rtp_parse() accepted. */
void media_rtp_set_ssrc(uint8_t *p, uint32_t ssrc);
void media_rtp_set_seq(uint8_t *p, uint16_t seq);
void media_rtp_set_ts(uint8_t *p, uint32_t ts);

/* ---- RTCP ---- */
enum {
    MEDIA_RTCP_SR = 200,
    MEDIA_RTCP_RR = 201,
    MEDIA_RTCP_SDES = 202,
    MEDIA_RTCP_BYE = 203,
    MEDIA_RTCP_RTPFB = 205, /* fmt 1 generic NACK, 15 transport-wide CC */
    MEDIA_RTCP_PSFB = 206,  /* fmt 1 PLI, 4 FIR, 15 application (REMB) */
};
#define MEDIA_RTCP_FMT_NACK 1
#define MEDIA_RTCP_FMT_PLI 1
#define MEDIA_RTCP_FMT_FIR 4
#define MEDIA_RTCP_MAX_RB 31

/* One packet of a compound RTCP packet. */
struct media_rtcp {
    uint8_t pt;
    uint8_t count; /* RC, SC or FMT */
    const uint8_t *data; /* the whole packet, header included */
    size_t len;
};

/* Walk a compound packet: 1 with the packet at *off (advanced), 0 at the end,
 * -EBADMSG when a length runs past the buffer or the version is not 2. */
int media_rtcp_next(const uint8_t *p, size_t len, size_t *off, struct media_rtcp *out);

struct media_rtcp_rb {
    uint32_t ssrc;
    uint8_t fraction_lost;
    int32_t cumulative_lost; /* 24-bit signed */
    uint32_t ext_max_seq;
    uint32_t jitter;
    uint32_t lsr, dlsr; /* middle 32 bits of the SR's NTP time; delay in 1/65536 s */
};

struct media_rtcp_sr {
    uint32_t ssrc;
    uint64_t ntp;
    uint32_t rtp_ts, packets, octets;
};

/* SR or RR: sender info (SR only) and up to max report blocks. 0 or -EBADMSG. */
int media_rtcp_parse_report(const struct media_rtcp *r, struct media_rtcp_sr *sr, uint32_t *sender,
                            struct media_rtcp_rb *rb, unsigned max, unsigned *n_rb);
/* RTPFB / PSFB: the sender's and the media source's SSRC. 0 or -EBADMSG. */
int media_rtcp_parse_fb(const struct media_rtcp *r, uint32_t *sender, uint32_t *media);
/* Rewrite the SSRCs of a feedback packet in place (data must be writable). */
void media_rtcp_fb_set_ssrcs(uint8_t *pkt, uint32_t sender, uint32_t media);
/* FIR (RFC 5104 §4.3.1.1) carries its target in the FCI, not the media field. */
void media_rtcp_fir_set_target(uint8_t *pkt, size_t len, uint32_t target);

/* Builders: bytes written, or -ENOSPC. */
int media_rtcp_write_rr(uint8_t *buf, size_t cap, uint32_t sender, const struct media_rtcp_rb *rb,
                        unsigned n);
int media_rtcp_write_sr(uint8_t *buf, size_t cap, const struct media_rtcp_sr *sr,
                        const struct media_rtcp_rb *rb, unsigned n);
int media_rtcp_write_pli(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media);

/* NTP time (RFC 5905 era 0) of a Unix time in microseconds, and its middle 32 bits. */
uint64_t media_ntp_from_unix_us(uint64_t us);
static inline uint32_t media_ntp_mid(uint64_t ntp) { return (uint32_t)(ntp >> 16); }

/* ---- receive statistics (RFC 3550 A.1, A.3, A.8) ---- */
struct media_rx_stats {
    uint32_t ssrc, clock_hz;
    bool started;
    uint16_t max_seq;
    uint32_t cycles, base_seq, bad_seq;
    uint32_t received, expected_prior, received_prior;
    uint32_t last_transit, jitter_q4; /* jitter in timestamp units * 16 */
    uint64_t bytes;
};

void media_rx_init(struct media_rx_stats *s, uint32_t ssrc, uint32_t clock_hz);
void media_rx_update(struct media_rx_stats *s, uint16_t seq, uint32_t rtp_ts, uint64_t now_us,
                     size_t bytes);
uint32_t media_rx_expected(const struct media_rx_stats *s);
/* A report block for s; advances the interval used for fraction_lost. */
void media_rx_report(struct media_rx_stats *s, uint32_t lsr, uint32_t dlsr,
                     struct media_rtcp_rb *rb);

#endif
