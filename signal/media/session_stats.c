/*
 * session_stats.c - a session's and the server's figures as JSON, for the
 * control socket's stats, close and room.switch (see session.h).
 */
#include <jansson.h>

#include "room.h"
#include "session.h"
#include "session_int.h"
#include "worker.h"

static const char *const STATE_NAMES[] = {"gathering", "connecting", "dtls", "connected", "closed"};

json_t *media_session_stats(const struct media_session *s)
{
    uint64_t t = media_session_now_us();
    json_t *streams = json_array();
    double rtt = -1;
    for (unsigned i = 0; i < s->echo.n_streams; i++) {
        const struct media_echo_stream *e = &s->echo.streams[i];
        uint32_t expected = media_rx_expected(&e->rx);
        json_t *j = json_pack(
            "{ss sI sI sI sI sI sI sf sI sI sI sI sI sI}", "kind", media_kind_name(e->kind),
            "ssrc_in", (json_int_t)e->in_ssrc, "ssrc_out", (json_int_t)e->out_ssrc, "rx_packets",
            (json_int_t)e->rx.received, "rx_bytes", (json_int_t)e->rx.bytes, "rx_lost",
            (json_int_t)(expected > e->rx.received ? expected - e->rx.received : 0), "tx_packets",
            (json_int_t)e->tx_packets, "jitter_ms",
            e->clock_hz ? (e->rx.jitter_q4 >> 4) * 1000.0 / e->clock_hz : 0.0, "tx_bytes",
            (json_int_t)e->tx_bytes, "remote_lost", (json_int_t)e->remote_lost,
            "remote_fraction_lost", (json_int_t)e->remote_fraction_lost, "plis", (json_int_t)e->plis,
            "firs", (json_int_t)e->firs, "nacks", (json_int_t)e->nacks);
        if (e->have_rtt) {
            json_object_set_new(j, "rtt_ms", json_real(e->rtt_ms));
            rtt = rtt < 0 || e->rtt_ms < rtt ? e->rtt_ms : rtt;
        }
        json_array_append_new(streams, j);
    }
    json_t *o = json_pack("{ss ss sI sb sf sI sI sI sI sI so}", "id", s->id, "state",
                          STATE_NAMES[s->state], "worker", (json_int_t)s->worker->index,
                          "relay_only", s->relay_only, "age_s",
                          (double)(t - s->created_us) / 1e6, "rx_packets",
                          (json_int_t)s->rx_packets, "rx_bytes", (json_int_t)s->rx_bytes,
                          "tx_packets", (json_int_t)(s->tx_packets + atomic_load(&s->far_packets)),
                          "tx_bytes", (json_int_t)(s->tx_bytes + atomic_load(&s->far_bytes)),
                          "srtp_errors", (json_int_t)s->srtp_errors,
                          "streams", streams);
    if (s->pair_local[0])
        json_object_set_new(o, "pair", json_pack("{ss ss ss}", "local", s->pair_local, "remote",
                                                 s->pair_remote, "transport", s->pair_transport));
    if (s->profile)
        json_object_set_new(o, "srtp", json_string(s->profile == MEDIA_SRTP_AEAD_AES_128_GCM
                                                       ? "AEAD_AES_128_GCM"
                                                       : "AES_CM_128_HMAC_SHA1_80"));
    if (rtt >= 0)
        json_object_set_new(o, "rtt_ms", json_real(rtt));
    if (s->room)
        json_object_set_new(o, "room", media_room_ep_stats(s->room, s->room_ep));
    if (s->sender)
        json_object_set_new(o, "sent_by", json_pack("{sI sI}", "worker",
                                                    (json_int_t)s->sender->index, "errors",
                                                    (json_int_t)atomic_load(&s->far_errors)));
    if (s->close_reason[0])
        json_object_set_new(o, "closed", json_string(s->close_reason));
    return o;
}

json_t *media_server_stats(struct media_server *srv)
{
    json_t *list = json_array(), *workers = json_array();
    uint64_t started = 0, completed = 0, failed = 0;
    for (unsigned i = 0; i < srv->n_workers; i++) {
        struct media_worker *w = &srv->workers[i];
        media_worker_lock(w);
        unsigned open = 0;
        for (struct media_session *s = w->sessions; s; s = s->next)
            if (s->state != ST_CLOSED) {
                json_array_append_new(list, media_session_stats(s));
                open++;
            }
        started += w->started;
        completed += w->completed;
        failed += w->failed;
        json_array_append_new(workers, json_pack("{sI sI sI}", "worker", (json_int_t)i, "sessions",
                                                 (json_int_t)open, "rooms",
                                                 (json_int_t)atomic_load(&w->n_rooms)));
        media_worker_unlock(w);
    }
    return json_pack("{sb sI sI sI sI sI so so}", "ok", 1, "sessions_now",
                     (json_int_t)json_array_size(list), "max_sessions",
                     (json_int_t)srv->cfg->max_sessions, "started", (json_int_t)started,
                     "completed", (json_int_t)completed, "failed", (json_int_t)failed, "workers",
                     workers, "sessions", list);
}
