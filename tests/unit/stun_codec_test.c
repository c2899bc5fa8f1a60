/*
 * stun_codec_test.c - the STUN codec on malformed and edge-case input: every
 * framing rule of RFC 8489 §5/§14 that stun_parse enforces, the attribute
 * getters' length checks, the builder's sticky error and ChannelData framing
 * (RFC 8656 §12.4).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "stun/stun.h"

static const uint8_t tid[STUN_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static const uint8_t key[] = "secret key";
#define KEY_LEN (sizeof(key) - 1)

/* Big enough for the largest possible message: header + 0xFFFC body. */
static uint8_t big[STUN_HEADER_LEN + 0xfffc];

/* ---- raw message writer: crafts what the builder refuses to make ---- */

struct raw {
    uint8_t buf[512];
    size_t len;
};

static void raw_init(struct raw *r, uint16_t type)
{
    memset(r, 0, sizeof(*r));
    r->buf[0] = (uint8_t)(type >> 8);
    r->buf[1] = (uint8_t)type;
    r->buf[4] = 0x21;
    r->buf[5] = 0x12;
    r->buf[6] = 0xa4;
    r->buf[7] = 0x42;
    memcpy(r->buf + 8, tid, STUN_TID_LEN);
    r->len = STUN_HEADER_LEN;
}

static void raw_set_length(struct raw *r, uint16_t body)
{
    r->buf[2] = (uint8_t)(body >> 8);
    r->buf[3] = (uint8_t)body;
}

/* Append an attribute (zero padding) and keep the header length current. */
static void raw_attr(struct raw *r, uint16_t type, const void *val, uint16_t len)
{
    size_t padded = ((size_t)len + 3) & ~(size_t)3;
    assert_true(r->len + 4 + padded <= sizeof(r->buf));
    uint8_t *p = r->buf + r->len;
    p[0] = (uint8_t)(type >> 8);
    p[1] = (uint8_t)type;
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    if (len) memcpy(p + 4, val, len);
    r->len += 4 + padded;
    raw_set_length(r, (uint16_t)(r->len - STUN_HEADER_LEN));
}

static void raw_fingerprint(struct raw *r)
{
    uint8_t crc[4] = {0};
    raw_attr(r, STUN_ATTR_FINGERPRINT, crc, 4);
    uint32_t v = stun_crc32(r->buf, r->len - 8) ^ 0x5354554eu;
    uint32_t be = htonl(v);
    memcpy(r->buf + r->len - 4, &be, 4);
}

static int raw_parse(struct stun_msg *m, const struct raw *r)
{
    return stun_parse(m, r->buf, r->len);
}

/* ---- header ---- */

static void header_shorter_than_20_bytes_is_rejected(void **state)
{
    (void)state;
    struct raw r;
    struct stun_msg m;
    raw_init(&r, 0x0001);
    for (size_t len = 0; len < STUN_HEADER_LEN; len++) {
        assert_false(stun_looks_like_stun(r.buf, len));
        assert_int_equal(stun_parse(&m, r.buf, len), -EBADMSG);
    }
    assert_true(stun_looks_like_stun(r.buf, STUN_HEADER_LEN));
    assert_int_equal(stun_parse(&m, r.buf, STUN_HEADER_LEN), 0);
    assert_int_equal(m.n_attrs, 0);
}

static void body_length_not_multiple_of_4_is_rejected(void **state)
{
    (void)state;
    struct raw r;
    struct stun_msg m;
    raw_init(&r, 0x0001);
    r.len = STUN_HEADER_LEN + 6;
    raw_set_length(&r, 6);
    assert_false(stun_looks_like_stun(r.buf, r.len));
    assert_int_equal(raw_parse(&m, &r), -EBADMSG);
}

static void length_field_must_match_buffer(void **state)
{
    (void)state;
    struct raw r;
    struct stun_msg m;
    raw_init(&r, 0x0001);
    raw_attr(&r, STUN_ATTR_SOFTWARE, "abcd", 4);
    assert_int_equal(raw_parse(&m, &r), 0);
    /* Length field larger than the buffer: the message is cut short. */
    assert_int_equal(stun_parse(&m, r.buf, r.len - 4), -EBADMSG);
    assert_false(stun_looks_like_stun(r.buf, r.len - 4));
    /* Smaller: over UDP a datagram is one message, so trailing bytes are an error. */
    assert_int_equal(stun_parse(&m, r.buf, r.len + 4), -EBADMSG);
    /* ... though demultiplexing only asks whether the start looks like STUN. */
    assert_true(stun_looks_like_stun(r.buf, r.len + 4));
}

static void attribute_overrunning_the_body_is_rejected(void **state)
{
    (void)state;
    struct raw r;
    struct stun_msg m;
    raw_init(&r, 0x0001);
    raw_attr(&r, STUN_ATTR_SOFTWARE, "abcdefgh", 8);
    r.buf[STUN_HEADER_LEN + 3] = 9; /* 9 pads to 12 > 8 available */
    assert_int_equal(raw_parse(&m, &r), -EBADMSG);
    r.buf[STUN_HEADER_LEN + 3] = 5; /* 5 pads to 8: fits exactly */
    assert_int_equal(raw_parse(&m, &r), 0);
    assert_int_equal(m.attrs[0].len, 5);
    r.buf[STUN_HEADER_LEN + 2] = 0xff; /* 0xff05: far past the end */
    assert_int_equal(raw_parse(&m, &r), -EBADMSG);

    /* A lone attribute header fragment shorter than 4 bytes cannot exist with
     * a length that is a multiple of 4, but a 4-byte header with no room for
     * its value can. */
    raw_init(&r, 0x0001);
    raw_attr(&r, STUN_ATTR_SOFTWARE, NULL, 0);
    r.buf[STUN_HEADER_LEN + 3] = 1;
    assert_int_equal(raw_parse(&m, &r), -EBADMSG);
}

static void missing_magic_cookie_is_an_rfc3489_message(void **state)
{
    (void)state;
    struct raw r;
    struct stun_msg m;
    raw_init(&r, 0x0101);
    r.buf[4] = 0xde; /* the first 4 bytes of a 16-byte RFC 3489 transaction id */
    raw_attr(&r, STUN_ATTR_SOFTWARE, "abcd", 4);
    assert_false(stun_looks_like_stun(r.buf, r.len));
    assert_int_equal(raw_parse(&m, &r), 0);
    assert_false(m.has_cookie);
    assert_int_equal(m.method, STUN_BINDING);
    assert_int_equal(m.cls, STUN_SUCCESS);
    assert_memory_equal(m.tid, r.buf + 8, STUN_TID_LEN);
}

static void top_two_bits_set_is_not_stun(void **state)
{
    (void)state;
    struct raw r;
    struct stun_msg m;
    for (uint8_t bits = 0x40; bits != 0; bits = (uint8_t)(bits + 0x40)) {
        raw_init(&r, 0x0001);
        r.buf[0] |= bits;
        assert_false(stun_looks_like_stun(r.buf, r.len));
        assert_int_equal(raw_parse(&m, &r), -EBADMSG);
    }
}

/* RFC 8489 §5: the class bits are interleaved with the method bits. */
static void every_method_and_class_round_trips(void **state)
{
    (void)state;
    uint8_t buf[64];
    for (unsigned method = 0; method < 0x1000; method++) {
        for (int cls = STUN_REQUEST; cls <= STUN_ERROR; cls++) {
            struct stun_builder b;
            size_t len;
            stun_build_init(&b, buf, sizeof(buf), (uint16_t)method, (enum stun_class)cls, tid);
            assert_int_equal(stun_build_finish(&b, &len), 0);
            struct stun_msg m;
            assert_int_equal(stun_parse(&m, buf, len), 0);
            assert_int_equal(m.method, method);
            assert_int_equal(m.cls, cls);
            assert_true(m.has_cookie);
        }
    }
    /* Allocate error response is 0x0113 on the wire (RFC 8656 §18). */
    struct stun_builder b;
    stun_build_init(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_ERROR, tid);
    assert_int_equal(buf[0], 0x01);
    assert_int_equal(buf[1], 0x13);
}

/* ---- FINGERPRINT and MESSAGE-INTEGRITY placement ---- */

static void fingerprint_with_a_flipped_bit_is_rejected(void **state)
{
    (void)state;
    struct raw r;
    struct stun_msg m;
    raw_init(&r, 0x0001);
    raw_attr(&r, STUN_ATTR_SOFTWARE, "lanturn", 7);
    raw_fingerprint(&r);
    assert_int_equal(raw_parse(&m, &r), 0);
    assert_true(m.has_fingerprint);
    assert_null(stun_find(&m, STUN_ATTR_FINGERPRINT));
    for (size_t bit = 0; bit < 32; bit++) {
        r.buf[r.len - 4 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(raw_parse(&m, &r), -EBADMSG);
        r.buf[r.len - 4 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
}

static void fingerprint_must_be_last_and_4_bytes(void **state)
{
    (void)state;
    struct raw r;
    struct stun_msg m;
    raw_init(&r, 0x0001);
    raw_fingerprint(&r);
    raw_attr(&r, STUN_ATTR_SOFTWARE, "late", 4);
    assert_int_equal(raw_parse(&m, &r), -EBADMSG);

    /* Two FINGERPRINTs: the first is not last. */
    raw_init(&r, 0x0001);
    raw_fingerprint(&r);
    raw_fingerprint(&r);
    assert_int_equal(raw_parse(&m, &r), -EBADMSG);

    raw_init(&r, 0x0001);
    raw_attr(&r, STUN_ATTR_FINGERPRINT, "\0\0\0\0\0\0\0\0", 8);
    assert_int_equal(raw_parse(&m, &r), -EBADMSG);
}

static void attributes_after_integrity_are_ignored(void **state)
{
    (void)state;
    struct raw r;
    struct stun_msg m;
    uint8_t mac[32] = {0};
    raw_init(&r, 0x0001);
    raw_attr(&r, STUN_ATTR_USERNAME, "user", 4);
    raw_attr(&r, STUN_ATTR_MESSAGE_INTEGRITY, mac, 20);
    raw_attr(&r, STUN_ATTR_REALM, "ignored", 7);
    raw_attr(&r, STUN_ATTR_MESSAGE_INTEGRITY, mac, 20); /* a second one is ignored too */
    raw_attr(&r, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, mac, 32);
    raw_attr(&r, STUN_ATTR_NONCE, "ignored", 7);
    raw_fingerprint(&r);
    assert_int_equal(raw_parse(&m, &r), 0);
    assert_int_equal(m.n_attrs, 3);
    assert_int_equal(m.integrity, 1);
    assert_int_equal(m.integrity_sha256, 2);
    assert_null(stun_find(&m, STUN_ATTR_REALM));
    assert_null(stun_find(&m, STUN_ATTR_NONCE));
    assert_true(m.has_fingerprint);

    /* §14.6: after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT counts. */
    raw_init(&r, 0x0001);
    raw_attr(&r, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, mac, 32);
    raw_attr(&r, STUN_ATTR_MESSAGE_INTEGRITY, mac, 20);
    raw_attr(&r, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, mac, 32);
    assert_int_equal(raw_parse(&m, &r), 0);
    assert_int_equal(m.n_attrs, 1);
    assert_int_equal(m.integrity, -1);
    assert_int_equal(m.integrity_sha256, 0);
    assert_false(stun_check_integrity(&m, key, KEY_LEN));
}

static void integrity_attribute_lengths_are_enforced(void **state)
{
    (void)state;
    uint8_t mac[40] = {0};
    struct raw r;
    struct stun_msg m;
    for (uint16_t len = 0; len <= 40; len++) {
        raw_init(&r, 0x0001);
        raw_attr(&r, STUN_ATTR_MESSAGE_INTEGRITY, mac, len);
        assert_int_equal(raw_parse(&m, &r), len == 20 ? 0 : -EBADMSG);
        raw_init(&r, 0x0001);
        raw_attr(&r, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, mac, len);
        bool ok = len >= 16 && len <= 32 && len % 4 == 0; /* §14.6 */
        assert_int_equal(raw_parse(&m, &r), ok ? 0 : -EBADMSG);
    }
}

/* MESSAGE-INTEGRITY followed by FINGERPRINT: the HMAC is computed with the
 * length field ending at MI (§14.5), not at FINGERPRINT. */
static void integrity_verifies_when_fingerprint_follows(void **state)
{
    (void)state;
    uint8_t buf[256];
    struct stun_builder b;
    size_t len;
    stun_build_init(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_REQUEST, tid);
    stun_put_str(&b, STUN_ATTR_USERNAME, "alice");
    stun_put_u32(&b, STUN_ATTR_REQUESTED_TRANSPORT, 17u << 24);
    stun_put_integrity(&b, key, KEY_LEN);
    stun_put_fingerprint(&b);
    assert_int_equal(stun_build_finish(&b, &len), 0);
    uint8_t copy[256];
    memcpy(copy, buf, len);
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, buf, len), 0);
    assert_true(m.has_fingerprint);
    assert_true(stun_check_integrity(&m, key, KEY_LEN));
    assert_false(stun_check_integrity(&m, key, KEY_LEN - 1));
    assert_memory_equal(buf, copy, len); /* the check does not touch the input */

    /* Without MESSAGE-INTEGRITY there is nothing to verify. */
    stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
    assert_int_equal(stun_build_finish(&b, &len), 0);
    assert_int_equal(stun_parse(&m, buf, len), 0);
    assert_false(stun_check_integrity(&m, key, KEY_LEN));
}

/* ---- attribute counts and sizes ---- */

static void too_many_attributes_are_rejected(void **state)
{
    (void)state;
    struct raw r;
    struct stun_msg m;
    raw_init(&r, 0x0001);
    for (unsigned i = 0; i < STUN_MAX_ATTRS; i++)
        raw_attr(&r, STUN_ATTR_PADDING, NULL, 0);
    assert_int_equal(raw_parse(&m, &r), 0);
    assert_int_equal(m.n_attrs, STUN_MAX_ATTRS);
    raw_attr(&r, STUN_ATTR_PADDING, NULL, 0);
    assert_int_equal(raw_parse(&m, &r), -EBADMSG);
}

static void zero_length_and_largest_attributes_parse(void **state)
{
    (void)state;
    struct raw r;
    struct stun_msg m;
    raw_init(&r, 0x0001);
    raw_attr(&r, STUN_ATTR_DONT_FRAGMENT, NULL, 0);
    assert_int_equal(raw_parse(&m, &r), 0);
    assert_int_equal(m.n_attrs, 1);
    assert_int_equal(m.attrs[0].len, 0);
    assert_ptr_equal(m.attrs[0].val, r.buf + 24);

    /* One DATA attribute filling the largest body a 16-bit length allows. */
    struct stun_builder b;
    size_t len;
    static uint8_t payload[0xfffc - 4];
    memset(payload, 0xa5, sizeof(payload));
    stun_build_init(&b, big, sizeof(big), TURN_SEND, STUN_INDICATION, tid);
    stun_put_attr(&b, STUN_ATTR_DATA, payload, sizeof(payload));
    assert_int_equal(stun_build_finish(&b, &len), 0);
    assert_int_equal(len, sizeof(big));
    assert_int_equal(stun_parse(&m, big, len), 0);
    assert_int_equal(m.attrs[0].len, sizeof(payload));
    assert_memory_equal(m.attrs[0].val, payload, sizeof(payload));

    /* Attribute headers past 64 KiB keep their true offset. */
    stun_build_init(&b, big, sizeof(big), TURN_SEND, STUN_INDICATION, tid);
    stun_put_attr(&b, STUN_ATTR_DATA, payload, sizeof(payload) - 8);
    stun_put_fingerprint(&b);
    assert_int_equal(stun_build_finish(&b, &len), 0);
    assert_int_equal(stun_parse(&m, big, len), 0);
    assert_true(m.has_fingerprint);
    stun_build_init(&b, big, sizeof(big), TURN_SEND, STUN_INDICATION, tid);
    stun_put_attr(&b, STUN_ATTR_DATA, payload, sizeof(payload) - 16);
    stun_put_u32(&b, STUN_ATTR_LIFETIME, 600);
    stun_put_u32(&b, STUN_ATTR_LIFETIME, 601);
    assert_int_equal(stun_build_finish(&b, &len), 0);
    assert_int_equal(stun_parse(&m, big, len), 0);
    assert_int_equal(m.attrs[2].offset, sizeof(big) - 8);
    assert_true(m.attrs[2].offset > 0xffff);
    assert_ptr_equal(m.attrs[2].val, big + m.attrs[2].offset + 4);
}

static void unknown_comprehension_required_attributes_are_listed(void **state)
{
    (void)state;
    static const uint8_t zero_mac[20];
    struct raw r;
    struct stun_msg m;
    raw_init(&r, 0x0003);
    raw_attr(&r, 0x0031, "xxxx", 4); /* unknown, required */
    raw_attr(&r, STUN_ATTR_REQUESTED_TRANSPORT, "\x11\0\0\0", 4);
    raw_attr(&r, 0x8031, "xxxx", 4);                         /* unknown, optional */
    raw_attr(&r, 0x7fff, NULL, 0);                           /* unknown, required */
    raw_attr(&r, STUN_ATTR_USERNAME, "bob", 3);              /* known */
    raw_attr(&r, STUN_ATTR_MESSAGE_INTEGRITY, zero_mac, 20); /* the codec's own */
    raw_attr(&r, 0x0032, "xxxx", 4);                         /* after MI: ignored */
    raw_fingerprint(&r);
    assert_int_equal(raw_parse(&m, &r), 0);
    static const uint16_t known[] = {STUN_ATTR_REQUESTED_TRANSPORT, STUN_ATTR_USERNAME};
    uint16_t out[4];
    assert_int_equal(stun_unknown_required(&m, known, 2, out, 4), 2);
    assert_int_equal(out[0], 0x0031);
    assert_int_equal(out[1], 0x7fff);
    /* The count stays true when the output is too small. */
    out[1] = 0;
    assert_int_equal(stun_unknown_required(&m, known, 2, out, 1), 2);
    assert_int_equal(out[0], 0x0031);
    assert_int_equal(out[1], 0);
    /* With nothing known, USERNAME and REQUESTED-TRANSPORT are listed too. */
    assert_int_equal(stun_unknown_required(&m, NULL, 0, out, 4), 4);
}

/* ---- attribute values ---- */

static void xor_address_round_trips_v4_and_v6(void **state)
{
    (void)state;
    const char *texts[] = {
        "192.0.2.1:32853",     "255.255.255.255:65535",
        "0.0.0.0:0",           "[2001:db8::1]:3478",
        "[::ffff:10.0.0.1]:1", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct stun_addr in, xored, plain;
        assert_int_equal(stun_addr_parse(texts[i], &in), 0);
        uint8_t buf[128];
        struct stun_builder b;
        size_t len;
        stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_SUCCESS, tid);
        stun_put_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &in, true);
        stun_put_addr(&b, STUN_ATTR_MAPPED_ADDRESS, &in, false);
        assert_int_equal(stun_build_finish(&b, &len), 0);
        struct stun_msg m;
        assert_int_equal(stun_parse(&m, buf, len), 0);
        const struct stun_attr *xa = stun_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS);
        const struct stun_attr *pa = stun_find(&m, STUN_ATTR_MAPPED_ADDRESS);
        assert_int_equal(xa->len, in.family == AF_INET ? 8 : 20);
        assert_int_equal(stun_attr_get_addr(&m, xa, true, &xored), 0);
        assert_int_equal(stun_attr_get_addr(&m, pa, false, &plain), 0);
        assert_true(stun_addr_equal(&xored, &in));
        assert_true(stun_addr_equal(&plain, &in));
        /* On the wire the XORed form differs from the plain one. */
        assert_memory_not_equal(xa->val + 2, pa->val + 2, 2);
        char text[64];
        assert_int_equal(stun_addr_format(&xored, true, text, sizeof(text)), 0);
        assert_string_equal(text, texts[i]);
    }
}

static void malformed_addresses_are_rejected(void **state)
{
    (void)state;
    struct raw r;
    struct stun_msg m;
    struct stun_addr a;
    static const uint8_t v4_as_v6[8] = {0, STUN_FAMILY_IPV6, 0, 1, 1, 2, 3, 4};
    static const uint8_t v6_as_v4[20] = {0, STUN_FAMILY_IPV4, 0, 1};
    static const uint8_t family3[8] = {0, 3, 0, 1, 1, 2, 3, 4};
    raw_init(&r, 0x0101);
    raw_attr(&r, STUN_ATTR_MAPPED_ADDRESS, v4_as_v6, 8);
    raw_attr(&r, STUN_ATTR_MAPPED_ADDRESS, v6_as_v4, 20);
    raw_attr(&r, STUN_ATTR_MAPPED_ADDRESS, family3, 8);
    raw_attr(&r, STUN_ATTR_MAPPED_ADDRESS, family3, 3);
    raw_attr(&r, STUN_ATTR_MAPPED_ADDRESS, v4_as_v6, 0);
    assert_int_equal(raw_parse(&m, &r), 0);
    for (unsigned i = 0; i < m.n_attrs; i++) {
        assert_int_equal(stun_attr_get_addr(&m, &m.attrs[i], false, &a), -EBADMSG);
        assert_int_equal(stun_attr_get_addr(&m, &m.attrs[i], true, &a), -EBADMSG);
    }
}

/* RFC 8656 §18.12: family, reserved, class, number, reason. */
static void address_error_code_carries_family_and_code(void **state)
{
    (void)state;
    uint8_t buf[128];
    struct stun_builder b;
    size_t len;
    stun_build_init(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_SUCCESS, tid);
    stun_put_address_error(&b, AF_INET6, 440);
    assert_int_equal(stun_build_finish(&b, &len), 0);
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, buf, len), 0);
    const struct stun_attr *a = stun_find(&m, STUN_ATTR_ADDRESS_ERROR_CODE);
    assert_non_null(a);
    assert_int_equal(a->val[0], STUN_FAMILY_IPV6);
    assert_int_equal(a->val[2], 4);
    assert_int_equal(a->val[3], 40);
    assert_int_equal(a->len - 4, strlen("Address Family not Supported"));
    stun_build_init(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_SUCCESS, tid);
    stun_put_address_error(&b, 0, 440);
    assert_int_equal(stun_build_finish(&b, &len), -EINVAL);
    assert_string_equal(stun_error_reason(447), "Connection Timeout or Failure");
}

static void error_code_round_trips(void **state)
{
    (void)state;
    static const int codes[] = {300, 400, 401, 403, 420, 437, 438, 440,
                                441, 442, 443, 446, 447, 486, 500, 508, 699};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        uint8_t buf[128];
        struct stun_builder b;
        size_t len;
        stun_build_init(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_ERROR, tid);
        stun_put_error(&b, codes[i], NULL);
        assert_int_equal(stun_build_finish(&b, &len), 0);
        struct stun_msg m;
        assert_int_equal(stun_parse(&m, buf, len), 0);
        int code = 0;
        const char *reason = NULL;
        size_t reason_len = 0;
        assert_int_equal(
            stun_attr_get_error(stun_find(&m, STUN_ATTR_ERROR_CODE), &code, &reason, &reason_len),
            0);
        assert_int_equal(code, codes[i]);
        const char *want = stun_error_reason(codes[i]);
        assert_int_equal(reason_len, strlen(want));
        assert_memory_equal(reason, want, reason_len);
    }
    assert_string_equal(stun_error_reason(401), "Unauthorized");
    assert_string_equal(stun_error_reason(437), "Allocation Mismatch");
    assert_string_equal(stun_error_reason(438), "Stale Nonce");
    assert_string_equal(stun_error_reason(441), "Wrong Credentials");
    assert_string_equal(stun_error_reason(442), "Unsupported Transport Protocol");
    assert_string_equal(stun_error_reason(443), "Peer Address Family Mismatch");
    assert_string_equal(stun_error_reason(486), "Allocation Quota Reached");
    assert_string_equal(stun_error_reason(508), "Insufficient Capacity");
    assert_string_equal(stun_error_reason(420), "Unknown Attribute");
    assert_string_equal(stun_error_reason(403), "Forbidden");
    assert_string_equal(stun_error_reason(400), "Bad Request");
    assert_string_equal(stun_error_reason(440), "Address Family not Supported");
    assert_string_equal(stun_error_reason(300), "Try Alternate");
    assert_string_equal(stun_error_reason(500), "Server Error");

    /* A caller's own reason, and codes ERROR-CODE cannot carry. */
    uint8_t buf[128];
    struct stun_builder b;
    size_t len;
    stun_build_init(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_ERROR, tid);
    stun_put_error(&b, 486, "Too Many");
    assert_int_equal(stun_build_finish(&b, &len), 0);
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, buf, len), 0);
    const struct stun_attr *ec = stun_find(&m, STUN_ATTR_ERROR_CODE);
    assert_int_equal(ec->len, 12);
    assert_memory_equal(ec->val, "\0\0\x04\x56Too Many", 12);
    for (int bad = 0; bad < 2; bad++) {
        stun_build_init(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_ERROR, tid);
        stun_put_error(&b, bad ? 700 : 299, NULL);
        assert_int_equal(stun_build_finish(&b, &len), -EINVAL);
    }
}

/* A detached attribute over `val`, for the getters that need no message. */
static struct stun_attr attr_of(const void *val, uint16_t len)
{
    return (struct stun_attr){.len = len, .val = val};
}

static void malformed_error_codes_are_rejected(void **state)
{
    (void)state;
    static const struct {
        uint8_t v[4];
        uint16_t len;
        int rc, code;
    } cases[] = {
        {{0, 0, 4, 1}, 3, -EBADMSG, 0},   /* shorter than class + number */
        {{0, 0, 4, 1}, 4, 0, 401},        /* no reason phrase is fine */
        {{0, 0, 4, 100}, 4, -EBADMSG, 0}, /* number must be 0..99 */
        {{0, 0, 2, 0}, 4, -EBADMSG, 0},   /* class must be 3..6 */
        {{0, 0, 7, 0}, 4, -EBADMSG, 0},
        {{0xff, 0xff, 0xf8 | 6, 0}, 4, 0, 600}, /* reserved bits are ignored */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stun_attr a = attr_of(cases[i].v, cases[i].len);
        int code = 0;
        const char *reason = NULL;
        size_t reason_len = 99;
        assert_int_equal(stun_attr_get_error(&a, &code, &reason, &reason_len), cases[i].rc);
        if (cases[i].rc == 0) {
            assert_int_equal(code, cases[i].code);
            assert_int_equal(reason_len, 0);
        }
    }
}

static void fixed_size_getters_check_lengths(void **state)
{
    (void)state;
    static const uint8_t v[8] = {0x40, 0x01, 0xff, 0xff, 0, 0, 0, 0};
    uint32_t u32;
    uint16_t u16;
    uint8_t u8;
    bool flag;
    for (uint16_t len = 0; len <= 8; len++) {
        struct stun_attr a = attr_of(v, len);
        int want = len == 4 ? 0 : -EBADMSG;
        assert_int_equal(stun_attr_get_u32(&a, &u32), want);
        assert_int_equal(stun_attr_get_channel(&a, &u16), want);
        assert_int_equal(stun_attr_get_transport(&a, &u8), want);
        if (len != 4) assert_int_equal(stun_attr_get_family(&a, &u16), -EBADMSG);
        assert_int_equal(stun_attr_get_even_port(&a, &flag), len == 1 || len == 4 ? 0 : -EBADMSG);
    }
    struct stun_attr a = attr_of(v, 4);
    assert_int_equal(stun_attr_get_u32(&a, &u32), 0);
    assert_int_equal(u32, 0x4001ffff);
    assert_int_equal(stun_attr_get_channel(&a, &u16), 0);
    assert_int_equal(u16, 0x4001);

    a = attr_of("\x11\0\0\0", 4);
    assert_int_equal(stun_attr_get_transport(&a, &u8), 0);
    assert_int_equal(u8, 17);
    a = attr_of("\x80\0\0\0", 4);
    assert_int_equal(stun_attr_get_even_port(&a, &flag), 0);
    assert_true(flag);
    a = attr_of("\x7f", 1);
    assert_int_equal(stun_attr_get_even_port(&a, &flag), 0);
    assert_false(flag);

    /* REQUESTED-ADDRESS-FAMILY: 0x01, 0x02, or a well-formed other family. */
    a = attr_of("\x01\0\0\0", 4);
    assert_int_equal(stun_attr_get_family(&a, &u16), 0);
    assert_int_equal(u16, AF_INET);
    a = attr_of("\x02\0\0\0", 4);
    assert_int_equal(stun_attr_get_family(&a, &u16), 0);
    assert_int_equal(u16, AF_INET6);
    a = attr_of("\x03\0\0\0", 4);
    assert_int_equal(stun_attr_get_family(&a, &u16), -EAFNOSUPPORT);
}

/* ---- builder ---- */

static void builder_error_is_sticky(void **state)
{
    (void)state;
    uint8_t buf[40];
    struct stun_builder b;
    size_t len = 1234;
    stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
    stun_put_u32(&b, STUN_ATTR_LIFETIME, 1);                    /* 28 bytes */
    stun_put_attr(&b, STUN_ATTR_SOFTWARE, "0123456789abc", 13); /* would need 48 */
    assert_int_equal(b.len, 28);                                /* nothing of it was written */
    stun_put_u32(&b, STUN_ATTR_LIFETIME, 2);                    /* would fit, but too late */
    stun_put_fingerprint(&b);
    assert_int_equal(b.len, 28);
    assert_int_equal(stun_build_finish(&b, &len), -ENOSPC);
    assert_int_equal(len, 1234);

    /* Exactly full is fine; one byte less is not. */
    stun_build_init(&b, buf, 28, STUN_BINDING, STUN_REQUEST, tid);
    stun_put_u32(&b, STUN_ATTR_LIFETIME, 1);
    assert_int_equal(stun_build_finish(&b, &len), 0);
    assert_int_equal(len, 28);
    stun_build_init(&b, buf, 27, STUN_BINDING, STUN_REQUEST, tid);
    stun_put_u32(&b, STUN_ATTR_LIFETIME, 1);
    assert_int_equal(stun_build_finish(&b, &len), -ENOSPC);

    /* Not even a header. */
    stun_build_init(&b, buf, STUN_HEADER_LEN - 1, STUN_BINDING, STUN_REQUEST, tid);
    stun_put_integrity(&b, key, KEY_LEN);
    assert_int_equal(stun_build_finish(&b, &len), -ENOSPC);

    /* The first error wins: a bad argument is not later reported as -ENOSPC. */
    struct stun_addr unset = {0};
    stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_SUCCESS, tid);
    stun_put_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &unset, true);
    stun_put_attr(&b, STUN_ATTR_DATA, big, 100);
    assert_int_equal(stun_build_finish(&b, &len), -EINVAL);

    /* A body over 0xFFFC bytes cannot be described by the length field. */
    stun_build_init(&b, big, sizeof(big), TURN_SEND, STUN_INDICATION, tid);
    stun_put_attr(&b, STUN_ATTR_DATA, big, 0xfffc - 4 + 1);
    assert_int_equal(stun_build_finish(&b, &len), -ENOSPC);
}

static void builder_keeps_length_field_current_and_pads_with_zeros(void **state)
{
    (void)state;
    uint8_t buf[64];
    memset(buf, 0xee, sizeof(buf));
    struct stun_builder b;
    stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
    assert_int_equal(buf[2] << 8 | buf[3], 0);
    stun_put_str(&b, STUN_ATTR_SOFTWARE, "x");
    assert_int_equal(buf[2] << 8 | buf[3], 8);
    assert_memory_equal(buf + 20, "\x80\x22\x00\x01x\0\0\0", 8);
    static const uint16_t unknown[] = {0x0031, 0x0032, 0x0033};
    stun_put_unknown_attributes(&b, unknown, 3);
    assert_int_equal(buf[2] << 8 | buf[3], 20);
    assert_memory_equal(buf + 28, "\x00\x0a\x00\x06\x00\x31\x00\x32\x00\x33\0\0", 12);
    size_t len;
    assert_int_equal(stun_build_finish(&b, &len), 0);
    assert_int_equal(len, 40);
}

/* ---- CRC-32 ---- */

static void crc32_matches_the_standard_check_value(void **state)
{
    (void)state;
    assert_int_equal(stun_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u);
    assert_int_equal(stun_crc32(NULL, 0), 0);
}

/* ---- ChannelData (RFC 8656 §12.4) ---- */

static void chandata_valid_message_parses(void **state)
{
    (void)state;
    static const uint8_t msg[] = {0x40, 0x00, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};
    uint16_t chan = 0, plen = 0;
    const uint8_t *payload = NULL;
    assert_true(stun_looks_like_chandata(msg, sizeof(msg)));
    assert_false(stun_looks_like_stun(msg, sizeof(msg)));
    assert_int_equal(stun_chandata_parse(msg, sizeof(msg), &chan, &payload, &plen), 0);
    assert_int_equal(chan, 0x4000);
    assert_int_equal(plen, 5);
    assert_ptr_equal(payload, msg + 4);
    assert_int_equal(stun_chandata_parse(msg, 4, &chan, &payload, &plen), -EBADMSG);

    /* An empty payload is allowed. */
    static const uint8_t empty[] = {0x4f, 0xff, 0x00, 0x00};
    assert_int_equal(stun_chandata_parse(empty, 4, &chan, &payload, &plen), 0);
    assert_int_equal(chan, 0x4fff);
    assert_int_equal(plen, 0);
}

static void chandata_padding_beyond_the_payload_is_accepted(void **state)
{
    (void)state;
    static const uint8_t msg[] = {0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0};
    uint16_t chan, plen;
    const uint8_t *payload;
    assert_int_equal(stun_chandata_parse(msg, sizeof(msg), &chan, &payload, &plen), 0);
    assert_int_equal(plen, 5); /* the padding is not payload */
    assert_memory_equal(payload, "hello", 5);
}

static void chandata_truncated_is_rejected(void **state)
{
    (void)state;
    static const uint8_t msg[] = {0x40, 0x01, 0x00, 0x10, 'a', 'b', 'c'};
    uint16_t chan, plen;
    const uint8_t *payload;
    for (size_t len = 0; len <= sizeof(msg); len++)
        assert_int_equal(stun_chandata_parse(msg, len, &chan, &payload, &plen), -EBADMSG);
    assert_false(stun_looks_like_chandata(msg, 3));
}

static void chandata_channel_out_of_range_is_rejected(void **state)
{
    (void)state;
    static const uint16_t bad[] = {0x0000, 0x3fff, 0x7fff, 0x8000, 0xffff};
    static const uint16_t good[] = {STUN_CHANNEL_MIN, 0x4fff, 0x5000, STUN_CHANNEL_MAX};
    uint8_t msg[8] = {0, 0, 0, 4, 1, 2, 3, 4};
    uint16_t chan, plen;
    const uint8_t *payload;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        msg[0] = (uint8_t)(bad[i] >> 8);
        msg[1] = (uint8_t)bad[i];
        assert_int_equal(stun_chandata_parse(msg, sizeof(msg), &chan, &payload, &plen), -EBADMSG);
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        msg[0] = (uint8_t)(good[i] >> 8);
        msg[1] = (uint8_t)good[i];
        assert_int_equal(stun_chandata_parse(msg, sizeof(msg), &chan, &payload, &plen), 0);
        assert_int_equal(chan, good[i]);
    }
}

static void chandata_header_writer_round_trips(void **state)
{
    (void)state;
    uint8_t msg[STUN_CHANDATA_HEADER_LEN + 300] = {0};
    stun_chandata_put_header(msg, 0x4abc, 300);
    assert_memory_equal(msg, "\x4a\xbc\x01\x2c", 4);
    uint16_t chan, plen;
    const uint8_t *payload;
    assert_int_equal(stun_chandata_parse(msg, sizeof(msg), &chan, &payload, &plen), 0);
    assert_int_equal(chan, 0x4abc);
    assert_int_equal(plen, 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_shorter_than_20_bytes_is_rejected),
        cmocka_unit_test(body_length_not_multiple_of_4_is_rejected),
        cmocka_unit_test(length_field_must_match_buffer),
        cmocka_unit_test(attribute_overrunning_the_body_is_rejected),
        cmocka_unit_test(missing_magic_cookie_is_an_rfc3489_message),
        cmocka_unit_test(top_two_bits_set_is_not_stun),
        cmocka_unit_test(every_method_and_class_round_trips),
        cmocka_unit_test(fingerprint_with_a_flipped_bit_is_rejected),
        cmocka_unit_test(fingerprint_must_be_last_and_4_bytes),
        cmocka_unit_test(attributes_after_integrity_are_ignored),
        cmocka_unit_test(integrity_attribute_lengths_are_enforced),
        cmocka_unit_test(integrity_verifies_when_fingerprint_follows),
        cmocka_unit_test(too_many_attributes_are_rejected),
        cmocka_unit_test(zero_length_and_largest_attributes_parse),
        cmocka_unit_test(unknown_comprehension_required_attributes_are_listed),
        cmocka_unit_test(xor_address_round_trips_v4_and_v6),
        cmocka_unit_test(malformed_addresses_are_rejected),
        cmocka_unit_test(error_code_round_trips),
        cmocka_unit_test(address_error_code_carries_family_and_code),
        cmocka_unit_test(malformed_error_codes_are_rejected),
        cmocka_unit_test(fixed_size_getters_check_lengths),
        cmocka_unit_test(builder_error_is_sticky),
        cmocka_unit_test(builder_keeps_length_field_current_and_pads_with_zeros),
        cmocka_unit_test(crc32_matches_the_standard_check_value),
        cmocka_unit_test(chandata_valid_message_parses),
        cmocka_unit_test(chandata_padding_beyond_the_payload_is_accepted),
        cmocka_unit_test(chandata_truncated_is_rejected),
        cmocka_unit_test(chandata_channel_out_of_range_is_rejected),
        cmocka_unit_test(chandata_header_writer_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
