/*
 * fuzz_media_rtp.c - libFuzzer harness for mediad's RTP header parsing
 * (rtp.c, rtp_ext.c) and the forwarding path behind it (fwd.c, rewrite.c).
 * Beyond "no crash": a packet that parses accounts for every byte, every
 * extension element lies inside the extension block, and its forwarded copy
 * parses again with the subscriber's SSRC and the same payload.
 */
#include "fwd.h"
#include "fuzz_check.h"
#include "rtp_ext.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void forward(const uint8_t *data, size_t size, const struct media_rtp *r)
{
    static struct media_fwd *f;
    static unsigned pub, sub, slot;
    if (!f) {
        struct media_fwd_config cfg = {.max_endpoints = 2,
                                       .max_sources = 2,
                                       .queue_len = 2,
                                       .pli_interval_us = 1000,
                                       .local_ssrc = 1};
        CHECK(media_fwd_new(&f, &cfg) == 0);
        CHECK(media_fwd_join(f, NULL, &pub) == 0 && media_fwd_join(f, NULL, &sub) == 0);
        CHECK(media_fwd_add_slot(f, 0, sub, MEDIA_KIND_VIDEO, 0x51, 90000, 96, &slot) == 0);
    }
    /* The source is whatever SSRC this packet has: republish it. */
    media_fwd_leave(f, 0, pub);
    CHECK(media_fwd_join(f, NULL, &pub) == 0);
    if (r->ssrc == 0x51 || r->ssrc == 0 ||
        media_fwd_publish(f, 0, pub, r->ssrc, MEDIA_KIND_VIDEO, 90000) != 0)
        return;
    int n = media_fwd_rtp(f, 1, pub, data, size);
    CHECK(n == (size <= MEDIA_FWD_PKT_MAX ? 1 : -EBADMSG));
    size_t len, cap;
    uint8_t *q;
    while ((q = media_fwd_peek(f, sub, &len, &cap)) != NULL) {
        struct media_rtp c;
        CHECK(len <= size && cap >= len);
        CHECK(media_rtp_parse(q, len, &c) == 0);
        CHECK(c.ssrc == 0x51 && c.ext_len == 0 && c.csrc_count == r->csrc_count);
        CHECK(c.payload_len == r->payload_len && c.padding == r->padding);
        CHECK(memcmp(c.payload, r->payload, r->payload_len) == 0);
        media_fwd_pop(f, sub);
    }
    static uint8_t out[MEDIA_FWD_RTCP_MAX + 8];
    int ep;
    while ((ep = media_fwd_ready(f)) >= 0)
        (void)media_fwd_take_rtcp(f, (unsigned)ep, out, sizeof out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct media_rtp r;
    if (media_rtp_parse(data, size, &r) != 0)
        return 0;
    CHECK(r.header_len + r.payload_len + r.padding == size);
    CHECK(r.header_len >= 12u + 4u * r.csrc_count);
    CHECK(r.payload == data + r.header_len);
    uint32_t csrc[MEDIA_RTP_MAX_CSRC];
    CHECK(media_rtp_csrcs(data, &r, csrc) == r.csrc_count);
    struct media_rtp_ext_iter it;
    struct media_rtp_ext_elem e;
    int rc;
    media_rtp_ext_begin(&r, &it);
    while ((rc = media_rtp_ext_next(&it, &e)) == 1) {
        CHECK(e.val >= r.ext && e.val + e.len <= r.ext + r.ext_len);
        CHECK(e.id != 0);
    }
    CHECK(rc == 0 || rc == -EBADMSG);
    CHECK(media_rtp_ext_check(&r) == rc);
    bool voice;
    uint8_t level;
    for (uint8_t id = 1; id < 4; id++)
        if (media_rtp_audio_level(&r, id, &voice, &level) == 0)
            CHECK(level <= 127);
    forward(data, size, &r);
    return 0;
}
