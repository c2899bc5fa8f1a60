/*
 * media_rtp_test.c - RTP/RTCP parsing, rewriting and building, RFC 7983
 * demultiplexing and the RFC 3550 receive statistics.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rtp.h"

/* An Opus packet as Chromium sends it: one-byte header extensions (audio
 * level id 1, MID id 4 = "0"), marker set. */
static const uint8_t OPUS[] = {
    0x90, 0xef, 0x12, 0x34, 0x00, 0x01, 0xe2, 0x40, 0x18, 0x59, 0x27, 0xfe, /* ssrc 408496126 */
    0xbe, 0xde, 0x00, 0x02, 0x10, 0x85, 0x40, '0', 0x00, 0x00, 0x00, 0x00,
    0xaa, 0xbb, 0xcc, 0xdd,
};

static void rtp_header_extensions_and_payload_are_found(void **state)
{
    (void)state;
    struct media_rtp r;
    assert_int_equal(media_rtp_parse(OPUS, sizeof OPUS, &r), 0);
    assert_true(r.marker);
    assert_int_equal(r.pt, 111);
    assert_int_equal(r.seq, 0x1234);
    assert_int_equal(r.ts, 123456);
    assert_int_equal(r.ssrc, 408496126u);
    assert_int_equal(r.ext_profile, 0xBEDE);
    assert_int_equal(r.header_len, 24);
    assert_int_equal(r.payload_len, 4);
    assert_int_equal(r.payload[0], 0xaa);
    const uint8_t *v;
    size_t n;
    assert_int_equal(media_rtp_find_ext(&r, 1, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0], 0x85);
    assert_int_equal(media_rtp_find_ext(&r, 4, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0], '0');
    assert_int_equal(media_rtp_find_ext(&r, 3, &v, &n), -ENOENT);
}

static void rtp_rewrite_changes_only_the_named_field(void **state)
{
    (void)state;
    uint8_t p[sizeof OPUS];
    memcpy(p, OPUS, sizeof p);
    media_rtp_set_ssrc(p, 0xdeadbeef);
    media_rtp_set_seq(p, 7);
    media_rtp_set_ts(p, 99);
    struct media_rtp r;
    assert_int_equal(media_rtp_parse(p, sizeof p, &r), 0);
    assert_int_equal(r.ssrc, 0xdeadbeef);
    assert_int_equal(r.seq, 7);
    assert_int_equal(r.ts, 99);
    assert_true(r.marker);
    assert_memory_equal(p + 12, OPUS + 12, sizeof p - 12);
}

static void malformed_rtp_is_rejected(void **state)
{
    (void)state;
    struct media_rtp r;
    uint8_t p[sizeof OPUS];
    memcpy(p, OPUS, sizeof p);
    assert_int_equal(media_rtp_parse(p, 11, &r), -EBADMSG);
    p[0] = 0x50; /* version 1 */
    assert_int_equal(media_rtp_parse(p, sizeof p, &r), -EBADMSG);
    memcpy(p, OPUS, sizeof p);
    p[15] = 0x40; /* extension longer than the packet */
    assert_int_equal(media_rtp_parse(p, sizeof p, &r), -EBADMSG);
    memcpy(p, OPUS, sizeof p);
    p[0] |= 0x20; /* padding count 0xdd > payload */
    assert_int_equal(media_rtp_parse(p, sizeof p, &r), -EBADMSG);
    p[sizeof p - 1] = 2; /* two bytes of padding: fine */
    assert_int_equal(media_rtp_parse(p, sizeof p, &r), 0);
    assert_int_equal(r.payload_len, 2);
    memcpy(p, OPUS, sizeof p);
    p[0] = 0x8f; /* 15 CSRCs */
    assert_int_equal(media_rtp_parse(p, sizeof p, &r), -EBADMSG);
}

static void rfc7983_demultiplexing(void **state)
{
    (void)state;
    uint8_t stun[20] = {0x00, 0x01};
    uint8_t dtls[13] = {22, 0xfe, 0xfd};
    uint8_t rtcp[8] = {0x81, 200};
    assert_int_equal(media_pkt_classify(stun, sizeof stun), MEDIA_PKT_STUN);
    assert_int_equal(media_pkt_classify(dtls, sizeof dtls), MEDIA_PKT_DTLS);
    assert_int_equal(media_pkt_classify(OPUS, sizeof OPUS), MEDIA_PKT_RTP);
    assert_int_equal(media_pkt_classify(rtcp, sizeof rtcp), MEDIA_PKT_RTCP);
    rtcp[1] = 206;
    assert_int_equal(media_pkt_classify(rtcp, sizeof rtcp), MEDIA_PKT_RTCP);
    assert_int_equal(media_pkt_classify(rtcp, 4), MEDIA_PKT_UNKNOWN);
    uint8_t other[4] = {64, 0, 0, 0};
    assert_int_equal(media_pkt_classify(other, sizeof other), MEDIA_PKT_UNKNOWN);
    assert_int_equal(media_pkt_classify(other, 0), MEDIA_PKT_UNKNOWN);
}

static void rtcp_sr_and_rr_round_trip_through_the_builders(void **state)
{
    (void)state;
    uint8_t buf[256];
    struct media_rtcp_rb rb = {.ssrc = 5, .fraction_lost = 12, .cumulative_lost = -3,
                               .ext_max_seq = 70000, .jitter = 40, .lsr = 0x12345678,
                               .dlsr = 0x10000};
    struct media_rtcp_sr sr = {.ssrc = 9, .ntp = 0x0102030405060708ull, .rtp_ts = 1000,
                               .packets = 50, .octets = 5000};
    int n1 = media_rtcp_write_sr(buf, sizeof buf, &sr, &rb, 1);
    assert_int_equal(n1, 52);
    int n2 = media_rtcp_write_rr(buf + n1, sizeof buf - (size_t)n1, 11, &rb, 1);
    assert_int_equal(n2, 32);
    int n3 = media_rtcp_write_pli(buf + n1 + n2, sizeof buf - (size_t)(n1 + n2), 11, 9);
    assert_int_equal(n3, 12);
    size_t len = (size_t)(n1 + n2 + n3), off = 0;
    struct media_rtcp r;
    struct media_rtcp_sr got;
    struct media_rtcp_rb grb[4];
    unsigned n;
    uint32_t sender, media;

    assert_int_equal(media_rtcp_next(buf, len, &off, &r), 1);
    assert_int_equal(r.pt, MEDIA_RTCP_SR);
    assert_int_equal(media_rtcp_parse_report(&r, &got, &sender, grb, 4, &n), 0);
    assert_int_equal(sender, 9);
    assert_true(got.ntp == sr.ntp);
    assert_int_equal(got.packets, 50);
    assert_int_equal(n, 1);
    assert_int_equal(grb[0].cumulative_lost, -3);
    assert_int_equal(grb[0].ext_max_seq, 70000);
    assert_int_equal(grb[0].lsr, 0x12345678);

    assert_int_equal(media_rtcp_next(buf, len, &off, &r), 1);
    assert_int_equal(r.pt, MEDIA_RTCP_RR);
    assert_int_equal(media_rtcp_parse_report(&r, NULL, &sender, grb, 4, &n), 0);
    assert_int_equal(sender, 11);
    assert_int_equal(grb[0].fraction_lost, 12);

    assert_int_equal(media_rtcp_next(buf, len, &off, &r), 1);
    assert_int_equal(r.pt, MEDIA_RTCP_PSFB);
    assert_int_equal(r.count, MEDIA_RTCP_FMT_PLI);
    assert_int_equal(media_rtcp_parse_fb(&r, &sender, &media), 0);
    assert_int_equal(media, 9);
    assert_int_equal(media_rtcp_next(buf, len, &off, &r), 0);

    /* a length that runs past the buffer */
    off = 0;
    assert_int_equal(media_rtcp_next(buf, 40, &off, &r), -EBADMSG);
    /* an RR claiming more blocks than it has */
    uint8_t bad[8] = {0x83, 201, 0x00, 0x01, 0, 0, 0, 1};
    off = 0;
    assert_int_equal(media_rtcp_next(bad, sizeof bad, &off, &r), 1);
    assert_int_equal(media_rtcp_parse_report(&r, NULL, &sender, grb, 4, &n), -EBADMSG);
    assert_int_equal(media_rtcp_write_rr(buf, 20, 1, &rb, 1), -ENOSPC);
}

static void ntp_time_of_the_unix_epoch(void **state)
{
    (void)state;
    assert_true(media_ntp_from_unix_us(0) == 2208988800ull << 32);
    assert_true(media_ntp_from_unix_us(500000) == (2208988800ull << 32 | 0x80000000u));
    assert_int_equal(media_ntp_mid(0x0001000200030004ull), 0x00020003);
}

static void receive_stats_count_loss_wrap_and_jitter(void **state)
{
    (void)state;
    struct media_rx_stats s;
    media_rx_init(&s, 77, 90000);
    uint64_t t = 1000000;
    /* 65530..65535, 0..9 with 3 and 4 lost: a wrap and two losses */
    uint16_t seq = 65530;
    uint32_t ts = 0;
    for (int i = 0; i < 16; i++, seq++, ts += 3000, t += 33333) {
        if (seq == 3 || seq == 4)
            continue;
        media_rx_update(&s, seq, ts, t, 100);
    }
    assert_int_equal(s.received, 14);
    assert_int_equal(media_rx_expected(&s), 16);
    struct media_rtcp_rb rb;
    media_rx_report(&s, 0x1111, 0x22, &rb);
    assert_int_equal(rb.ssrc, 77);
    assert_int_equal(rb.cumulative_lost, 2);
    assert_int_equal(rb.ext_max_seq, 65536 + 9);
    assert_int_equal(rb.fraction_lost, 2 * 256 / 16);
    assert_int_equal(rb.lsr, 0x1111);
    assert_true(rb.jitter < 10); /* evenly spaced: almost none */
    /* the next interval has no loss */
    media_rx_update(&s, 10, ts, t, 100);
    media_rx_report(&s, 0, 0, &rb);
    assert_int_equal(rb.fraction_lost, 0);
    /* a single huge jump is ignored, two in a row restart the stream */
    media_rx_update(&s, 30000, ts, t, 100);
    assert_int_equal(s.max_seq, 10);
    media_rx_update(&s, 30001, ts, t, 100);
    assert_int_equal(s.max_seq, 30001);
    assert_int_equal(s.received, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rtp_header_extensions_and_payload_are_found),
        cmocka_unit_test(rtp_rewrite_changes_only_the_named_field),
        cmocka_unit_test(malformed_rtp_is_rejected),
        cmocka_unit_test(rfc7983_demultiplexing),
        cmocka_unit_test(rtcp_sr_and_rr_round_trip_through_the_builders),
        cmocka_unit_test(ntp_time_of_the_unix_epoch),
        cmocka_unit_test(receive_stats_count_loss_wrap_and_jitter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
