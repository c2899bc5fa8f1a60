/*
 * media_rtp_ext_test.c - CSRCs, RFC 8285 header extensions in both forms,
 * the RFC 6464 audio level and padding, on packets built field by field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rtp_ext.h"

/* V=2 P X CC | M PT | seq | ts | ssrc */
static size_t fixed(uint8_t *p, bool pad, bool ext, uint8_t cc, uint16_t seq, uint32_t ts,
                    uint32_t ssrc)
{
    p[0] = (uint8_t)(0x80 | (pad ? 0x20 : 0) | (ext ? 0x10 : 0) | cc);
    p[1] = 96;
    p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
    for (int i = 0; i < 4; i++) {
        p[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
        p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    }
    return 12;
}

/* A packet whose extension block (its 4-byte header included) is ext, parsed into r. */
static size_t with_ext(uint8_t *p, const uint8_t *ext, size_t ext_len, struct media_rtp *r)
{
    size_t n = fixed(p, false, true, 0, 1, 2, 3);
    memcpy(p + n, ext, ext_len);
    n += ext_len;
    assert_int_equal(media_rtp_parse(p, n, r), 0);
    return n;
}

/* The element ids of r in order, ending in 0 (the end) or -1 (an error). */
static void ids(const struct media_rtp *r, int *out, unsigned max)
{
    struct media_rtp_ext_iter it;
    struct media_rtp_ext_elem e;
    int rc = 0;
    unsigned i = 0;
    media_rtp_ext_begin(r, &it);
    while (i + 1 < max && (rc = media_rtp_ext_next(&it, &e)) == 1)
        out[i++] = e.id;
    out[i] = rc < 0 ? -1 : 0;
}

static void csrcs_are_read_in_order(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = fixed(p, false, false, 3, 1, 2, 3);
    const uint32_t want[3] = {0x11111111, 0xdeadbeef, 7};
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 4; b++)
            p[n++] = (uint8_t)(want[i] >> (24 - 8 * b));
    p[n++] = 0xaa;
    struct media_rtp r;
    assert_int_equal(media_rtp_parse(p, n, &r), 0);
    uint32_t got[MEDIA_RTP_MAX_CSRC];
    assert_int_equal(media_rtp_csrcs(p, &r, got), 3);
    assert_memory_equal(got, want, sizeof want);
    assert_int_equal(r.header_len, 24);
    assert_int_equal(r.payload_len, 1);
}

static void csrc_count_past_the_end_is_refused(void **state)
{
    (void)state;
    uint8_t p[20];
    fixed(p, false, false, 15, 1, 2, 3); /* claims 60 bytes of CSRCs */
    struct media_rtp r;
    assert_int_equal(media_rtp_parse(p, sizeof p, &r), -EBADMSG);
}

static void one_byte_elements_padding_and_audio_level(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = fixed(p, false, true, 0, 1, 2, 3);
    const uint8_t ext[] = {0xbe, 0xde,      0x00, 0x03, /* 3 words */
                           0x10, 0x80 | 33,             /* id 1 len 1: voice, -33 dBov */
                           0x00,                        /* padding */
                           0x22, 'a',       'b',  'c',  /* id 2 len 3 */
                           0x00, 0x00,      0x00, 0x00, 0x00};
    memcpy(p + n, ext, sizeof ext);
    n += sizeof ext;
    p[n++] = 0x55;
    struct media_rtp r;
    assert_int_equal(media_rtp_parse(p, n, &r), 0);
    assert_int_equal(media_rtp_ext_check(&r), 0);
    struct media_rtp_ext_iter it;
    struct media_rtp_ext_elem e;
    media_rtp_ext_begin(&r, &it);
    assert_int_equal(media_rtp_ext_next(&it, &e), 1);
    assert_int_equal(e.id, 1);
    assert_int_equal(e.len, 1);
    assert_int_equal(media_rtp_ext_next(&it, &e), 1);
    assert_int_equal(e.id, 2);
    assert_int_equal(e.len, 3);
    assert_memory_equal(e.val, "abc", 3);
    assert_int_equal(media_rtp_ext_next(&it, &e), 0);
    bool voice = false;
    uint8_t level = 0;
    assert_int_equal(media_rtp_audio_level(&r, 1, &voice, &level), 0);
    assert_true(voice);
    assert_int_equal(level, 33);
    assert_int_equal(media_rtp_audio_level(&r, 2, &voice, &level), -EBADMSG); /* 3 bytes */
    assert_int_equal(media_rtp_audio_level(&r, 5, &voice, &level), -ENOENT);
    assert_int_equal(r.payload_len, 1);
    assert_int_equal(r.payload[0], 0x55);
}

static void one_byte_id_15_stops_parsing(void **state)
{
    (void)state;
    uint8_t p[64];
    const uint8_t ext[] = {0xbe, 0xde, 0x00, 0x02, 0x10, 0x05, 0xf3, 0x20, 0x01, 0x00, 0x00, 0x00};
    struct media_rtp r;
    with_ext(p, ext, sizeof ext, &r);
    int got[4];
    ids(&r, got, 4);
    assert_int_equal(got[0], 1);
    assert_int_equal(got[1], 0); /* id 2 after the reserved id is never seen */
    bool v;
    uint8_t l;
    assert_int_equal(media_rtp_audio_level(&r, 2, &v, &l), -ENOENT);
}

static void two_byte_elements_with_zero_length(void **state)
{
    (void)state;
    uint8_t p[64];
    const uint8_t ext[] = {0x10, 0x00, 0x00, 0x02, /* 0x1000, appbits 0, 2 words */
                           200,  0,                /* id 200, empty */
                           0,                      /* padding */
                           1,    1,    0x7f,       /* id 1 len 1: audio level silence, no voice */
                           0,    0};
    struct media_rtp r;
    with_ext(p, ext, sizeof ext, &r);
    struct media_rtp_ext_iter it;
    struct media_rtp_ext_elem e;
    media_rtp_ext_begin(&r, &it);
    assert_int_equal(media_rtp_ext_next(&it, &e), 1);
    assert_int_equal(e.id, 200);
    assert_int_equal(e.len, 0);
    int got[4];
    ids(&r, got, 4);
    assert_int_equal(got[1], 1);
    assert_int_equal(got[2], 0);
    bool v = true;
    uint8_t l = 0;
    assert_int_equal(media_rtp_audio_level(&r, 1, &v, &l), 0);
    assert_false(v);
    assert_int_equal(l, 127);
}

static void element_running_past_the_block_is_refused(void **state)
{
    (void)state;
    uint8_t p[64];
    struct media_rtp r;
    int got[4];
    const uint8_t one[] = {0xbe, 0xde, 0x00, 0x01, 0x1f, 0, 0, 0}; /* id 1 claims 16 bytes in 3 */
    with_ext(p, one, sizeof one, &r);
    assert_int_equal(media_rtp_ext_check(&r), -EBADMSG);
    ids(&r, got, 4);
    assert_int_equal(got[0], -1);
    bool v;
    uint8_t l;
    assert_int_equal(media_rtp_audio_level(&r, 1, &v, &l), -EBADMSG);
    const uint8_t zero[] = {0xbe, 0xde, 0x00, 0x01, 0x01, 0, 0, 0}; /* id 0 with a length */
    with_ext(p, zero, sizeof zero, &r);
    assert_int_equal(media_rtp_ext_check(&r), -EBADMSG);
    const uint8_t two[] = {0x10, 0x00, 0x00, 0x01, 0, 0, 0, 9}; /* id 9 with no length byte */
    with_ext(p, two, sizeof two, &r);
    assert_int_equal(media_rtp_ext_check(&r), -EBADMSG);
}

static void extension_length_past_the_packet_is_refused(void **state)
{
    (void)state;
    uint8_t p[24];
    size_t n = fixed(p, false, true, 0, 1, 2, 3);
    const uint8_t ext[] = {0xbe, 0xde, 0x00, 0x03, 0, 0, 0, 0}; /* 3 words, 1 there */
    memcpy(p + n, ext, sizeof ext);
    struct media_rtp r;
    assert_int_equal(media_rtp_parse(p, n + sizeof ext, &r), -EBADMSG);
    assert_int_equal(media_rtp_parse(p, n + 2, &r), -EBADMSG); /* half an extension header */
}

static void unknown_profile_yields_no_elements(void **state)
{
    (void)state;
    uint8_t p[24];
    const uint8_t ext[] = {0x12, 0x34, 0x00, 0x01, 0x10, 0x05, 0, 0};
    struct media_rtp r;
    with_ext(p, ext, sizeof ext, &r);
    int got[2];
    ids(&r, got, 2);
    assert_int_equal(got[0], 0);
}

static void padding_is_removed_and_bad_padding_refused(void **state)
{
    (void)state;
    uint8_t p[32];
    size_t n = fixed(p, true, false, 0, 1, 2, 3);
    memcpy(p + n, "\x01\x02\x03\x00\x00\x03", 6); /* 3 bytes of payload, 3 of padding */
    struct media_rtp r;
    assert_int_equal(media_rtp_parse(p, n + 6, &r), 0);
    assert_int_equal(r.payload_len, 3);
    assert_int_equal(r.padding, 3);
    p[n + 5] = 0; /* a zero count */
    assert_int_equal(media_rtp_parse(p, n + 6, &r), -EBADMSG);
    p[n + 5] = 7; /* longer than what follows the header */
    assert_int_equal(media_rtp_parse(p, n + 6, &r), -EBADMSG);
    p[n + 5] = 6; /* exactly all of it: an empty payload */
    assert_int_equal(media_rtp_parse(p, n + 6, &r), 0);
    assert_int_equal(r.payload_len, 0);
}

static void truncated_and_wrong_version_are_refused(void **state)
{
    (void)state;
    uint8_t p[12];
    fixed(p, false, false, 0, 1, 2, 3);
    struct media_rtp r;
    assert_int_equal(media_rtp_parse(p, 12, &r), 0);
    for (size_t len = 0; len < 12; len++)
        assert_int_equal(media_rtp_parse(p, len, &r), -EBADMSG);
    p[0] = 0x40; /* version 1 */
    assert_int_equal(media_rtp_parse(p, 12, &r), -EBADMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csrcs_are_read_in_order),
        cmocka_unit_test(csrc_count_past_the_end_is_refused),
        cmocka_unit_test(one_byte_elements_padding_and_audio_level),
        cmocka_unit_test(one_byte_id_15_stops_parsing),
        cmocka_unit_test(two_byte_elements_with_zero_length),
        cmocka_unit_test(element_running_past_the_block_is_refused),
        cmocka_unit_test(extension_length_past_the_packet_is_refused),
        cmocka_unit_test(unknown_profile_yields_no_elements),
        cmocka_unit_test(padding_is_removed_and_bad_padding_refused),
        cmocka_unit_test(truncated_and_wrong_version_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
