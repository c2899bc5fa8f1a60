/*
 * media_fwd_test.c - the SFU forwarding core: one copy of each packet per
 * bound subscriber, rewritten onto its own stream; bounded queues that drop
 * and count; keyframe requests upstream, merged within the interval; NACKs
 * mapped back to the publisher's numbers; a source switch and a publisher
 * leaving.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fwd.h"
#include "rtcp_parse.h"

#define LOCAL 0x5eed
#define MS 1000ull

static struct media_fwd *room(unsigned queue_len)
{
    struct media_fwd_config cfg = {.max_endpoints = 8,
                                   .max_sources = 8,
                                   .queue_len = queue_len,
                                   .pli_interval_us = 500 * MS,
                                   .local_ssrc = LOCAL};
    struct media_fwd *f;
    assert_int_equal(media_fwd_new(&f, &cfg), 0);
    return f;
}

/* RTP with a one-byte extension element (id 1, audio level) and a payload. */
static size_t pkt(uint8_t *p, uint32_t ssrc, uint16_t seq, uint32_t ts, uint8_t fill)
{
    const uint8_t h[] = {0x90,
                         0x80 | 96,
                         (uint8_t)(seq >> 8),
                         (uint8_t)seq,
                         (uint8_t)(ts >> 24),
                         (uint8_t)(ts >> 16),
                         (uint8_t)(ts >> 8),
                         (uint8_t)ts,
                         (uint8_t)(ssrc >> 24),
                         (uint8_t)(ssrc >> 16),
                         (uint8_t)(ssrc >> 8),
                         (uint8_t)ssrc,
                         0xbe,
                         0xde,
                         0x00,
                         0x01,
                         0x10,
                         0x22,
                         0x00,
                         0x00};
    memcpy(p, h, sizeof h);
    memset(p + sizeof h, fill, 100);
    return sizeof h + 100;
}

struct scene {
    struct media_fwd *f;
    unsigned p1, p2, sub, slot;
};

/* A room with publisher p1 (SSRC base + 1), p2 (base + 2) when two are asked
 * for, and sub receiving one slot of that kind on SSRC 0x51. */
static struct scene scene(unsigned queue_len, enum media_kind kind, bool two, uint32_t base)
{
    struct scene sc = {.f = room(queue_len)};
    uint32_t clock = kind == MEDIA_KIND_AUDIO ? 48000 : 90000;
    assert_int_equal(media_fwd_join(sc.f, NULL, &sc.p1), 0);
    if (two)
        assert_int_equal(media_fwd_join(sc.f, NULL, &sc.p2), 0);
    assert_int_equal(media_fwd_join(sc.f, NULL, &sc.sub), 0);
    assert_int_equal(media_fwd_publish(sc.f, 0, sc.p1, base + 1, kind, clock), 0);
    if (two)
        assert_int_equal(media_fwd_publish(sc.f, 0, sc.p2, base + 2, kind, clock), 0);
    assert_int_equal(media_fwd_add_slot(sc.f, 0, sc.sub, kind, 0x51, clock, 96, &sc.slot), 0);
    return sc;
}

static void forwarded_once_per_subscriber_rewritten_without_extensions(void **state)
{
    (void)state;
    struct media_fwd *f = room(4);
    unsigned pub, s1, s2, slot;
    assert_int_equal(media_fwd_join(f, "pub", &pub), 0);
    assert_int_equal(media_fwd_join(f, "s1", &s1), 0);
    assert_int_equal(media_fwd_join(f, "s2", &s2), 0);
    assert_string_equal(media_fwd_user(f, s2), "s2");
    assert_int_equal(media_fwd_publish(f, 0, pub, 0xaaaa, MEDIA_KIND_VIDEO, 90000), 0);
    assert_int_equal(media_fwd_publish(f, 0, s1, 0xaaaa, MEDIA_KIND_VIDEO, 90000), -EEXIST);
    assert_int_equal(media_fwd_add_slot(f, 0, s1, MEDIA_KIND_VIDEO, 0x51, 90000, 100, &slot), 0);
    assert_int_equal(media_fwd_add_slot(f, 0, s2, MEDIA_KIND_VIDEO, 0x52, 90000, 101, &slot), 0);
    assert_int_equal(media_fwd_add_slot(f, 0, s2, MEDIA_KIND_VIDEO, 0x52, 90000, 101, &slot),
                     -EEXIST);
    uint8_t p[200];
    size_t n = pkt(p, 0xaaaa, 7, 1234, 0x5a);
    assert_int_equal(media_fwd_rtp(f, 10 * MS, pub, p, n), 2);
    int seen = 0;
    for (int ep; (ep = media_fwd_ready(f)) >= 0;) {
        size_t len, cap;
        uint8_t *q;
        while ((q = media_fwd_peek(f, (unsigned)ep, &len, &cap)) != NULL) {
            struct media_rtp r;
            assert_int_equal(media_rtp_parse(q, len, &r), 0);
            assert_int_equal(len, n - 8); /* the extension is gone */
            assert_true(cap >= len + 148);
            assert_int_equal(r.ext_profile, 0);
            assert_int_equal(r.ssrc, (unsigned)ep == s1 ? 0x51u : 0x52u);
            assert_int_equal(r.pt, (unsigned)ep == s1 ? 100 : 101);
            assert_true(r.marker);
            assert_int_equal(r.seq, 7);
            assert_int_equal(r.ts, 1234);
            assert_int_equal(r.payload_len, 100);
            assert_int_equal(r.payload[99], 0x5a);
            seen++;
            media_fwd_pop(f, (unsigned)ep);
        }
        (void)media_fwd_take_rtcp(f, (unsigned)ep, p, sizeof p); /* the keyframe requests */
    }
    assert_int_equal(seen, 2);
    assert_int_equal(media_fwd_rtp(f, 10 * MS, s1, p, n), -ENOENT); /* s1 does not send 0x51 */
    assert_int_equal(media_fwd_rtp(f, 10 * MS, pub, p, 5), -EBADMSG);
    media_fwd_free(f);
}

static void full_queue_drops_and_counts_then_recovers(void **state)
{
    (void)state;
    struct scene sc = scene(3, MEDIA_KIND_AUDIO, false, 0);
    struct media_fwd *f = sc.f;
    unsigned pub = sc.p1, sub = sc.sub;
    uint8_t p[200];
    for (uint16_t i = 0; i < 5; i++) {
        size_t n = pkt(p, 1, i, 960u * i, (uint8_t)i);
        assert_int_equal(media_fwd_rtp(f, i * 20 * MS, pub, p, n), i < 3 ? 1 : 0);
    }
    struct media_fwd_ep_stats st;
    media_fwd_stats(f, sub, &st);
    assert_int_equal(st.queued, 3);
    assert_int_equal(st.dropped, 2);
    assert_int_equal(media_fwd_ready(f), (int)sub);
    assert_int_equal(media_fwd_ready(f), -1); /* on the list once */
    size_t len, cap;
    uint8_t *q = media_fwd_peek(f, sub, &len, &cap);
    struct media_rtp r;
    assert_int_equal(media_rtp_parse(q, len, &r), 0);
    assert_int_equal(r.seq, 0); /* oldest first */
    media_fwd_pop(f, sub);
    size_t n = pkt(p, 1, 5, 960u * 5, 5);
    assert_int_equal(media_fwd_rtp(f, 100 * MS, pub, p, n), 1);
    media_fwd_free(f);
}

static unsigned count_type(const uint8_t *p, int n, enum media_rtcp_type t, uint32_t media)
{
    static struct media_rtcp_item it;
    unsigned c = 0;
    size_t off = 0;
    if (n <= 0)
        return 0;
    while (media_rtcp_read(p, (size_t)n, &off, &it) == 1)
        if (it.type == t && it.media == media && it.sender == LOCAL)
            c++;
    return c;
}

/* Take ep's upstream RTCP: how many PLIs about media it holds. */
static unsigned plis_for(struct media_fwd *f, unsigned ep, uint32_t media)
{
    uint8_t out[MEDIA_FWD_RTCP_MAX + 8];
    return count_type(out, media_fwd_take_rtcp(f, ep, out, sizeof out), MEDIA_RTCP_T_PLI, media);
}

static size_t fb(uint8_t *b, uint8_t fmt, uint8_t pt, uint32_t media, uint32_t fir_target)
{
    const uint8_t h[] = {(uint8_t)(0x80 | fmt),
                         pt,
                         0,
                         fir_target ? 4 : 2,
                         0,
                         0,
                         0,
                         9,
                         (uint8_t)(media >> 24),
                         (uint8_t)(media >> 16),
                         (uint8_t)(media >> 8),
                         (uint8_t)media,
                         (uint8_t)(fir_target >> 24),
                         (uint8_t)(fir_target >> 16),
                         (uint8_t)(fir_target >> 8),
                         (uint8_t)fir_target,
                         1,
                         0,
                         0,
                         0};
    memcpy(b, h, sizeof h);
    return fir_target ? 20 : 12;
}

static void keyframe_requests_go_upstream_at_most_once_per_interval(void **state)
{
    (void)state;
    struct media_fwd *f = room(8);
    unsigned pub, s1, s2, slot;
    uint8_t b[32];
    media_fwd_join(f, NULL, &pub);
    media_fwd_join(f, NULL, &s1);
    media_fwd_join(f, NULL, &s2);
    media_fwd_add_slot(f, 1000 * MS, s1, MEDIA_KIND_VIDEO, 0x51, 90000, 96, &slot);
    assert_int_equal(plis_for(f, pub, 0xc0), 0);
    /* publishing binds s1's slot, which asks for a keyframe at once */
    media_fwd_publish(f, 1000 * MS, pub, 0xc0, MEDIA_KIND_VIDEO, 90000);
    assert_int_equal(media_fwd_ready(f), (int)pub);
    assert_int_equal(plis_for(f, pub, 0xc0), 1);
    /* s2 joins 100 ms later and s1 asks again: merged into one, sent when due */
    media_fwd_add_slot(f, 1100 * MS, s2, MEDIA_KIND_VIDEO, 0x52, 90000, 96, &slot);
    assert_int_equal(media_fwd_rtcp(f, 1200 * MS, s1, b, fb(b, 1, 206, 0x51, 0)), 0);
    assert_int_equal(plis_for(f, pub, 0xc0), 0);
    media_fwd_tick(f, 1400 * MS);
    assert_int_equal(plis_for(f, pub, 0xc0), 0);
    media_fwd_tick(f, 1500 * MS);
    assert_int_equal(plis_for(f, pub, 0xc0), 1);
    media_fwd_tick(f, 2100 * MS); /* nothing more was asked */
    assert_int_equal(plis_for(f, pub, 0xc0), 0);
    /* a FIR names its target in the FCI; past the interval it goes at once */
    assert_int_equal(media_fwd_rtcp(f, 2200 * MS, s2, b, fb(b, 4, 206, 0, 0x52)), 0);
    assert_int_equal(plis_for(f, pub, 0xc0), 1);
    /* a PLI about a stream s1 does not receive goes nowhere */
    assert_int_equal(media_fwd_rtcp(f, 9000 * MS, s1, b, fb(b, 1, 206, 0x77, 0)), 0);
    assert_int_equal(plis_for(f, pub, 0xc0), 0);
    struct media_fwd_ep_stats st;
    media_fwd_stats(f, pub, &st);
    assert_int_equal(st.plis_out, 3);
    media_fwd_stats(f, s1, &st);
    assert_int_equal(st.plis_in, 2);
    media_fwd_free(f);
}

static void a_connected_subscriber_asks_for_keyframes_of_its_video(void **state)
{
    (void)state;
    struct scene sc = scene(4, MEDIA_KIND_VIDEO, false, 0xc0);
    assert_int_equal(plis_for(sc.f, sc.p1, 0xc1), 1); /* the bind asked at 0 */
    media_fwd_want_keyframes(sc.f, 100 * MS, sc.sub);
    assert_int_equal(plis_for(sc.f, sc.p1, 0xc1), 0); /* merged: within the interval */
    media_fwd_tick(sc.f, 500 * MS);
    assert_int_equal(plis_for(sc.f, sc.p1, 0xc1), 1);
    media_fwd_want_keyframes(sc.f, 2000 * MS, sc.p1); /* receives nothing: asks nothing */
    assert_int_equal(plis_for(sc.f, sc.p1, 0xc1), 0);
    media_fwd_free(sc.f);
}

static void drain(struct media_fwd *f)
{
    uint8_t out[MEDIA_FWD_RTCP_MAX + 8];
    for (int ep; (ep = media_fwd_ready(f)) >= 0;) {
        size_t len, cap;
        while (media_fwd_peek(f, (unsigned)ep, &len, &cap))
            media_fwd_pop(f, (unsigned)ep);
        (void)media_fwd_take_rtcp(f, (unsigned)ep, out, sizeof out);
    }
}

static uint16_t last_seq(struct media_fwd *f, unsigned ep)
{
    size_t len, cap;
    uint8_t *q, *last = NULL;
    while ((q = media_fwd_peek(f, ep, &len, &cap)) != NULL) {
        last = q;
        media_fwd_pop(f, ep); /* the buffer stays valid until it is reused */
    }
    assert_non_null(last);
    return (uint16_t)(last[2] << 8 | last[3]);
}

static void nacks_reach_the_publisher_in_its_own_numbers_across_a_switch(void **state)
{
    (void)state;
    struct scene sc = scene(16, MEDIA_KIND_VIDEO, true, 0xc0);
    struct media_fwd *f = sc.f;
    unsigned p1 = sc.p1, p2 = sc.p2, sub = sc.sub, slot = sc.slot;
    uint8_t p[200];
    drain(f);
    const uint16_t s1[] = {65534, 65535, 0, 1};
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(media_fwd_rtp(f, (i + 1) * MS, p1, p, pkt(p, 0xc1, s1[i], 0, 1)), 1);
    assert_int_equal(media_fwd_rtp(f, 5 * MS, p2, p, pkt(p, 0xc2, 99, 0, 1)), 0); /* not bound */
    assert_int_equal(last_seq(f, sub), 1);
    assert_int_equal(media_fwd_bind(f, 600 * MS, sub, slot, 0xc2), 0);
    assert_int_equal(media_fwd_bind(f, 600 * MS, sub, slot, 0xdead), -ENOENT);
    assert_int_equal(media_fwd_bind(f, 600 * MS, sub, 5, 0xc2), -EINVAL);
    assert_int_equal(media_fwd_rtp(f, 610 * MS, p1, p, pkt(p, 0xc1, 2, 0, 1)),
                     0); /* switched away */
    assert_int_equal(media_fwd_rtp(f, 620 * MS, p2, p, pkt(p, 0xc2, 100, 0, 1)), 1);
    assert_int_equal(media_fwd_rtp(f, 630 * MS, p2, p, pkt(p, 0xc2, 101, 0, 1)), 1);
    assert_int_equal(last_seq(f, sub), 3); /* +1 across the switch */
    drain(f);
    /* sub NACKs out 1 (p1's, before the switch), 2 and 3 */
    const uint16_t ask[] = {1, 2, 3};
    uint8_t b[64];
    int n = media_rtcp_write_nack(b, sizeof b, 9, 0x51, ask, 3);
    assert_int_equal(media_fwd_rtcp(f, 700 * MS, sub, b, (size_t)n), 0);
    assert_int_equal(media_fwd_ready(f), (int)p2);
    assert_int_equal(media_fwd_ready(f), -1);
    uint8_t out[MEDIA_FWD_RTCP_MAX + 8];
    n = media_fwd_take_rtcp(f, p2, out, sizeof out);
    assert_true(n > 0);
    static struct media_rtcp_item it;
    size_t off = 0;
    assert_int_equal(media_rtcp_read(out, (size_t)n, &off, &it), 1);
    assert_int_equal(it.type, MEDIA_RTCP_T_RR); /* compound starts with a report */
    assert_int_equal(media_rtcp_read(out, (size_t)n, &off, &it), 1);
    assert_int_equal(it.type, MEDIA_RTCP_T_NACK);
    assert_int_equal(it.media, 0xc2);
    uint16_t seqs[8];
    assert_int_equal(media_rtcp_nack_seqs(&it, seqs, 8), 2);
    assert_int_equal(seqs[0], 100);
    assert_int_equal(seqs[1], 101);
    assert_int_equal(media_fwd_take_rtcp(f, p1, out, sizeof out), 0);
    media_fwd_free(f);
}

static void a_leaving_publisher_hands_its_subscribers_to_another(void **state)
{
    (void)state;
    struct scene sc = scene(16, MEDIA_KIND_AUDIO, true, 0xa0);
    struct media_fwd *f = sc.f;
    unsigned p1 = sc.p1, p2 = sc.p2, sub = sc.sub;
    uint8_t p[200];
    struct media_fwd_ep_stats st;
    media_fwd_stats(f, sub, &st);
    assert_int_equal(st.slots[0].src_ssrc, 0xa1);
    assert_int_equal(media_fwd_rtp(f, 0, p1, p, pkt(p, 0xa1, 10, 0, 1)), 1);
    assert_int_equal(media_fwd_members(f), 3);
    media_fwd_leave(f, 20 * MS, p1);
    assert_int_equal(media_fwd_members(f), 2);
    media_fwd_stats(f, sub, &st);
    assert_int_equal(st.slots[0].src_ssrc, 0xa2);
    assert_int_equal(media_fwd_rtp(f, 40 * MS, p2, p, pkt(p, 0xa2, 5000, 0, 1)), 1);
    assert_int_equal(last_seq(f, sub), 11);
    /* the slot of the one who left is free again, and its source is gone */
    unsigned again;
    assert_int_equal(media_fwd_join(f, NULL, &again), 0);
    assert_int_equal(media_fwd_publish(f, 0, again, 0xa1, MEDIA_KIND_AUDIO, 48000), 0);
    media_fwd_free(f);
}

static void reports_cover_received_sources_and_sent_slots(void **state)
{
    (void)state;
    struct scene sc = scene(4, MEDIA_KIND_AUDIO, false, 0xa0);
    struct media_fwd *f = sc.f;
    unsigned pub = sc.p1, sub = sc.sub;
    uint8_t p[200], out[1200];
    assert_int_equal(media_fwd_reports(f, pub, 0, out, sizeof out), 0); /* nothing yet */
    media_fwd_rtp(f, 1000 * MS, pub, p, pkt(p, 0xa1, 1, 0, 1));
    media_fwd_rtp(f, 1040 * MS, pub, p, pkt(p, 0xa1, 3, 1920, 1)); /* 2 lost */
    static struct media_rtcp_item it;
    int n = media_fwd_reports(f, pub, 1100 * MS, out, sizeof out);
    size_t off = 0;
    assert_int_equal(media_rtcp_read(out, (size_t)n, &off, &it), 1);
    assert_int_equal(it.type, MEDIA_RTCP_T_RR);
    assert_int_equal(it.u.report.n_rb, 1);
    assert_int_equal(it.u.report.rb[0].ssrc, 0xa1);
    assert_int_equal(it.u.report.rb[0].cumulative_lost, 1);
    n = media_fwd_reports(f, sub, 1100 * MS, out, sizeof out);
    off = 0;
    assert_int_equal(media_rtcp_read(out, (size_t)n, &off, &it), 1);
    assert_int_equal(media_rtcp_read(out, (size_t)n, &off, &it), 1);
    assert_int_equal(it.type, MEDIA_RTCP_T_SR);
    assert_int_equal(it.sender, 0x51);
    assert_int_equal(it.u.report.sr.packets, 2);
    assert_int_equal(it.u.report.sr.rtp_ts, 1920 + 48 * 60);
    media_fwd_free(f);
}

static void a_receiver_gets_each_source_on_one_slot_only(void **state)
{
    (void)state;
    struct scene sc = scene(4, MEDIA_KIND_VIDEO, true, 0xc0);
    unsigned slot2;
    assert_int_equal(
        media_fwd_add_slot(sc.f, 0, sc.sub, MEDIA_KIND_VIDEO, 0x52, 90000, 96, &slot2), 0);
    struct media_fwd_ep_stats st;
    media_fwd_stats(sc.f, sc.sub, &st);
    assert_int_equal(st.slots[0].src_ssrc, 0xc1);
    assert_int_equal(st.slots[1].src_ssrc, 0xc2); /* the free one */
    assert_int_equal(media_fwd_bind(sc.f, 0, sc.sub, slot2, 0xc1), -EEXIST);
    assert_int_equal(media_fwd_bind(sc.f, 0, sc.sub, sc.slot, 0xc1), 0); /* already there */
    assert_int_equal(media_fwd_bind(sc.f, 0, sc.sub, sc.slot, 0), 0);   /* none, then */
    assert_int_equal(media_fwd_bind(sc.f, 0, sc.sub, slot2, 0xc1), 0);
    uint8_t p[200];
    assert_int_equal(media_fwd_rtp(sc.f, 0, sc.p1, p, pkt(p, 0xc1, 1, 0, 1)), 1); /* one copy */
    assert_int_equal(media_fwd_rtp(sc.f, 0, sc.p2, p, pkt(p, 0xc2, 1, 0, 1)), 0);
    media_fwd_free(sc.f);
}

static void malformed_rtcp_is_refused_whole(void **state)
{
    (void)state;
    struct scene sc = scene(4, MEDIA_KIND_VIDEO, false, 0xbf);
    struct media_fwd *f = sc.f;
    unsigned pub = sc.p1, sub = sc.sub;
    uint8_t b[64];
    drain(f);
    size_t n = fb(b, 1, 206, 0x51, 0);
    b[n] = 0x80, b[n + 1] = 201, b[n + 2] = 0, b[n + 3] = 9; /* then a packet past the end */
    assert_int_equal(media_fwd_rtcp(f, 5000 * MS, sub, b, n + 8), -EBADMSG);
    assert_int_equal(plis_for(f, pub, 0xc0), 0); /* the valid PLI before it was not acted on */
    struct media_fwd_ep_stats st;
    media_fwd_stats(f, sub, &st);
    assert_int_equal(st.rtcp_errors, 1);
    media_fwd_free(f);
}

static void bad_configuration_and_full_room_are_refused(void **state)
{
    (void)state;
    struct media_fwd_config cfg = {.max_endpoints = 2, .max_sources = 1, .queue_len = 0};
    struct media_fwd *f;
    assert_int_equal(media_fwd_new(&f, &cfg), -EINVAL);
    cfg.queue_len = 1;
    assert_int_equal(media_fwd_new(&f, &cfg), 0);
    unsigned a, b, c;
    assert_int_equal(media_fwd_join(f, NULL, &a), 0);
    assert_int_equal(media_fwd_join(f, NULL, &b), 0);
    assert_int_equal(media_fwd_join(f, NULL, &c), -ENOSPC);
    assert_int_equal(media_fwd_publish(f, 0, a, 1, MEDIA_KIND_AUDIO, 48000), 0);
    assert_int_equal(media_fwd_publish(f, 0, b, 2, MEDIA_KIND_AUDIO, 48000), -ENOSPC);
    media_fwd_free(f);
    media_fwd_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forwarded_once_per_subscriber_rewritten_without_extensions),
        cmocka_unit_test(full_queue_drops_and_counts_then_recovers),
        cmocka_unit_test(keyframe_requests_go_upstream_at_most_once_per_interval),
        cmocka_unit_test(a_connected_subscriber_asks_for_keyframes_of_its_video),
        cmocka_unit_test(nacks_reach_the_publisher_in_its_own_numbers_across_a_switch),
        cmocka_unit_test(a_leaving_publisher_hands_its_subscribers_to_another),
        cmocka_unit_test(reports_cover_received_sources_and_sent_slots),
        cmocka_unit_test(a_receiver_gets_each_source_on_one_slot_only),
        cmocka_unit_test(malformed_rtcp_is_refused_whole),
        cmocka_unit_test(bad_configuration_and_full_room_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
