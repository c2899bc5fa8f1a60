/*
 * media_rewrite_test.c - one outgoing stream fed from switching sources:
 * SSRC, sequence number and timestamp continue across a switch, wrap around
 * correctly, late packets of a source are dropped, and NACKed sequence numbers
 * map back to the source's own.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rewrite.h"

#define OUT 0x0a0b0c0d
#define A 0x1111
#define B 0x2222

struct sent {
    int rc;
    uint16_t seq;
    uint32_t ts, ssrc;
    uint8_t pt;
};

/* Build a packet of ssrc/seq/ts, run it through w at now, read back the header. */
static struct sent feed(struct media_rewriter *w, uint64_t now, uint32_t ssrc, uint16_t seq,
                        uint32_t ts)
{
    uint8_t p[16] = {0x80, 96};
    p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
    for (int i = 0; i < 4; i++) {
        p[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
        p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    }
    struct media_rtp r;
    assert_int_equal(media_rtp_parse(p, sizeof p, &r), 0);
    struct sent s = {.rc = media_rewriter_rtp(w, now, p, &r)};
    assert_int_equal(media_rtp_parse(p, sizeof p, &r), 0);
    s.seq = r.seq, s.ts = r.ts, s.ssrc = r.ssrc, s.pt = r.pt;
    return s;
}

static void first_source_keeps_its_numbering_under_our_ssrc(void **state)
{
    (void)state;
    struct media_rewriter w;
    media_rewriter_init(&w, OUT, 90000, MEDIA_REWRITE_KEEP_PT);
    assert_int_equal(feed(&w, 0, A, 5, 100).rc, 0); /* no source yet */
    media_rewriter_switch(&w, A);
    struct sent s = feed(&w, 1000, A, 5, 100);
    assert_int_equal(s.rc, 1);
    assert_int_equal(s.ssrc, OUT);
    assert_int_equal(s.seq, 5);
    assert_int_equal(s.ts, 100);
    assert_int_equal(s.pt, 96);
    assert_int_equal(feed(&w, 2000, B, 6, 100).rc, 0); /* another source is not ours */
}

static void switch_continues_sequence_and_time(void **state)
{
    (void)state;
    struct media_rewriter w;
    media_rewriter_init(&w, OUT, 90000, 100);
    media_rewriter_switch(&w, A);
    feed(&w, 1000000, A, 1000, 50000);
    struct sent s = feed(&w, 1033000, A, 1001, 52970);
    assert_int_equal(s.seq, 1001);
    assert_int_equal(s.pt, 100); /* the subscriber's payload type */
    media_rewriter_switch(&w, B);
    assert_int_equal(feed(&w, 1040000, A, 1002, 53000).rc, 0); /* the old source stops at once */
    /* B's first packet 100 ms after A's last: +1 in sequence, +9000 ticks in time */
    s = feed(&w, 1133000, B, 40000, 7);
    assert_int_equal(s.rc, 1);
    assert_int_equal(s.ssrc, OUT);
    assert_int_equal(s.seq, 1002);
    assert_int_equal(s.ts, 52970 + 9000);
    s = feed(&w, 1166000, B, 40001, 7 + 2970);
    assert_int_equal(s.seq, 1003);
    assert_int_equal(s.ts, 52970 + 9000 + 2970);
    /* and back to A, which went on meanwhile */
    media_rewriter_switch(&w, A);
    s = feed(&w, 1166000, A, 1010, 60000); /* same instant: the timestamp still moves by one */
    assert_int_equal(s.seq, 1004);
    assert_int_equal(s.ts, 52970 + 9000 + 2970 + 1);
}

static void wraparound_of_sequence_and_timestamp(void **state)
{
    (void)state;
    struct media_rewriter w;
    media_rewriter_init(&w, OUT, 48000, MEDIA_REWRITE_KEEP_PT);
    media_rewriter_switch(&w, A);
    struct sent s = feed(&w, 0, A, 65535, 0xffffff00u);
    assert_int_equal(s.seq, 65535);
    s = feed(&w, 20000, A, 0, 0xffffff00u + 960); /* both wrap on the source */
    assert_int_equal(s.seq, 0);
    assert_int_equal(s.ts, 0x2c0);
    media_rewriter_switch(&w, B);
    s = feed(&w, 40000, B, 65535, 5); /* B starts just before its own wrap */
    assert_int_equal(s.seq, 1);
    assert_int_equal(s.ts, 0x2c0 + 960);
    s = feed(&w, 60000, B, 0, 5 + 960);
    assert_int_equal(s.seq, 2);
    assert_int_equal(s.ts, 0x2c0 + 1920);
    uint16_t src;
    assert_int_equal(media_rewriter_to_src(&w, 2, &src), 0);
    assert_int_equal(src, 0);
    assert_int_equal(media_rewriter_to_src(&w, 1, &src), 0);
    assert_int_equal(src, 65535);
}

static void late_packets_from_before_a_switch_are_dropped(void **state)
{
    (void)state;
    struct media_rewriter w;
    media_rewriter_init(&w, OUT, 90000, MEDIA_REWRITE_KEEP_PT);
    media_rewriter_switch(&w, A);
    feed(&w, 0, A, 10, 0);
    media_rewriter_switch(&w, B);
    feed(&w, 1000, B, 500, 0);
    assert_int_equal(feed(&w, 2000, B, 499, 0).rc, 0); /* would collide with A's number 10 */
    assert_int_equal(w.dropped_old, 1);
    /* reordering inside the source is kept, with the right number */
    feed(&w, 3000, B, 502, 0);
    struct sent s = feed(&w, 4000, B, 501, 0);
    assert_int_equal(s.rc, 1);
    assert_int_equal(s.seq, 12);
    assert_int_equal(w.last_seq, 13); /* the highest sent stays the newest */
}

static void nacks_map_to_the_current_source_only(void **state)
{
    (void)state;
    struct media_rewriter w;
    media_rewriter_init(&w, OUT, 90000, MEDIA_REWRITE_KEEP_PT);
    uint16_t src;
    assert_int_equal(media_rewriter_to_src(&w, 1, &src), -ENOENT); /* nothing sent */
    media_rewriter_switch(&w, A);
    for (uint16_t i = 0; i < 5; i++)
        feed(&w, i, A, (uint16_t)(300 + i), 0);
    media_rewriter_switch(&w, B);
    for (uint16_t i = 0; i < 5; i++)
        feed(&w, 10 + i, B, (uint16_t)(7000 + i), 0);
    /* out 300-304 came from A, 305-309 from B */
    assert_int_equal(media_rewriter_to_src(&w, 306, &src), 0);
    assert_int_equal(src, 7001);
    assert_int_equal(media_rewriter_to_src(&w, 304, &src), -ENOENT); /* A's: gone with the switch */
    assert_int_equal(media_rewriter_to_src(&w, 310, &src), -ENOENT); /* not sent yet */
}

static void sender_report_time_advances_with_the_clock(void **state)
{
    (void)state;
    struct media_rewriter w;
    media_rewriter_init(&w, OUT, 90000, MEDIA_REWRITE_KEEP_PT);
    media_rewriter_switch(&w, A);
    feed(&w, 1000000, A, 1, 4000);
    assert_int_equal(media_rewriter_ts_now(&w, 1000000), 4000);
    assert_int_equal(media_rewriter_ts_now(&w, 1500000), 4000 + 45000);
    assert_int_equal(w.packets, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_source_keeps_its_numbering_under_our_ssrc),
        cmocka_unit_test(switch_continues_sequence_and_time),
        cmocka_unit_test(wraparound_of_sequence_and_timestamp),
        cmocka_unit_test(late_packets_from_before_a_switch_are_dropped),
        cmocka_unit_test(nacks_map_to_the_current_source_only),
        cmocka_unit_test(sender_report_time_advances_with_the_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
