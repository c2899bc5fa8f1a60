/*
 * router.c - the console's API routes: which handler answers a method and
 * path, what it needs (a signed-in administrator; for a state change also the
 * CSRF header), and the small reply helpers every area uses.
 */
#include "console.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanturn/storage.h"
#include "util/log.h"

struct route {
    const char *method;
    const char *path;
    con_handler *fn;
};

/* Every route but login needs a signed-in administrator; every POST also
 * needs csrf_ok. GETs change nothing (the backup download writes only a
 * temporary file and an audit entry). */
static const struct route ROUTES[] = {
    {"GET", "/api/me", con_me},
    {"POST", "/api/logout", NULL}, /* handled below: it needs the session */
    {"GET", "/api/dashboard", con_dashboard},
    {"POST", "/api/services/action", con_service_action},
    {"GET", "/api/users", con_users_list},
    {"POST", "/api/users/create", con_users_create},
    {"POST", "/api/users/disable", con_users_set_disabled_h},
    {"POST", "/api/users/enable", con_users_set_disabled_h},
    {"POST", "/api/users/password", con_users_password},
    {"POST", "/api/users/admin", con_users_admin},
    {"POST", "/api/users/import", con_users_import},
    {"POST", "/api/users/delete", con_users_delete},
    {"GET", "/api/rooms", con_rooms_list},
    {"GET", "/api/rooms/members", con_rooms_members},
    {"POST", "/api/rooms/archive", con_rooms_archive},
    {"GET", "/api/turn/sessions", con_turn_sessions},
    {"POST", "/api/turn/kill", con_turn_kill},
    {"GET", "/api/settings", con_settings_get},
    {"POST", "/api/settings", con_settings_set},
    {"GET", "/api/certs", con_certs_get},
    {"POST", "/api/certs/upload", con_certs_upload},
    {"POST", "/api/certs/selfsigned", con_certs_selfsigned},
    {"GET", "/api/backup/download", con_backup_download},
    {"POST", "/api/backup/restore", con_backup_restore},
    {"GET", "/api/logs", con_logs},
    {"GET", "/api/audit", con_audit_list},
    {"POST", "/api/diag/stun", con_diag_stun},
    {"POST", "/api/diag/turn", con_diag_turn},
    {"GET", "/api/update/status", con_update_status},
    {"POST", "/api/update/upload", con_update_upload},
    {"POST", "/api/update/restart", con_update_restart},
    {NULL, NULL, NULL},
};

bool con_route_upload(const struct console *c, const char *path, struct con_upload_plan *plan)
{
    if (strcmp(path, "/api/backup/restore") == 0)
        *plan = (struct con_upload_plan){c->tmp_dir, "upload-", "", CON_UPLOAD_MAX};
    else if (strcmp(path, "/api/update/upload") == 0)
        *plan = (struct con_upload_plan){c->spool_dir, "update-", ".raucb", CON_UPDATE_MAX};
    else
        return false;
    return true;
}

bool con_upload_refused(struct console *c, const struct con_req *r, const struct con_admin *who,
                        struct con_reply *out)
{
    memset(out, 0, sizeof *out);
    if (strcmp(r->path, "/api/update/upload") == 0)
        return con_update_precheck(c, r, who, out);
    return false;
}

void con_reply_clear(struct con_reply *r)
{
    free(r->body);
    free(r->set_cookie);
    free(r->file);
    free(r->disposition);
    memset(r, 0, sizeof *r);
}

void con_json(struct con_reply *out, int status, json_t *json)
{
    free(out->body);
    out->status = status;
    out->body = json ? json_dumps(json, JSON_COMPACT) : NULL;
    json_decref(json);
}

void con_error(struct con_reply *out, int status, const char *code, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    con_json(out, status, json_pack("{sb ss ss}", "ok", 0, "error", code, "message", msg));
}

void con_ok(struct con_reply *out)
{
    con_json(out, 200, json_pack("{sb}", "ok", 1));
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                        : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* lws hands the arguments joined by '&'; values may still carry %XX and '+'. */
const char *con_query(const struct con_req *r, const char *name, char *buf, size_t cap)
{
    size_t nlen = strlen(name);
    for (const char *q = r->query; q && *q;) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len > nlen && strncmp(q, name, nlen) == 0 && q[nlen] == '=') {
            size_t o = 0;
            for (size_t i = nlen + 1; i < len && o + 1 < cap; i++) {
                if (q[i] == '%' && i + 2 < len && hexval(q[i + 1]) >= 0 && hexval(q[i + 2]) >= 0) {
                    buf[o++] = (char)(hexval(q[i + 1]) * 16 + hexval(q[i + 2]));
                    i += 2;
                } else {
                    buf[o++] = q[i] == '+' ? ' ' : q[i];
                }
            }
            buf[o] = '\0';
            return buf;
        }
        q = amp ? amp + 1 : NULL;
    }
    return NULL;
}

void con_audit(struct console *c, const struct con_admin *who, const char *action,
               const char *target, const char *detail_fmt, ...)
{
    char detail[1024] = "";
    if (detail_fmt) {
        va_list ap;
        va_start(ap, detail_fmt);
        vsnprintf(detail, sizeof detail, detail_fmt, ap);
        va_end(ap);
    }
    char full[1200];
    snprintf(full, sizeof full, "console%s%s", detail[0] ? ": " : "", detail);
    if (sto_audit_append(c->db, who ? who->user_id : 0, action, target ? target : "", full) != 0)
        lt_log(LT_LOG_ERROR, "console", "audit_failed", "action=%s err=\"%s\"", action,
               sto_errmsg(c->db));
}

void con_handle(struct console *c, const struct con_req *r, struct con_reply *out)
{
    memset(out, 0, sizeof *out);
    if (strcmp(r->path, "/healthz") == 0) {
        con_ok(out);
        return;
    }
    bool post = strcmp(r->method, "POST") == 0;
    if (post && !r->csrf_ok) {
        con_error(out, 403, "csrf", "this request must come from the console's own pages "
                  "(header X-Requested-With: lanturn-console)");
        return;
    }
    json_t *body = NULL;
    if (post && !r->upload) {
        json_error_t je;
        body = r->body ? json_loadb(r->body, r->body_len, 0, &je) : json_object();
        if (!json_is_object(body)) {
            json_decref(body);
            con_error(out, 400, "bad_request", "the body must be a JSON object");
            return;
        }
    }
    if (post && strcmp(r->path, "/api/login") == 0) {
        con_auth_login(c, r, body, out);
        json_decref(body);
        return;
    }
    const struct route *rt = ROUTES;
    bool path_known = false;
    while (rt->path && !(strcmp(rt->path, r->path) == 0 && strcmp(rt->method, r->method) == 0)) {
        path_known |= strcmp(rt->path, r->path) == 0;
        rt++;
    }
    if (!rt->path) {
        json_decref(body);
        if (path_known || strcmp(r->path, "/api/login") == 0)
            con_error(out, 405, "bad_request", "%s is not allowed here", r->method);
        else
            con_error(out, 404, "not_found", "no such API route");
        return;
    }
    struct con_admin who;
    if (con_auth_check(c, r, &who) != 0) {
        json_decref(body);
        con_error(out, 401, "unauthorized", "sign in with an administrator account");
        return;
    }
    if (!rt->fn)
        con_auth_logout(c, r, &who, out);
    else
        rt->fn(c, r, &who, body, out);
    json_decref(body);
    if (!out->status)
        con_error(out, 500, "internal", "no reply");
}
