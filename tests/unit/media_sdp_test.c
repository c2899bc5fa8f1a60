/*
 * media_sdp_test.c - mediad's SDP parser and answer writer against a real
 * offer captured from Chromium (relay-only, fake camera and microphone).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdp.h"

static char *load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", MEDIA_TEST_DATA, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[65536];
    *len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

static void chromium_offer_parses_to_bundle_of_audio_and_video(void **state)
{
    (void)state;
    size_t len;
    const char *text = load("media_chromium_offer.sdp", &len);
    static struct media_sdp o;
    char err[128];
    assert_int_equal(media_sdp_parse(&o, text, len, err, sizeof err), 0);
    assert_int_equal(o.n_media, 2);
    assert_int_equal(o.n_bundle, 2);
    assert_string_equal(o.bundle[0], "0");
    assert_string_equal(o.bundle[1], "1");
    assert_string_equal(o.ice_ufrag, "IZ6y");
    assert_string_equal(o.ice_pwd, "YoZsWCU1jReXB/z6jJA9mL5C");
    assert_string_equal(o.fp_alg, "sha-256");
    assert_int_equal(o.fp_len, 32);
    assert_int_equal(o.fp[0], 0x9D);
    assert_int_equal(o.fp[31], 0x21);
    assert_int_equal(o.setup, MEDIA_SETUP_ACTPASS);
    assert_int_equal(o.n_cands, 1);
    assert_non_null(strstr(o.cands[0], "typ relay"));
    assert_true(strncmp(o.cands[0], "candidate:1677942589 1 udp", 26) == 0);

    const struct media_sdp_media *a = &o.media[0], *v = &o.media[1];
    assert_int_equal(a->kind, MEDIA_KIND_AUDIO);
    assert_string_equal(a->mid, "0");
    assert_true(a->rtcp_mux);
    assert_int_equal(a->dir, MEDIA_DIR_SENDRECV);
    assert_int_equal(a->n_codecs, 8);
    assert_int_equal(a->codecs[0].pt, 111);
    assert_string_equal(a->codecs[0].name, "opus");
    assert_int_equal(a->codecs[0].clock, 48000);
    assert_int_equal(a->codecs[0].channels, 2);
    assert_string_equal(a->codecs[0].fmtp, "minptime=10;useinbandfec=1");
    assert_int_equal(a->codecs[0].fb, MEDIA_FB_TCC);
    assert_int_equal(a->n_ssrcs, 1);
    assert_int_equal(a->ssrcs[0], 408496126u);
    assert_int_equal(a->n_exts, 4);
    assert_int_equal(a->exts[3].id, 4);
    assert_string_equal(a->exts[3].uri, "urn:ietf:params:rtp-hdrext:sdes:mid");

    assert_int_equal(v->kind, MEDIA_KIND_VIDEO);
    assert_string_equal(v->codecs[0].name, "VP8");
    assert_int_equal(v->codecs[0].fb, MEDIA_FB_NACK | MEDIA_FB_PLI | MEDIA_FB_FIR | MEDIA_FB_REMB |
                                          MEDIA_FB_TCC);
    assert_string_equal(v->codecs[1].name, "rtx");
    assert_string_equal(v->codecs[1].fmtp, "apt=96");
    assert_int_equal(v->fid[0], 625023692u);
    assert_int_equal(v->fid[1], 134031561u);
    assert_int_equal(v->n_ssrcs, 2);
}

static void answer_keeps_opus_and_vp8_without_rtx_or_transport_cc(void **state)
{
    (void)state;
    size_t len;
    const char *text = load("media_chromium_offer.sdp", &len);
    static struct media_sdp o;
    assert_int_equal(media_sdp_parse(&o, text, len, NULL, 0), 0);
    struct media_answer a = {
        .session_id = 42,
        .ice_ufrag = "uf12",
        .ice_pwd = "pw0123456789012345678901",
        .fingerprint = "sha-256 AA:BB",
        .setup = MEDIA_SETUP_PASSIVE,
        .cname = "lanturn-echo",
    };
    const char *cands[] = {"candidate:1 1 UDP 2013266431 127.0.0.1 40000 typ relay raddr 127.0.0.1 rport 5000"};
    a.cands = cands;
    a.n_cands = 1;
    assert_int_equal(media_sdp_choose(&o, &a), 2);
    assert_true(a.media[0].accept);
    assert_int_equal(o.media[0].codecs[a.media[0].codec].pt, 111);
    assert_int_equal(o.media[1].codecs[a.media[1].codec].pt, 96);
    a.media[0].ssrc = 408496126u;
    a.media[1].ssrc = 625023692u;
    static char buf[8192];
    int n = media_sdp_write_answer(&o, &a, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(buf));
    assert_non_null(strstr(buf, "a=group:BUNDLE 0 1\r\n"));
    assert_non_null(strstr(buf, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"));
    assert_non_null(strstr(buf, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"));
    assert_non_null(strstr(buf, "a=setup:passive\r\n"));
    assert_non_null(strstr(buf, "a=fingerprint:sha-256 AA:BB\r\n"));
    assert_non_null(strstr(buf, "a=rtpmap:111 opus/48000/2\r\n"));
    assert_non_null(strstr(buf, "a=fmtp:111 minptime=10;useinbandfec=1\r\n"));
    assert_non_null(strstr(buf, "a=rtcp-fb:96 nack pli\r\n"));
    assert_non_null(strstr(buf, "a=rtcp-fb:96 ccm fir\r\n"));
    assert_non_null(strstr(buf, "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"));
    assert_non_null(strstr(buf, "a=ssrc:625023692 cname:lanturn-echo\r\n"));
    assert_non_null(strstr(buf, "a=candidate:1 1 UDP"));
    assert_null(strstr(buf, "transport-cc"));
    /* REMB and not transport-cc: the browser takes its rate cap from mediad's REMBs */
    assert_non_null(strstr(buf, "a=rtcp-fb:96 goog-remb\r\n"));
    assert_true(strstr(buf, "goog-remb") > strstr(buf, "m=video")); /* video only */
    assert_null(strstr(buf, "rtx"));
    assert_null(strstr(buf, "abs-send-time"));
    /* the candidates appear once, on the first m-line */
    assert_true(strstr(buf, "a=candidate") < strstr(buf, "m=video"));
    assert_null(strstr(strstr(buf, "m=video"), "a=candidate"));

    /* the answer parses back with our credentials */
    static struct media_sdp back;
    char err[128];
    assert_int_equal(media_sdp_parse(&back, buf, (size_t)n, err, sizeof err), 0);
    assert_string_equal(back.ice_ufrag, "uf12");
    assert_int_equal(back.setup, MEDIA_SETUP_PASSIVE);
    assert_int_equal(back.media[1].n_codecs, 1);

    /* too small a buffer is an error, not a truncated answer */
    assert_int_equal(media_sdp_write_answer(&o, &a, buf, 200), -ENOSPC);
}

static void datachannel_and_unbundled_lines_are_rejected_with_port_zero(void **state)
{
    (void)state;
    const char *text = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                       "a=group:BUNDLE 0 1\r\n"
                       "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n"
                       "a=fingerprint:sha-256 01:02\r\n"
                       "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n"
                       "m=video 9 UDP/TLS/RTP/SAVPF 102\r\na=mid:1\r\na=recvonly\r\n"
                       "a=rtpmap:102 H264/90000\r\na=fmtp:102 packetization-mode=1\r\n"
                       "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:2\r\na=rtpmap:0 PCMU/8000\r\n";
    static struct media_sdp o;
    assert_int_equal(media_sdp_parse(&o, text, strlen(text), NULL, 0), 0);
    assert_string_equal(o.ice_ufrag, "abcd"); /* session-level credentials */
    struct media_answer a = {.ice_ufrag = "u", .ice_pwd = "p", .fingerprint = "sha-256 00",
                             .cname = "c"};
    assert_int_equal(media_sdp_choose(&o, &a), 1);
    assert_false(a.media[0].accept);
    assert_true(a.media[1].accept);
    assert_int_equal(a.media[1].dir, MEDIA_DIR_SENDONLY);
    assert_false(a.media[2].accept); /* no Opus, and not bundled */
    static char buf[4096];
    assert_true(media_sdp_write_answer(&o, &a, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"));
    assert_non_null(strstr(buf, "a=group:BUNDLE 1\r\n"));
    assert_non_null(strstr(buf, "m=video 9 UDP/TLS/RTP/SAVPF 102\r\n"));
    assert_non_null(strstr(buf, "a=sendonly\r\n"));
    assert_non_null(strstr(buf, "m=audio 0 UDP/TLS/RTP/SAVPF 0\r\n"));
}

static void malformed_offers_are_refused_with_a_reason(void **state)
{
    (void)state;
    static struct media_sdp o;
    char err[128];
    const char *cases[] = {
        "",
        "v=1\r\n",
        "v=0\r\nm=audio\r\n",
        "v=0\r\nm=audio 99999 UDP/TLS/RTP/SAVPF 111\r\n",
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:x\r\na=ice-pwd:y\r\n",
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:sha-256 0G\r\n",
        "v=0\r\nnot a line\r\n",
        "v=0\r\na=ice-ufrag:x\r\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        assert_int_equal(media_sdp_parse(&o, cases[i], strlen(cases[i]), err, sizeof err), -EBADMSG);
        assert_true(err[0] != '\0');
    }
    static char longline[2048];
    memset(longline, 'a', sizeof longline - 1);
    memcpy(longline, "v=0\na=", 6);
    assert_int_equal(media_sdp_parse(&o, longline, strlen(longline), err, sizeof err), -EBADMSG);
    assert_non_null(strstr(err, "line 2"));
}

static void fingerprint_hex_round_trips(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t n;
    assert_int_equal(media_sdp_parse_fingerprint("0A:ff:10", b, sizeof b, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(b[1], 0xff);
    assert_int_equal(media_sdp_parse_fingerprint("0A:f", b, sizeof b, &n), -EINVAL);
    assert_int_equal(media_sdp_parse_fingerprint("0A-ff", b, sizeof b, &n), -EINVAL);
    assert_int_equal(media_sdp_parse_fingerprint("", b, sizeof b, &n), -EINVAL);
    assert_int_equal(media_sdp_parse_fingerprint("01:02:03", b, 2, &n), -EINVAL);
}

/* RFC 6464's audio level is answered on the audio m-line with the id the
 * offer gave it, whatever that id is, and mediad knows the id to read it by;
 * an m-line that does not offer it gets none. */
static void audio_level_extension_is_answered_with_the_offers_id(void **state)
{
    (void)state;
    size_t len;
    const char *text = load("media_chromium_offer.sdp", &len);
    static char moved[65536];
    static struct media_sdp o;
    static char buf[8192];
    const struct {
        const char *from, *to;
        uint8_t id;
    } cases[] = {{"a=extmap:1 urn", "a=extmap:1 urn", 1}, {"a=extmap:1 urn", "a=extmap:9 urn", 9}};
    for (unsigned i = 0; i < 2; i++) {
        const char *at = strstr(text, cases[i].from);
        assert_non_null(at);
        snprintf(moved, sizeof moved, "%.*s%s%s", (int)(at - text), text, cases[i].to,
                 at + strlen(cases[i].from));
        assert_int_equal(media_sdp_parse(&o, moved, strlen(moved), NULL, 0), 0);
        assert_int_equal(media_sdp_ext_id(&o.media[0], MEDIA_SDP_EXT_AUDIO_LEVEL), cases[i].id);
        assert_int_equal(media_sdp_ext_id(&o.media[1], MEDIA_SDP_EXT_AUDIO_LEVEL), 0);
        struct media_answer a = {.ice_ufrag = "uf12", .ice_pwd = "pw0123456789012345678901",
                                 .fingerprint = "sha-256 AA:BB", .setup = MEDIA_SETUP_PASSIVE,
                                 .cname = "lanturn-room"};
        assert_int_equal(media_sdp_choose(&o, &a), 2);
        assert_true(media_sdp_write_answer(&o, &a, buf, sizeof buf) > 0);
        char want[128];
        snprintf(want, sizeof want, "a=extmap:%u %s\r\n", cases[i].id, MEDIA_SDP_EXT_AUDIO_LEVEL);
        const char *ext = strstr(buf, want), *video = strstr(buf, "m=video");
        assert_non_null(ext);
        assert_true(ext > strstr(buf, "m=audio") && ext < video);
        assert_null(strstr(video, "ssrc-audio-level"));
    }
    /* without it in the offer there is no id and no extmap for it */
    const char *at = strstr(text, "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n");
    assert_non_null(at);
    snprintf(moved, sizeof moved, "%.*s%s", (int)(at - text), text,
             at + strlen("a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"));
    assert_int_equal(media_sdp_parse(&o, moved, strlen(moved), NULL, 0), 0);
    assert_int_equal(media_sdp_ext_id(&o.media[0], MEDIA_SDP_EXT_AUDIO_LEVEL), 0);
}

/* ICE-TCP (RFC 6544): a browser's active TCP candidates (port 9) come through
 * with their tcptype, and mediad's passive ones go into the answer as they
 * are, UDP and TCP on the first m-line only. */
static void tcp_candidates_keep_their_tcptype_both_ways(void **state)
{
    (void)state;
    size_t len;
    const char *orig = load("media_chromium_offer.sdp", &len);
    const char *relay = strstr(orig, "a=candidate:");
    const char *eol = strstr(relay, "\r\n") + 2;
    static char text[65536];
    snprintf(text, sizeof text, "%.*s%s%s%s", (int)(relay - orig), orig,
             "a=candidate:2999745851 1 udp 2122260223 10.232.1.2 51234 typ host generation 0 "
             "network-id 1\r\n",
             "a=candidate:1435463253 1 tcp 1518280447 10.232.1.2 9 typ host tcptype active "
             "generation 0 network-id 1\r\n",
             eol);
    static struct media_sdp o;
    char err[128];
    assert_int_equal(media_sdp_parse(&o, text, strlen(text), err, sizeof err), 0);
    assert_int_equal(o.n_cands, 2);
    assert_string_equal(o.cands[1], "candidate:1435463253 1 tcp 1518280447 10.232.1.2 9 typ host "
                                    "tcptype active generation 0 network-id 1");

    struct media_answer a = {.session_id = 7, .ice_ufrag = "uf12",
                             .ice_pwd = "pw0123456789012345678901", .fingerprint = "sha-256 AA:BB",
                             .setup = MEDIA_SETUP_PASSIVE, .cname = "lanturn-echo"};
    const char *cands[] = {
        "candidate:1 1 UDP 2015363327 10.232.1.1 40000 typ host",
        "candidate:2 1 TCP 1015021823 10.232.1.1 9 typ host tcptype active",
        "candidate:3 1 TCP 1010827519 10.232.1.1 40001 typ host tcptype passive",
    };
    a.cands = cands;
    a.n_cands = 3;
    assert_int_equal(media_sdp_choose(&o, &a), 2);
    static char buf[8192];
    int n = media_sdp_write_answer(&o, &a, buf, sizeof buf);
    assert_true(n > 0);
    const char *passive = strstr(buf, "a=candidate:3 1 TCP 1010827519 10.232.1.1 40001 typ host "
                                      "tcptype passive\r\n");
    assert_non_null(passive);
    assert_true(passive < strstr(buf, "m=video"));
    assert_null(strstr(strstr(buf, "m=video"), "a=candidate"));
    static struct media_sdp back;
    assert_int_equal(media_sdp_parse(&back, buf, (size_t)n, err, sizeof err), 0);
    assert_int_equal(back.n_cands, 3);
    assert_string_equal(back.cands[2], cands[2]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chromium_offer_parses_to_bundle_of_audio_and_video),
        cmocka_unit_test(answer_keeps_opus_and_vp8_without_rtx_or_transport_cc),
        cmocka_unit_test(datachannel_and_unbundled_lines_are_rejected_with_port_zero),
        cmocka_unit_test(malformed_offers_are_refused_with_a_reason),
        cmocka_unit_test(fingerprint_hex_round_trips),
        cmocka_unit_test(audio_level_extension_is_answered_with_the_offers_id),
        cmocka_unit_test(tcp_candidates_keep_their_tcptype_both_ways),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
