/*
 * fuzz_stream_frame.c - libFuzzer harness for the TCP/TLS stream framer.
 *
 * Walks the input the way turnd's stream connections do: take a frame, hand
 * it to the STUN or ChannelData parser, move on. Beyond "no crash" it checks
 * what the connection code relies on: a frame is never longer than what is
 * buffered nor than STUN_STREAM_FRAME_MAX, is at least a ChannelData header,
 * and the answer for a prefix is consistent with the answer for the whole
 * (a prefix shorter than the frame says "need more" or the same error; one
 * byte more never changes the frame length).
 */
#include "stun/stun.h"
#include "fuzz_check.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        const uint8_t *p = data + off;
        size_t left = size - off, n = 0;
        const char *why = NULL;
        int rc = stun_stream_frame(p, left, &n, &why);
        if (rc != 0) {
            CHECK(rc == -EBADMSG && why && n == 0);
            /* Garbage stays garbage however much more arrives. */
            if (left > 1) {
                size_t n2 = 0;
                int rc2 = stun_stream_frame(p, left - 1, &n2, NULL);
                CHECK(rc2 == 0 ? n2 == 0 : rc2 == -EBADMSG);
            }
            return 0;
        }
        if (n == 0) return 0; /* incomplete: the connection would wait */
        CHECK(n >= STUN_CHANDATA_HEADER_LEN && n <= left && n <= STUN_STREAM_FRAME_MAX);
        CHECK(n % 4 == 0);
        size_t shorter = 0;
        CHECK(stun_stream_frame(p, n - 1, &shorter, NULL) == 0 && shorter == 0);
        size_t exact = 0;
        CHECK(stun_stream_frame(p, n, &exact, NULL) == 0 && exact == n);
        if (stun_looks_like_chandata(p, n)) {
            uint16_t chan, plen;
            const uint8_t *payload;
            if (stun_chandata_parse(p, n, &chan, &payload, &plen) == 0) {
                CHECK(payload == p + 4 && (size_t)plen + 4 <= n && n - 4 - plen < 4);
                sink = plen ? payload[plen - 1] : 0;
            }
        } else {
            struct stun_msg m;
            if (stun_parse(&m, p, n) == 0) CHECK(m.len == n);
        }
        off += n;
    }
    return 0;
}
