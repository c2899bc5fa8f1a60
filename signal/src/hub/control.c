/*
 * control.c - the operator's view of the hub, for signald's control socket:
 * stats, Prometheus metrics, the connected devices, and ending a device's or a
 * user's connections. One JSON request in, one JSON reply out (sans-I/O).
 */
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

static json_t *stats(struct sig_hub *h)
{
    struct sig_hub_stats s;
    sig_hub_stats(h, &s);
    return json_pack("{sb s{sI sI sI sI sI sI sI sI sI}}", "ok", 1, "stats", "connections",
                     (json_int_t)s.connections, "authenticated", (json_int_t)s.authenticated,
                     "users_online", (json_int_t)s.users_online, "calls", (json_int_t)s.calls,
                     "requests", (json_int_t)s.requests, "errors", (json_int_t)s.errors,
                     "events_sent", (json_int_t)s.events_sent, "events_replayed",
                     (json_int_t)s.events_replayed, "rate_limited", (json_int_t)s.rate_limited);
}

/* The Prometheus text exposition format, version 0.0.4. */
static json_t *metrics(struct sig_hub *h)
{
    struct sig_hub_stats s;
    sig_hub_stats(h, &s);
    char *text = NULL;
    int n = asprintf(&text,
                     "# HELP lanturn_signal_connections WebSocket connections open now.\n"
                     "# TYPE lanturn_signal_connections gauge\n"
                     "lanturn_signal_connections %" PRIu64 "\n"
                     "# HELP lanturn_signal_users_online Users with at least one connection.\n"
                     "# TYPE lanturn_signal_users_online gauge\n"
                     "lanturn_signal_users_online %" PRIu64 "\n"
                     "# HELP lanturn_signal_calls Calls ringing or in progress.\n"
                     "# TYPE lanturn_signal_calls gauge\n"
                     "lanturn_signal_calls %" PRIu64 "\n"
                     "# HELP lanturn_signal_requests_total WebSocket requests received.\n"
                     "# TYPE lanturn_signal_requests_total counter\n"
                     "lanturn_signal_requests_total %" PRIu64 "\n"
                     "# HELP lanturn_signal_errors_total Requests answered with an error.\n"
                     "# TYPE lanturn_signal_errors_total counter\n"
                     "lanturn_signal_errors_total %" PRIu64 "\n"
                     "# HELP lanturn_signal_events_sent_total Events pushed to connections.\n"
                     "# TYPE lanturn_signal_events_sent_total counter\n"
                     "lanturn_signal_events_sent_total %" PRIu64 "\n"
                     "# HELP lanturn_signal_events_replayed_total Events replayed on reconnect.\n"
                     "# TYPE lanturn_signal_events_replayed_total counter\n"
                     "lanturn_signal_events_replayed_total %" PRIu64 "\n"
                     "# HELP lanturn_signal_rate_limited_total Requests refused by rate limits.\n"
                     "# TYPE lanturn_signal_rate_limited_total counter\n"
                     "lanturn_signal_rate_limited_total %" PRIu64 "\n",
                     s.connections, s.users_online, s.calls, s.requests, s.errors, s.events_sent,
                     s.events_replayed, s.rate_limited);
    if (n < 0)
        return json_pack("{sb ss}", "ok", 0, "error", "out of memory");
    json_t *r = json_pack("{sb ss}", "ok", 1, "metrics", text);
    free(text);
    return r;
}

static json_t *sessions(struct sig_hub *h, int64_t now)
{
    json_t *list = json_array();
    for (struct sig_conn *c = h->conns; c; c = c->next) {
        if (!c->user_id)
            continue;
        json_array_append_new(list, json_pack("{sI sI sI ss sI ss sb}", "conn", (json_int_t)c->id,
                                              "user", (json_int_t)c->user_id, "session",
                                              (json_int_t)c->session_id, "addr", c->addr,
                                              "connected_s", (json_int_t)((now - c->opened_at) / 1000),
                                              "presence", c->away ? "away" : "online", "in_call",
                                              c->call != NULL));
    }
    return json_pack("{sb so}", "ok", 1, "sessions", list);
}

/* {"conn": N} ends one device; {"user": N} all of a user's. */
static json_t *kill_conns(struct sig_hub *h, json_t *req)
{
    json_int_t conn = json_integer_value(json_object_get(req, "conn"));
    json_int_t user = json_integer_value(json_object_get(req, "user"));
    if (conn <= 0 && user <= 0)
        return json_pack("{sb ss}", "ok", 0, "error", "give \"conn\" or \"user\"");
    int n = 0;
    for (struct sig_conn *c = h->conns; c; c = c->next) {
        if (!c->user_id || (conn > 0 ? c->id != (uint32_t)conn : c->user_id != user))
            continue;
        if (!c->closing) {
            conn_close(h, c, 4002, "ended by an administrator");
            n++;
        }
    }
    lt_log(LT_LOG_INFO, "signal", "admin_kill", "conn=%lld user=%lld closed=%d", (long long)conn,
           (long long)user, n);
    return json_pack("{sb si}", "ok", 1, "closed", n);
}

json_t *sig_hub_control(struct sig_hub *h, json_t *req, int64_t now)
{
    const char *cmd = json_string_value(json_object_get(req, "cmd"));
    if (!cmd)
        return json_pack("{sb ss}", "ok", 0, "error", "\"cmd\" is required");
    if (strcmp(cmd, "stats") == 0)
        return stats(h);
    if (strcmp(cmd, "metrics") == 0)
        return metrics(h);
    if (strcmp(cmd, "sessions") == 0)
        return sessions(h, now);
    if (strcmp(cmd, "kill") == 0)
        return kill_conns(h, req);
    return json_pack("{sb ss}", "ok", 0, "error", "unknown command");
}
