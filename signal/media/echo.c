/*
 * echo.c - the echo session's RTP/RTCP logic (see echo.h).
 */
#include "echo.h"

#include <errno.h>
#include <string.h>

void media_echo_init(struct media_echo *e, uint32_t local_ssrc)
{
    memset(e, 0, sizeof *e);
    e->local_ssrc = local_ssrc;
}

struct media_echo_stream *media_echo_find_in(struct media_echo *e, uint32_t in_ssrc)
{
    for (unsigned i = 0; i < e->n_streams; i++)
        if (e->streams[i].in_ssrc == in_ssrc)
            return &e->streams[i];
    return NULL;
}

struct media_echo_stream *media_echo_find_out(struct media_echo *e, uint32_t out_ssrc)
{
    for (unsigned i = 0; i < e->n_streams; i++)
        if (e->streams[i].out_ssrc == out_ssrc)
            return &e->streams[i];
    return NULL;
}

int media_echo_add_stream(struct media_echo *e, enum media_kind kind, uint32_t in_ssrc,
                          uint32_t out_ssrc, uint32_t clock_hz)
{
    if (media_echo_find_in(e, in_ssrc) || media_echo_find_out(e, out_ssrc))
        return -EEXIST;
    if (e->n_streams == MEDIA_ECHO_MAX_STREAMS)
        return -ENOSPC;
    struct media_echo_stream *s = &e->streams[e->n_streams++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->in_ssrc = in_ssrc;
    s->out_ssrc = out_ssrc;
    s->clock_hz = clock_hz;
    media_rx_init(&s->rx, in_ssrc, clock_hz);
    return 0;
}

int media_echo_rtp(struct media_echo *e, uint64_t now_us, uint8_t *pkt, size_t len)
{
    struct media_rtp r;
    struct media_echo_stream *s;
    if (media_rtp_parse(pkt, len, &r) != 0 || !(s = media_echo_find_in(e, r.ssrc))) {
        e->rtp_dropped++;
        return 0;
    }
    media_rx_update(&s->rx, r.seq, r.ts, now_us, len);
    /* Same payload, sequence numbers and timestamps: only the SSRC may change,
     * so the browser's retransmissions answer its own NACKs. */
    if (s->out_ssrc != s->in_ssrc)
        media_rtp_set_ssrc(pkt, s->out_ssrc);
    s->tx_packets++;
    s->tx_octets += (uint32_t)r.payload_len;
    s->tx_bytes += len;
    if (s->rx.max_seq == r.seq) {
        s->last_ts = r.ts;
        s->last_ts_us = now_us;
    }
    return 1;
}

/* DLSR (RFC 3550 §6.4.1) in 1/65536 s since the SR arrived. */
static uint32_t dlsr_since(uint64_t arrival_us, uint64_t now_us)
{
    if (!arrival_us || now_us < arrival_us)
        return 0;
    return (uint32_t)((now_us - arrival_us) * 65536 / 1000000);
}

static void take_report(struct media_echo *e, uint64_t now_us, const struct media_rtcp_rb *rb)
{
    struct media_echo_stream *s = media_echo_find_out(e, rb->ssrc);
    if (!s)
        return;
    s->remote_fraction_lost = rb->fraction_lost;
    s->remote_lost = rb->cumulative_lost;
    s->remote_jitter = rb->jitter;
    if (rb->lsr) {
        /* RFC 3550 §6.4.1: RTT = A - LSR - DLSR, in 1/65536 s */
        uint32_t a = media_ntp_mid(media_ntp_from_unix_us(now_us));
        uint32_t rtt = a - rb->lsr - rb->dlsr;
        if (rtt < 65536u * 10) { /* ignore nonsense from clock steps */
            s->rtt_ms = rtt * 1000.0 / 65536.0;
            s->have_rtt = true;
        }
    }
}

struct writer {
    uint8_t *buf;
    size_t cap, len;
    bool full;
};

static void add(struct writer *w, int n)
{
    if (n < 0)
        w->full = true;
    else
        w->len += (size_t)n;
}

static void add_copy(struct writer *w, const uint8_t *p, size_t n)
{
    if (w->full || w->cap - w->len < n) {
        w->full = true;
        return;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

int media_echo_rtcp(struct media_echo *e, uint64_t now_us, const uint8_t *pkt, size_t len,
                    uint8_t *out, size_t cap)
{
    struct media_rtcp r;
    size_t off = 0;
    int rc;
    /* First pass: reports. An SR is reflected as a report block in our RR. */
    struct media_rtcp_rb reflect[MEDIA_ECHO_MAX_STREAMS];
    unsigned n_reflect = 0;
    while ((rc = media_rtcp_next(pkt, len, &off, &r)) == 1) {
        if (r.pt != MEDIA_RTCP_SR && r.pt != MEDIA_RTCP_RR)
            continue;
        struct media_rtcp_sr sr;
        struct media_rtcp_rb rb[MEDIA_RTCP_MAX_RB];
        unsigned n_rb = 0;
        uint32_t sender;
        if (media_rtcp_parse_report(&r, &sr, &sender, rb, MEDIA_RTCP_MAX_RB, &n_rb) != 0) {
            e->rtcp_errors++;
            return -EBADMSG;
        }
        for (unsigned i = 0; i < n_rb; i++)
            take_report(e, now_us, &rb[i]);
        struct media_echo_stream *s;
        if (r.pt == MEDIA_RTCP_SR && (s = media_echo_find_in(e, sender)) != NULL) {
            s->sr_lsr = media_ntp_mid(sr.ntp);
            s->sr_arrival_us = now_us;
            if (n_reflect < MEDIA_ECHO_MAX_STREAMS)
                media_rx_report(&s->rx, s->sr_lsr, 0, &reflect[n_reflect++]);
        }
    }
    if (rc < 0) {
        e->rtcp_errors++;
        return -EBADMSG;
    }
    /* Second pass: feedback about echoed streams goes back to the sender. */
    struct writer w = {.buf = out, .cap = cap};
    if (n_reflect)
        add(&w, media_rtcp_write_rr(out, cap, e->local_ssrc, reflect, n_reflect));
    off = 0;
    while (media_rtcp_next(pkt, len, &off, &r) == 1 && !w.full) {
        uint32_t sender, media;
        if ((r.pt != MEDIA_RTCP_RTPFB && r.pt != MEDIA_RTCP_PSFB) ||
            media_rtcp_parse_fb(&r, &sender, &media) != 0)
            continue;
        struct media_echo_stream *s = NULL;
        bool fir = r.pt == MEDIA_RTCP_PSFB && r.count == MEDIA_RTCP_FMT_FIR;
        bool pli = r.pt == MEDIA_RTCP_PSFB && r.count == MEDIA_RTCP_FMT_PLI;
        bool nack = r.pt == MEDIA_RTCP_RTPFB && r.count == MEDIA_RTCP_FMT_NACK;
        if (fir && r.len >= 20) /* RFC 5104 §4.3.1.2: the target is in the FCI */
            s = media_echo_find_out(e, (uint32_t)r.data[12] << 24 | (uint32_t)r.data[13] << 16 |
                                           (uint32_t)r.data[14] << 8 | r.data[15]);
        else if (pli || nack)
            s = media_echo_find_out(e, media);
        if (!s)
            continue; /* REMB, transport-cc, unknown streams: not for an echo */
        if (w.len == 0) /* RFC 3550 §6.1: a compound packet starts with a report */
            add(&w, media_rtcp_write_rr(out, cap, e->local_ssrc, NULL, 0));
        size_t at = w.len;
        add_copy(&w, r.data, r.len);
        if (w.full)
            break;
        media_rtcp_fb_set_ssrcs(out + at, e->local_ssrc, fir ? 0 : s->in_ssrc);
        if (fir) {
            media_rtcp_fir_set_target(out + at, r.len, s->in_ssrc);
            s->firs++;
        } else if (pli) {
            s->plis++;
        } else {
            s->nacks++;
        }
    }
    if (w.full)
        return -ENOSPC;
    return (int)w.len;
}

int media_echo_tick(struct media_echo *e, uint64_t now_us, uint8_t *out, size_t cap)
{
    struct writer w = {.buf = out, .cap = cap};
    uint64_t ntp = media_ntp_from_unix_us(now_us);
    struct media_rtcp_rb rb[MEDIA_ECHO_MAX_STREAMS];
    unsigned n = 0;
    for (unsigned i = 0; i < e->n_streams; i++) {
        struct media_echo_stream *s = &e->streams[i];
        if (s->rx.started)
            media_rx_report(&s->rx, s->sr_lsr, s->sr_lsr ? dlsr_since(s->sr_arrival_us, now_us) : 0,
                            &rb[n++]);
    }
    add(&w, media_rtcp_write_rr(out, cap, e->local_ssrc, rb, n));
    for (unsigned i = 0; i < e->n_streams && !w.full; i++) {
        struct media_echo_stream *s = &e->streams[i];
        if (!s->tx_packets)
            continue;
        /* The RTP time of "now" on the echoed stream's clock (RFC 3550 §6.4.1). */
        uint64_t since = now_us - s->last_ts_us;
        struct media_rtcp_sr sr = {
            .ssrc = s->out_ssrc,
            .ntp = ntp,
            .rtp_ts = s->last_ts + (uint32_t)(since * s->clock_hz / 1000000),
            .packets = s->tx_packets,
            .octets = s->tx_octets,
        };
        add(&w, media_rtcp_write_sr(out + w.len, cap - w.len, &sr, NULL, 0));
    }
    if (w.full)
        return -ENOSPC;
    return (int)w.len;
}
