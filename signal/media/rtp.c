/*
 * rtp.c - RTP/RTCP parsing, rewriting and building (see rtp.h). Every read is
 * bounds-checked first; malformed input is -EBADMSG, never a partial result.
 */
#include "rtp.h"

#include <errno.h>
#include <string.h>

enum media_pkt_class media_pkt_classify(const uint8_t *p, size_t len)
{
    if (len == 0)
        return MEDIA_PKT_UNKNOWN;
    uint8_t b = p[0];
    if (b <= 3)
        return len >= 20 ? MEDIA_PKT_STUN : MEDIA_PKT_UNKNOWN;
    if (b >= 20 && b <= 63)
        return MEDIA_PKT_DTLS;
    if (b >= 128 && b <= 191) {
        if (len < 2)
            return MEDIA_PKT_UNKNOWN;
        uint8_t pt = p[1] & 0x7f;
        /* RFC 5761 §4: RTCP packet types 200-204 and 205-206 appear as 192-223. */
        if (pt >= 64 && pt <= 95)
            return len >= 8 ? MEDIA_PKT_RTCP : MEDIA_PKT_UNKNOWN;
        return len >= 12 ? MEDIA_PKT_RTP : MEDIA_PKT_UNKNOWN;
    }
    return MEDIA_PKT_UNKNOWN;
}

int media_rtp_parse(const uint8_t *p, size_t len, struct media_rtp *r)
{
    memset(r, 0, sizeof *r);
    if (len < 12 || (p[0] >> 6) != 2)
        return -EBADMSG;
    bool has_padding = p[0] & 0x20, has_ext = p[0] & 0x10;
    r->csrc_count = p[0] & 0x0f;
    r->marker = p[1] & 0x80;
    r->pt = p[1] & 0x7f;
    r->seq = media_rd16(p + 2);
    r->ts = media_rd32(p + 4);
    r->ssrc = media_rd32(p + 8);
    size_t off = 12 + 4u * r->csrc_count;
    if (off > len)
        return -EBADMSG;
    if (has_ext) {
        if (len - off < 4)
            return -EBADMSG;
        r->ext_profile = media_rd16(p + off);
        size_t words = media_rd16(p + off + 2);
        if ((len - off - 4) / 4 < words)
            return -EBADMSG;
        r->ext = p + off + 4;
        r->ext_len = words * 4;
        off += 4 + words * 4;
    }
    size_t end = len;
    if (has_padding) {
        uint8_t pad = p[len - 1];
        if (pad == 0 || pad > len - off)
            return -EBADMSG;
        r->padding = pad;
        end -= pad;
    }
    r->header_len = off;
    r->payload = p + off;
    r->payload_len = end - off;
    return 0;
}

int media_rtp_find_ext(const struct media_rtp *r, uint8_t id, const uint8_t **val, size_t *len)
{
    const uint8_t *e = r->ext;
    size_t n = r->ext_len, i = 0;
    bool one_byte = r->ext_profile == 0xBEDE;
    bool two_byte = (r->ext_profile & 0xfff0) == 0x1000;
    if (!e || (!one_byte && !two_byte))
        return -ENOENT;
    while (i < n) {
        if (e[i] == 0) { /* padding */
            i++;
            continue;
        }
        uint8_t eid;
        size_t elen;
        if (one_byte) {
            eid = e[i] >> 4;
            elen = (size_t)(e[i] & 0x0f) + 1;
            if (eid == 15) /* RFC 8285 §4.2: stop parsing */
                return -ENOENT;
            i += 1;
        } else {
            if (i + 2 > n)
                return -ENOENT;
            eid = e[i];
            elen = e[i + 1];
            i += 2;
        }
        if (elen > n - i)
            return -ENOENT;
        if (eid == id) {
            *val = e + i;
            *len = elen;
            return 0;
        }
        i += elen;
    }
    return -ENOENT;
}

void media_rtp_set_ssrc(uint8_t *p, uint32_t ssrc) { media_wr32(p + 8, ssrc); }
void media_rtp_set_seq(uint8_t *p, uint16_t seq) { media_wr16(p + 2, seq); }
void media_rtp_set_ts(uint8_t *p, uint32_t ts) { media_wr32(p + 4, ts); }

/* ---- RTCP ---- */

int media_rtcp_next(const uint8_t *p, size_t len, size_t *off, struct media_rtcp *out)
{
    if (*off >= len)
        return 0;
    size_t rest = len - *off;
    const uint8_t *h = p + *off;
    if (rest < 4 || (h[0] >> 6) != 2)
        return -EBADMSG;
    size_t plen = ((size_t)media_rd16(h + 2) + 1) * 4;
    if (plen > rest)
        return -EBADMSG;
    out->pt = h[1];
    out->count = h[0] & 0x1f;
    out->data = h;
    out->len = plen;
    *off += plen;
    return 1;
}

static void read_rb(const uint8_t *b, struct media_rtcp_rb *rb)
{
    rb->ssrc = media_rd32(b);
    rb->fraction_lost = b[4];
    uint32_t lost = (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
    rb->cumulative_lost = (lost & 0x800000) ? (int32_t)(lost | 0xff000000u) : (int32_t)lost;
    rb->ext_max_seq = media_rd32(b + 8);
    rb->jitter = media_rd32(b + 12);
    rb->lsr = media_rd32(b + 16);
    rb->dlsr = media_rd32(b + 20);
}

int media_rtcp_parse_report(const struct media_rtcp *r, struct media_rtcp_sr *sr, uint32_t *sender,
                            struct media_rtcp_rb *rb, unsigned max, unsigned *n_rb)
{
    size_t off;
    if (r->len < 8 || (r->pt != MEDIA_RTCP_SR && r->pt != MEDIA_RTCP_RR))
        return -EBADMSG;
    *sender = media_rd32(r->data + 4);
    if (r->pt == MEDIA_RTCP_SR) {
        if (r->len < 28)
            return -EBADMSG;
        if (sr) {
            sr->ssrc = *sender;
            sr->ntp = (uint64_t)media_rd32(r->data + 8) << 32 | media_rd32(r->data + 12);
            sr->rtp_ts = media_rd32(r->data + 16);
            sr->packets = media_rd32(r->data + 20);
            sr->octets = media_rd32(r->data + 24);
        }
        off = 28;
    } else {
        off = 8;
    }
    if (r->count * 24u > r->len - off)
        return -EBADMSG;
    unsigned n = 0;
    for (unsigned i = 0; i < r->count && n < max; i++)
        read_rb(r->data + off + 24u * i, &rb[n++]);
    *n_rb = n;
    return 0;
}

int media_rtcp_parse_fb(const struct media_rtcp *r, uint32_t *sender, uint32_t *media)
{
    if ((r->pt != MEDIA_RTCP_RTPFB && r->pt != MEDIA_RTCP_PSFB) || r->len < 12)
        return -EBADMSG;
    *sender = media_rd32(r->data + 4);
    *media = media_rd32(r->data + 8);
    return 0;
}

void media_rtcp_fb_set_ssrcs(uint8_t *pkt, uint32_t sender, uint32_t media)
{
    media_wr32(pkt + 4, sender);
    media_wr32(pkt + 8, media);
}

void media_rtcp_fir_set_target(uint8_t *pkt, size_t len, uint32_t target)
{
    for (size_t off = 12; off + 8 <= len; off += 8)
        media_wr32(pkt + off, target);
}

static void write_header(uint8_t *b, uint8_t count, uint8_t pt, size_t len)
{
    b[0] = (uint8_t)(0x80 | count);
    b[1] = pt;
    media_wr16(b + 2, (uint16_t)(len / 4 - 1));
}

static void write_rb(uint8_t *b, const struct media_rtcp_rb *rb)
{
    media_wr32(b, rb->ssrc);
    b[4] = rb->fraction_lost;
    int32_t lost = rb->cumulative_lost;
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    uint32_t l = (uint32_t)lost & 0xffffff;
    b[5] = (uint8_t)(l >> 16);
    b[6] = (uint8_t)(l >> 8);
    b[7] = (uint8_t)l;
    media_wr32(b + 8, rb->ext_max_seq);
    media_wr32(b + 12, rb->jitter);
    media_wr32(b + 16, rb->lsr);
    media_wr32(b + 20, rb->dlsr);
}

int media_rtcp_write_rr(uint8_t *buf, size_t cap, uint32_t sender, const struct media_rtcp_rb *rb,
                        unsigned n)
{
    if (n > MEDIA_RTCP_MAX_RB)
        return -EINVAL;
    size_t len = 8 + 24u * n;
    if (cap < len)
        return -ENOSPC;
    write_header(buf, (uint8_t)n, MEDIA_RTCP_RR, len);
    media_wr32(buf + 4, sender);
    for (unsigned i = 0; i < n; i++)
        write_rb(buf + 8 + 24 * i, &rb[i]);
    return (int)len;
}

int media_rtcp_write_sr(uint8_t *buf, size_t cap, const struct media_rtcp_sr *sr,
                        const struct media_rtcp_rb *rb, unsigned n)
{
    if (n > MEDIA_RTCP_MAX_RB)
        return -EINVAL;
    size_t len = 28 + 24u * n;
    if (cap < len)
        return -ENOSPC;
    write_header(buf, (uint8_t)n, MEDIA_RTCP_SR, len);
    media_wr32(buf + 4, sr->ssrc);
    media_wr32(buf + 8, (uint32_t)(sr->ntp >> 32));
    media_wr32(buf + 12, (uint32_t)sr->ntp);
    media_wr32(buf + 16, sr->rtp_ts);
    media_wr32(buf + 20, sr->packets);
    media_wr32(buf + 24, sr->octets);
    for (unsigned i = 0; i < n; i++)
        write_rb(buf + 28 + 24 * i, &rb[i]);
    return (int)len;
}

int media_rtcp_write_pli(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media)
{
    if (cap < 12)
        return -ENOSPC;
    write_header(buf, MEDIA_RTCP_FMT_PLI, MEDIA_RTCP_PSFB, 12);
    media_rtcp_fb_set_ssrcs(buf, sender, media);
    return 12;
}

uint64_t media_ntp_from_unix_us(uint64_t us)
{
    /* 2,208,988,800 s from 1900 to 1970; fraction = us * 2^32 / 10^6 */
    uint64_t sec = us / 1000000 + 2208988800ull;
    uint64_t frac = ((us % 1000000) << 32) / 1000000;
    return sec << 32 | frac;
}

/* ---- receive statistics ---- */

#define MAX_DROPOUT 3000
#define MAX_MISORDER 100

void media_rx_init(struct media_rx_stats *s, uint32_t ssrc, uint32_t clock_hz)
{
    memset(s, 0, sizeof *s);
    s->ssrc = ssrc;
    s->clock_hz = clock_hz;
}

static void restart(struct media_rx_stats *s, uint16_t seq)
{
    s->base_seq = seq;
    s->max_seq = seq;
    s->bad_seq = 65536 + 1; /* RFC 3550 A.1 RTP_SEQ_MOD + 1: no bad sequence seen */
    s->cycles = 0;
    s->received = 0;
    s->received_prior = 0;
    s->expected_prior = 0;
}

void media_rx_update(struct media_rx_stats *s, uint16_t seq, uint32_t rtp_ts, uint64_t now_us,
                     size_t bytes)
{
    if (!s->started) {
        restart(s, seq);
        s->started = true;
    } else {
        uint16_t udelta = (uint16_t)(seq - s->max_seq);
        if (udelta < MAX_DROPOUT) {
            if (seq < s->max_seq)
                s->cycles += 65536;
            s->max_seq = seq;
        } else if (udelta <= 65536 - MAX_MISORDER) {
            /* A very large jump: a restarted sender if the next packet follows it (A.1). */
            if (seq == s->bad_seq) {
                restart(s, seq);
            } else {
                s->bad_seq = (uint32_t)(seq + 1) & 0xffff;
                return;
            }
        } /* else a duplicate or reordered packet: counted below */
    }
    s->received++;
    s->bytes += bytes;
    if (s->clock_hz) {
        uint32_t arrival = (uint32_t)(now_us * s->clock_hz / 1000000);
        uint32_t transit = arrival - rtp_ts;
        if (s->received > 1) {
            int32_t d = (int32_t)(transit - s->last_transit);
            if (d < 0)
                d = -d;
            /* A.8: J += (|D| - J) / 16, kept times 16 */
            s->jitter_q4 += (uint32_t)d - ((s->jitter_q4 + 8) >> 4);
        }
        s->last_transit = transit;
    }
}

uint32_t media_rx_expected(const struct media_rx_stats *s)
{
    if (!s->started)
        return 0;
    return s->cycles + s->max_seq - s->base_seq + 1;
}

void media_rx_report(struct media_rx_stats *s, uint32_t lsr, uint32_t dlsr,
                     struct media_rtcp_rb *rb)
{
    uint32_t expected = media_rx_expected(s);
    memset(rb, 0, sizeof *rb);
    rb->ssrc = s->ssrc;
    rb->cumulative_lost = (int32_t)(expected - s->received);
    uint32_t exp_int = expected - s->expected_prior;
    uint32_t rec_int = s->received - s->received_prior;
    s->expected_prior = expected;
    s->received_prior = s->received;
    int32_t lost_int = (int32_t)(exp_int - rec_int);
    uint32_t frac = (exp_int == 0 || lost_int <= 0) ? 0 : ((uint32_t)lost_int << 8) / exp_int;
    rb->fraction_lost = (uint8_t)(frac > 255 ? 255 : frac);
    rb->ext_max_seq = s->cycles + s->max_seq;
    rb->jitter = s->jitter_q4 >> 4;
    rb->lsr = lsr;
    rb->dlsr = dlsr;
}
