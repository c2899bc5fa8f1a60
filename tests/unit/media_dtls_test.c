/*
 * media_dtls_test.c - DTLS-SRTP between two in-process endpoints: the
 * handshake over queued datagrams, the RFC 5764 key export seen from both
 * sides, SRTP/SRTCP across them, and the fingerprint check.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "dtls.h"
#include "sdp.h"

struct pair {
    struct media_dtls_cert *cc, *sc;
    struct media_dtls *client, *server;
    unsigned datagrams;
};

static void fp_of(const struct media_dtls_cert *c, uint8_t *fp, size_t *len)
{
    const char *s = media_dtls_cert_fingerprint(c);
    assert_true(strncmp(s, "sha-256 ", 8) == 0);
    assert_int_equal(strlen(s), 8 + 32 * 3 - 1);
    assert_int_equal(media_sdp_parse_fingerprint(s + 8, fp, 64, len), 0);
}

static void make_pair(struct pair *p, bool wrong_fp)
{
    char err[200];
    memset(p, 0, sizeof *p);
    assert_int_equal(media_dtls_cert_new(&p->cc, err, sizeof err), 0);
    assert_int_equal(media_dtls_cert_new(&p->sc, err, sizeof err), 0);
    uint8_t cfp[64], sfp[64];
    size_t cl, sl;
    fp_of(p->cc, cfp, &cl);
    fp_of(p->sc, sfp, &sl);
    if (wrong_fp)
        cfp[0] ^= 1;
    assert_int_equal(media_dtls_new(&p->client, p->cc, MEDIA_DTLS_CLIENT, "sha-256", sfp, sl), 0);
    assert_int_equal(media_dtls_new(&p->server, p->sc, MEDIA_DTLS_SERVER, "sha-256", cfp, cl), 0);
}

static void free_pair(struct pair *p)
{
    media_dtls_free(p->client);
    media_dtls_free(p->server);
    media_dtls_cert_free(p->cc);
    media_dtls_cert_free(p->sc);
}

/* Move datagrams both ways until neither side has any. */
static void pump(struct pair *p)
{
    uint8_t buf[1500];
    for (int round = 0; round < 20; round++) {
        size_t n;
        bool moved = false;
        while ((n = media_dtls_pop(p->client, buf, sizeof buf)) > 0) {
            assert_true(n <= MEDIA_DTLS_MTU);
            media_dtls_recv(p->server, buf, n);
            p->datagrams++;
            moved = true;
        }
        while ((n = media_dtls_pop(p->server, buf, sizeof buf)) > 0) {
            assert_true(n <= MEDIA_DTLS_MTU);
            media_dtls_recv(p->client, buf, n);
            p->datagrams++;
            moved = true;
        }
        if (!moved)
            return;
    }
}

static void handshake_exports_matching_keys_on_both_sides(void **state)
{
    (void)state;
    struct pair p;
    make_pair(&p, false);
    struct media_srtp_keys k;
    assert_int_equal(media_dtls_srtp_keys(p.server, &k), -EAGAIN);
    assert_int_equal(media_dtls_start(p.client), 0);
    pump(&p);
    assert_int_equal(media_dtls_state(p.client), MEDIA_DTLS_CONNECTED);
    assert_int_equal(media_dtls_state(p.server), MEDIA_DTLS_CONNECTED);
    assert_true(p.datagrams >= 4); /* flights were kept as separate datagrams */
    struct media_srtp_keys ck, sk;
    assert_int_equal(media_dtls_srtp_keys(p.client, &ck), 0);
    assert_int_equal(media_dtls_srtp_keys(p.server, &sk), 0);
    assert_int_equal(ck.profile, MEDIA_SRTP_AEAD_AES_128_GCM); /* preferred when both have it */
    assert_int_equal(ck.len, 16 + 12);
    assert_int_equal(sk.len, ck.len);
    /* RFC 5764 §4.2: what the client writes with, the server reads with */
    assert_memory_equal(ck.local, sk.remote, ck.len);
    assert_memory_equal(ck.remote, sk.local, ck.len);
    assert_memory_not_equal(ck.local, ck.remote, ck.len);
    assert_int_equal(media_dtls_timeout_ms(p.server), -1);

    /* SRTP from client to server and SRTCP back */
    struct media_srtp *cs, *ss;
    assert_int_equal(media_srtp_new(&cs, &ck), 0);
    assert_int_equal(media_srtp_new(&ss, &sk), 0);
    uint8_t pkt[300] = {0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0x12, 0x34};
    memset(pkt + 12, 0x42, 100);
    uint8_t plain[112];
    memcpy(plain, pkt, sizeof plain);
    size_t len = 112;
    assert_int_equal(media_srtp_protect(cs, false, pkt, &len, sizeof pkt), 0);
    assert_int_equal(len, 112 + 16); /* GCM tag */
    assert_memory_not_equal(pkt + 12, plain + 12, 100);
    assert_int_equal(media_srtp_unprotect(ss, false, pkt, &len), 0);
    assert_int_equal(len, 112);
    assert_memory_equal(pkt, plain, 112);
    /* a replayed packet is refused */
    pkt[3] = 2;
    memcpy(plain, pkt, sizeof plain);
    len = 112;
    assert_int_equal(media_srtp_protect(cs, false, pkt, &len, sizeof pkt), 0);
    uint8_t copy[300];
    memcpy(copy, pkt, len);
    size_t clen = len;
    assert_int_equal(media_srtp_unprotect(ss, false, pkt, &len), 0);
    assert_int_equal(media_srtp_unprotect(ss, false, copy, &clen), -EIO);
    /* a packet protected a second time (an echoed retransmission) is allowed */
    memcpy(pkt, plain, 112);
    len = 112;
    assert_int_equal(media_srtp_protect(cs, false, pkt, &len, sizeof pkt), 0);

    uint8_t rr[8 + MEDIA_SRTP_TRAILER_MAX] = {0x80, 201, 0, 1, 0, 0, 0, 9};
    len = 8;
    assert_int_equal(media_srtp_protect(ss, true, rr, &len, sizeof rr), 0);
    assert_true(len > 8);
    assert_int_equal(media_srtp_unprotect(cs, true, rr, &len), 0);
    assert_int_equal(len, 8);
    assert_int_equal(rr[7], 9);
    len = 100;
    assert_int_equal(media_srtp_protect(cs, false, pkt, &len, 120), -ENOSPC);
    media_srtp_free(cs);
    media_srtp_free(ss);
    free_pair(&p);
}

static void a_certificate_that_does_not_match_the_sdp_fingerprint_fails(void **state)
{
    (void)state;
    struct pair p;
    make_pair(&p, true); /* the server expects another client certificate */
    assert_int_equal(media_dtls_start(p.client), 0);
    pump(&p);
    assert_int_equal(media_dtls_state(p.server), MEDIA_DTLS_FAILED);
    assert_non_null(strstr(media_dtls_error(p.server), "fingerprint"));
    struct media_srtp_keys k;
    assert_int_equal(media_dtls_srtp_keys(p.server, &k), -EAGAIN);
    uint8_t junk[20] = {22};
    assert_int_equal(media_dtls_recv(p.server, junk, sizeof junk), -EPROTO);
    free_pair(&p);
}

static void unknown_digest_or_wrong_length_is_rejected(void **state)
{
    (void)state;
    char err[200];
    struct media_dtls_cert *c;
    struct media_dtls *d;
    uint8_t fp[32] = {0};
    assert_int_equal(media_dtls_cert_new(&c, err, sizeof err), 0);
    assert_int_equal(media_dtls_new(&d, c, MEDIA_DTLS_SERVER, "md5", fp, 16), -EINVAL);
    assert_int_equal(media_dtls_new(&d, c, MEDIA_DTLS_SERVER, "sha-256", fp, 20), -EINVAL);
    assert_int_equal(media_dtls_new(&d, c, MEDIA_DTLS_SERVER, "sha-256", fp, 32), 0);
    /* a server without a ClientHello sends nothing and wants no timer */
    uint8_t buf[1500];
    assert_int_equal(media_dtls_pop(d, buf, sizeof buf), 0);
    media_dtls_free(d);
    media_dtls_cert_free(c);
    media_dtls_cert_free(NULL);
    media_srtp_free(NULL);
}

static void client_retransmits_its_hello_when_the_flight_is_lost(void **state)
{
    (void)state;
    struct pair p;
    make_pair(&p, false);
    assert_int_equal(media_dtls_start(p.client), 0);
    uint8_t buf[1500];
    assert_true(media_dtls_pop(p.client, buf, sizeof buf) > 0); /* lost */
    long ms = media_dtls_timeout_ms(p.client);
    assert_true(ms >= 0 && ms <= 1000);
    long wait = ms + 5;
    struct timespec ts = {.tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    media_dtls_on_timeout(p.client);
    pump(&p);
    assert_int_equal(media_dtls_state(p.server), MEDIA_DTLS_CONNECTED);
    free_pair(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake_exports_matching_keys_on_both_sides),
        cmocka_unit_test(a_certificate_that_does_not_match_the_sdp_fingerprint_fails),
        cmocka_unit_test(unknown_digest_or_wrong_length_is_rejected),
        cmocka_unit_test(client_retransmits_its_hello_when_the_flight_is_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
