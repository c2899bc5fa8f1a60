/*
 * session.c - an echo or room session on libnice (see session.h).
 *
 * Packet path (RFC 7983 demultiplexing on the one bundled component):
 *   DTLS -> dtls.c, whose datagrams go back through the agent; once connected
 *           the exported keys make the SRTP sessions;
 *   SRTP -> unprotect -> echo.c -> protect -> back through the agent;
 *   SRTCP -> unprotect -> echo.c -> the RTCP it answers with, protected;
 *   in a room: SRTP/SRTCP -> unprotect -> room.c, which protects each copy
 *           with the receiving session's keys and sends it on its agent.
 * Everything runs on the session's worker context (worker.h); the control
 * thread comes in only while it holds that worker's lock.
 */
#include "session.h"
#include "session_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <agent.h>
#include <gio/gio.h>
#include <openssl/rand.h>
#include <sys/socket.h>

#include "auth/turn_creds.h"
#include "echo.h"
#include "room.h"
#include "rtp.h"
#include "sdp.h"
#include "util/log.h"
#include "worker.h"

#define PKT_MAX (1500 + MEDIA_SRTP_TRAILER_MAX)
/* A room with more members than this sends some of them from other workers. */
#define ROOM_SPREAD_MIN 32
/* A publisher's packets wait here while its worker forwards the one before
 * to a large room: about 1.5 s of a 500 kbit/s video (the kernel caps it at
 * net.core.rmem_max). */
#define RCVBUF_BYTES (1 << 20)
#define GATHER_TIMEOUT_US (10 * 1000000ull)
/* The user id in mediad's own TURN usernames ("<expiry>:2147483647"): far
 * above any user signald makes, so turnd's per-user quotas keep it apart. */
#define MEDIA_TURN_USER_ID 2147483647

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* NTP timestamps in RTCP want wall-clock time */
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t media_session_now_us(void) { return now_us(); }
struct media_room *media_session_room(const struct media_session *s) { return s->room; }
unsigned media_session_room_ep(const struct media_session *s) { return s->room_ep; }

static uint32_t random32(void)
{
    uint32_t v = 0;
    while (v == 0)
        if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
            v = (uint32_t)g_random_int();
    return v;
}

const char *media_session_id(const struct media_session *s) { return s->id; }

struct media_session *media_server_find_locked(struct media_server *srv, const char *id,
                                               struct media_worker **w)
{
    for (unsigned i = 0; i < srv->n_workers; i++) {
        struct media_worker *wk = &srv->workers[i];
        media_worker_lock(wk);
        for (struct media_session *s = wk->sessions; s; s = s->next)
            if (strcmp(s->id, id) == 0 && s->state != ST_CLOSED) {
                *w = wk;
                return s;
            }
        media_worker_unlock(wk);
    }
    *w = NULL;
    return NULL;
}

static void send_pkt(struct media_session *s, const uint8_t *p, size_t len)
{
    if (nice_agent_send(s->agent, s->stream, 1, (guint)len, (const gchar *)p) == (gint)len) {
        s->tx_packets++;
        s->tx_bytes += len;
    }
}

int media_session_send_srtp(struct media_session *s, bool rtcp, uint8_t *pkt, size_t len,
                            size_t cap)
{
    if (!s || s->state != ST_CONNECTED || !s->srtp)
        return -EAGAIN;
    if (s->sender)
        return media_worker_send_far(s->worker, s->sender, s, rtcp, pkt, len) == 0 ? 0 : -EIO;
    if (media_srtp_protect(s->srtp, rtcp, pkt, &len, cap) != 0)
        return -EIO;
    uint64_t before = s->tx_packets;
    send_pkt(s, pkt, len);
    return s->tx_packets > before ? 0 : -EIO;
}

void media_session_far_send(struct media_session *s, bool rtcp, uint8_t *pkt, size_t len,
                            size_t cap)
{
    if (media_srtp_protect(s->srtp, rtcp, pkt, &len, cap) == 0 &&
        nice_agent_send(s->agent, s->stream, 1, (guint)len, (const gchar *)pkt) == (gint)len) {
        atomic_fetch_add_explicit(&s->far_packets, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->far_bytes, len, memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&s->far_errors, 1, memory_order_relaxed);
    }
}

static gboolean free_later(gpointer data);

void media_session_far_done(struct media_session *s)
{
    atomic_store(&s->far_done, true);
    media_worker_defer(s->worker, free_later, s);
}

static void flush_dtls(struct media_session *s)
{
    uint8_t buf[PKT_MAX];
    size_t n;
    while ((n = media_dtls_pop(s->dtls, buf, sizeof buf)) > 0)
        send_pkt(s, buf, n);
}

static void answer_once(struct media_session *s, const char *sdp, const char *error)
{
    media_answer_fn fn = s->answer_fn;
    s->answer_fn = NULL;
    if (fn)
        fn(s->answer_arg, s, sdp, error);
}

static gboolean free_later(gpointer data)
{
    struct media_session *s = data;
    struct media_worker *w = s->worker;
    if (s->sender && !atomic_load(&s->far_done)) {
        /* Its packets may still wait in the sender's ring: the barrier goes
         * behind them, and the sender calls us again once past it. */
        if (!s->barrier_sent &&
            media_worker_send_far(w, s->sender, s, false, NULL, 0) != 0)
            return G_SOURCE_CONTINUE; /* the ring is full: next loop iteration */
        s->barrier_sent = true;
        return G_SOURCE_REMOVE;
    }
    for (struct media_session **pp = &w->sessions; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    if (s->agent) {
        nice_agent_attach_recv(s->agent, s->stream, 1, NULL, NULL, NULL);
        nice_agent_remove_stream(s->agent, s->stream);
        g_object_unref(s->agent);
    }
    media_srtp_free(s->srtp);
    media_dtls_free(s->dtls);
    free(s);
    atomic_fetch_sub(&w->n_sessions, 1); /* last: the worker may exit once it is 0 */
    return G_SOURCE_REMOVE;
}

void media_session_close(struct media_session *s, const char *why)
{
    if (s->state == ST_CLOSED)
        return;
    bool ok = s->state == ST_CONNECTED;
    if (ok)
        s->worker->completed++;
    else
        s->worker->failed++;
    s->state = ST_CLOSED;
    snprintf(s->close_reason, sizeof s->close_reason, "%s", why);
    if (s->room) /* at once: nothing more is forwarded to or from it */
        media_room_leave(s->room, s->room_ep);
    s->room = NULL;
    lt_log(ok ? LT_LOG_INFO : LT_LOG_WARN, "media", "session_closed",
           "id=%s reason=\"%s\" rx_packets=%" PRIu64 " tx_packets=%" PRIu64, s->id, why,
           s->rx_packets, s->tx_packets);
    answer_once(s, NULL, why);
    /* Not now: we may be inside one of the agent's own callbacks. */
    media_worker_defer(s->worker, free_later, s);
}

void media_session_forget_answer(struct media_session *s) { s->answer_fn = NULL; }

/* ---- media ---- */

static void on_dtls(struct media_session *s, const uint8_t *p, size_t len)
{
    if (!s->dtls)
        return;
    media_dtls_recv(s->dtls, p, len);
    flush_dtls(s);
    enum media_dtls_state st = media_dtls_state(s->dtls);
    if (st == MEDIA_DTLS_FAILED) {
        char why[200];
        snprintf(why, sizeof why, "DTLS: %s", media_dtls_error(s->dtls));
        media_session_close(s, why);
    } else if (st == MEDIA_DTLS_CLOSED) {
        media_session_close(s, "the browser closed DTLS");
    } else if (st == MEDIA_DTLS_CONNECTED && !s->srtp) {
        struct media_srtp_keys k;
        if (media_dtls_srtp_keys(s->dtls, &k) != 0 || media_srtp_new(&s->srtp, &k) != 0) {
            media_session_close(s, "SRTP keys");
            return;
        }
        s->profile = k.profile;
        OPENSSL_cleanse(&k, sizeof k);
        s->state = ST_CONNECTED;
        s->connected_us = now_us();
        if (s->room)
            media_room_connected(s->room, s->room_ep, s->connected_us);
        lt_log(LT_LOG_INFO, "media", "session_connected", "id=%s srtp=%s pair=%s/%s/%s", s->id,
               s->profile == MEDIA_SRTP_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM"
                                                        : "AES_CM_128_HMAC_SHA1_80",
               s->pair_local, s->pair_remote, s->pair_transport);
    }
}

static void on_srtp(struct media_session *s, bool rtcp, const uint8_t *p, size_t len)
{
    if (!s->srtp || len > 1500)
        return;
    uint8_t buf[PKT_MAX];
    memcpy(buf, p, len);
    if (media_srtp_unprotect(s->srtp, rtcp, buf, &len) != 0) {
        s->srtp_errors++;
        return;
    }
    uint64_t t = now_us();
    if (s->room) {
        if (rtcp)
            media_room_rtcp(s->room, s->room_ep, t, buf, len);
        else
            media_room_rtp(s->room, s->room_ep, t, buf, len);
        return;
    }
    if (!rtcp) {
        if (media_echo_rtp(&s->echo, t, buf, len) == 1 &&
            media_srtp_protect(s->srtp, false, buf, &len, sizeof buf) == 0)
            send_pkt(s, buf, len);
        return;
    }
    uint8_t out[PKT_MAX];
    int n = media_echo_rtcp(&s->echo, t, buf, len, out, 1200);
    size_t olen = n > 0 ? (size_t)n : 0;
    if (olen && media_srtp_protect(s->srtp, true, out, &olen, sizeof out) == 0)
        send_pkt(s, out, olen);
}

static void on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
                    gpointer data)
{
    (void)agent, (void)stream, (void)component;
    struct media_session *s = data;
    if (s->state == ST_CLOSED)
        return;
    const uint8_t *p = (const uint8_t *)buf;
    s->rx_packets++;
    s->rx_bytes += len;
    s->last_rx_us = now_us();
    switch (media_pkt_classify(p, len)) {
    case MEDIA_PKT_DTLS: on_dtls(s, p, len); break;
    case MEDIA_PKT_RTP: on_srtp(s, false, p, len); break;
    case MEDIA_PKT_RTCP: on_srtp(s, true, p, len); break;
    default: break; /* STUN is libnice's; anything else is noise */
    }
}

static void tick(struct media_session *s, uint64_t t)
{
    const struct media_config *cfg = s->srv->cfg;
    if (s->state == ST_GATHERING && t - s->created_us > GATHER_TIMEOUT_US) {
        media_session_close(s, "no ICE candidates in time (is TURN reachable?)");
        return;
    }
    uint64_t last = s->last_rx_us ? s->last_rx_us : s->created_us;
    /* max_duration bounds an echo test; a room member stays as long as it sends. */
    bool too_long = !s->room && t - s->created_us > cfg->max_duration_s * 1000000ull;
    if (t - last > cfg->idle_timeout_s * 1000000ull || too_long) {
        media_session_close(s, t - last > cfg->idle_timeout_s * 1000000ull ? "idle" : "max_duration");
        return;
    }
    if (s->dtls && media_dtls_timeout_ms(s->dtls) == 0) {
        media_dtls_on_timeout(s->dtls);
        flush_dtls(s);
    }
    if (s->srtp && s->room && t - s->last_tick_us >= 1000000) {
        s->last_tick_us = t;
        media_room_tick(s->room, s->room_ep, t);
    } else if (s->srtp && t - s->last_tick_us >= 1000000) {
        s->last_tick_us = t;
        uint8_t out[PKT_MAX];
        int n = media_echo_tick(&s->echo, t, out, 1200);
        size_t olen = n > 0 ? (size_t)n : 0;
        if (olen && media_srtp_protect(s->srtp, true, out, &olen, sizeof out) == 0)
            send_pkt(s, out, olen);
    }
}

void media_sessions_tick(struct media_worker *w)
{
    uint64_t t = now_us();
    /* Closing only marks a session; it leaves the list in free_later(). */
    for (struct media_session *s = w->sessions; s; s = s->next)
        if (s->state != ST_CLOSED)
            tick(s, t);
}

/* ---- ICE ---- */

static const char *cand_type(NiceCandidateType t)
{
    switch (t) {
    case NICE_CANDIDATE_TYPE_HOST: return "host";
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE: return "srflx";
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE: return "prflx";
    case NICE_CANDIDATE_TYPE_RELAYED: return "relay";
    default: return "unknown";
    }
}

static void on_selected_pair(NiceAgent *agent, guint stream, guint component, NiceCandidate *l,
                             NiceCandidate *r, gpointer data)
{
    struct media_session *s = data;
    snprintf(s->pair_local, sizeof s->pair_local, "%s", cand_type(l->type));
    snprintf(s->pair_remote, sizeof s->pair_remote, "%s", cand_type(r->type));
    snprintf(s->pair_transport, sizeof s->pair_transport, "%s",
             l->transport == NICE_CANDIDATE_TRANSPORT_UDP ? "udp" : "tcp");
    GSocket *gs = nice_agent_get_selected_socket(agent, stream, component);
    int size = RCVBUF_BYTES;
    if (gs && setsockopt(g_socket_get_fd(gs), SOL_SOCKET, SO_RCVBUF, &size, sizeof size) != 0)
        lt_log(LT_LOG_WARN, "media", "rcvbuf", "id=%s error=\"%s\"", s->id, strerror(errno));
    if (gs)
        g_object_unref(gs);
}

static void on_state(NiceAgent *agent, guint stream, guint component, guint state, gpointer data)
{
    (void)agent, (void)stream, (void)component;
    struct media_session *s = data;
    if (s->state == ST_CLOSED)
        return;
    if (state == NICE_COMPONENT_STATE_FAILED) {
        media_session_close(s, "ICE failed");
    } else if ((state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY) &&
               s->state == ST_CONNECTING) {
        s->state = ST_DTLS;
        if (s->role == MEDIA_DTLS_CLIENT) {
            media_dtls_start(s->dtls);
            flush_dtls(s);
        }
    }
}

static void on_gathering_done(NiceAgent *agent, guint stream, gpointer data)
{
    struct media_session *s = data;
    if (s->state != ST_GATHERING)
        return;
    GSList *cands = nice_agent_get_local_candidates(agent, stream, 1);
    gchar *ufrag = NULL, *pwd = NULL;
    char *lines[MEDIA_SDP_MAX_CANDS];
    unsigned n = 0;
    for (GSList *i = cands; i && n < MEDIA_SDP_MAX_CANDS; i = i->next) {
        gchar *sdp = nice_agent_generate_local_candidate_sdp(agent, i->data);
        if (sdp)
            lines[n++] = sdp;
    }
    g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
    if (n == 0 || !nice_agent_get_local_credentials(agent, stream, &ufrag, &pwd)) {
        media_session_close(s, s->relay_only ? "no relay candidate (TURN allocation failed)"
                                             : "no ICE candidates");
        goto out;
    }
    const char *clines[MEDIA_SDP_MAX_CANDS];
    for (unsigned i = 0; i < n; i++)
        clines[i] = strncmp(lines[i], "a=", 2) == 0 ? lines[i] + 2 : lines[i];
    s->answer.ice_ufrag = ufrag;
    s->answer.ice_pwd = pwd;
    s->answer.cands = clines;
    s->answer.n_cands = n;
    char *sdp = malloc(16384);
    int len = sdp ? media_sdp_write_answer(&s->offer, &s->answer, sdp, 16384) : -ENOMEM;
    s->answer.cands = NULL;
    s->answer.ice_ufrag = s->answer.ice_pwd = NULL;
    if (len < 0) {
        free(sdp);
        media_session_close(s, "answer too large");
        goto out;
    }
    s->state = ST_CONNECTING;
    lt_log(LT_LOG_INFO, "media", "session_answer", "id=%s candidates=%u relay_only=%d", s->id, n,
           s->relay_only);
    answer_once(s, sdp, NULL);
    free(sdp);
out:
    for (unsigned i = 0; i < n; i++)
        g_free(lines[i]);
    g_free(ufrag);
    g_free(pwd);
}

int media_session_add_candidate(struct media_session *s, const char *cand)
{
    char line[MEDIA_SDP_CAND_LEN + 8];
    if (s->state == ST_CLOSED || !cand || !*cand)
        return -EINVAL;
    snprintf(line, sizeof line, "%s%s", strncmp(cand, "a=", 2) == 0 ? "" : "a=", cand);
    NiceCandidate *c = nice_agent_parse_remote_candidate_sdp(s->agent, s->stream, line);
    if (!c)
        return -EINVAL;
    GSList one = {.data = c, .next = NULL};
    int added = nice_agent_set_remote_candidates(s->agent, s->stream, 1, &one);
    nice_candidate_free(c);
    return added == 1 ? 0 : -EINVAL;
}

/* ---- setting up ---- */

static int add_config_turn(struct media_session *s, char *err, size_t cap)
{
    const struct media_config *cfg = s->srv->cfg;
    unsigned added = 0;
    for (unsigned i = 0; i < cfg->n_turn_urls; i++) {
        char host[64], user[SIG_TURN_USERNAME_MAX], pass[SIG_TURN_PASSWORD_MAX];
        int port;
        bool tcp;
        if (media_parse_turn_url(cfg->turn_urls[i], host, sizeof host, &port, &tcp) ||
            sig_turn_credentials(cfg->turn_secret, MEDIA_TURN_USER_ID, (int64_t)time(NULL) + cfg->turn_ttl_s, user,
                                 pass))
            continue;
        if (nice_agent_set_relay_info(s->agent, s->stream, 1, host, (guint)port, user, pass,
                                      tcp ? NICE_RELAY_TYPE_TURN_TCP : NICE_RELAY_TYPE_TURN_UDP))
            added++;
        OPENSSL_cleanse(pass, sizeof pass);
    }
    if (s->relay_only && added == 0) {
        snprintf(err, cap, "relay_only needs a TURN server: give ice_servers or configure turn_urls");
        return -EINVAL;
    }
    return 0;
}

/* From the main loop, not from media_session_new(): host candidates alone
 * are gathered at once, inside nice_agent_gather_candidates(), and the answer
 * must not come before the caller has its session. (The free of a session
 * closed meanwhile is queued after this, so s is still there.) */
static gboolean start_gathering(gpointer data)
{
    struct media_session *s = data;
    if (s->state != ST_GATHERING)
        return G_SOURCE_REMOVE;
    if (!nice_agent_gather_candidates(s->agent, s->stream)) {
        media_session_close(s, "libnice could not gather candidates (no usable address?)");
        return G_SOURCE_REMOVE;
    }
    for (unsigned i = 0; i < s->offer.n_cands; i++)
        media_session_add_candidate(s, s->offer.cands[i]);
    return G_SOURCE_REMOVE;
}

static int setup_ice(struct media_session *s, const struct media_echo_request *req, char *err,
                     size_t cap)
{
    const struct media_config *cfg = s->srv->cfg;
    s->agent = nice_agent_new_full(s->worker->ctx, NICE_COMPATIBILITY_RFC5245,
                                   NICE_AGENT_OPTION_ICE_TRICKLE);
    if (!s->agent) {
        snprintf(err, cap, "libnice: cannot make an agent");
        return -ENOMEM;
    }
    /* The browser made the offer, so it controls ICE (RFC 8445 §6.1.1).
     * ICE-TCP (RFC 6544): our passive host candidates are what a browser
     * behind a UDP-blocking firewall can reach (browsers are active only). */
    g_object_set(s->agent, "controlling-mode", FALSE, "force-relay", (gboolean)s->relay_only,
                 "ice-tcp", (gboolean)cfg->ice_tcp, NULL);
    /* No UPnP port mapping on an appliance: each agent would start a GUPnP
     * context of its own (an HTTP server and SSDP), slow and noisy at scale. */
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(s->agent), "upnp"))
        g_object_set(s->agent, "upnp", FALSE, NULL);
    for (unsigned i = 0; i < cfg->n_ice_addresses; i++) {
        NiceAddress a;
        nice_address_init(&a);
        if (nice_address_set_from_string(&a, cfg->ice_addresses[i]))
            nice_agent_add_local_address(s->agent, &a);
    }
    s->stream = nice_agent_add_stream(s->agent, 1);
    if (!s->stream) {
        snprintf(err, cap, "libnice: cannot add a stream");
        return -EIO;
    }
    if (cfg->port_min)
        nice_agent_set_port_range(s->agent, s->stream, 1, (guint)cfg->port_min,
                                  (guint)cfg->port_max);
    unsigned relays = 0;
    for (unsigned i = 0; i < req->n_turn; i++) {
        const struct media_turn_server *t = &req->turn[i];
        relays += nice_agent_set_relay_info(s->agent, s->stream, 1, t->host, (guint)t->port,
                                            t->username, t->password,
                                            t->tcp ? NICE_RELAY_TYPE_TURN_TCP
                                                   : NICE_RELAY_TYPE_TURN_UDP) ? 1 : 0;
    }
    if (relays == 0 && add_config_turn(s, err, cap))
        return -EINVAL;
    if (!nice_agent_set_remote_credentials(s->agent, s->stream, s->offer.ice_ufrag,
                                           s->offer.ice_pwd)) {
        snprintf(err, cap, "libnice refused the offer's ICE credentials");
        return -EINVAL;
    }
    g_signal_connect(s->agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done), s);
    g_signal_connect(s->agent, "component-state-changed", G_CALLBACK(on_state), s);
    g_signal_connect(s->agent, "new-selected-pair-full", G_CALLBACK(on_selected_pair), s);
    nice_agent_attach_recv(s->agent, s->stream, 1, s->worker->ctx, on_recv, s);
    media_worker_defer(s->worker, start_gathering, s);
    return 0;
}

/* Room mode: what the browser sends is published, what it receives gets a
 * slot with an SSRC of ours that the answer announces. */
static int setup_room(struct media_session *s, const char *room, char *err, size_t cap)
{
    int rc = media_room_join(s->worker, room, s, &s->room, &s->room_ep);
    if (rc) {
        snprintf(err, cap, rc == -ENOSPC ? "room is full" : "cannot join room \"%s\"", room);
        return rc;
    }
    struct media_fwd *f = media_room_fwd(s->room);
    uint64_t t = now_us();
    /* Beyond ROOM_SPREAD_MIN members, the room's fan-out is shared: members
     * take turns at being sent by each worker. */
    unsigned n = s->srv->n_workers;
    struct media_worker *to = &s->srv->workers[(s->worker->index + s->room_ep) % n];
    if (media_fwd_members(f) > ROOM_SPREAD_MIN && to != s->worker &&
        media_worker_link(s->worker, to) == 0) {
        s->sender = to;
        atomic_fetch_add(&to->n_far, 1);
    }
    for (unsigned i = 0; i < s->offer.n_media; i++) {
        const struct media_sdp_media *m = &s->offer.media[i];
        struct media_answer_media *am = &s->answer.media[i];
        if (!am->accept)
            continue;
        const struct media_sdp_codec *c = &m->codecs[am->codec];
        uint32_t in = m->fid[0] ? m->fid[0] : m->n_ssrcs ? m->ssrcs[0] : 0;
        if ((m->dir == MEDIA_DIR_SENDRECV || m->dir == MEDIA_DIR_SENDONLY) && in &&
            (rc = media_fwd_publish(f, t, s->room_ep, in, m->kind, c->clock)) != 0) {
            snprintf(err, cap, "cannot publish SSRC %" PRIu32 " (%s)", in,
                     rc == -EEXIST ? "taken in this room" : "too many streams");
            return rc;
        }
        if (m->kind == MEDIA_KIND_AUDIO && in) /* speaker detection reads its levels */
            media_room_audio_level_id(s->room, s->room_ep,
                                      media_sdp_ext_id(m, MEDIA_SDP_EXT_AUDIO_LEVEL));
        unsigned slot;
        uint32_t out = random32();
        if ((m->dir == MEDIA_DIR_SENDRECV || m->dir == MEDIA_DIR_RECVONLY) &&
            media_fwd_add_slot(f, t, s->room_ep, m->kind, out, c->clock, c->pt, &slot) == 0)
            am->ssrc = out;
    }
    return 0;
}

static int setup_media(struct media_session *s, const struct media_config *cfg, const char *room,
                       char *err, size_t cap)
{
    media_echo_init(&s->echo, random32());
    if (media_sdp_choose(&s->offer, &s->answer) == 0) {
        snprintf(err, cap, "nothing to answer: no bundled Opus, VP8 or H.264 m-line");
        return -EINVAL;
    }
    int rc;
    if (room && (rc = setup_room(s, room, err, cap)) != 0)
        return rc;
    for (unsigned i = 0; i < s->offer.n_media && !room; i++) {
        const struct media_sdp_media *m = &s->offer.media[i];
        struct media_answer_media *am = &s->answer.media[i];
        bool browser_sends = m->dir == MEDIA_DIR_SENDRECV || m->dir == MEDIA_DIR_SENDONLY;
        uint32_t in = m->fid[0] ? m->fid[0] : m->n_ssrcs ? m->ssrcs[0] : 0;
        if (!am->accept || !browser_sends || !in)
            continue;
        uint32_t out = cfg->echo_same_ssrc ? in : random32();
        if (media_echo_add_stream(&s->echo, m->kind, in, out, m->codecs[am->codec].clock) == 0)
            am->ssrc = out;
    }
    /* RFC 5763 §5: the answerer to "actpass" takes the passive (DTLS server) role. */
    s->role = s->offer.setup == MEDIA_SETUP_PASSIVE ? MEDIA_DTLS_CLIENT : MEDIA_DTLS_SERVER;
    s->answer.setup = s->role == MEDIA_DTLS_CLIENT ? MEDIA_SETUP_ACTIVE : MEDIA_SETUP_PASSIVE;
    s->answer.fingerprint = media_dtls_cert_fingerprint(s->srv->cert);
    s->answer.cname = room ? "lanturn-room" : "lanturn-echo";
    s->answer.session_id = ((uint64_t)random32() << 31) ^ random32();
    rc = media_dtls_new(&s->dtls, s->srv->cert, s->role, s->offer.fp_alg, s->offer.fp,
                            s->offer.fp_len);
    if (rc) {
        snprintf(err, cap, "unusable a=fingerprint (%s)", s->offer.fp_alg);
        return rc;
    }
    return 0;
}

/* A room's members all live on the room's worker; a new room or an echo goes
 * to the least-loaded one. Returned locked. */
static struct media_worker *lock_worker_for(struct media_server *srv, const char *room)
{
    for (unsigned i = 0; room && i < srv->n_workers; i++) {
        struct media_worker *w = &srv->workers[i];
        media_worker_lock(w);
        if (media_room_find(w, room))
            return w;
        media_worker_unlock(w);
    }
    struct media_worker *w = media_worker_least_loaded(srv);
    media_worker_lock(w);
    return w;
}

static int session_new(struct media_worker *w, const struct media_echo_request *req,
                       media_answer_fn fn, void *arg, char *id, char *err, size_t err_cap)
{
    struct media_server *srv = w->srv;
    struct media_session *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_cap, "out of memory");
        return -ENOMEM;
    }
    s->srv = srv;
    s->worker = w;
    s->relay_only = req->relay_only;
    s->created_us = now_us();
    snprintf(s->id, sizeof s->id, "%s-%08" PRIx32 "%04" PRIx32, req->room ? "room" : "echo",
             random32(), random32() & 0xffff);
    char why[200];
    int rc = media_sdp_parse(&s->offer, req->sdp, strlen(req->sdp), why, sizeof why);
    if (rc) {
        snprintf(err, err_cap, "bad offer: %s", why);
        free(s);
        return rc;
    }
    /* Link it first so that free_later() can undo everything below. */
    s->next = w->sessions;
    w->sessions = s;
    atomic_fetch_add(&w->n_sessions, 1);
    w->started++;
    if ((rc = setup_media(s, srv->cfg, req->room, err, err_cap)) != 0 ||
        (rc = setup_ice(s, req, err, err_cap)) != 0) {
        media_session_close(s, err);
        return rc;
    }
    s->answer_fn = fn;
    s->answer_arg = arg;
    lt_log(LT_LOG_INFO, "media", "session_new",
           "id=%s relay_only=%d m_lines=%u dtls=%s worker=%u", s->id, s->relay_only,
           s->offer.n_media, s->role == MEDIA_DTLS_SERVER ? "server" : "client", w->index);
    snprintf(id, MEDIA_SESSION_ID_LEN, "%s", s->id);
    return 0;
}

int media_session_new(struct media_server *srv, const struct media_echo_request *req,
                      media_answer_fn fn, void *arg, char id[MEDIA_SESSION_ID_LEN], char *err,
                      size_t err_cap)
{
    id[0] = '\0';
    unsigned total = 0;
    for (unsigned i = 0; i < srv->n_workers; i++)
        total += atomic_load(&srv->workers[i].n_sessions);
    if (total >= srv->cfg->max_sessions) {
        snprintf(err, err_cap, "busy: %u sessions already", total);
        return -EBUSY;
    }
    struct media_worker *w = lock_worker_for(srv, req->room);
    int rc = session_new(w, req, fn, arg, id, err, err_cap);
    media_worker_unlock(w);
    return rc;
}

void media_sessions_close_all(struct media_worker *w, const char *why)
{
    for (struct media_session *s = w->sessions; s; s = s->next)
        media_session_close(s, why);
}
