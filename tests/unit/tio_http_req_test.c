/*
 * tio_http_req_test.c - the metrics endpoint's request-head reader
 * (turnd/src/io/http_req.c): what a scraper sends is accepted whole or byte
 * by byte, with CR LF or bare LF; a head that is cut short says "incomplete";
 * malformed request lines, versions, header names, control characters,
 * folded lines and HTTP/1.1 without Host are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "io/http_req.h"

static int parse(const char *s, struct tio_http_request *r)
{
    return tio_http_parse(s, strlen(s), r);
}

static void test_prometheus_scrape_is_accepted(void **state)
{
    (void)state;
    const char *s =
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9641\r\n"
        "User-Agent: Prometheus/2.45.0\r\nAccept: text/plain;version=0.0.4;q=1,*/*;q=0.1\r\n"
        "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n";
    struct tio_http_request r;
    assert_int_equal(parse(s, &r), TIO_HTTP_DONE);
    assert_int_equal(r.method_len, 3);
    assert_memory_equal(r.method, "GET", 3);
    assert_int_equal(r.target_len, 8);
    assert_memory_equal(r.target, "/metrics", 8);
    assert_int_equal(r.minor, 1);
    assert_true(r.has_host);
    assert_int_equal(r.head_len, strlen(s));
}

static void test_every_prefix_is_incomplete(void **state)
{
    (void)state;
    const char *s = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n";
    struct tio_http_request r;
    for (size_t n = 0; n < strlen(s); n++)
        assert_int_equal(tio_http_parse(s, n, &r), TIO_HTTP_INCOMPLETE);
    assert_int_equal(tio_http_parse(s, strlen(s), &r), TIO_HTTP_DONE);
    assert_int_equal(r.target_len, strlen("/metrics?x=1"));
}

static void test_bare_lf_and_http10_without_host(void **state)
{
    (void)state;
    struct tio_http_request r;
    assert_int_equal(parse("GET /metrics HTTP/1.0\n\n", &r), TIO_HTTP_DONE);
    assert_int_equal(r.minor, 0);
    assert_false(r.has_host);
    assert_int_equal(parse("HEAD /metrics HTTP/1.1\nhOsT: x\n\n", &r), TIO_HTTP_DONE);
    assert_true(r.has_host);
}

static void test_bytes_after_the_head_are_not_part_of_it(void **state)
{
    (void)state;
    const char *s = "POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
    struct tio_http_request r;
    assert_int_equal(parse(s, &r), TIO_HTTP_DONE);
    assert_int_equal(r.head_len, strlen(s) - 3);
}

static void test_malformed_heads_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "GARBAGE\r\n\r\n",
        "GET\r\n\r\n",
        "GET /metrics\r\n\r\n",                      /* HTTP/0.9 */
        "GET  /metrics HTTP/1.1\r\nHost: a\r\n\r\n", /* two spaces */
        "GET metrics HTTP/1.1\r\nHost: a\r\n\r\n",   /* not origin-form */
        "GET /metrics HTTP/2.0\r\nHost: a\r\n\r\n",
        "GET /metrics HTTP/1.1 \r\nHost: a\r\n\r\n",
        "GET /metrics HTTP/1.1\r\n\r\n",            /* 1.1 without Host */
        "G(T /metrics HTTP/1.1\r\nHost: a\r\n\r\n", /* not a token */
        "GET /met\x01rics HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost : a\r\n\r\n", /* space before the colon */
        "GET /metrics HTTP/1.1\r\nHost: a\x7f\r\n\r\n",
        "GET /metrics HTTP/1.1\r\n: empty name\r\nHost: a\r\n\r\n",
    };
    struct tio_http_request r;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        print_message("case %zu\n", i);
        assert_int_equal(parse(bad[i], &r), TIO_HTTP_BAD);
    }
}

static void test_nul_in_a_field_is_refused(void **state)
{
    (void)state;
    static const char s[] = "GET /metrics HTTP/1.1\r\nHost: a\0b\r\n\r\n";
    struct tio_http_request r;
    assert_int_equal(tio_http_parse(s, sizeof(s) - 1, &r), TIO_HTTP_BAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prometheus_scrape_is_accepted),
        cmocka_unit_test(test_every_prefix_is_incomplete),
        cmocka_unit_test(test_bare_lf_and_http10_without_host),
        cmocka_unit_test(test_bytes_after_the_head_are_not_part_of_it),
        cmocka_unit_test(test_malformed_heads_are_refused),
        cmocka_unit_test(test_nul_in_a_field_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
