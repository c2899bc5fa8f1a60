/*
 * fuzz_http_req.c - libFuzzer harness for turnd's metrics request-head
 * reader (turnd/src/io/http_req.c). Beyond "no crash": a head that is done
 * lies inside the input and its method and target point into it; every
 * shorter prefix of a done head is not done, and the head alone gives the
 * same answer.
 */
#include "io/http_req.h"
#include "fuzz_check.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct tio_http_request r;
    int rc = tio_http_parse(buf, size, &r);
    CHECK(rc == TIO_HTTP_DONE || rc == TIO_HTTP_INCOMPLETE || rc == TIO_HTTP_BAD);
    if (rc == TIO_HTTP_DONE) {
        CHECK(r.head_len > 0 && r.head_len <= size);
        CHECK(r.method == buf && r.method_len > 0);
        CHECK(r.target > buf && r.target + r.target_len <= buf + r.head_len);
        CHECK(r.target[0] == '/');
        CHECK(r.minor == 0 || r.minor == 1);
        /* The head alone gives the same answer; any shorter prefix is not done. */
        struct tio_http_request again;
        CHECK(tio_http_parse(buf, r.head_len, &again) == TIO_HTTP_DONE);
        CHECK(again.head_len == r.head_len);
        if (r.head_len > 1) CHECK(tio_http_parse(buf, r.head_len - 1, &again) != TIO_HTTP_DONE);
    }
    return 0;
}
