/*
 * api.c - the HTTP API's routes (see api.h). The routes that derive a
 * password are in passwords.c; failed logins back off per name and per
 * address (auth/limiter.c).
 */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../auth/limiter.h"
#include "../hub/hub.h"
#include "lanturn/storage.h"
#include "util/log.h"

static int64_t realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sig_api_config_defaults(struct sig_api_config *c)
{
    memset(c, 0, sizeof *c);
    sig_kdf_defaults(&c->kdf);
    c->session_ttl_ms = 30LL * 24 * 3600 * 1000;
    c->clock = realtime_ms;
    c->password_threads = 2;
    c->password_jobs = 64;
}

void sig_http_reply_clear(struct sig_http_reply *r)
{
    free(r->body);
    free(r->set_cookie);
    memset(r, 0, sizeof *r);
}

struct sig_api *sig_api_new(const struct sig_api_config *cfg, struct sto_db *db,
                            struct sig_hub *hub)
{
    struct sig_api *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->cfg = cfg;
    a->db = db;
    a->hub = hub;
    a->limiter = sig_limiter_new(4096);
    if (!a->limiter || sig_password_hash("not a password", &cfg->kdf, &a->dummy) != 0 ||
        (cfg->password_threads &&
         !(a->pool = sig_kdf_pool_new(cfg->password_threads,
                                      cfg->password_jobs ? cfg->password_jobs : 1)))) {
        sig_api_free(a);
        return NULL;
    }
    return a;
}

void sig_api_free(struct sig_api *a)
{
    if (a) {
        sig_kdf_pool_free(a->pool); /* first: unfinished calls still use the api */
        sig_limiter_free(a->limiter);
        free(a);
    }
}

void reply_json(struct sig_http_reply *out, int status, json_t *body)
{
    out->status = status;
    out->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
}

void sig_api_error(struct sig_http_reply *out, int status, const char *code, const char *message)
{
    free(out->body);
    out->body = NULL;
    reply_json(out, status, json_pack("{s{ss ss}}", "error", "code", code, "message", message));
}

json_t *user_json(const struct sto_user *u)
{
    return json_pack("{sI ss ss sb}", "id", (json_int_t)u->id, "name", u->name, "display_name",
                     u->display_name ? u->display_name : u->name, "is_admin", u->is_admin);
}

/* Parses a JSON object body; on failure the reply is filled. */
static json_t *parse_body(const char *body, size_t len, struct sig_http_reply *out)
{
    json_error_t e;
    json_t *j = body && len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &e) : NULL;
    if (!j || !json_is_object(j)) {
        char m[200];
        snprintf(m, sizeof m, "the body must be a JSON object%s%s", j ? "" : ": ",
                 j ? "" : (body && len ? e.text : "empty body"));
        sig_api_error(out, 400, "bad_request", m);
        json_decref(j);
        return NULL;
    }
    return j;
}

const char *str_field(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

int sig_api_authenticate(struct sig_api *a, const char *token, int64_t *user_id,
                         int64_t *session_id)
{
    sig_hub_flush(a->hub);
    if (!token || strlen(token) != STO_TOKEN_LEN)
        return -EACCES;
    struct sto_session s = {0};
    int err = sto_session_get(a->db, token, &s);
    *user_id = s.user_id;
    *session_id = s.id;
    sto_session_clear(&s);
    if (err == 0)
        sto_session_touch(a->db, *session_id);
    return err == 0 ? 0 : -EACCES;
}

int sig_api_handle_async(struct sig_api *a, const char *method, const char *path,
                         const char *token, const char *body, size_t body_len, const char *addr,
                         const char *user_agent, int64_t now, struct sig_api_waiter *waiter,
                         struct sig_http_reply *out)
{
    int rc = 0;
    memset(out, 0, sizeof *out);
    sig_hub_flush(a->hub); /* our writes are our own transactions, not the chat's batch */
    bool post = strcmp(method, "POST") == 0;
    if (strcmp(path, "/healthz") == 0) {
        reply_json(out, 200, json_pack("{sb}", "ok", 1));
        return 0;
    }
    if (post && strcmp(path, "/api/login") == 0) {
        json_t *req = parse_body(body, body_len, out);
        if (req)
            rc = api_login(a, req, addr, user_agent, now, waiter, out);
        json_decref(req);
        return rc;
    }
    if (post && strcmp(path, "/api/register") == 0) {
        if (!a->cfg->self_registration) {
            sig_api_error(out, 403, "forbidden", "self-registration is off; ask an administrator");
            return 0;
        }
        json_t *req = parse_body(body, body_len, out);
        if (req)
            rc = api_create_user(a, req, 0, false, waiter, out);
        json_decref(req);
        return rc;
    }
    int64_t uid, sid;
    if (sig_api_authenticate(a, token, &uid, &sid) != 0) {
        sig_api_error(out, 401, "unauthorized", "log in first (Authorization: Bearer <token>)");
        return 0;
    }
    struct sto_user me = {0};
    if (sto_user_get(a->db, uid, &me) != 0) {
        sig_api_error(out, 401, "unauthorized", "unknown user");
        return 0;
    }
    json_t *req = NULL;
    if (post && !(req = parse_body(body, body_len, out))) {
        sto_user_clear(&me);
        return 0;
    }
    if (!post && strcmp(method, "GET") == 0 && strcmp(path, "/api/me") == 0) {
        reply_json(out, 200, json_pack("{so}", "user", user_json(&me)));
    } else if (post && strcmp(path, "/api/logout") == 0) {
        sto_session_revoke(a->db, sid);
        sig_hub_session_revoked(a->hub, uid, sid, 0);
        reply_json(out, 200, json_object());
        if (asprintf(&out->set_cookie, "%s=; Path=/api/files; Max-Age=0; HttpOnly; Secure",
                     SIG_SESSION_COOKIE) < 0)
            out->set_cookie = NULL;
    } else if (post && strcmp(path, "/api/password") == 0) {
        rc = api_change_password(a, req, uid, sid, addr, now, waiter, out);
    } else if (post && strcmp(path, "/api/users") == 0) {
        if (!me.is_admin)
            sig_api_error(out, 403, "forbidden", "only administrators create users");
        else
            rc = api_create_user(a, req, uid, true, waiter, out);
    } else {
        sig_api_error(out, 404, "not_found", "no such route");
    }
    json_decref(req);
    sto_user_clear(&me);
    return rc;
}

void sig_api_handle(struct sig_api *a, const char *method, const char *path, const char *token,
                    const char *body, size_t body_len, const char *addr, const char *user_agent,
                    int64_t now, struct sig_http_reply *out)
{
    sig_api_handle_async(a, method, path, token, body, body_len, addr, user_agent, now, NULL, out);
}

void sig_api_clean_file_name(const char *in, char *out, size_t cap)
{
    const char *base = in;
    for (const char *p = in; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)base; *p && n + 1 < cap && n < 255; p++)
        if (*p >= 0x20 && *p != 0x7F && *p != '"')
            out[n++] = (char)*p;
    /* Never cut a UTF-8 sequence in half. */
    while (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0x80) {
        size_t start = n - 1;
        while (start > 0 && ((unsigned char)out[start] & 0xC0) == 0x80)
            start--;
        unsigned lead = (unsigned char)out[start];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (n - start == need)
            break;
        n = start;
    }
    out[n] = '\0';
    if (n == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        snprintf(out, cap, "file");
}

const char *sig_api_sniff_mime(const uint8_t *h, size_t len)
{
    if (len >= 8 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (len >= 3 && memcmp(h, "\xff\xd8\xff", 3) == 0)
        return "image/jpeg";
    if (len >= 6 && (memcmp(h, "GIF87a", 6) == 0 || memcmp(h, "GIF89a", 6) == 0))
        return "image/gif";
    if (len >= 12 && memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WEBP", 4) == 0)
        return "image/webp";
    if (len >= 5 && memcmp(h, "%PDF-", 5) == 0)
        return "application/pdf";
    return NULL;
}
