/* stun_vectors_test.c - the codec against RFC 5769's test vectors. */
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
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
    0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74,
    0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e,
    0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
    0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20,
    0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e,
    0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5,
    0x7a, 0x3b, 0xcf};

/* §2.2: IPv4 response, XOR-MAPPED-ADDRESS 192.0.2.1:32853. */
static const uint8_t ipv4_response[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
    0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74,
    0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01,
    0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43, 0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99,
    0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b,
    0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};

/* §2.3: IPv6 response, XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
static const uint8_t ipv6_response[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
    0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76,
    0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01,
    0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
    0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9,
    0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb,
    0x0b, 0x4c};

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

static void sample_request_parses_and_verifies(void **state)
{
    (void)state;
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, sample_request, sizeof(sample_request)), 0);
    assert_int_equal(m.method, STUN_BINDING);
    assert_int_equal(m.cls, STUN_REQUEST);
    assert_true(m.has_cookie);
    assert_true(m.has_fingerprint);
    const struct stun_attr *sw = stun_find(&m, STUN_ATTR_SOFTWARE);
    assert_non_null(sw);
    assert_int_equal(sw->len, 16);
    assert_memory_equal(sw->val, "STUN test client", 16);
    const struct stun_attr *user = stun_find(&m, STUN_ATTR_USERNAME);
    assert_non_null(user);
    assert_int_equal(user->len, 9);
    assert_memory_equal(user->val, "evtj:h6vY", 9);
    assert_true(stun_check_integrity(&m, key, KEY_LEN));
    assert_false(stun_check_integrity(&m, (const uint8_t *)"wrong", 5));
}

static void ipv4_response_decodes_mapped_address(void **state)
{
    (void)state;
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, ipv4_response, sizeof(ipv4_response)), 0);
    assert_int_equal(m.cls, STUN_SUCCESS);
    struct stun_addr a;
    assert_int_equal(stun_attr_get_addr(&m, stun_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS), true, &a),
                     0);
    char text[64];
    stun_addr_format(&a, true, text, sizeof(text));
    assert_string_equal(text, "192.0.2.1:32853");
    assert_true(stun_check_integrity(&m, key, KEY_LEN));
}

static void ipv6_response_decodes_mapped_address(void **state)
{
    (void)state;
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, ipv6_response, sizeof(ipv6_response)), 0);
    struct stun_addr a;
    assert_int_equal(stun_attr_get_addr(&m, stun_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS), true, &a),
                     0);
    char text[64];
    stun_addr_format(&a, true, text, sizeof(text));
    assert_string_equal(text, "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
    assert_true(stun_check_integrity(&m, key, KEY_LEN));
}

static void long_term_request_verifies_with_md5_key(void **state)
{
    (void)state;
    struct stun_msg m;
    assert_int_equal(stun_parse(&m, long_term_request, sizeof(long_term_request)), 0);
    assert_false(m.has_fingerprint);
    uint8_t lt_key[STUN_LONG_TERM_KEY_LEN];
    stun_long_term_key("\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9",
                       "example.org", "TheMatrIX", lt_key);
    assert_true(stun_check_integrity(&m, lt_key, sizeof(lt_key)));
    stun_long_term_key("\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9",
                       "example.org", "thematrix", lt_key);
    assert_false(stun_check_integrity(&m, lt_key, sizeof(lt_key)));
    const struct stun_attr *nonce = stun_find(&m, STUN_ATTR_NONCE);
    assert_non_null(nonce);
    assert_int_equal(nonce->len, 28);
}

/* The builder reproduces §2.2 exactly when given the vector's padding
 * byte: same attributes, same key -> same MESSAGE-INTEGRITY and FINGERPRINT. */
static void builder_reproduces_ipv4_response(void **state)
{
    (void)state;
    uint8_t buf[128];
    struct stun_builder b;
    struct stun_addr mapped;
    assert_int_equal(stun_addr_parse("192.0.2.1:32853", &mapped), 0);
    stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_SUCCESS, ipv4_response + 8);
    stun_put_attr(&b, STUN_ATTR_SOFTWARE, "test vector ", 12);
    buf[22 + 1] = 0x0b; /* SOFTWARE length 11: the vector pads with a space */
    stun_put_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped, true);
    stun_put_integrity(&b, key, KEY_LEN);
    stun_put_fingerprint(&b);
    size_t len;
    assert_int_equal(stun_build_finish(&b, &len), 0);
    assert_int_equal(len, sizeof(ipv4_response));
    assert_memory_equal(buf, ipv4_response, len);
}

static void every_vector_has_a_valid_fingerprint(void **state)
{
    (void)state;
    const struct {
        const uint8_t *buf;
        size_t len;
    } vectors[] = {{sample_request, sizeof(sample_request)},
                   {ipv4_response, sizeof(ipv4_response)},
                   {ipv6_response, sizeof(ipv6_response)}};
    for (size_t i = 0; i < 3; i++) {
        uint8_t copy[256];
        memcpy(copy, vectors[i].buf, vectors[i].len);
        struct stun_msg m;
        assert_int_equal(stun_parse(&m, copy, vectors[i].len), 0);
        copy[vectors[i].len - 1] ^= 1; /* one flipped bit in the CRC */
        assert_int_equal(stun_parse(&m, copy, vectors[i].len), -EBADMSG);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sample_request_parses_and_verifies),
        cmocka_unit_test(ipv4_response_decodes_mapped_address),
        cmocka_unit_test(ipv6_response_decodes_mapped_address),
        cmocka_unit_test(long_term_request_verifies_with_md5_key),
        cmocka_unit_test(builder_reproduces_ipv4_response),
        cmocka_unit_test(every_vector_has_a_valid_fingerprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
