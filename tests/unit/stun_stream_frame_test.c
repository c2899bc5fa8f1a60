/*
 * stun_stream_frame_test.c - splitting a TCP/TLS byte stream into STUN and
 * ChannelData messages (RFC 8489 §6.2.2, RFC 8656 §12.5): whole frames,
 * frames arriving a byte at a time, ChannelData padding, back-to-back
 * frames, the largest frames, and bytes that can never start a frame.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "stun/stun.h"

static const uint8_t tid[STUN_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* A Binding request with SOFTWARE: a real message the codec also parses. */
static size_t binding(uint8_t *buf, size_t cap)
{
    struct stun_builder b;
    size_t len;
    stun_build_init(&b, buf, cap, STUN_BINDING, STUN_REQUEST, tid);
    stun_put_str(&b, STUN_ATTR_SOFTWARE, "stream test");
    stun_put_fingerprint(&b);
    assert_int_equal(stun_build_finish(&b, &len), 0);
    return len;
}

static size_t frame_of(const uint8_t *buf, size_t len)
{
    size_t n = 99;
    const char *why = NULL;
    assert_int_equal(stun_stream_frame(buf, len, &n, &why), 0);
    assert_null(why);
    return n;
}

static void test_stun_message_is_one_frame(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t len = binding(buf, sizeof(buf));
    assert_int_equal(frame_of(buf, len), len);
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, buf, frame_of(buf, len)), 0);
}

static void test_stun_message_needs_every_byte(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t len = binding(buf, sizeof(buf));
    for (size_t have = 0; have < len; have++)
        assert_int_equal(frame_of(buf, have), 0);
    assert_int_equal(frame_of(buf, len), len);
}

static void test_back_to_back_frames_split_at_the_boundary(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t a = binding(buf, sizeof(buf));
    stun_chandata_put_header(buf + a, 0x4001, 5);
    memcpy(buf + a + 4, "hello\0\0\0", 8);
    size_t b = binding(buf + a + 12, sizeof(buf) - a - 12);
    size_t total = a + 12 + b;
    assert_int_equal(frame_of(buf, total), a);
    assert_int_equal(frame_of(buf + a, total - a), 12);
    assert_int_equal(frame_of(buf + a + 12, total - a - 12), b);
}

static void test_channel_data_includes_padding(void **state)
{
    (void)state;
    uint8_t buf[64] = {0};
    static const struct {
        uint16_t payload;
        size_t frame;
    } cases[] = {{0, 4}, {1, 8}, {3, 8}, {4, 8}, {5, 12}, {8, 12}, {9, 16}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        stun_chandata_put_header(buf, 0x4000, cases[i].payload);
        assert_int_equal(frame_of(buf, sizeof(buf)), cases[i].frame);
        /* one byte of padding short is still incomplete */
        assert_int_equal(frame_of(buf, cases[i].frame - 1), 0);
    }
}

static void test_channel_data_header_needs_four_bytes(void **state)
{
    (void)state;
    uint8_t buf[8] = {0x40, 0x00, 0x00, 0x00};
    assert_int_equal(frame_of(buf, 1), 0);
    assert_int_equal(frame_of(buf, 3), 0);
    assert_int_equal(frame_of(buf, 4), 4);
}

static void test_largest_frames(void **state)
{
    (void)state;
    static uint8_t buf[STUN_STREAM_FRAME_MAX];
    memset(buf, 0, sizeof(buf));
    stun_chandata_put_header(buf, 0x7ffe, 0xffff);
    assert_int_equal(frame_of(buf, sizeof(buf)), 4 + 0x10000);
    buf[0] = 0x00;
    buf[1] = 0x01;
    buf[2] = 0xff;
    buf[3] = 0xfc;
    buf[4] = 0x21;
    buf[5] = 0x12;
    buf[6] = 0xa4;
    buf[7] = 0x42;
    assert_int_equal(frame_of(buf, sizeof(buf)), STUN_STREAM_FRAME_MAX);
    assert_int_equal(frame_of(buf, sizeof(buf) - 1), 0);
}

static void expect_garbage(const uint8_t *buf, size_t len)
{
    size_t n = 99;
    const char *why = NULL;
    assert_int_equal(stun_stream_frame(buf, len, &n, &why), -EBADMSG);
    assert_non_null(why);
    assert_int_equal(n, 0);
}

static void test_garbage_is_an_error_from_the_first_byte(void **state)
{
    (void)state;
    /* First bits 10 or 11 (RTP, RTCP, anything else) can never start a
     * frame: rejected from the first byte, before a length is known. */
    static const uint8_t rtp[] = {0x80};
    static const uint8_t high[] = {0xff, 0xff, 0xff, 0xff};
    static const uint8_t c0[] = {0xc0, 0x00, 0x00, 0x00};
    expect_garbage(rtp, sizeof(rtp));
    expect_garbage(high, sizeof(high));
    expect_garbage(c0, sizeof(c0));
}

static void test_stun_length_not_multiple_of_four_is_garbage(void **state)
{
    (void)state;
    uint8_t buf[256];
    binding(buf, sizeof(buf));
    buf[3] |= 1;
    expect_garbage(buf, 4);
}

static void test_tls_client_hello_on_plain_port_is_garbage(void **state)
{
    (void)state;
    /* A TLS 1.2 record header plus the start of a ClientHello: first bits 00,
     * so it looks like STUN until the magic cookie is missing. */
    static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x00, 0xc4, 0x01, 0x00, 0x00, 0xc0, 0x03};
    assert_int_equal(frame_of(hello, 7), 0);
    expect_garbage(hello, sizeof(hello));
}

static void test_empty_input_needs_more(void **state)
{
    (void)state;
    size_t n = 99;
    assert_int_equal(stun_stream_frame(NULL, 0, &n, NULL), 0);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stun_message_is_one_frame),
        cmocka_unit_test(test_stun_message_needs_every_byte),
        cmocka_unit_test(test_back_to_back_frames_split_at_the_boundary),
        cmocka_unit_test(test_channel_data_includes_padding),
        cmocka_unit_test(test_channel_data_header_needs_four_bytes),
        cmocka_unit_test(test_largest_frames),
        cmocka_unit_test(test_garbage_is_an_error_from_the_first_byte),
        cmocka_unit_test(test_stun_length_not_multiple_of_four_is_garbage),
        cmocka_unit_test(test_tls_client_hello_on_plain_port_is_garbage),
        cmocka_unit_test(test_empty_input_needs_more),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
