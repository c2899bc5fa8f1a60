/*
 * media_fwd_remb_test.c - the SFU core's REMBs to publishers: subscribers'
 * receiver reports about a video slot drive the path estimates (bwe.h); the
 * publisher hears the minimum, with its periodic reports and at once on a
 * big drop; a subscriber's own REMB caps its path; a subscriber that stops
 * reporting stops holding the room down.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fwd.h"
#include "rtcp_parse.h"

#define LOCAL 0x5eed
#define SEC 1000000ull
#define PUB_SSRC 0x1001
#define MIN_BPS 100000
#define MAX_BPS 2500000

struct rig {
    struct media_fwd *f;
    unsigned pub, sub[2];
    uint32_t out[2]; /* each subscriber's slot SSRC */
    uint16_t seq;
    uint64_t now;
};

static void rig_init(struct rig *r)
{
    struct media_fwd_config cfg = {.max_endpoints = 4,
                                   .max_sources = 4,
                                   .queue_len = 4,
                                   .pli_interval_us = SEC / 2,
                                   .local_ssrc = LOCAL,
                                   .min_video_bps = MIN_BPS,
                                   .max_video_bps = MAX_BPS};
    memset(r, 0, sizeof *r);
    r->now = 1000 * SEC;
    assert_int_equal(media_fwd_new(&r->f, &cfg), 0);
    assert_int_equal(media_fwd_join(r->f, NULL, &r->pub), 0);
    assert_int_equal(media_fwd_publish(r->f, r->now, r->pub, PUB_SSRC, MEDIA_KIND_VIDEO, 90000), 0);
    for (unsigned i = 0; i < 2; i++) {
        unsigned slot;
        r->out[i] = 0x51 + i;
        assert_int_equal(media_fwd_join(r->f, NULL, &r->sub[i]), 0);
        assert_int_equal(media_fwd_add_slot(r->f, r->now, r->sub[i], MEDIA_KIND_VIDEO, r->out[i],
                                            90000, 96, &slot),
                         0);
    }
}

/* Everything queued for the subscribers goes; the publisher's feedback stays. */
static void drain_subscribers(struct rig *r)
{
    uint8_t out[MEDIA_FWD_RTCP_MAX + 8];
    for (int ep; (ep = media_fwd_ready(r->f)) >= 0;) {
        size_t len, cap;
        while (media_fwd_peek(r->f, (unsigned)ep, &len, &cap))
            media_fwd_pop(r->f, (unsigned)ep);
        if ((unsigned)ep != r->pub)
            (void)media_fwd_take_rtcp(r->f, (unsigned)ep, out, sizeof out);
    }
}

/* One second of the publisher's video at 1 Mbit/s (125 packets of 1,000 bytes). */
static void publish_second(struct rig *r)
{
    uint8_t p[1000] = {0x80, 96};
    for (unsigned i = 0; i < 125; i++) {
        r->now += SEC / 125;
        p[2] = (uint8_t)(r->seq >> 8), p[3] = (uint8_t)r->seq, r->seq++;
        p[8] = PUB_SSRC >> 24, p[9] = (PUB_SSRC >> 16) & 0xff, p[10] = (PUB_SSRC >> 8) & 0xff,
        p[11] = PUB_SSRC & 0xff;
        assert_true(media_fwd_rtp(r->f, r->now, r->pub, p, sizeof p) >= 0);
        drain_subscribers(r);
    }
}

static void report(struct rig *r, unsigned sub, uint8_t fraction_lost)
{
    struct media_rtcp_rb rb = {.ssrc = r->out[sub], .fraction_lost = fraction_lost};
    uint8_t b[64];
    int n = media_rtcp_write_rr(b, sizeof b, 0x700 + sub, &rb, 1);
    assert_int_equal(media_fwd_rtcp(r->f, r->now, r->sub[sub], b, (size_t)n), 0);
    drain_subscribers(r);
}

/* The bitrate of the REMB about PUB_SSRC in a compound, or 0 when none. */
static uint64_t remb_in(const uint8_t *p, int n)
{
    static struct media_rtcp_item it;
    size_t off = 0;
    uint64_t bps = 0;
    while (n > 0 && media_rtcp_read(p, (size_t)n, &off, &it) == 1)
        if (it.type == MEDIA_RTCP_T_REMB) {
            assert_int_equal(it.sender, LOCAL);
            assert_int_equal(it.u.remb.n_ssrcs, 1);
            assert_int_equal(media_rtcp_remb_ssrc(&it, 0), PUB_SSRC);
            bps = it.u.remb.bitrate;
        }
    return bps;
}

/* The publisher's periodic report: its REMB's bitrate, or 0. */
static uint64_t periodic_remb(struct rig *r)
{
    uint8_t out[1200];
    return remb_in(out, media_fwd_reports(r->f, r->pub, r->now, out, sizeof out));
}

/* What waits in the publisher's feedback queue: its REMB's bitrate, or 0. */
static uint64_t urgent_remb(struct rig *r)
{
    uint8_t out[MEDIA_FWD_RTCP_MAX + 8];
    return remb_in(out, media_fwd_take_rtcp(r->f, r->pub, out, sizeof out));
}

static void loss_lowers_the_publishers_remb_at_once_and_a_clean_path_lets_it_rise(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    publish_second(&r);
    publish_second(&r);
    assert_int_equal(periodic_remb(&r), 0); /* nobody has reported: no REMB */

    report(&r, 0, 0);
    report(&r, 1, 0);
    assert_int_equal(urgent_remb(&r), 0);
    uint64_t clean = periodic_remb(&r);
    assert_true(clean > MAX_BPS - 16 && clean <= MAX_BPS); /* a new path starts at the cap */

    /* subscriber 1 loses 20 %: from the 1 Mbit/s arriving, times 0.9, at once */
    publish_second(&r);
    report(&r, 0, 0);
    report(&r, 1, 51);
    uint64_t first = urgent_remb(&r);
    assert_true(first > 880000 && first < 920000);
    uint64_t prev = first;
    for (int i = 0; i < 5; i++) { /* it keeps losing: every report lowers it */
        publish_second(&r);
        report(&r, 0, 0);
        report(&r, 1, 51);
        uint64_t now = periodic_remb(&r);
        assert_true(now < prev);
        prev = now;
    }
    struct media_fwd_ep_stats st;
    media_fwd_stats(r.f, r.pub, &st);
    assert_true(st.rembs_out >= 7);
    assert_int_equal(st.remb_bps, prev);
    media_fwd_stats(r.f, r.sub[1], &st);
    assert_true(st.slots[0].bwe_bps > 0 && st.slots[0].bwe_bps - prev < 16);

    /* clean again: about 8 % a second up, 2-10 % holds */
    publish_second(&r);
    report(&r, 1, 0);
    uint64_t up = periodic_remb(&r);
    assert_true(up > prev * 106 / 100 && up < prev * 110 / 100);
    publish_second(&r);
    report(&r, 1, 13); /* 5 % */
    uint64_t held = periodic_remb(&r);
    assert_true(held <= up && up - held < 16);
    media_fwd_free(r.f);
}

static void the_floor_holds_and_a_silent_subscriber_stops_holding_the_room_down(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    for (int i = 0; i < 30; i++) { /* 50 % loss for half a minute */
        publish_second(&r);
        report(&r, 0, 0);
        report(&r, 1, 128);
    }
    assert_int_equal(periodic_remb(&r), MIN_BPS);
    /* subscriber 1 goes quiet: after MEDIA_BWE_STALE_US only subscriber 0 counts */
    for (int i = 0; i < 7; i++) {
        publish_second(&r);
        report(&r, 0, 0);
    }
    uint64_t bps = periodic_remb(&r);
    assert_true(bps > MAX_BPS - 16 && bps <= MAX_BPS);
    media_fwd_free(r.f);
}

static void a_subscribers_remb_caps_its_path(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    publish_second(&r);
    report(&r, 0, 0);
    /* subscriber 1's browser says 400 kbit/s for the one stream it names */
    uint8_t b[64];
    int n = media_rtcp_write_remb(b, sizeof b, 0x701, 400000, &r.out[1], 1);
    assert_int_equal(media_fwd_rtcp(r.f, r.now, r.sub[1], b, (size_t)n), 0);
    assert_int_equal(urgent_remb(&r), 400000); /* a big drop from the cap: at once */
    media_fwd_free(r.f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loss_lowers_the_publishers_remb_at_once_and_a_clean_path_lets_it_rise),
        cmocka_unit_test(the_floor_holds_and_a_silent_subscriber_stops_holding_the_room_down),
        cmocka_unit_test(a_subscribers_remb_caps_its_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
