/*
 * fuzz_media_rtcp.c - libFuzzer harness for mediad's compound RTCP reader
 * (rtcp_parse.c) and the forwarding core's feedback handling (fwd.c).
 * Beyond "no crash": every packet read lies inside the input and the walk
 * ends exactly at its end, counts stay within their arrays, a NACK's sequence
 * numbers written again read back the same, and the room's upstream RTCP for
 * the publisher is itself a well-formed compound.
 */
#include "fwd.h"
#include "fuzz_check.h"
#include "rtcp_parse.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_item(const uint8_t *data, size_t size, const struct media_rtcp_item *it)
{
    CHECK(it->data >= data && it->data + it->len <= data + size && it->len >= 4);
    switch (it->type) {
    case MEDIA_RTCP_T_SR:
    case MEDIA_RTCP_T_RR:
        CHECK(it->u.report.n_rb == it->count);
        break;
    case MEDIA_RTCP_T_SDES:
        for (unsigned i = 0; i < it->u.sdes.n; i++)
            if (it->u.sdes.cname[i])
                CHECK((const uint8_t *)it->u.sdes.cname[i] + it->u.sdes.cname_len[i] <=
                      it->data + it->len);
        break;
    case MEDIA_RTCP_T_BYE:
        CHECK(it->u.bye.n <= MEDIA_RTCP_MAX_CHUNKS);
        if (it->u.bye.reason)
            CHECK((const uint8_t *)it->u.bye.reason + it->u.bye.reason_len <= it->data + it->len);
        break;
    case MEDIA_RTCP_T_NACK: {
        static uint16_t seqs[17 * 20], back[17 * 20];
        static uint8_t buf[12 + 4 * 17 * 20];
        if (it->u.fci.n > 20) /* keep the quadratic check below cheap */
            break;
        unsigned n = media_rtcp_nack_seqs(it, seqs, 17 * 20);
        CHECK(n >= it->u.fci.n && n <= 17 * it->u.fci.n);
        int len = media_rtcp_write_nack(buf, sizeof buf, 1, 2, seqs, n);
        CHECK(len > 0);
        size_t off = 0;
        static struct media_rtcp_item again;
        CHECK(media_rtcp_read(buf, (size_t)len, &off, &again) == 1);
        /* Repacking may merge pairs; the set asked for stays the same. */
        unsigned m = media_rtcp_nack_seqs(&again, back, 17 * 20);
        CHECK(m <= n);
        for (unsigned i = 0; i < m; i++) {
            bool found = false;
            for (unsigned k = 0; k < n && !found; k++)
                found = seqs[k] == back[i];
            CHECK(found);
        }
        break;
    }
    case MEDIA_RTCP_T_FIR:
        CHECK(it->u.fci.n >= 1);
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct media_rtcp_item it;
    static struct media_fwd *f;
    static unsigned pub, sub, slot;
    static uint64_t now;
    size_t off = 0;
    int rc, n = 0;
    while ((rc = media_rtcp_read(data, size, &off, &it)) == 1) {
        check_item(data, size, &it);
        n++;
    }
    CHECK(rc == 0 || rc == -EBADMSG);
    if (rc == 0)
        CHECK(off == size);
    CHECK(media_rtcp_check(data, size) == (rc == 0 && n > 0 ? n : -EBADMSG));
    if (!f) {
        struct media_fwd_config cfg = {.max_endpoints = 2,
                                       .max_sources = 2,
                                       .queue_len = 2,
                                       .pli_interval_us = 1000,
                                       .local_ssrc = 1};
        CHECK(media_fwd_new(&f, &cfg) == 0);
        CHECK(media_fwd_join(f, NULL, &pub) == 0 && media_fwd_join(f, NULL, &sub) == 0);
        CHECK(media_fwd_publish(f, 0, pub, 0xc0, MEDIA_KIND_VIDEO, 90000) == 0);
        CHECK(media_fwd_add_slot(f, 0, sub, MEDIA_KIND_VIDEO, 0x51, 90000, 96, &slot) == 0);
    }
    now += 700;
    CHECK(media_fwd_rtcp(f, now, sub, data, size) == (rc == 0 && n > 0 ? 0 : -EBADMSG));
    media_fwd_tick(f, now);
    static uint8_t out[MEDIA_FWD_RTCP_MAX + 8];
    int len = media_fwd_take_rtcp(f, pub, out, sizeof out);
    if (len > 0)
        CHECK(media_rtcp_check(out, (size_t)len) >= 2);
    int ep;
    while ((ep = media_fwd_ready(f)) >= 0)
        (void)media_fwd_take_rtcp(f, (unsigned)ep, out, sizeof out);
    return 0;
}
