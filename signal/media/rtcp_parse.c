/*
 * rtcp_parse.c - typed compound RTCP reading and the NACK/FIR writers (see
 * rtcp_parse.h). Each packet is framed first (RFC 3550 A.2), then its body is
 * checked against what its header claims before anything is read.
 */
#include "rtcp_parse.h"

#include <errno.h>
#include <string.h>

/* RFC 3550 §6.5: chunks of SSRC + items, each chunk ending in a zero item
 * and padded to 32 bits; only CNAME is kept. */
static int read_sdes(struct media_rtcp_item *it)
{
    const uint8_t *p = it->data;
    size_t off = 4;
    for (unsigned c = 0; c < it->count; c++) {
        if (it->len - off < 4)
            return -EBADMSG;
        uint32_t ssrc = media_rd32(p + off);
        off += 4;
        it->u.sdes.ssrc[c] = ssrc;
        it->u.sdes.cname[c] = NULL;
        it->u.sdes.cname_len[c] = 0;
        for (;;) {
            if (off >= it->len)
                return -EBADMSG;
            uint8_t type = p[off];
            if (type == 0) { /* end of items: skip to the next 32-bit boundary */
                off = (off + 4) & ~(size_t)3;
                if (off > it->len)
                    return -EBADMSG;
                break;
            }
            if (it->len - off < 2 || (size_t)p[off + 1] > it->len - off - 2)
                return -EBADMSG;
            if (type == 1) { /* CNAME */
                it->u.sdes.cname[c] = (const char *)p + off + 2;
                it->u.sdes.cname_len[c] = p[off + 1];
            }
            off += 2 + (size_t)p[off + 1];
        }
    }
    it->u.sdes.n = it->count;
    it->sender = it->count ? it->u.sdes.ssrc[0] : 0;
    return 0;
}

static int read_bye(struct media_rtcp_item *it)
{
    size_t off = 4 + 4u * it->count;
    if (off > it->len)
        return -EBADMSG;
    for (unsigned i = 0; i < it->count; i++)
        it->u.bye.ssrc[i] = media_rd32(it->data + 4 + 4 * i);
    it->u.bye.n = it->count;
    it->sender = it->count ? it->u.bye.ssrc[0] : 0;
    it->u.bye.reason = NULL;
    it->u.bye.reason_len = 0;
    if (off < it->len) { /* §6.6: an optional length-prefixed reason */
        uint8_t n = it->data[off];
        if (n > it->len - off - 1)
            return -EBADMSG;
        it->u.bye.reason = (const char *)it->data + off + 1;
        it->u.bye.reason_len = n;
    }
    return 0;
}

static int read_fb(struct media_rtcp_item *it)
{
    if (it->len < 12)
        return -EBADMSG;
    it->sender = media_rd32(it->data + 4);
    it->media = media_rd32(it->data + 8);
    const uint8_t *fci = it->data + 12;
    size_t fci_len = it->len - 12;
    it->u.fci.fci = fci;
    it->u.fci.n = 0;
    if (it->pt == MEDIA_RTCP_RTPFB && it->count == MEDIA_RTCP_FMT_NACK) {
        if (fci_len == 0 || fci_len % 4) /* RFC 4585 §6.2.1: one or more PID/BLP pairs */
            return -EBADMSG;
        it->type = MEDIA_RTCP_T_NACK;
        it->u.fci.n = (unsigned)(fci_len / 4);
    } else if (it->pt == MEDIA_RTCP_RTPFB && it->count == MEDIA_RTCP_FMT_TWCC) {
        if (fci_len < 8)
            return -EBADMSG;
        it->type = MEDIA_RTCP_T_TWCC;
        it->u.twcc.base_seq = media_rd16(fci);
        it->u.twcc.status_count = media_rd16(fci + 2);
    } else if (it->pt == MEDIA_RTCP_PSFB && it->count == MEDIA_RTCP_FMT_PLI) {
        it->type = MEDIA_RTCP_T_PLI; /* §6.3.1: no FCI; extra words are ignored */
    } else if (it->pt == MEDIA_RTCP_PSFB && it->count == MEDIA_RTCP_FMT_FIR) {
        if (fci_len == 0 || fci_len % 8) /* RFC 5104 §4.3.1.1: SSRC + seq nr + reserved */
            return -EBADMSG;
        it->type = MEDIA_RTCP_T_FIR;
        it->u.fci.n = (unsigned)(fci_len / 8);
    } else if (it->pt == MEDIA_RTCP_PSFB && it->count == MEDIA_RTCP_FMT_REMB && fci_len >= 4 &&
               memcmp(fci, "REMB", 4) == 0) {
        /* draft-alvestrand-rmcat-remb: num SSRC, 6-bit exponent, 18-bit mantissa, SSRCs */
        if (fci_len < 8 || (size_t)fci[4] * 4 > fci_len - 8)
            return -EBADMSG;
        it->type = MEDIA_RTCP_T_REMB;
        uint32_t mant = (uint32_t)(fci[5] & 0x03) << 16 | media_rd16(fci + 6);
        unsigned exp = fci[5] >> 2;
        it->u.remb.bitrate = exp > 46 ? UINT64_MAX : (uint64_t)mant << exp;
        it->u.remb.n_ssrcs = fci[4];
    }
    return 0;
}

int media_rtcp_read(const uint8_t *p, size_t len, size_t *off, struct media_rtcp_item *it)
{
    struct media_rtcp r;
    size_t at = *off;
    int rc = media_rtcp_next(p, len, off, &r);
    if (rc <= 0)
        return rc;
    memset(it, 0, offsetof(struct media_rtcp_item, u));
    it->pt = r.pt;
    it->count = r.count;
    it->data = r.data;
    it->len = r.len;
    if (r.data[0] & 0x20) { /* RFC 3550 §6.4.1: padding only on the last packet */
        uint8_t pad = r.data[r.len - 1];
        if (*off != len || pad == 0 || pad > r.len - 4 || pad % 4)
            goto bad;
        it->len -= pad;
    }
    switch (r.pt) {
    case MEDIA_RTCP_SR:
    case MEDIA_RTCP_RR: {
        struct media_rtcp body = {.pt = r.pt, .count = r.count, .data = r.data, .len = it->len};
        it->type = r.pt == MEDIA_RTCP_SR ? MEDIA_RTCP_T_SR : MEDIA_RTCP_T_RR;
        if (media_rtcp_parse_report(&body, &it->u.report.sr, &it->sender, it->u.report.rb,
                                    MEDIA_RTCP_MAX_RB, &it->u.report.n_rb) != 0)
            goto bad;
        break;
    }
    case MEDIA_RTCP_SDES:
        it->type = MEDIA_RTCP_T_SDES;
        if (read_sdes(it))
            goto bad;
        break;
    case MEDIA_RTCP_BYE:
        it->type = MEDIA_RTCP_T_BYE;
        if (read_bye(it))
            goto bad;
        break;
    case MEDIA_RTCP_RTPFB:
    case MEDIA_RTCP_PSFB:
        if (read_fb(it))
            goto bad;
        break;
    default:
        break;
    }
    return 1;
bad:
    *off = at; /* leave the position where the bad packet starts */
    return -EBADMSG;
}

int media_rtcp_check(const uint8_t *p, size_t len)
{
    struct media_rtcp_item it; /* ~1 KiB: no static, so threads may parse at once */
    size_t off = 0;
    int n = 0, rc;
    while ((rc = media_rtcp_read(p, len, &off, &it)) == 1)
        n++;
    if (rc < 0 || n == 0)
        return -EBADMSG;
    return n;
}

unsigned media_rtcp_nack_seqs(const struct media_rtcp_item *it, uint16_t *out, unsigned max)
{
    unsigned n = 0;
    if (it->type != MEDIA_RTCP_T_NACK)
        return 0;
    for (unsigned i = 0; i < it->u.fci.n; i++) {
        const uint8_t *f = it->u.fci.fci + 4 * i;
        uint16_t pid = media_rd16(f), blp = media_rd16(f + 2);
        if (n < max)
            out[n++] = pid;
        for (unsigned b = 0; b < 16; b++)
            if ((blp >> b & 1) && n < max)
                out[n++] = (uint16_t)(pid + b + 1);
    }
    return n;
}

uint32_t media_rtcp_remb_ssrc(const struct media_rtcp_item *it, unsigned i)
{
    return media_rd32(it->data + 20 + 4 * i);
}

void media_rtcp_fir_entry(const struct media_rtcp_item *it, unsigned i, uint32_t *ssrc,
                          uint8_t *seq)
{
    const uint8_t *f = it->u.fci.fci + 8 * i;
    *ssrc = media_rd32(f);
    *seq = f[4];
}

static void fb_header(uint8_t *b, uint8_t fmt, uint8_t pt, size_t len, uint32_t sender,
                      uint32_t media)
{
    b[0] = (uint8_t)(0x80 | fmt);
    b[1] = pt;
    media_wr16(b + 2, (uint16_t)(len / 4 - 1));
    media_wr32(b + 4, sender);
    media_wr32(b + 8, media);
}

int media_rtcp_write_nack(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media,
                          const uint16_t *seqs, unsigned n)
{
    if (n == 0)
        return -EINVAL;
    if (cap < 16)
        return -ENOSPC;
    size_t len = 12;
    uint16_t pid = 0, blp = 0;
    for (unsigned i = 0; i <= n; i++) {
        if (i < n && i > 0) {
            uint16_t d = (uint16_t)(seqs[i] - pid);
            if (d == 0)
                continue;
            if (d <= 16) {
                blp |= (uint16_t)(1u << (d - 1));
                continue;
            }
        }
        if (i > 0) { /* close the pair being built */
            if (cap < len + 4)
                return -ENOSPC;
            media_wr16(buf + len, pid);
            media_wr16(buf + len + 2, blp);
            len += 4;
        }
        if (i < n) {
            pid = seqs[i];
            blp = 0;
        }
    }
    fb_header(buf, MEDIA_RTCP_FMT_NACK, MEDIA_RTCP_RTPFB, len, sender, media);
    return (int)len;
}

int media_rtcp_write_fir(uint8_t *buf, size_t cap, uint32_t sender, uint32_t target, uint8_t seq)
{
    if (cap < 20)
        return -ENOSPC;
    fb_header(buf, MEDIA_RTCP_FMT_FIR, MEDIA_RTCP_PSFB, 20, sender, 0);
    media_wr32(buf + 12, target);
    buf[16] = seq;
    buf[17] = buf[18] = buf[19] = 0;
    return 20;
}

int media_rtcp_write_remb(uint8_t *buf, size_t cap, uint32_t sender, uint64_t bps,
                          const uint32_t *ssrcs, unsigned n)
{
    if (n == 0 || n > 255)
        return -EINVAL;
    size_t len = 20 + 4 * (size_t)n;
    if (cap < len)
        return -ENOSPC;
    unsigned exp = 0;
    while (bps >> exp > 0x3ffff)
        exp++;
    uint32_t mant = (uint32_t)(bps >> exp);
    fb_header(buf, MEDIA_RTCP_FMT_REMB, MEDIA_RTCP_PSFB, len, sender, 0); /* §2.2: media SSRC 0 */
    memcpy(buf + 12, "REMB", 4);
    buf[16] = (uint8_t)n;
    buf[17] = (uint8_t)(exp << 2 | mant >> 16);
    media_wr16(buf + 18, (uint16_t)mant);
    for (unsigned i = 0; i < n; i++)
        media_wr32(buf + 20 + 4 * i, ssrcs[i]);
    return (int)len;
}
