/*
 * api.c - the HTTP API's routes (see api.h).
 *
 * Logins cost a scrypt derivation, also for unknown names, so that the time
 * of an answer does not tell whether a name exists. Failed logins back off per
 * name and per address (auth/limiter.c).
 */
#include "api.h"

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

struct sig_api {
    const struct sig_api_config *cfg;
    struct sto_db *db;
    struct sig_hub *hub;
    struct sig_limiter *limiter;
    struct sig_password_hash dummy; /* verified against when the name is unknown */
};

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
    if (!a->limiter || sig_password_hash("not a password", &cfg->kdf, &a->dummy) != 0) {
        sig_api_free(a);
        return NULL;
    }
    return a;
}

void sig_api_free(struct sig_api *a)
{
    if (a) {
        sig_limiter_free(a->limiter);
        free(a);
    }
}

static void reply_json(struct sig_http_reply *out, int status, json_t *body)
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

static json_t *user_json(const struct sto_user *u)
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

static const char *str_field(json_t *o, const char *k)
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

static int set_password(struct sig_api *a, int64_t user_id, const char *password)
{
    struct sig_password_hash h;
    int err = sig_password_hash(password, &a->cfg->kdf, &h);
    if (err)
        return err;
    struct sto_password pw = {h.hash, sizeof h.hash, h.salt, sizeof h.salt, h.params};
    return sto_user_set_password(a->db, user_id, &pw);
}

/* 0 when name's password is password (user filled), -EACCES otherwise. */
static int check_password(struct sig_api *a, const char *name, const char *password,
                          struct sto_user *u)
{
    struct sto_password_buf pw = {0};
    int err = sto_user_by_name(a->db, name, u);
    if (err == 0)
        err = sto_user_password(a->db, u->id, &pw);
    if (err) {
        sig_password_verify(password, a->dummy.hash, sizeof a->dummy.hash, a->dummy.salt,
                            sizeof a->dummy.salt, a->dummy.params);
        return -EACCES;
    }
    err = sig_password_verify(password, pw.hash, pw.hash_len, pw.salt, pw.salt_len, pw.params);
    if (err == 0 && sig_password_needs_rehash(pw.params, &a->cfg->kdf))
        set_password(a, u->id, password);
    sto_password_clear(&pw);
    return err == 0 ? 0 : -EACCES;
}

static void start_session(struct sig_api *a, const struct sto_user *u, const char *user_agent,
                          int64_t now, struct sig_http_reply *out)
{
    char token[STO_TOKEN_LEN + 1];
    int64_t sid;
    int err = sto_session_create(a->db, u->id, a->cfg->session_ttl_ms, user_agent, token, &sid);
    if (err) {
        sig_api_error(out, 500, "internal", "could not start a session");
        return;
    }
    int64_t expires = now + a->cfg->session_ttl_ms;
    reply_json(out, 200, json_pack("{ss sI so}", "token", token, "expires_at", (json_int_t)expires,
                                   "user", user_json(u)));
    /* For <img src> and downloads, which cannot send a bearer header. Only GET
     * routes accept the cookie, so it cannot be used to change anything. */
    if (asprintf(&out->set_cookie, "%s=%s; Path=/api/files; Max-Age=%" PRId64
                 "; HttpOnly; Secure; SameSite=Strict", SIG_SESSION_COOKIE, token,
                 a->cfg->session_ttl_ms / 1000) < 0)
        out->set_cookie = NULL;
}

static void login(struct sig_api *a, json_t *req, const char *addr, const char *ua, int64_t now,
                  struct sig_http_reply *out)
{
    const char *name = str_field(req, "name"), *password = str_field(req, "password");
    if (!name || !password || !*name || strlen(name) > STO_NAME_MAX ||
        strlen(password) > SIG_PASSWORD_MAX_LEN) {
        sig_api_error(out, 400, "bad_request", "\"name\" and \"password\" are required");
        return;
    }
    char who[96];
    lt_log_token(name, who, sizeof who);
    int64_t wait = sig_limiter_check(a->limiter, name, addr, now);
    if (wait > 0) {
        out->retry_after_s = (int)((wait + 999) / 1000);
        sig_api_error(out, 429, "rate_limited", "too many failed logins; try again later");
        lt_log(LT_LOG_WARN, "signal", "login_throttled", "name=%s addr=%s wait_ms=%" PRId64, who,
               addr, wait);
        return;
    }
    struct sto_user u = {0};
    if (check_password(a, name, password, &u) != 0) {
        sig_limiter_failed(a->limiter, name, addr, a->cfg->clock ? a->cfg->clock() : now);
        lt_log(LT_LOG_WARN, "signal", "login_failed", "name=%s addr=%s", who, addr);
        sig_api_error(out, 401, "unauthorized", "wrong name or password");
    } else if (u.disabled) {
        sig_api_error(out, 403, "forbidden", "this account is disabled");
    } else {
        sig_limiter_succeeded(a->limiter, name, now);
        start_session(a, &u, ua, now, out);
        char target[32];
        snprintf(target, sizeof target, "user:%" PRId64, u.id);
        sto_audit_append(a->db, u.id, "user.login", target, addr);
        lt_log(LT_LOG_INFO, "signal", "login", "user=%" PRId64 " addr=%s", u.id, addr);
    }
    sto_user_clear(&u);
}

static int name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len < 1 || len > STO_NAME_MAX)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

/* Creates a user from {name, password, display_name?, is_admin?}. */
static void create_user(struct sig_api *a, json_t *req, int64_t actor, bool allow_admin,
                        struct sig_http_reply *out)
{
    const char *name = str_field(req, "name"), *password = str_field(req, "password");
    const char *display = str_field(req, "display_name"), *why;
    bool is_admin = allow_admin && json_is_true(json_object_get(req, "is_admin"));
    if (!name || !name_valid(name)) {
        sig_api_error(out, 400, "bad_request",
                      "\"name\" must be 1..64 characters: letters, digits, '.', '_' or '-'");
        return;
    }
    if (!password || sig_password_acceptable(password, &why) != 0) {
        sig_api_error(out, 400, "bad_request", password ? why : "\"password\" is required");
        return;
    }
    struct sig_password_hash h;
    if (sig_password_hash(password, &a->cfg->kdf, &h) != 0) {
        sig_api_error(out, 500, "internal", "could not hash the password");
        return;
    }
    struct sto_password pw = {h.hash, sizeof h.hash, h.salt, sizeof h.salt, h.params};
    int64_t id;
    int err = sto_user_create(a->db, name, display && *display ? display : name, is_admin, &pw, &id);
    if (err == -EEXIST) {
        sig_api_error(out, 409, "conflict", "that name is taken");
        return;
    }
    if (err) {
        sig_api_error(out, err == -EINVAL ? 400 : 500, err == -EINVAL ? "bad_request" : "internal",
                      sto_errmsg(a->db));
        return;
    }
    char target[32];
    snprintf(target, sizeof target, "user:%" PRId64, id);
    sto_audit_append(a->db, actor, "user.create", target, is_admin ? "admin" : "");
    struct sto_user u = {0};
    if (sto_user_get(a->db, id, &u) == 0)
        reply_json(out, 201, json_pack("{so}", "user", user_json(&u)));
    sto_user_clear(&u);
}

static void change_password(struct sig_api *a, json_t *req, int64_t uid, int64_t sid,
                            const char *addr, int64_t now, struct sig_http_reply *out)
{
    const char *old = str_field(req, "old_password"), *new = str_field(req, "new_password"), *why;
    struct sto_user u = {0};
    if (!old || !new) {
        sig_api_error(out, 400, "bad_request", "\"old_password\" and \"new_password\" are required");
        return;
    }
    if (sig_password_acceptable(new, &why) != 0) {
        sig_api_error(out, 400, "bad_request", why);
        return;
    }
    if (sto_user_get(a->db, uid, &u) != 0) {
        sig_api_error(out, 500, "internal", "unknown user");
        return;
    }
    char name[STO_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s", u.name);
    sto_user_clear(&u);
    int64_t wait = sig_limiter_check(a->limiter, name, addr, now);
    if (wait > 0) {
        out->retry_after_s = (int)((wait + 999) / 1000);
        sig_api_error(out, 429, "rate_limited", "too many failed attempts; try again later");
    } else if (check_password(a, name, old, &u) != 0) {
        sig_limiter_failed(a->limiter, name, addr, a->cfg->clock ? a->cfg->clock() : now);
        sig_api_error(out, 403, "forbidden", "the old password is wrong");
    } else if (set_password(a, uid, new) != 0) {
        sig_api_error(out, 500, "internal", "could not store the password");
    } else {
        /* Every other device must log in again with the new password. */
        sto_session_revoke_user(a->db, uid, sid, NULL);
        sig_hub_session_revoked(a->hub, uid, 0, sid); /* this device stays */
        char target[32];
        snprintf(target, sizeof target, "user:%" PRId64, uid);
        sto_audit_append(a->db, uid, "user.password", target, addr);
        reply_json(out, 200, json_object());
    }
    sto_user_clear(&u);
}

void sig_api_handle(struct sig_api *a, const char *method, const char *path, const char *token,
                    const char *body, size_t body_len, const char *addr, const char *user_agent,
                    int64_t now, struct sig_http_reply *out)
{
    memset(out, 0, sizeof *out);
    sig_hub_flush(a->hub); /* our writes are our own transactions, not the chat's batch */
    bool post = strcmp(method, "POST") == 0;
    if (strcmp(path, "/healthz") == 0) {
        reply_json(out, 200, json_pack("{sb}", "ok", 1));
        return;
    }
    if (post && strcmp(path, "/api/login") == 0) {
        json_t *req = parse_body(body, body_len, out);
        if (req)
            login(a, req, addr, user_agent, now, out);
        json_decref(req);
        return;
    }
    if (post && strcmp(path, "/api/register") == 0) {
        if (!a->cfg->self_registration) {
            sig_api_error(out, 403, "forbidden", "self-registration is off; ask an administrator");
            return;
        }
        json_t *req = parse_body(body, body_len, out);
        if (req)
            create_user(a, req, 0, false, out);
        json_decref(req);
        return;
    }
    int64_t uid, sid;
    if (sig_api_authenticate(a, token, &uid, &sid) != 0) {
        sig_api_error(out, 401, "unauthorized", "log in first (Authorization: Bearer <token>)");
        return;
    }
    struct sto_user me = {0};
    if (sto_user_get(a->db, uid, &me) != 0) {
        sig_api_error(out, 401, "unauthorized", "unknown user");
        return;
    }
    json_t *req = NULL;
    if (post && !(req = parse_body(body, body_len, out))) {
        sto_user_clear(&me);
        return;
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
        change_password(a, req, uid, sid, addr, now, out);
    } else if (post && strcmp(path, "/api/users") == 0) {
        if (!me.is_admin)
            sig_api_error(out, 403, "forbidden", "only administrators create users");
        else
            create_user(a, req, uid, true, out);
    } else {
        sig_api_error(out, 404, "not_found", "no such route");
    }
    json_decref(req);
    sto_user_clear(&me);
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
