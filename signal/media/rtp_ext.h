/*
 * rtp_ext.h - the parts of an RTP header beyond the fixed twelve bytes that
 * media_rtp_parse() (rtp.h) only locates: the CSRC list, the header extension
 * elements in both RFC 8285 forms, and the RFC 6464 client-to-mixer audio
 * level. Pure functions over a packet that media_rtp_parse() accepted.
 */
#ifndef MEDIA_RTP_EXT_H
#define MEDIA_RTP_EXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp.h"

#define MEDIA_RTP_MAX_CSRC 15

/* The CSRCs of pkt (parsed into r) into out: their count (0-15). */
unsigned media_rtp_csrcs(const uint8_t *pkt, const struct media_rtp *r,
                         uint32_t out[MEDIA_RTP_MAX_CSRC]);

struct media_rtp_ext_elem {
    uint8_t id;         /* 1-14 (one-byte form) or 1-255 (two-byte form) */
    const uint8_t *val; /* borrowed from the packet */
    size_t len;         /* 1-16 (one-byte form) or 0-255 (two-byte form) */
};

struct media_rtp_ext_iter {
    const uint8_t *p;
    size_t len, off;
    bool two_byte, done;
};

/* Start walking r's extension block. A packet without one, or with a profile
 * other than 0xBEDE and 0x100X (RFC 8285 §4.2, §4.3), yields nothing. */
void media_rtp_ext_begin(const struct media_rtp *r, struct media_rtp_ext_iter *it);
/* 1 with the next element in e, 0 at the end (or at the one-byte form's
 * reserved id 15, which ends parsing), -EBADMSG when an element runs past the
 * block or a one-byte element has id 0 with a length (padding is a zero byte). */
int media_rtp_ext_next(struct media_rtp_ext_iter *it, struct media_rtp_ext_elem *e);
/* The whole block is well formed: 0 or -EBADMSG. */
int media_rtp_ext_check(const struct media_rtp *r);

/* RFC 6464 §3: the audio level element with local id `id`: 0 with voice
 * activity (the V bit) and the level in -dBov (0 loudest, 127 silence),
 * -ENOENT without one, -EBADMSG when it is not exactly one byte long. */
int media_rtp_audio_level(const struct media_rtp *r, uint8_t id, bool *voice, uint8_t *level);

#endif
