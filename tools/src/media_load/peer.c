/*
 * peer.c - a synthetic WebRTC endpoint for media-load (see peer.h).
 */
#include "peer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtcp_parse.h"
#include "sdp.h"

#define PKT_MAX (1500 + MEDIA_SRTP_TRAILER_MAX)
#define CLOCK 90000

static void fail(struct ml_peer *p, const char *why)
{
    if (!p->failed)
        snprintf(p->why, sizeof p->why, "%s", why);
    p->failed = true;
}

static void send_raw(struct ml_peer *p, const uint8_t *b, size_t len)
{
    nice_agent_send(p->agent, p->stream, 1, (guint)len, (const gchar *)b);
}

static void flush_dtls(struct ml_peer *p)
{
    uint8_t b[PKT_MAX];
    size_t n;
    while ((n = media_dtls_pop(p->dtls, b, sizeof b)) > 0)
        send_raw(p, b, n);
}

static void send_srtp(struct ml_peer *p, bool rtcp, uint8_t *b, size_t len)
{
    if (media_srtp_protect(p->srtp, rtcp, b, &len, PKT_MAX) == 0)
        send_raw(p, b, len);
}

static void on_dtls(struct ml_peer *p, const uint8_t *b, size_t len)
{
    media_dtls_recv(p->dtls, b, len);
    flush_dtls(p);
    enum media_dtls_state st = media_dtls_state(p->dtls);
    if (st == MEDIA_DTLS_FAILED) {
        char why[160];
        snprintf(why, sizeof why, "DTLS: %s", media_dtls_error(p->dtls));
        fail(p, why);
    } else if (st == MEDIA_DTLS_CONNECTED && !p->srtp) {
        struct media_srtp_keys k;
        if (media_dtls_srtp_keys(p->dtls, &k) != 0 || media_srtp_new(&p->srtp, &k) != 0)
            fail(p, "SRTP keys");
    }
}

/* mediad promises one stream per slot whose numbering goes on +1 when its
 * publisher changes: note each step, and the one at a change. */
static void track_stream(struct ml_peer *p, const struct media_rtp *r, uint32_t pub)
{
    unsigned k = 0;
    while (k < p->n_out && p->out[k].ssrc != r->ssrc)
        k++;
    if (k == p->n_out) {
        if (k == ML_MAX_PUBLISHERS)
            return;
        p->n_out++;
        p->out[k].ssrc = r->ssrc;
    } else {
        uint16_t d = (uint16_t)(r->seq - p->out[k].seq);
        if (d >= 1 && d < 0x8000)
            p->seq_lost += d - 1u;
        if (pub != p->out[k].pub) {
            p->switches++;
            p->switch_seq_step = d;
            p->switch_ts_step = r->ts - p->out[k].ts;
        }
    }
    p->out[k].seq = r->seq;
    p->out[k].ts = r->ts;
    p->out[k].pub = pub;
}

static void on_rtp(struct ml_peer *p, uint8_t *b, size_t len)
{
    struct media_rtp r;
    if (media_rtp_parse(b, len, &r) != 0 || r.payload_len < 8) {
        p->rtp_errors++;
        return;
    }
    uint32_t pub = media_rd32(r.payload);
    if (pub >= ML_MAX_PUBLISHERS) {
        p->rtp_errors++;
        return;
    }
    track_stream(p, &r, pub);
    if (!p->received[pub])
        media_rx_init(&p->rx[pub], r.ssrc, CLOCK);
    p->received[pub]++;
    p->rx_bytes += len;
    media_rx_update(&p->rx[pub], r.seq, r.ts, g_get_real_time(), len);
}

static void on_rtcp(struct ml_peer *p, const uint8_t *b, size_t len)
{
    static struct media_rtcp_item it;
    size_t off = 0;
    while (media_rtcp_read(b, len, &off, &it) == 1) {
        if (it.type == MEDIA_RTCP_T_PLI || it.type == MEDIA_RTCP_T_FIR)
            p->plis++;
        else if (it.type == MEDIA_RTCP_T_NACK)
            p->nacks++;
        else if (it.type == MEDIA_RTCP_T_REMB && p->n_remb < ML_MAX_REMB)
            p->remb_bps[p->n_remb++] = it.u.remb.bitrate;
    }
}

static void on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
                    gpointer data)
{
    (void)agent, (void)stream, (void)component;
    struct ml_peer *p = data;
    uint8_t b[PKT_MAX];
    size_t n = len;
    if (n > 1500)
        return;
    memcpy(b, buf, n);
    enum media_pkt_class c = media_pkt_classify(b, n);
    if (c == MEDIA_PKT_DTLS && p->dtls) {
        on_dtls(p, b, n);
    } else if ((c == MEDIA_PKT_RTP || c == MEDIA_PKT_RTCP) && p->srtp) {
        bool rtcp = c == MEDIA_PKT_RTCP;
        if (media_srtp_unprotect(p->srtp, rtcp, b, &n) != 0)
            p->srtp_errors++;
        else if (rtcp)
            on_rtcp(p, b, n);
        else
            on_rtp(p, b, n);
    }
}

static void on_gathered(NiceAgent *agent, guint stream, gpointer data)
{
    (void)agent, (void)stream;
    ((struct ml_peer *)data)->gathered = true;
}

static void on_state(NiceAgent *agent, guint stream, guint component, guint state, gpointer data)
{
    (void)agent, (void)stream, (void)component;
    struct ml_peer *p = data;
    if (state == NICE_COMPONENT_STATE_FAILED) {
        fail(p, "ICE failed");
    } else if ((state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY) &&
               !p->ice_done && p->dtls) {
        p->ice_done = true; /* we offered actpass, mediad answers passive: we are the client */
        media_dtls_start(p->dtls);
        flush_dtls(p);
    }
}

int ml_peer_start(struct ml_peer *p, unsigned idx, bool publisher, unsigned n_mlines)
{
    memset(p, 0, sizeof *p);
    p->idx = idx;
    p->publisher = publisher;
    p->speak = -1;
    p->n_mlines = publisher ? 1 : n_mlines;
    p->ssrc = 0x10000000u + idx;
    p->seq = (uint16_t)(idx * 7919u); /* somewhere in the sequence space, wrapping for some */
    p->agent = nice_agent_new_full(g_main_context_default(), NICE_COMPATIBILITY_RFC5245,
                                   NICE_AGENT_OPTION_NONE);
    if (!p->agent) {
        fail(p, "libnice: no agent");
        return -EIO;
    }
    g_object_set(p->agent, "controlling-mode", TRUE, "ice-tcp", FALSE, NULL);
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(p->agent), "upnp"))
        g_object_set(p->agent, "upnp", FALSE, NULL); /* one GUPnP context per agent otherwise */
    NiceAddress a;
    nice_address_init(&a);
    nice_address_set_from_string(&a, "127.0.0.1");
    nice_agent_add_local_address(p->agent, &a);
    p->stream = nice_agent_add_stream(p->agent, 1);
    g_signal_connect(p->agent, "candidate-gathering-done", G_CALLBACK(on_gathered), p);
    g_signal_connect(p->agent, "component-state-changed", G_CALLBACK(on_state), p);
    nice_agent_attach_recv(p->agent, p->stream, 1, g_main_context_default(), on_recv, p);
    if (!p->stream || !nice_agent_gather_candidates(p->agent, p->stream)) {
        fail(p, "libnice: cannot gather");
        return -EIO;
    }
    return 0;
}

struct text {
    char *s;
    size_t len, cap;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < t->cap - t->len)
        t->len += (size_t)n;
}

char *ml_peer_offer(struct ml_peer *p, const struct media_dtls_cert *cert)
{
    gchar *ufrag = NULL, *pwd = NULL;
    if (!nice_agent_get_local_credentials(p->agent, p->stream, &ufrag, &pwd))
        return NULL;
    struct text t = {.s = malloc(16384), .cap = 16384};
    if (!t.s)
        return NULL;
    add(&t, "v=0\r\no=- %u 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE", p->idx + 1);
    for (unsigned i = 0; i < p->n_mlines; i++)
        add(&t, " %u", i);
    add(&t, "\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\na=setup:actpass\r\n", ufrag,
        pwd, media_dtls_cert_fingerprint(cert));
    GSList *cands = nice_agent_get_local_candidates(p->agent, p->stream, 1);
    for (unsigned i = 0; i < p->n_mlines; i++) {
        if (p->speak >= 0) { /* like a call's device: it sends its voice and receives */
            add(&t, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:%u\r\n"
                    "a=sendrecv\r\na=extmap:%u %s\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n",
                i, ML_AUDIO_LEVEL_ID, MEDIA_SDP_EXT_AUDIO_LEVEL);
        } else {
            add(&t, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:%u\r\na=%s\r\n",
                i, p->publisher ? "sendonly" : "recvonly");
            add(&t, "a=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\n"
                    "a=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 ccm fir\r\n"
                    "a=rtcp-fb:96 goog-remb\r\n");
        }
        if (p->publisher)
            add(&t, "a=ssrc:%u cname:media-load-%u\r\n", p->ssrc, p->idx);
        if (i > 0)
            continue;
        for (GSList *c = cands; c; c = c->next) {
            gchar *line = nice_agent_generate_local_candidate_sdp(p->agent, c->data);
            if (line)
                add(&t, "%s\r\n", line);
            g_free(line);
        }
        add(&t, "a=end-of-candidates\r\n");
    }
    g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
    g_free(ufrag);
    g_free(pwd);
    return t.s;
}

int ml_peer_answer(struct ml_peer *p, const struct media_dtls_cert *cert, const char *sdp)
{
    static struct media_sdp a;
    char err[128];
    if (media_sdp_parse(&a, sdp, strlen(sdp), err, sizeof err) != 0) {
        fail(p, err);
        return -EINVAL;
    }
    if (media_dtls_new(&p->dtls, cert, MEDIA_DTLS_CLIENT, a.fp_alg, a.fp, a.fp_len) != 0) {
        fail(p, "the answer's fingerprint");
        return -EINVAL;
    }
    if (!nice_agent_set_remote_credentials(p->agent, p->stream, a.ice_ufrag, a.ice_pwd)) {
        fail(p, "the answer's ICE credentials");
        return -EINVAL;
    }
    GSList *list = NULL;
    for (unsigned i = 0; i < a.n_cands; i++) {
        char line[MEDIA_SDP_CAND_LEN + 4];
        snprintf(line, sizeof line, "a=%s", a.cands[i]);
        NiceCandidate *c = nice_agent_parse_remote_candidate_sdp(p->agent, p->stream, line);
        if (c)
            list = g_slist_append(list, c);
    }
    int n = list ? nice_agent_set_remote_candidates(p->agent, p->stream, 1, list) : 0;
    g_slist_free_full(list, (GDestroyNotify)nice_candidate_free);
    if (n <= 0) {
        fail(p, "no usable candidate in the answer");
        return -EINVAL;
    }
    return 0;
}

bool ml_peer_connected(const struct ml_peer *p)
{
    return p->srtp != NULL && !p->failed;
}

void ml_peer_poll(struct ml_peer *p, uint64_t now_us)
{
    if (p->dtls && !p->srtp && p->ice_done && media_dtls_timeout_ms(p->dtls) == 0) {
        media_dtls_on_timeout(p->dtls);
        flush_dtls(p);
    }
    if (!p->srtp || now_us - p->last_rr_us < 1000000)
        return;
    /* A report a second, as a browser sends (a publisher's is an empty RR
     * before it sends media): it also keeps mediad's idle timer off while the
     * other peers join. */
    p->last_rr_us = now_us;
    struct media_rtcp_rb rb[ML_MAX_PUBLISHERS];
    unsigned n = 0;
    for (unsigned i = 0; i < ML_MAX_PUBLISHERS; i++)
        if (p->received[i]) {
            media_rx_report(&p->rx[i], 0, 0, &rb[n]);
            if (p->report_loss) /* a lossy path, as told: the real count is for the summary */
                rb[n].fraction_lost = p->report_loss;
            n++;
        }
    uint8_t b[PKT_MAX];
    int len = media_rtcp_write_rr(b, 1200, p->ssrc, rb, n);
    if (len > 0)
        send_srtp(p, true, b, (size_t)len);
}

/* 20 ms of "Opus" with the RFC 6464 element (one-byte form, RFC 8285 §4.2), voice flag set. */
static void send_voice(struct ml_peer *p, uint64_t now_us, uint64_t start_us)
{
    uint8_t b[PKT_MAX];
    const uint8_t ext[8] = {0xBE, 0xDE, 0, 1, ML_AUDIO_LEVEL_ID << 4, (uint8_t)(0x80 | p->speak),
                            0, 0};
    b[0] = 0x90; /* V=2, X */
    b[1] = 111;
    media_wr16(b + 2, p->seq++);
    media_wr32(b + 4, (uint32_t)((now_us - start_us) * 48 / 1000));
    media_wr32(b + 8, p->ssrc);
    memcpy(b + 12, ext, sizeof ext);
    memset(b + 20, 0x5a, 60);
    p->sent++;
    p->sent_bytes += 80;
    send_srtp(p, false, b, 80);
}

void ml_peer_send_rtp(struct ml_peer *p, uint64_t now_us, uint64_t start_us)
{
    if (p->speak >= 0) {
        send_voice(p, now_us, start_us);
        return;
    }
    uint8_t b[PKT_MAX];
    size_t len = 12 + ML_PAYLOAD;
    uint32_t ts = (uint32_t)((now_us - start_us) * CLOCK / 1000000);
    b[0] = 0x80;
    b[1] = 96;
    media_wr16(b + 2, p->seq++);
    media_wr32(b + 4, ts);
    media_wr32(b + 8, p->ssrc);
    media_wr32(b + 12, p->idx);            /* which publisher */
    media_wr32(b + 16, (uint32_t)p->sent); /* its counter */
    memset(b + 20, 0x5a, len - 20);
    p->sent++;
    p->sent_bytes += len;
    send_srtp(p, false, b, len);
}

void ml_peer_free(struct ml_peer *p)
{
    if (p->agent) {
        nice_agent_attach_recv(p->agent, p->stream, 1, NULL, NULL, NULL);
        g_object_unref(p->agent);
    }
    media_srtp_free(p->srtp);
    media_dtls_free(p->dtls);
    p->agent = NULL;
    p->srtp = NULL;
    p->dtls = NULL;
}
