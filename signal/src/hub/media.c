/*
 * media.c - "test my call": requests for mediad's echo, checked here and
 * passed on through the env (the network glue talks to mediad's socket);
 * mediad's answers come back through sig_hub_media_reply(). A device may only
 * touch the echo session it started, and its session ends with it.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"

#define SDP_MAX 32768

static int pass_on(struct req *r, json_t *cmd)
{
    const struct sig_hub_env *env = r->hub->env;
    json_t *id = json_object_get(r->msg, "id");
    int err = env->media ? env->media(env->ctx, r->conn->id, id, cmd) : -ENOTSUP;
    json_decref(cmd);
    if (err)
        return req_fail(r, "unavailable", "the media service is not running on this server");
    return 1; /* mediad answers later */
}

static int own_session(struct req *r, const char **session)
{
    if (req_str(r, "session", session))
        return -1;
    if (!r->conn->media_session[0] || strcmp(*session, r->conn->media_session) != 0)
        return req_fail(r, "not_found", "no such echo session on this device");
    return 0;
}

int h_media_echo(struct req *r)
{
    const char *sdp;
    if (req_str(r, "sdp", &sdp))
        return -1;
    if (strlen(sdp) > SDP_MAX || strncmp(sdp, "v=0", 3) != 0)
        return req_fail(r, "bad_request", "\"sdp\" must be an SDP offer");
    if (r->conn->media_session[0])
        return req_fail(r, "conflict", "this device already runs an echo test");
    r->conn->media_pending = true;
    return pass_on(r, json_pack("{ss ss sb}", "cmd", "echo.offer", "sdp", sdp, "relay_only",
                                r->hub->cfg->relay_only));
}

int h_media_candidate(struct req *r)
{
    const char *session, *candidate;
    if (own_session(r, &session) || req_str(r, "candidate", &candidate))
        return -1;
    return pass_on(r, json_pack("{ss ss ss}", "cmd", "echo.candidate", "id", session, "candidate",
                                candidate));
}

int h_media_stats(struct req *r)
{
    const char *session;
    if (own_session(r, &session))
        return -1;
    return pass_on(r, json_pack("{ss ss}", "cmd", "stats", "id", session));
}

int h_media_close(struct req *r)
{
    const char *session;
    if (own_session(r, &session))
        return -1;
    json_t *cmd = json_pack("{ss ss}", "cmd", "close", "id", session);
    r->conn->media_session[0] = '\0';
    return pass_on(r, cmd);
}

void media_conn_closed(struct sig_hub *h, struct sig_conn *c)
{
    if (!c->media_session[0] || !h->env->media)
        return;
    json_t *cmd = json_pack("{ss ss}", "cmd", "close", "id", c->media_session);
    h->env->media(h->env->ctx, 0, NULL, cmd); /* nobody waits for the answer */
    json_decref(cmd);
    c->media_session[0] = '\0';
}

json_t *media_error_frame(json_t *reply)
{
    const char *why = json_string_value(json_object_get(reply, "error"));
    return json_pack("{ss s{ss ss}}", "type", "error", "error", "code", "unavailable", "message",
                     why ? why : "the media service failed");
}

void sig_hub_media_event(struct sig_hub *h, json_t *event)
{
    const char *what = json_string_value(json_object_get(event, "event"));
    const char *room = json_string_value(json_object_get(event, "room"));
    if (what && room && strcmp(what, "room.speaker") == 0)
        call_sfu_speaker(h, room, json_string_value(json_object_get(event, "id")));
}

void sig_hub_media_reply(struct sig_hub *h, uint32_t conn_id, json_t *id, json_t *reply)
{
    if (json_is_object(id) && json_object_get(id, "sfu")) {
        call_sfu_reply(h, conn_id, id, reply); /* a group call's own command */
        return;
    }
    struct sig_conn *c = conn_id ? conn_by_id(h, conn_id) : NULL;
    if (!c || c->closing)
        return; /* the device left; its session was closed with it */
    json_t *frame;
    if (json_is_true(json_object_get(reply, "ok"))) {
        json_t *result = json_deep_copy(reply);
        json_object_del(result, "ok");
        json_object_del(result, "req");
        const char *session = json_string_value(json_object_get(result, "id"));
        if (c->media_pending && session) { /* the answer to echo.offer */
            snprintf(c->media_session, sizeof c->media_session, "%s", session);
            json_object_set_new(result, "session", json_string(session));
            lt_log(LT_LOG_INFO, "signal", "echo_start", "conn=%u user=%lld session=%s", c->id,
                   (long long)c->user_id, session);
        }
        c->media_pending = false;
        frame = json_pack("{ss so}", "type", "reply", "result", result);
    } else {
        c->media_pending = false;
        frame = media_error_frame(reply);
    }
    if (frame && id)
        json_object_set(frame, "id", id);
    conn_send_json(h, c, frame);
}
