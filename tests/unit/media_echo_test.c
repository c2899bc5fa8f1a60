/*
 * media_echo_test.c - the echo's RTP/RTCP behaviour, fed plain packets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "echo.h"

#define IN_A 1000u
#define IN_V 2000u
#define OUT_V 2001u
#define LOCAL 9u

static size_t rtp(uint8_t *p, uint32_t ssrc, uint16_t seq, uint32_t ts)
{
    memset(p, 0, 32);
    p[0] = 0x80;
    p[1] = 96;
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    p[4] = (uint8_t)(ts >> 24);
    p[5] = (uint8_t)(ts >> 16);
    p[6] = (uint8_t)(ts >> 8);
    p[7] = (uint8_t)ts;
    p[8] = (uint8_t)(ssrc >> 24);
    p[9] = (uint8_t)(ssrc >> 16);
    p[10] = (uint8_t)(ssrc >> 8);
    p[11] = (uint8_t)ssrc;
    memset(p + 12, 0x5a, 20);
    return 32;
}

static void setup_echo(struct media_echo *e)
{
    media_echo_init(e, LOCAL);
    assert_int_equal(media_echo_add_stream(e, MEDIA_KIND_AUDIO, IN_A, IN_A, 48000), 0);
    assert_int_equal(media_echo_add_stream(e, MEDIA_KIND_VIDEO, IN_V, OUT_V, 90000), 0);
    assert_int_equal(media_echo_add_stream(e, MEDIA_KIND_VIDEO, IN_V, 5, 90000), -EEXIST);
}

static void rtp_comes_back_with_the_same_payload_on_the_echo_ssrc(void **state)
{
    (void)state;
    struct media_echo e;
    setup_echo(&e);
    uint8_t p[64], orig[64];
    size_t n = rtp(p, IN_V, 100, 9000);
    memcpy(orig, p, n);
    assert_int_equal(media_echo_rtp(&e, 1000000, p, n), 1);
    struct media_rtp r;
    assert_int_equal(media_rtp_parse(p, n, &r), 0);
    assert_int_equal(r.ssrc, OUT_V);
    assert_int_equal(r.seq, 100);
    assert_int_equal(r.ts, 9000);
    assert_memory_equal(p + 12, orig + 12, n - 12);
    /* audio echoes on the sender's own SSRC: the packet is untouched */
    n = rtp(p, IN_A, 7, 960);
    memcpy(orig, p, n);
    assert_int_equal(media_echo_rtp(&e, 1000000, p, n), 1);
    assert_memory_equal(p, orig, n);
    /* unknown SSRCs and garbage are dropped */
    n = rtp(p, 31337, 1, 1);
    assert_int_equal(media_echo_rtp(&e, 1000000, p, n), 0);
    assert_int_equal(media_echo_rtp(&e, 1000000, p, 5), 0);
    assert_int_equal(e.rtp_dropped, 2);
    assert_int_equal(media_echo_find_out(&e, OUT_V)->tx_packets, 1);
    assert_int_equal(media_echo_find_out(&e, OUT_V)->tx_octets, 20);
}

static void a_sender_report_is_answered_by_a_receiver_report(void **state)
{
    (void)state;
    struct media_echo e;
    setup_echo(&e);
    uint8_t p[64];
    for (uint16_t s = 0; s < 10; s++)
        media_echo_rtp(&e, 1000000 + s * 33000u, p, rtp(p, IN_V, s, s * 3000u));
    uint8_t in[128], out[256];
    struct media_rtcp_sr sr = {.ssrc = IN_V, .ntp = 0xAAAABBBBCCCCDDDDull, .rtp_ts = 27000,
                               .packets = 10, .octets = 200};
    int n = media_rtcp_write_sr(in, sizeof in, &sr, NULL, 0);
    int m = media_echo_rtcp(&e, 2000000, in, (size_t)n, out, sizeof out);
    assert_int_equal(m, 32);
    size_t off = 0;
    struct media_rtcp r;
    assert_int_equal(media_rtcp_next(out, (size_t)m, &off, &r), 1);
    struct media_rtcp_rb rb[4];
    unsigned nrb;
    uint32_t sender;
    assert_int_equal(media_rtcp_parse_report(&r, NULL, &sender, rb, 4, &nrb), 0);
    assert_int_equal(r.pt, MEDIA_RTCP_RR);
    assert_int_equal(sender, LOCAL);
    assert_int_equal(nrb, 1);
    assert_int_equal(rb[0].ssrc, IN_V);
    assert_int_equal(rb[0].lsr, 0xBBBBCCCC);
    assert_int_equal(rb[0].dlsr, 0);
    assert_int_equal(rb[0].ext_max_seq, 9);
    assert_int_equal(rb[0].cumulative_lost, 0);
}

static void pli_fir_and_nack_go_back_to_the_browsers_sender(void **state)
{
    (void)state;
    struct media_echo e;
    setup_echo(&e);
    uint8_t in[128], out[256];
    size_t len = 0;
    int n = media_rtcp_write_rr(in, sizeof in, 0x77, NULL, 0);
    len += (size_t)n;
    len += (size_t)media_rtcp_write_pli(in + len, sizeof in - len, 0x77, OUT_V);
    /* NACK for seq 100 + bitmask */
    const uint8_t nack[] = {0x81, 205, 0, 3, 0, 0, 0, 0x77, 0, 0, 0x07, 0xd1, 0, 100, 0, 1};
    memcpy(in + len, nack, sizeof nack);
    len += sizeof nack;
    /* FIR: the target SSRC in the FCI, media field 0 */
    const uint8_t fir[] = {0x84, 206, 0, 4, 0, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0x07, 0xd1, 5, 0, 0, 0};
    memcpy(in + len, fir, sizeof fir);
    len += sizeof fir;
    /* REMB about nothing we echo: ignored */
    len += (size_t)media_rtcp_write_pli(in + len, sizeof in - len, 0x77, 424242);

    int m = media_echo_rtcp(&e, 1000000, in, len, out, sizeof out);
    assert_int_equal(m, 8 + 12 + 16 + 20);
    size_t off = 0;
    struct media_rtcp r;
    uint32_t sender, media;
    assert_int_equal(media_rtcp_next(out, (size_t)m, &off, &r), 1);
    assert_int_equal(r.pt, MEDIA_RTCP_RR);
    assert_int_equal(media_rtcp_next(out, (size_t)m, &off, &r), 1);
    assert_int_equal(r.pt, MEDIA_RTCP_PSFB);
    assert_int_equal(media_rtcp_parse_fb(&r, &sender, &media), 0);
    assert_int_equal(sender, LOCAL);
    assert_int_equal(media, IN_V);
    assert_int_equal(media_rtcp_next(out, (size_t)m, &off, &r), 1);
    assert_int_equal(r.pt, MEDIA_RTCP_RTPFB);
    assert_int_equal(media_rtcp_parse_fb(&r, &sender, &media), 0);
    assert_int_equal(media, IN_V);
    assert_int_equal(r.data[13], 100); /* the lost packet id is kept */
    assert_int_equal(media_rtcp_next(out, (size_t)m, &off, &r), 1);
    assert_int_equal(r.count, MEDIA_RTCP_FMT_FIR);
    assert_int_equal(r.data[15], IN_V & 0xff);
    assert_int_equal(r.data[16], 5); /* FIR sequence number kept */
    struct media_echo_stream *s = media_echo_find_in(&e, IN_V);
    assert_int_equal(s->plis, 1);
    assert_int_equal(s->nacks, 1);
    assert_int_equal(s->firs, 1);
    /* too small an output buffer */
    assert_int_equal(media_echo_rtcp(&e, 1000000, in, len, out, 30), -ENOSPC);
    /* garbage */
    assert_int_equal(media_echo_rtcp(&e, 1000000, in, 7, out, sizeof out), -EBADMSG);
}

static void round_trip_time_from_the_browsers_receiver_report(void **state)
{
    (void)state;
    struct media_echo e;
    setup_echo(&e);
    uint8_t p[64], out[256];
    media_echo_rtp(&e, 1000000, p, rtp(p, IN_V, 1, 3000));
    /* our periodic SR at t = 2 s */
    uint64_t t_sr = 2000000;
    int n = media_echo_tick(&e, t_sr, out, sizeof out);
    assert_int_equal(n, 8 + 24 + 28); /* RR with one block (video seen), SR for OUT_V */
    size_t off = 0;
    struct media_rtcp r;
    assert_int_equal(media_rtcp_next(out, (size_t)n, &off, &r), 1);
    assert_int_equal(media_rtcp_next(out, (size_t)n, &off, &r), 1);
    assert_int_equal(r.pt, MEDIA_RTCP_SR);
    struct media_rtcp_sr sr;
    uint32_t sender;
    unsigned nrb;
    assert_int_equal(media_rtcp_parse_report(&r, &sr, &sender, NULL, 0, &nrb), 0);
    assert_int_equal(sr.ssrc, OUT_V);
    assert_int_equal(sr.rtp_ts, 3000 + 90000); /* one second later on the 90 kHz clock */
    /* the browser holds it 100 ms and answers; it arrives at 2.150 s: RTT 50 ms */
    struct media_rtcp_rb rb = {.ssrc = OUT_V, .lsr = media_ntp_mid(sr.ntp), .dlsr = 6554,
                               .fraction_lost = 3};
    uint8_t in[64];
    n = media_rtcp_write_rr(in, sizeof in, 0x77, &rb, 1);
    assert_int_equal(media_echo_rtcp(&e, t_sr + 150000, in, (size_t)n, out, sizeof out), 0);
    struct media_echo_stream *s = media_echo_find_out(&e, OUT_V);
    assert_true(s->have_rtt);
    assert_true(s->rtt_ms > 49.0 && s->rtt_ms < 51.0);
    assert_int_equal(s->remote_fraction_lost, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rtp_comes_back_with_the_same_payload_on_the_echo_ssrc),
        cmocka_unit_test(a_sender_report_is_answered_by_a_receiver_report),
        cmocka_unit_test(pli_fir_and_nack_go_back_to_the_browsers_sender),
        cmocka_unit_test(round_trip_time_from_the_browsers_receiver_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
