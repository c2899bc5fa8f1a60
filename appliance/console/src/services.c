/*
 * services.c - what the console only relays to applianced: TURN sessions and
 * killing one (`turnd_sessions`, `turnd_kill`), and recent log lines (`logs`).
 * When applianced does not know a command yet, its error text is shown as it is.
 */
#include "console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanturn/storage.h"

/* Sends req; a reply with "ok": true is passed through, anything else becomes
 * a 502 carrying applianced's own words. */
static void relay(struct console *c, json_t *req, int timeout_ms, struct con_reply *out)
{
    char err[512];
    json_t *rep = con_actl(c, req, timeout_ms, err, sizeof err);
    json_decref(req);
    if (!rep) {
        con_error(out, 502, "applianced", "%s", err);
        return;
    }
    if (!json_is_true(json_object_get(rep, "ok"))) {
        const char *e = json_string_value(json_object_get(rep, "error"));
        con_error(out, 502, "applianced", "applianced: %s", e ? e : "failed");
        json_decref(rep);
        return;
    }
    con_json(out, 200, rep);
}

/* signald's TURN user names are "<expiry>:<user id>": the user's id, or 0. */
static int64_t turn_user_id(const char *user)
{
    const char *colon = user ? strchr(user, ':') : NULL;
    if (!colon || colon == user || !colon[1] || strspn(user, "0123456789") != (size_t)(colon - user) ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return 0;
    return strtoll(colon + 1, NULL, 10);
}

void con_turn_sessions(struct console *c, const struct con_req *r, const struct con_admin *who,
                       json_t *body, struct con_reply *out)
{
    (void)r;
    (void)who;
    (void)body;
    relay(c, json_pack("{ss}", "cmd", "turnd_sessions"), 5000, out);
    if (out->status != 200)
        return;
    /* name the chat user behind each allocation */
    json_error_t je;
    json_t *rep = json_loads(out->body, 0, &je), *s;
    size_t i;
    json_array_foreach(json_object_get(rep, "sessions"), i, s)
    {
        int64_t id = turn_user_id(json_string_value(json_object_get(s, "user")));
        struct sto_user u = {0};
        if (id > 0 && sto_user_get(c->db, id, &u) == 0) {
            json_object_set_new(s, "user_name", json_string(u.name));
            json_object_set_new(s, "display_name", json_string(u.display_name ? u.display_name : ""));
        }
        sto_user_clear(&u);
    }
    if (rep)
        con_json(out, 200, rep);
}

void con_turn_kill(struct console *c, const struct con_req *r, const struct con_admin *who,
                   json_t *body, struct con_reply *out)
{
    (void)r;
    json_t *id = json_object_get(body, "id");
    if (!json_is_string(id) && !json_is_integer(id)) {
        con_error(out, 400, "bad_request", "\"id\" of the session is required");
        return;
    }
    char target[128];
    if (json_is_string(id))
        snprintf(target, sizeof target, "turn:%s", json_string_value(id));
    else
        snprintf(target, sizeof target, "turn:%lld", (long long)json_integer_value(id));
    relay(c, json_pack("{ss sO}", "cmd", "turnd_kill", "id", id), 5000, out);
    con_audit(c, who, "turn.kill", target, "%s", out->status == 200 ? "killed" : "failed");
}

void con_logs(struct console *c, const struct con_req *r, const struct con_admin *who,
              json_t *body, struct con_reply *out)
{
    (void)who;
    (void)body;
    char svc[64], lvl[16], lim[16];
    const char *service = con_query(r, "service", svc, sizeof svc);
    const char *level = con_query(r, "level", lvl, sizeof lvl);
    const char *limit_s = con_query(r, "limit", lim, sizeof lim);
    long limit = limit_s ? strtol(limit_s, NULL, 10) : 200;
    if (limit < 1 || limit > 5000)
        limit = 200;
    json_t *req = json_pack("{ss sI}", "cmd", "logs", "limit", (json_int_t)limit);
    if (service && service[0])
        json_object_set_new(req, "service", json_string(service));
    if (level && level[0])
        json_object_set_new(req, "level", json_string(level));
    relay(c, req, 5000, out);
}

/* start, stop or restart a service through applianced. */
void con_service_action(struct console *c, const struct con_req *r, const struct con_admin *who,
                        json_t *body, struct con_reply *out)
{
    (void)r;
    const char *svc = json_string_value(json_object_get(body, "service"));
    const char *action = json_string_value(json_object_get(body, "action"));
    if (!svc || !action ||
        (strcmp(action, "start") && strcmp(action, "stop") && strcmp(action, "restart"))) {
        con_error(out, 400, "bad_request", "\"service\" and \"action\" (start, stop, restart)");
        return;
    }
    relay(c, json_pack("{ss ss}", "cmd", action, "service", svc), 10000, out);
    char what[80];
    snprintf(what, sizeof what, "service.%s", action);
    con_audit(c, who, what, svc, "%s", out->status == 200 ? "done" : "refused by applianced");
}
