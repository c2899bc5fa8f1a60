/*
 * echo.h - the "test my call" echo, sans-I/O: decrypted RTP in, the same
 * payloads out again on the stream's echo SSRC; decrypted RTCP in, the RTCP to
 * send back out. The shell (session.c) does SRTP and the sockets.
 *
 * RTCP: an SR from the browser is answered at once by an RR for that stream
 * (so the browser measures its round-trip time), PLI, FIR and NACK about an
 * echoed stream are forwarded back to the browser's own sender (it then sends
 * a keyframe or retransmits, and those come back too), and media_echo_tick()
 * sends an SR per echoed stream and an RR per received one about once a
 * second. RRs the browser sends about the echoed streams give mediad its own
 * round-trip time, loss and jitter for the stats.
 */
#ifndef MEDIA_ECHO_H
#define MEDIA_ECHO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp.h"
#include "sdp.h"

#define MEDIA_ECHO_MAX_STREAMS 8

struct media_echo_stream {
    enum media_kind kind;
    uint32_t in_ssrc, out_ssrc, clock_hz;
    struct media_rx_stats rx;
    /* the browser's last SR about in_ssrc */
    uint32_t sr_lsr;
    uint64_t sr_arrival_us;
    /* what we echoed */
    uint32_t tx_packets, tx_octets;
    uint64_t tx_bytes;
    uint32_t last_ts;
    uint64_t last_ts_us;
    /* the browser's RR about out_ssrc */
    bool have_rtt;
    double rtt_ms;
    uint8_t remote_fraction_lost;
    int32_t remote_lost;
    uint32_t remote_jitter;
    /* feedback forwarded */
    uint32_t plis, firs, nacks;
};

struct media_echo {
    uint32_t local_ssrc; /* the SSRC of our RTCP reports */
    struct media_echo_stream streams[MEDIA_ECHO_MAX_STREAMS];
    unsigned n_streams;
    uint32_t rtp_dropped, rtcp_errors;
};

void media_echo_init(struct media_echo *e, uint32_t local_ssrc);
/* Declare a stream (from the offer's a=ssrc): packets on in_ssrc come back on
 * out_ssrc (the same value echoes on the sender's own SSRC). 0, -EEXIST, -ENOSPC. */
int media_echo_add_stream(struct media_echo *e, enum media_kind kind, uint32_t in_ssrc,
                          uint32_t out_ssrc, uint32_t clock_hz);
struct media_echo_stream *media_echo_find_in(struct media_echo *e, uint32_t in_ssrc);
struct media_echo_stream *media_echo_find_out(struct media_echo *e, uint32_t out_ssrc);

/* A decrypted RTP packet: 1 when pkt (rewritten in place) goes back, 0 when
 * it is dropped (unknown SSRC, malformed). */
int media_echo_rtp(struct media_echo *e, uint64_t now_us, uint8_t *pkt, size_t len);
/* A decrypted RTCP packet from the browser: the length of the compound RTCP
 * to send back (written to out), 0 for none, -EBADMSG or -ENOSPC. */
int media_echo_rtcp(struct media_echo *e, uint64_t now_us, const uint8_t *pkt, size_t len,
                    uint8_t *out, size_t cap);
/* Periodic reports (call about once a second): length written to out, or 0. */
int media_echo_tick(struct media_echo *e, uint64_t now_us, uint8_t *out, size_t cap);

#endif
