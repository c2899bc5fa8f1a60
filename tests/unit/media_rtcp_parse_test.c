/*
 * media_rtcp_parse_test.c - compound RTCP read into typed packets (SR, RR,
 * SDES, BYE, NACK, PLI, FIR, REMB, TWCC), malformed compounds refused, and
 * the NACK and FIR writers read back by the parser.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rtcp_parse.h"

struct buf {
    uint8_t b[512];
    size_t n;
};

static void u8(struct buf *w, uint8_t v)
{
    w->b[w->n++] = v;
}
static void u16(struct buf *w, uint16_t v)
{
    u8(w, (uint8_t)(v >> 8));
    u8(w, (uint8_t)v);
}
static void u32(struct buf *w, uint32_t v)
{
    u16(w, (uint16_t)(v >> 16));
    u16(w, (uint16_t)v);
}
/* header with the length (in words - 1) of `words` 32-bit words after it */
static void hdr(struct buf *w, uint8_t count, uint8_t pt, uint16_t words)
{
    u8(w, (uint8_t)(0x80 | count));
    u8(w, pt);
    u16(w, words);
}

static struct media_rtcp_item it;

static void sr_with_a_report_block_then_sdes_cname(void **state)
{
    (void)state;
    struct buf w = {0};
    hdr(&w, 1, 200, 12);
    u32(&w, 0x11223344);                         /* sender */
    u32(&w, 0xe1234567), u32(&w, 0x80000000);    /* NTP */
    u32(&w, 90000), u32(&w, 10), u32(&w, 12000); /* rtp ts, packets, octets */
    u32(&w, 0xaabbccdd), u32(&w, 0x40fffffe);    /* ssrc; fraction 64, lost -2 */
    u32(&w, 0x0001fffe), u32(&w, 17), u32(&w, 5), u32(&w, 6);
    hdr(&w, 1, 202, 3);
    u32(&w, 0x11223344);
    u8(&w, 1), u8(&w, 4), memcpy(w.b + w.n, "abcd", 4), w.n += 4, u8(&w, 0), u8(&w, 0);
    size_t off = 0;
    assert_int_equal(media_rtcp_read(w.b, w.n, &off, &it), 1);
    assert_int_equal(it.type, MEDIA_RTCP_T_SR);
    assert_int_equal(it.sender, 0x11223344);
    assert_int_equal(it.u.report.sr.rtp_ts, 90000);
    assert_int_equal(it.u.report.sr.packets, 10);
    assert_int_equal(it.u.report.sr.octets, 12000);
    assert_true(it.u.report.sr.ntp == 0xe123456780000000ull);
    assert_int_equal(it.u.report.n_rb, 1);
    assert_int_equal(it.u.report.rb[0].ssrc, 0xaabbccdd);
    assert_int_equal(it.u.report.rb[0].fraction_lost, 64);
    assert_int_equal(it.u.report.rb[0].cumulative_lost, -2);
    assert_int_equal(it.u.report.rb[0].ext_max_seq, 0x1fffe);
    assert_int_equal(media_rtcp_read(w.b, w.n, &off, &it), 1);
    assert_int_equal(it.type, MEDIA_RTCP_T_SDES);
    assert_int_equal(it.u.sdes.n, 1);
    assert_int_equal(it.u.sdes.ssrc[0], 0x11223344);
    assert_int_equal(it.u.sdes.cname_len[0], 4);
    assert_memory_equal(it.u.sdes.cname[0], "abcd", 4);
    assert_int_equal(media_rtcp_read(w.b, w.n, &off, &it), 0);
    assert_int_equal(media_rtcp_check(w.b, w.n), 2);
}

static void rr_bye_with_reason(void **state)
{
    (void)state;
    struct buf w = {0};
    hdr(&w, 0, 201, 1);
    u32(&w, 5);
    hdr(&w, 2, 203, 3);
    u32(&w, 5), u32(&w, 6);
    u8(&w, 3), memcpy(w.b + w.n, "bye", 3), w.n += 3; /* reason fills the last word */
    size_t off = 0;
    assert_int_equal(media_rtcp_read(w.b, w.n, &off, &it), 1);
    assert_int_equal(it.type, MEDIA_RTCP_T_RR);
    assert_int_equal(it.u.report.n_rb, 0);
    assert_int_equal(media_rtcp_read(w.b, w.n, &off, &it), 1);
    assert_int_equal(it.type, MEDIA_RTCP_T_BYE);
    assert_int_equal(it.u.bye.n, 2);
    assert_int_equal(it.u.bye.ssrc[1], 6);
    assert_int_equal(it.u.bye.reason_len, 3);
    assert_memory_equal(it.u.bye.reason, "bye", 3);
}

static void nack_pli_fir_remb_twcc_in_one_compound(void **state)
{
    (void)state;
    struct buf w = {0};
    hdr(&w, 1, 205, 4); /* NACK: 2 FCIs */
    u32(&w, 1), u32(&w, 2);
    u16(&w, 65534), u16(&w, 0x0005); /* 65534, 65535, 1 (wraps) */
    u16(&w, 100), u16(&w, 0x8000);   /* 100, 116 */
    hdr(&w, 1, 206, 2);              /* PLI */
    u32(&w, 1), u32(&w, 3);
    hdr(&w, 4, 206, 4); /* FIR */
    u32(&w, 1), u32(&w, 0);
    u32(&w, 0x99), u32(&w, 0x07000000);
    hdr(&w, 15, 206, 5); /* REMB 1 SSRC, exp 2, mantissa 0x3ffff */
    u32(&w, 1), u32(&w, 0);
    memcpy(w.b + w.n, "REMB", 4), w.n += 4;
    u8(&w, 1), u8(&w, (2 << 2) | 3), u16(&w, 0xffff), u32(&w, 0x99);
    hdr(&w, 15, 205, 4); /* TWCC */
    u32(&w, 1), u32(&w, 2);
    u16(&w, 500), u16(&w, 3), u32(&w, 0x00000101);
    size_t off = 0;
    assert_int_equal(media_rtcp_read(w.b, w.n, &off, &it), 1);
    assert_int_equal(it.type, MEDIA_RTCP_T_NACK);
    assert_int_equal(it.media, 2);
    uint16_t seqs[40];
    assert_int_equal(media_rtcp_nack_seqs(&it, seqs, 40), 5);
    assert_int_equal(seqs[0], 65534);
    assert_int_equal(seqs[1], 65535);
    assert_int_equal(seqs[2], 1);
    assert_int_equal(seqs[3], 100);
    assert_int_equal(seqs[4], 116);
    assert_int_equal(media_rtcp_nack_seqs(&it, seqs, 2), 2); /* bounded by max */
    assert_int_equal(media_rtcp_read(w.b, w.n, &off, &it), 1);
    assert_int_equal(it.type, MEDIA_RTCP_T_PLI);
    assert_int_equal(it.media, 3);
    assert_int_equal(media_rtcp_read(w.b, w.n, &off, &it), 1);
    assert_int_equal(it.type, MEDIA_RTCP_T_FIR);
    uint32_t target;
    uint8_t seq;
    media_rtcp_fir_entry(&it, 0, &target, &seq);
    assert_int_equal(target, 0x99);
    assert_int_equal(seq, 7);
    assert_int_equal(media_rtcp_read(w.b, w.n, &off, &it), 1);
    assert_int_equal(it.type, MEDIA_RTCP_T_REMB);
    assert_true(it.u.remb.bitrate == 0x3ffffull << 2);
    assert_int_equal(it.u.remb.n_ssrcs, 1);
    assert_int_equal(media_rtcp_read(w.b, w.n, &off, &it), 1);
    assert_int_equal(it.type, MEDIA_RTCP_T_TWCC);
    assert_int_equal(it.u.twcc.base_seq, 500);
    assert_int_equal(it.u.twcc.status_count, 3);
    assert_int_equal(media_rtcp_read(w.b, w.n, &off, &it), 0);
}

static void padding_on_the_last_packet_only(void **state)
{
    (void)state;
    struct buf w = {0};
    w.b[w.n++] = 0xa0;                               /* V=2 P=1 RC=0 */
    u8(&w, 201), u16(&w, 2), u32(&w, 5), u32(&w, 4); /* 4 bytes of padding, count 4 */
    size_t off = 0;
    assert_int_equal(media_rtcp_read(w.b, w.n, &off, &it), 1);
    assert_int_equal(it.len, 8);
    struct buf two = w;
    hdr(&two, 1, 206, 2), u32(&two, 1), u32(&two, 2); /* a packet after the padded one */
    assert_int_equal(media_rtcp_check(two.b, two.n), -EBADMSG);
    w.b[w.n - 1] = 12; /* more padding than the packet holds */
    assert_int_equal(media_rtcp_check(w.b, w.n), -EBADMSG);
    w.b[w.n - 1] = 0;
    assert_int_equal(media_rtcp_check(w.b, w.n), -EBADMSG);
}

static void malformed_compounds_are_refused(void **state)
{
    (void)state;
    struct buf w = {0};
    hdr(&w, 0, 201, 1), u32(&w, 5);
    size_t off = 0;
    assert_int_equal(media_rtcp_check(w.b, w.n), 1);
    for (size_t len = 1; len < w.n; len++) /* truncated anywhere */
        assert_int_equal(media_rtcp_check(w.b, len), -EBADMSG);
    assert_int_equal(media_rtcp_check(w.b, 0), -EBADMSG); /* nothing at all */
    w.b[0] = 0x40;                                        /* version 1 */
    assert_int_equal(media_rtcp_read(w.b, w.n, &off, &it), -EBADMSG);
    assert_int_equal(off, 0);
    struct buf rr = {0}; /* RC 2 but room for none */
    hdr(&rr, 2, 201, 1), u32(&rr, 5);
    assert_int_equal(media_rtcp_check(rr.b, rr.n), -EBADMSG);
    struct buf sr = {0}; /* an SR too short for its sender info */
    hdr(&sr, 0, 200, 3), u32(&sr, 5), u32(&sr, 0), u32(&sr, 0);
    assert_int_equal(media_rtcp_check(sr.b, sr.n), -EBADMSG);
    struct buf nack = {0}; /* a NACK without FCI */
    hdr(&nack, 1, 205, 2), u32(&nack, 1), u32(&nack, 2);
    assert_int_equal(media_rtcp_check(nack.b, nack.n), -EBADMSG);
    struct buf fir = {0}; /* a FIR with half an entry */
    hdr(&fir, 4, 206, 3), u32(&fir, 1), u32(&fir, 0), u32(&fir, 9);
    assert_int_equal(media_rtcp_check(fir.b, fir.n), -EBADMSG);
    struct buf sdes = {0}; /* an item running past the chunk */
    hdr(&sdes, 1, 202, 2), u32(&sdes, 1), u8(&sdes, 1), u8(&sdes, 9), u8(&sdes, 'x'), u8(&sdes, 0);
    assert_int_equal(media_rtcp_check(sdes.b, sdes.n), -EBADMSG);
    struct buf bye = {0}; /* SC 3 with two SSRCs */
    hdr(&bye, 3, 203, 2), u32(&bye, 1), u32(&bye, 2);
    assert_int_equal(media_rtcp_check(bye.b, bye.n), -EBADMSG);
    struct buf fb = {0}; /* feedback shorter than its two SSRCs */
    hdr(&fb, 1, 206, 1), u32(&fb, 1);
    assert_int_equal(media_rtcp_check(fb.b, fb.n), -EBADMSG);
}

static void unknown_packet_types_are_framed_not_read(void **state)
{
    (void)state;
    struct buf w = {0};
    hdr(&w, 0, 204, 2), u32(&w, 1), memcpy(w.b + w.n, "name", 4), w.n += 4; /* APP */
    size_t off = 0;
    assert_int_equal(media_rtcp_read(w.b, w.n, &off, &it), 1);
    assert_int_equal(it.type, MEDIA_RTCP_T_OTHER);
    assert_int_equal(it.pt, 204);
}

static void nack_writer_packs_pairs_and_reads_back(void **state)
{
    (void)state;
    const uint16_t seqs[] = {65530, 65535, 3, 9, 40};
    uint8_t b[64];
    int n = media_rtcp_write_nack(b, sizeof b, 7, 8, seqs, 5);
    assert_int_equal(n, 12 + 4 * 2); /* 65530 takes up to 10 (wrapping); 40 alone */
    size_t off = 0;
    assert_int_equal(media_rtcp_read(b, (size_t)n, &off, &it), 1);
    assert_int_equal(it.type, MEDIA_RTCP_T_NACK);
    assert_int_equal(it.sender, 7);
    assert_int_equal(it.media, 8);
    uint16_t got[40];
    assert_int_equal(media_rtcp_nack_seqs(&it, got, 40), 5);
    assert_memory_equal(got, seqs, sizeof seqs);
    assert_int_equal(media_rtcp_write_nack(b, 15, 7, 8, seqs, 5), -ENOSPC);
    assert_int_equal(media_rtcp_write_nack(b, 16, 7, 8, seqs, 5), -ENOSPC);
    assert_int_equal(media_rtcp_write_nack(b, sizeof b, 7, 8, seqs, 0), -EINVAL);
}

static void fir_writer_reads_back(void **state)
{
    (void)state;
    uint8_t b[20];
    assert_int_equal(media_rtcp_write_fir(b, 19, 1, 2, 3), -ENOSPC);
    assert_int_equal(media_rtcp_write_fir(b, sizeof b, 1, 0xabcdef01, 42), 20);
    size_t off = 0;
    assert_int_equal(media_rtcp_read(b, sizeof b, &off, &it), 1);
    assert_int_equal(it.type, MEDIA_RTCP_T_FIR);
    uint32_t t;
    uint8_t s;
    media_rtcp_fir_entry(&it, 0, &t, &s);
    assert_int_equal(t, 0xabcdef01);
    assert_int_equal(s, 42);
}

static uint64_t remb_round_trip(uint64_t bps, const uint32_t *ssrcs, unsigned n)
{
    uint8_t b[20 + 4 * 4];
    int len = media_rtcp_write_remb(b, sizeof b, 0x11223344, bps, ssrcs, n);
    assert_int_equal(len, 20 + 4 * (int)n);
    size_t off = 0;
    assert_int_equal(media_rtcp_read(b, (size_t)len, &off, &it), 1);
    assert_int_equal(it.type, MEDIA_RTCP_T_REMB);
    assert_int_equal(it.sender, 0x11223344);
    assert_int_equal(it.media, 0);
    assert_int_equal(it.u.remb.n_ssrcs, n);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(media_rtcp_remb_ssrc(&it, i), ssrcs[i]);
    return it.u.remb.bitrate;
}

static void remb_writer_encodes_exponent_and_mantissa_and_reads_back(void **state)
{
    (void)state;
    const uint32_t ssrcs[4] = {0xa1, 0xb2c3d4e5, 3, 0xffffffff};
    /* up to 2^18 - 1 the mantissa holds it exactly (exponent 0) */
    assert_int_equal(remb_round_trip(262143, ssrcs, 1), 262143);
    /* 2.5 Mbit/s needs exponent 4: rounded down to a multiple of 16 */
    assert_int_equal(remb_round_trip(2500000, ssrcs, 2), 2500000 / 16 * 16);
    assert_int_equal(remb_round_trip(100001, ssrcs, 4), 100001);
    /* a large value keeps 18 significant bits */
    uint64_t big = 123456789012ull, got = remb_round_trip(big, ssrcs, 3);
    assert_true(got <= big && big - got < big >> 17);
    assert_int_equal(remb_round_trip(0, ssrcs, 1), 0);
    uint8_t b[24];
    assert_int_equal(media_rtcp_write_remb(b, 23, 1, 1000, ssrcs, 1), -ENOSPC);
    assert_int_equal(media_rtcp_write_remb(b, sizeof b, 1, 1000, ssrcs, 0), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sr_with_a_report_block_then_sdes_cname),
        cmocka_unit_test(rr_bye_with_reason),
        cmocka_unit_test(nack_pli_fir_remb_twcc_in_one_compound),
        cmocka_unit_test(padding_on_the_last_packet_only),
        cmocka_unit_test(malformed_compounds_are_refused),
        cmocka_unit_test(unknown_packet_types_are_framed_not_read),
        cmocka_unit_test(nack_writer_packs_pairs_and_reads_back),
        cmocka_unit_test(fir_writer_reads_back),
        cmocka_unit_test(remb_writer_encodes_exponent_and_mantissa_and_reads_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
