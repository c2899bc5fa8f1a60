/*
 * room.c - rooms of sessions around the SFU core (see room.h).
 */
#include "room.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "control.h"
#include "session.h"
#include "speaker.h"
#include "worker.h"

#define ROOM_MAX_SOURCES 64
#define ROOM_QUEUE_LEN 16 /* drained after every packet fed in: a burst, not a backlog */
#define ROOM_PLI_INTERVAL_US 500000
/* REMBs to publishers: one encoding per stream and no simulcast, so the
 * weakest subscriber sets the rate; the floor keeps one poor subscriber from
 * starving a big room below it; the cap is the most a video stream may use. */
#define ROOM_MIN_VIDEO_BPS 100000 /* the cap is max_video_kbps */

struct media_room {
    struct media_room *next;
    struct media_worker *worker; /* where it and all its members live */
    char name[MEDIA_ROOM_NAME_MAX];
    struct media_fwd *fwd;
    struct media_speaker *speaker;
    uint8_t *level_id; /* per endpoint: its RFC 6464 extension id, 0 for none */
    uint64_t rx_packets, forwarded, sent, not_connected, send_errors;
};

struct media_fwd *media_room_fwd(struct media_room *r)
{
    return r->fwd;
}
const char *media_room_name(const struct media_room *r)
{
    return r->name;
}

struct media_room *media_room_find(struct media_worker *w, const char *name)
{
    for (struct media_room *r = w->rooms; r; r = r->next)
        if (strcmp(r->name, name) == 0)
            return r;
    return NULL;
}

static int room_new(struct media_worker *w, const char *name, struct media_room **out)
{
    const struct media_server *srv = w->srv;
    struct media_room *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    uint32_t local = 0;
    if (RAND_bytes((unsigned char *)&local, sizeof local) != 1 || local == 0)
        local = 0x4c414e54; /* any fixed value works: it only names the room's RTCP */
    struct media_fwd_config cfg = {.max_endpoints = srv->cfg->max_sessions,
                                   .max_sources = ROOM_MAX_SOURCES,
                                   .queue_len = ROOM_QUEUE_LEN,
                                   .pli_interval_us = ROOM_PLI_INTERVAL_US,
                                   .local_ssrc = local,
                                   .min_video_bps = ROOM_MIN_VIDEO_BPS,
                                   .max_video_bps = srv->cfg->max_video_kbps * 1000};
    int rc = media_fwd_new(&r->fwd, &cfg);
    if (!rc)
        rc = media_speaker_new(&r->speaker, cfg.max_endpoints);
    if (!rc && !(r->level_id = calloc(cfg.max_endpoints, 1)))
        rc = -ENOMEM;
    if (rc) {
        media_speaker_free(r->speaker);
        media_fwd_free(r->fwd);
        free(r);
        return rc;
    }
    r->worker = w;
    snprintf(r->name, sizeof r->name, "%s", name);
    r->next = w->rooms;
    w->rooms = r;
    atomic_fetch_add(&w->n_rooms, 1);
    *out = r;
    return 0;
}

int media_room_join(struct media_worker *w, const char *name, struct media_session *s,
                    struct media_room **out, unsigned *ep)
{
    size_t len = strlen(name);
    if (len == 0 || len >= MEDIA_ROOM_NAME_MAX)
        return -EINVAL;
    struct media_room *r = media_room_find(w, name);
    int rc;
    if (!r && (rc = room_new(w, name, &r)) != 0)
        return rc;
    if ((rc = media_fwd_join(r->fwd, s, ep)) != 0) {
        if (media_fwd_members(r->fwd) == 0)
            media_room_leave(r, ~0u); /* made for nobody: free it again */
        return rc;
    }
    *out = r;
    return 0;
}

/* The dominant speaker changed: signald hears it (docs/mediad.md, room.speaker). */
static void tell_speaker(struct media_room *r)
{
    int ep = media_speaker_dominant(r->speaker);
    struct media_session *s = ep >= 0 ? media_fwd_user(r->fwd, (unsigned)ep) : NULL;
    media_control_notify(r->worker->srv,
                         json_pack("{ss ss ss?}", "event", "room.speaker", "room", r->name, "id",
                                   s ? media_session_id(s) : NULL));
}

void media_room_audio_level_id(struct media_room *r, unsigned ep, uint8_t id)
{
    if (ep < r->worker->srv->cfg->max_sessions)
        r->level_id[ep] = id;
}

void media_room_leave(struct media_room *r, unsigned ep)
{
    bool was_speaker = media_speaker_leave(r->speaker, ep);
    media_room_audio_level_id(r, ep, 0);
    media_fwd_leave(r->fwd, media_session_now_us(), ep);
    if (media_fwd_members(r->fwd) > 0) {
        if (was_speaker)
            tell_speaker(r);
        return;
    }
    for (struct media_room **pp = &r->worker->rooms; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    atomic_fetch_sub(&r->worker->n_rooms, 1);
    media_fwd_free(r->fwd);
    media_speaker_free(r->speaker);
    free(r->level_id);
    free(r);
}

/* Send all that the core queued: RTP copies and upstream RTCP, per session. */
static void flush(struct media_room *r)
{
    int ep;
    while ((ep = media_fwd_ready(r->fwd)) >= 0) {
        struct media_session *s = media_fwd_user(r->fwd, (unsigned)ep);
        uint8_t *p;
        size_t len, cap;
        while ((p = media_fwd_peek(r->fwd, (unsigned)ep, &len, &cap)) != NULL) {
            int rc = media_session_send_srtp(s, false, p, len, cap);
            if (rc == 0)
                r->sent++;
            else if (rc == -EAGAIN) /* its DTLS handshake is not done yet */
                r->not_connected++;
            else
                r->send_errors++;
            media_fwd_pop(r->fwd, (unsigned)ep);
        }
        uint8_t rtcp[MEDIA_FWD_RTCP_MAX + 8 + 160];
        int n = media_fwd_take_rtcp(r->fwd, (unsigned)ep, rtcp, MEDIA_FWD_RTCP_MAX + 8);
        if (n > 0)
            media_session_send_srtp(s, true, rtcp, (size_t)n, sizeof rtcp);
    }
}

void media_room_rtp(struct media_room *r, unsigned ep, uint64_t now_us, const uint8_t *pkt,
                    size_t len)
{
    r->rx_packets++;
    int n = media_fwd_rtp(r->fwd, now_us, ep, pkt, len);
    if (n > 0)
        r->forwarded += (uint64_t)n;
    if (n >= 0 && r->level_id[ep] &&
        media_speaker_rtp(r->speaker, ep, now_us / 1000, pkt, len, r->level_id[ep]) == 1)
        tell_speaker(r);
    flush(r);
}

void media_room_rtcp(struct media_room *r, unsigned ep, uint64_t now_us, const uint8_t *pkt,
                     size_t len)
{
    media_fwd_rtcp(r->fwd, now_us, ep, pkt, len);
    flush(r);
}

void media_room_connected(struct media_room *r, unsigned ep, uint64_t now_us)
{
    media_fwd_want_keyframes(r->fwd, now_us, ep);
    flush(r);
}

void media_room_tick(struct media_room *r, unsigned ep, uint64_t now_us)
{
    media_fwd_tick(r->fwd, now_us);
    uint8_t out[1200 + 160];
    int n = media_fwd_reports(r->fwd, ep, now_us, out, 1200);
    if (n > 0)
        media_session_send_srtp(media_fwd_user(r->fwd, ep), true, out, (size_t)n, sizeof out);
    flush(r);
}

json_t *media_room_ep_stats(struct media_room *r, unsigned ep)
{
    struct media_fwd_ep_stats st;
    media_fwd_stats(r->fwd, ep, &st);
    json_t *slots = json_array();
    for (unsigned i = 0; i < st.n_slots; i++) {
        const struct media_fwd_slot_stats *sl = &st.slots[i];
        json_array_append_new(
            slots,
            json_pack("{sI ss sI sI sI sI sI sI sI}", "slot", (json_int_t)i, "kind",
                      media_kind_name(sl->kind), "ssrc_out", (json_int_t)sl->out_ssrc, "ssrc_src",
                      (json_int_t)sl->src_ssrc, "tx_packets", (json_int_t)sl->packets, "tx_octets",
                      (json_int_t)sl->octets, "remote_lost", (json_int_t)sl->remote_lost,
                      "remote_fraction_lost", (json_int_t)sl->remote_fraction_lost, "bwe_bps",
                      (json_int_t)sl->bwe_bps));
    }
    return json_pack("{ss sI sI sI sI sI sI sI sI sI sI sI so}", "room", r->name,
                     "rembs_out", (json_int_t)st.rembs_out, "remb_bps", (json_int_t)st.remb_bps,
                     "published_packets",
                     (json_int_t)st.rx_packets, "published_bytes", (json_int_t)st.rx_bytes,
                     "queued", (json_int_t)st.queued, "dropped", (json_int_t)st.dropped, "plis_in",
                     (json_int_t)st.plis_in, "nacks_in", (json_int_t)st.nacks_in, "plis_out",
                     (json_int_t)st.plis_out, "nacks_out", (json_int_t)st.nacks_out, "rtcp_errors",
                     (json_int_t)st.rtcp_errors, "slots", slots);
}

json_t *media_room_stats(struct media_room *r)
{
    uint64_t rembs;
    uint32_t remb_min;
    media_fwd_remb_summary(r->fwd, &rembs, &remb_min);
    return json_pack("{ss sI sI sI sI sI sI sI sI sI}", "room", r->name, "rembs_out",
                     (json_int_t)rembs, "remb_min_bps", (json_int_t)remb_min, "worker",
                     (json_int_t)r->worker->index, "members",
                     (json_int_t)media_fwd_members(r->fwd), "rx_packets", (json_int_t)r->rx_packets,
                     "forwarded", (json_int_t)r->forwarded, "sent", (json_int_t)r->sent,
                     "not_connected", (json_int_t)r->not_connected, "send_errors",
                     (json_int_t)r->send_errors);
}

json_t *media_room_list(struct media_server *srv, const char *name)
{
    json_t *list = json_array();
    for (unsigned i = 0; i < srv->n_workers; i++) {
        struct media_worker *w = &srv->workers[i];
        media_worker_lock(w);
        for (struct media_room *r = w->rooms; r; r = r->next)
            if (!name || strcmp(name, r->name) == 0)
                json_array_append_new(list, media_room_stats(r));
        media_worker_unlock(w);
    }
    return list;
}
