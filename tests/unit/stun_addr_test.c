/*
 * stun_addr_test.c - transport address helpers: the text forms turnd logs and
 * reads from its configuration, comparison, and the hash permission and
 * channel tables are keyed by.
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

static void addresses_parse_and_format(void **state)
{
    (void)state;
    struct stun_addr a;
    char text[64];
    assert_int_equal(stun_addr_parse("10.0.0.1", &a), 0);
    assert_int_equal(a.family, AF_INET);
    assert_int_equal(a.port, 0);
    assert_memory_equal(a.ip, "\x0a\x00\x00\x01", 4);
    assert_int_equal(stun_addr_format(&a, false, text, sizeof(text)), 0);
    assert_string_equal(text, "10.0.0.1");
    assert_int_equal(stun_addr_parse("10.0.0.1:3478", &a), 0);
    assert_int_equal(a.port, 3478);
    assert_int_equal(stun_addr_format(&a, true, text, sizeof(text)), 0);
    assert_string_equal(text, "10.0.0.1:3478");
    assert_int_equal(stun_addr_parse("::1", &a), 0);
    assert_int_equal(a.family, AF_INET6);
    assert_int_equal(a.port, 0);
    assert_int_equal(stun_addr_parse("[2001:db8::1]:65535", &a), 0);
    assert_int_equal(a.family, AF_INET6);
    assert_int_equal(a.port, 65535);
    assert_int_equal(stun_addr_format(&a, false, text, sizeof(text)), 0);
    assert_string_equal(text, "2001:db8::1");
    assert_int_equal(stun_addr_parse("[::1]", &a), 0);
    assert_int_equal(stun_addr_format(&a, true, text, sizeof(text)), 0);
    assert_string_equal(text, "[::1]:0");
}

static void malformed_address_text_is_rejected(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",           "1.2.3",      "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1",
        "1.2.3.4:+1", "1.2.3.4:1x", "[::1",     "[::1]x",        "[1.2.3.4]:80",
        "::1:80:x",   "host:80",    "[::1]:",   "1.2.3.4 :80",   "1.2.3.4:99999999999999999999"};
    struct stun_addr a;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(stun_addr_parse(bad[i], &a), -EINVAL);
    char long_text[200];
    memset(long_text, '1', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    assert_int_equal(stun_addr_parse(long_text, &a), -EINVAL);
}

/* Too small an output buffer is reported and the text truncated, never overrun. */
static void format_reports_small_buffers_and_unset_addresses(void **state)
{
    (void)state;
    struct stun_addr a;
    char text[64];
    assert_int_equal(stun_addr_parse("[2001:db8::1]:3478", &a), 0);
    assert_int_equal(stun_addr_format(&a, true, text, 8), -ENOSPC);
    assert_int_equal(strlen(text), 7);
    struct stun_addr unset = {0};
    assert_int_equal(stun_addr_format(&unset, true, text, sizeof(text)), -EINVAL);
}

static void addresses_compare_by_ip_and_port(void **state)
{
    (void)state;
    struct stun_addr a, b;
    assert_int_equal(stun_addr_parse("192.0.2.1:1", &a), 0);
    assert_int_equal(stun_addr_parse("192.0.2.1:2", &b), 0);
    assert_true(stun_addr_ip_equal(&a, &b));
    assert_false(stun_addr_equal(&a, &b));
    assert_int_not_equal(stun_addr_hash(&a), stun_addr_hash(&b));
    b.port = 1;
    assert_true(stun_addr_equal(&a, &b));
    assert_int_equal(stun_addr_hash(&a), stun_addr_hash(&b));
    /* The IPv4-mapped IPv6 form is a different transport address. */
    assert_int_equal(stun_addr_parse("[::ffff:192.0.2.1]:1", &b), 0);
    assert_false(stun_addr_ip_equal(&a, &b));
    assert_false(stun_addr_equal(&a, &b));

    assert_int_equal(stun_addr_parse("0.0.0.0:9", &a), 0);
    assert_true(stun_addr_is_any(&a));
    assert_int_equal(stun_addr_parse("[::]:9", &a), 0);
    assert_true(stun_addr_is_any(&a));
    assert_int_equal(stun_addr_parse("[::2]:9", &a), 0);
    assert_false(stun_addr_is_any(&a));
    assert_int_equal(stun_addr_parse("0.0.0.1", &a), 0);
    assert_false(stun_addr_is_any(&a));
}

/* Neighbouring addresses and ports must not collide much in a table. */
static void address_hash_spreads_neighbours(void **state)
{
    (void)state;
    enum { BUCKETS = 256, N = 4096 };
    static unsigned count[BUCKETS];
    memset(count, 0, sizeof(count));
    struct stun_addr a;
    assert_int_equal(stun_addr_parse("10.0.0.0:50000", &a), 0);
    for (unsigned i = 0; i < N; i++) {
        a.ip[3] = (uint8_t)i;
        a.port = (uint16_t)(50000 + i / 256);
        count[stun_addr_hash(&a) % BUCKETS]++;
    }
    for (unsigned i = 0; i < BUCKETS; i++)
        assert_true(count[i] < 3 * N / BUCKETS); /* average 16 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addresses_parse_and_format),
        cmocka_unit_test(malformed_address_text_is_rejected),
        cmocka_unit_test(format_reports_small_buffers_and_unset_addresses),
        cmocka_unit_test(addresses_compare_by_ip_and_port),
        cmocka_unit_test(address_hash_spreads_neighbours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
