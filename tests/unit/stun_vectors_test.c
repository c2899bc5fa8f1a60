/*
 * stun_vectors_test.c - the codec against every RFC 5769 test vector: each
 * parses, its FINGERPRINT and MESSAGE-INTEGRITY verify (and fail with a wrong
 * key), its attributes decode to the values the RFC lists, and the builder
 * rebuilds it byte for byte from those values.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "stun/stun.h"

static const char short_term_password[] = "VOkJxbRl1RmTxUk/WvJxBt";

/* RFC 5769 §2.1: sample request (short-term credentials, padding with spaces). */
static const uint8_t sample_request[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};

/* §2.2: IPv4 response, XOR-MAPPED-ADDRESS 192.0.2.1:32853. */
static const uint8_t ipv4_response[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};

/* §2.3: IPv6 response, XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
static const uint8_t ipv6_response[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c};

/* §2.4: request with long-term credentials (user "マトリックス", realm
 * "example.org", password "TheMatrIX" after SASLprep), no FINGERPRINT. */
static const uint8_t long_term_request[] = {
    0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72,
    0xc0, 0x29, 0xda, 0x41, 0x2e, 0x00, 0x06, 0x00, 0x12, 0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88,
    0xe3, 0x83, 0xaa, 0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00, 0x00,
    0x15, 0x00, 0x1c, 0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36,
    0x4f, 0x4c, 0x33, 0x34, 0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73,
    0x41, 0x00, 0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72,
    0x67, 0x00, 0x00, 0x08, 0x00, 0x14, 0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02,
    0xb8, 0xe0, 0x71, 0x2e, 0x85, 0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66};

static const uint8_t *key = (const uint8_t *)short_term_password;
#define KEY_LEN (sizeof(short_term_password) - 1)

/* "マトリックス" in UTF-8, the RFC's long-term username. */
static const char lt_username[] =
    "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
static const char lt_nonce[] = "f//499k954d6OL34oL9FSTvy64sA";

static void assert_attr_bytes(const struct stun_msg *m, uint16_t type, const void *want, size_t len)
{
    const struct stun_attr *a = stun_find(m, type);
    assert_non_null(a);
    assert_int_equal(a->len, len);
    assert_memory_equal(a->val, want, len);
}

static void assert_wrong_keys_fail(const struct stun_msg *m)
{
    assert_false(stun_check_integrity(m, (const uint8_t *)"wrong", 5));
    assert_false(stun_check_integrity(m, key, KEY_LEN - 1)); /* one byte short */
    assert_false(stun_check_integrity(m, (const uint8_t *)"", 0));
}

/* The vectors pad some attributes with spaces where the builder pads with
 * zeros (RFC 8489 §14: padding may hold any value); overwrite the padding so
 * the rebuild can be compared byte for byte. */
static void put_space_padded(struct stun_builder *b, uint16_t type, const char *s)
{
    size_t len = strlen(s), pad = (4 - len % 4) % 4;
    stun_put_attr(b, type, s, len);
    assert_int_equal(b->err, 0);
    memset(b->buf + b->len - pad, ' ', pad);
}

static void assert_rebuilt(struct stun_builder *b, const uint8_t *want, size_t want_len)
{
    size_t len = 0;
    assert_int_equal(stun_build_finish(b, &len), 0);
    assert_int_equal(len, want_len);
    assert_memory_equal(b->buf, want, want_len);
}

/* §2.1: Binding request, short-term credentials, FINGERPRINT. */
static void sample_request_parses_verifies_and_decodes(void **state)
{
    (void)state;
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, sample_request, sizeof(sample_request)), 0);
    assert_int_equal(m.method, STUN_BINDING);
    assert_int_equal(m.cls, STUN_REQUEST);
    assert_true(m.has_cookie);
    assert_true(m.has_fingerprint);
    assert_memory_equal(m.tid, sample_request + 8, STUN_TID_LEN);
    assert_int_equal(m.n_attrs, 5); /* FINGERPRINT is not recorded as an attribute */
    assert_attr_bytes(&m, STUN_ATTR_SOFTWARE, "STUN test client", 16);
    assert_attr_bytes(&m, STUN_ATTR_USERNAME, "evtj:h6vY", 9);
    uint32_t priority = 0;
    assert_int_equal(stun_attr_get_u32(stun_find(&m, STUN_ATTR_PRIORITY), &priority), 0);
    assert_int_equal(priority, 0x6e0001ff);
    assert_attr_bytes(&m, STUN_ATTR_ICE_CONTROLLED, "\x93\x2f\xf9\xb1\x51\x26\x3b\x36", 8);
    assert_int_equal(m.integrity, 4);
    assert_true(stun_check_integrity(&m, key, KEY_LEN));
    assert_wrong_keys_fail(&m);
}

/* §2.2: Binding success response, XOR-MAPPED-ADDRESS 192.0.2.1:32853. */
static void ipv4_response_decodes_mapped_address(void **state)
{
    (void)state;
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, ipv4_response, sizeof(ipv4_response)), 0);
    assert_int_equal(m.method, STUN_BINDING);
    assert_int_equal(m.cls, STUN_SUCCESS);
    assert_true(m.has_fingerprint);
    assert_attr_bytes(&m, STUN_ATTR_SOFTWARE, "test vector", 11);
    struct stun_addr a;
    assert_int_equal(stun_attr_get_addr(&m, stun_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS), true, &a),
                     0);
    assert_int_equal(a.family, AF_INET);
    assert_int_equal(a.port, 32853);
    assert_memory_equal(a.ip, "\xc0\x00\x02\x01", 4);
    char text[64];
    assert_int_equal(stun_addr_format(&a, true, text, sizeof(text)), 0);
    assert_string_equal(text, "192.0.2.1:32853");
    assert_true(stun_check_integrity(&m, key, KEY_LEN));
    assert_wrong_keys_fail(&m);
}

/* §2.3: the same response over IPv6; the address is XORed with the
 * transaction id as well. */
static void ipv6_response_decodes_mapped_address(void **state)
{
    (void)state;
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, ipv6_response, sizeof(ipv6_response)), 0);
    assert_int_equal(m.cls, STUN_SUCCESS);
    assert_true(m.has_fingerprint);
    assert_attr_bytes(&m, STUN_ATTR_SOFTWARE, "test vector", 11);
    struct stun_addr a, want;
    assert_int_equal(stun_attr_get_addr(&m, stun_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS), true, &a),
                     0);
    assert_int_equal(stun_addr_parse("[2001:db8:1234:5678:11:2233:4455:6677]:32853", &want), 0);
    assert_true(stun_addr_equal(&a, &want));
    char text[64];
    assert_int_equal(stun_addr_format(&a, true, text, sizeof(text)), 0);
    assert_string_equal(text, "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
    assert_true(stun_check_integrity(&m, key, KEY_LEN));
    assert_wrong_keys_fail(&m);
}

/* §2.4: long-term credentials; the key is MD5(username:realm:password) with
 * the SASLprep'd password "TheMatrIX" (the RFC's "The<U+00AD>M<U+00AA>tr<U+2168>"). */
static void long_term_request_verifies_with_md5_key(void **state)
{
    (void)state;
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, long_term_request, sizeof(long_term_request)), 0);
    assert_int_equal(m.method, STUN_BINDING);
    assert_int_equal(m.cls, STUN_REQUEST);
    assert_false(m.has_fingerprint);
    assert_attr_bytes(&m, STUN_ATTR_USERNAME, lt_username, sizeof(lt_username) - 1);
    assert_attr_bytes(&m, STUN_ATTR_NONCE, lt_nonce, sizeof(lt_nonce) - 1);
    assert_attr_bytes(&m, STUN_ATTR_REALM, "example.org", 11);
    uint8_t lt_key[STUN_LONG_TERM_KEY_LEN];
    stun_long_term_key(lt_username, "example.org", "TheMatrIX", lt_key);
    assert_true(stun_check_integrity(&m, lt_key, sizeof(lt_key)));
    stun_long_term_key(lt_username, "example.org", "thematrix", lt_key);
    assert_false(stun_check_integrity(&m, lt_key, sizeof(lt_key)));
    stun_long_term_key(lt_username, "example.com", "TheMatrIX", lt_key);
    assert_false(stun_check_integrity(&m, lt_key, sizeof(lt_key)));
    /* The password itself is not the key for long-term credentials. */
    assert_false(stun_check_integrity(&m, (const uint8_t *)"TheMatrIX", 9));
}

static void builder_reproduces_sample_request(void **state)
{
    (void)state;
    uint8_t buf[256];
    struct stun_builder b;
    stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, sample_request + 8);
    stun_put_str(&b, STUN_ATTR_SOFTWARE, "STUN test client");
    stun_put_u32(&b, STUN_ATTR_PRIORITY, 0x6e0001ff);
    stun_put_attr(&b, STUN_ATTR_ICE_CONTROLLED, "\x93\x2f\xf9\xb1\x51\x26\x3b\x36", 8);
    put_space_padded(&b, STUN_ATTR_USERNAME, "evtj:h6vY");
    stun_put_integrity(&b, key, KEY_LEN);
    stun_put_fingerprint(&b);
    assert_rebuilt(&b, sample_request, sizeof(sample_request));
}

static void builder_reproduces_ipv4_response(void **state)
{
    (void)state;
    uint8_t buf[256];
    struct stun_builder b;
    struct stun_addr mapped;
    assert_int_equal(stun_addr_parse("192.0.2.1:32853", &mapped), 0);
    stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_SUCCESS, ipv4_response + 8);
    put_space_padded(&b, STUN_ATTR_SOFTWARE, "test vector");
    stun_put_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped, true);
    stun_put_integrity(&b, key, KEY_LEN);
    stun_put_fingerprint(&b);
    assert_rebuilt(&b, ipv4_response, sizeof(ipv4_response));
}

static void builder_reproduces_ipv6_response(void **state)
{
    (void)state;
    uint8_t buf[256];
    struct stun_builder b;
    struct stun_addr mapped;
    assert_int_equal(stun_addr_parse("[2001:db8:1234:5678:11:2233:4455:6677]:32853", &mapped), 0);
    stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_SUCCESS, ipv6_response + 8);
    put_space_padded(&b, STUN_ATTR_SOFTWARE, "test vector");
    stun_put_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped, true);
    stun_put_integrity(&b, key, KEY_LEN);
    stun_put_fingerprint(&b);
    assert_rebuilt(&b, ipv6_response, sizeof(ipv6_response));
}

static void builder_reproduces_long_term_request(void **state)
{
    (void)state;
    uint8_t buf[256], lt_key[STUN_LONG_TERM_KEY_LEN];
    struct stun_builder b;
    stun_long_term_key(lt_username, "example.org", "TheMatrIX", lt_key);
    stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, long_term_request + 8);
    stun_put_str(&b, STUN_ATTR_USERNAME, lt_username);
    stun_put_str(&b, STUN_ATTR_NONCE, lt_nonce);
    stun_put_str(&b, STUN_ATTR_REALM, "example.org");
    stun_put_integrity(&b, lt_key, sizeof(lt_key));
    assert_rebuilt(&b, long_term_request, sizeof(long_term_request));
}

static void every_vector_rejects_a_flipped_fingerprint_bit(void **state)
{
    (void)state;
    const struct {
        const uint8_t *buf;
        size_t len;
    } vectors[] = {{sample_request, sizeof(sample_request)},
                   {ipv4_response, sizeof(ipv4_response)},
                   {ipv6_response, sizeof(ipv6_response)}};
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        uint8_t copy[256];
        memcpy(copy, vectors[i].buf, vectors[i].len);
        struct stun_msg m;
        assert_int_equal(stun_parse(&m, copy, vectors[i].len), 0);
        copy[vectors[i].len - 1] ^= 1; /* in the CRC itself */
        assert_int_equal(stun_parse(&m, copy, vectors[i].len), -EBADMSG);
        copy[vectors[i].len - 1] ^= 1;
        copy[30] ^= 0x40; /* in a covered attribute */
        assert_int_equal(stun_parse(&m, copy, vectors[i].len), -EBADMSG);
    }
}

/* A flipped bit anywhere MESSAGE-INTEGRITY covers breaks it (2.4 has no
 * FINGERPRINT, so parsing still succeeds). */
static void long_term_request_rejects_any_flipped_bit(void **state)
{
    (void)state;
    uint8_t lt_key[STUN_LONG_TERM_KEY_LEN], copy[sizeof(long_term_request)];
    stun_long_term_key(lt_username, "example.org", "TheMatrIX", lt_key);
    size_t checked = 0;
    for (size_t i = 0; i < sizeof(copy); i++) {
        memcpy(copy, long_term_request, sizeof(copy));
        copy[i] ^= 0x01;
        struct stun_msg m;
        if (stun_parse(&m, copy, sizeof(copy)) != 0)
            continue; /* the flip broke a length: rejected anyway */
        assert_false(stun_check_integrity(&m, lt_key, sizeof(lt_key)));
        checked++;
    }
    assert_true(checked > sizeof(copy) - 16); /* only length bytes may be skipped */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sample_request_parses_verifies_and_decodes),
        cmocka_unit_test(ipv4_response_decodes_mapped_address),
        cmocka_unit_test(ipv6_response_decodes_mapped_address),
        cmocka_unit_test(long_term_request_verifies_with_md5_key),
        cmocka_unit_test(builder_reproduces_sample_request),
        cmocka_unit_test(builder_reproduces_ipv4_response),
        cmocka_unit_test(builder_reproduces_ipv6_response),
        cmocka_unit_test(builder_reproduces_long_term_request),
        cmocka_unit_test(every_vector_rejects_a_flipped_fingerprint_bit),
        cmocka_unit_test(long_term_request_rejects_any_flipped_bit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
