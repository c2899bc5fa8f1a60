/*
 * rtp_ext.c - CSRCs, RFC 8285 header extension elements and the RFC 6464
 * audio level (see rtp_ext.h). Bounds are checked before every read.
 */
#include "rtp_ext.h"

#include <errno.h>
#include <string.h>

unsigned media_rtp_csrcs(const uint8_t *pkt, const struct media_rtp *r,
                         uint32_t out[MEDIA_RTP_MAX_CSRC])
{
    /* media_rtp_parse() already checked that 12 + 4 * CC bytes are there. */
    for (unsigned i = 0; i < r->csrc_count; i++)
        out[i] = media_rd32(pkt + 12 + 4 * i);
    return r->csrc_count;
}

void media_rtp_ext_begin(const struct media_rtp *r, struct media_rtp_ext_iter *it)
{
    memset(it, 0, sizeof *it);
    bool one = r->ext_profile == 0xBEDE, two = (r->ext_profile & 0xfff0) == 0x1000;
    if (!r->ext || (!one && !two)) {
        it->done = true;
        return;
    }
    it->p = r->ext;
    it->len = r->ext_len;
    it->two_byte = two;
}

int media_rtp_ext_next(struct media_rtp_ext_iter *it, struct media_rtp_ext_elem *e)
{
    while (!it->done && it->off < it->len) {
        uint8_t b = it->p[it->off];
        if (b == 0) { /* RFC 8285 §4.1: padding between elements, either form */
            it->off++;
            continue;
        }
        size_t rest = it->len - it->off, hdr, elen;
        if (!it->two_byte) {
            if (b >> 4 == 15) { /* §4.2: reserved id, stop parsing here */
                it->done = true;
                return 0;
            }
            if (b >> 4 == 0) /* id 0 is padding, and padding is a zero byte */
                return -EBADMSG;
            e->id = b >> 4;
            elen = (size_t)(b & 0x0f) + 1;
            hdr = 1;
        } else {
            if (rest < 2)
                return -EBADMSG;
            e->id = b;
            elen = it->p[it->off + 1];
            hdr = 2;
        }
        if (elen > rest - hdr)
            return -EBADMSG;
        e->val = it->p + it->off + hdr;
        e->len = elen;
        it->off += hdr + elen;
        return 1;
    }
    it->done = true;
    return 0;
}

int media_rtp_ext_check(const struct media_rtp *r)
{
    struct media_rtp_ext_iter it;
    struct media_rtp_ext_elem e;
    int rc;
    media_rtp_ext_begin(r, &it);
    while ((rc = media_rtp_ext_next(&it, &e)) == 1)
        ;
    return rc;
}

int media_rtp_audio_level(const struct media_rtp *r, uint8_t id, bool *voice, uint8_t *level)
{
    struct media_rtp_ext_iter it;
    struct media_rtp_ext_elem e;
    int rc;
    media_rtp_ext_begin(r, &it);
    while ((rc = media_rtp_ext_next(&it, &e)) == 1) {
        if (e.id != id)
            continue;
        if (e.len != 1)
            return -EBADMSG;
        *voice = e.val[0] & 0x80;
        *level = e.val[0] & 0x7f;
        return 0;
    }
    return rc < 0 ? rc : -ENOENT;
}
