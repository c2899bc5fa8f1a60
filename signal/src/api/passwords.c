/*
 * passwords.c - the routes that derive a password: login, password change and
 * user creation.
 *
 * Each route runs in three steps: on the loop's thread it checks the request,
 * the back-off limiter and the database, and packs what the derivation needs
 * into a call; the derivation (scrypt) runs in the worker pool; back on the
 * loop's thread, finish() records the outcome (limiter, session, new verifier)
 * and answers. A call owns copies of everything its work reads, so workers
 * share nothing with the loop. Without a pool (or for sig_api_handle) the
 * work runs at once on the caller's thread, through the same steps.
 *
 * Logins cost a derivation also for unknown names, so that the time of an
 * answer does not tell whether a name exists. Only one login per name is
 * checked at a time: otherwise a guesser could queue many attempts for one
 * name before the first failure reached the limiter.
 */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "../auth/limiter.h"
#include "../hub/hub.h"
#include "util/log.h"

enum call_kind { CALL_LOGIN, CALL_PASSWORD, CALL_CREATE };

struct password_call {
    struct sig_kdf_job job; /* first: the pool hands this pointer back */
    struct sig_api *a;
    struct sig_api_waiter *waiter; /* NULL: nobody waits for the answer */
    bool forgotten;                /* the client went away while it ran */
    struct password_call *prev, *next; /* a->calls while in the pool */
    enum call_kind kind;
    /* What the work reads. */
    char *password; /* checked against the verifier (login, password change) */
    struct sto_password_buf stored; /* the user's verifier, when known */
    bool known;                     /* else the dummy verifier is used */
    char *new_password; /* hashed into fresh; for a login, its own password */
    bool only_if_weaker; /* login: a new verifier only when the stored one is weaker */
    struct sig_kdf kdf;
    /* What it writes. */
    int verified;  /* 0, -EACCES, -EINVAL; 0 when there was nothing to verify */
    int hashed;    /* 1: fresh holds a new verifier; < 0: hashing failed */
    struct sig_password_hash fresh;
    /* What finish() needs. */
    char name[STO_NAME_MAX + 1];
    char addr[64];
    char ua[256];
    int64_t user_id, session_id, now;
    bool allow_admin;
    json_t *req; /* user creation's request */
};

static void call_work(struct sig_kdf_job *job)
{
    struct password_call *c = (struct password_call *)job;
    const struct sig_password_hash *d = &c->a->dummy;
    c->verified = 0;
    if (c->password)
        c->verified = c->known ? sig_password_verify(c->password, c->stored.hash,
                                                     c->stored.hash_len, c->stored.salt,
                                                     c->stored.salt_len, c->stored.params)
                               : (sig_password_verify(c->password, d->hash, sizeof d->hash,
                                                      d->salt, sizeof d->salt, d->params),
                                  -EACCES);
    if (c->verified || !c->new_password)
        return;
    if (c->only_if_weaker && !sig_password_needs_rehash(c->stored.params, &c->kdf))
        return;
    c->hashed = sig_password_hash(c->new_password, &c->kdf, &c->fresh) == 0 ? 1 : -EIO;
}

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static void call_free(struct password_call *c)
{
    wipe_free(c->password);
    wipe_free(c->new_password);
    sto_password_clear(&c->stored);
    json_decref(c->req);
    OPENSSL_cleanse(&c->fresh, sizeof c->fresh);
    free(c);
}

static int store_fresh(struct sig_api *a, int64_t user_id, const struct sig_password_hash *h)
{
    struct sto_password pw = {h->hash, sizeof h->hash, h->salt, sizeof h->salt, h->params};
    return sto_user_set_password(a->db, user_id, &pw);
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

static int64_t clock_now(const struct sig_api *a, int64_t fallback)
{
    return a->cfg->clock ? a->cfg->clock() : fallback;
}

static void finish_login(struct sig_api *a, struct password_call *c, struct sig_http_reply *out)
{
    char who[96];
    lt_log_token(c->name, who, sizeof who);
    struct sto_user u = {0};
    /* Read again: the account may have been disabled while the worker ran. */
    if (c->verified != 0 || sto_user_get(a->db, c->user_id, &u) != 0) {
        sig_limiter_failed(a->limiter, c->name, c->addr, clock_now(a, c->now));
        lt_log(LT_LOG_WARN, "signal", "login_failed", "name=%s addr=%s", who, c->addr);
        sig_api_error(out, 401, "unauthorized", "wrong name or password");
    } else if (u.disabled) {
        sig_api_error(out, 403, "forbidden", "this account is disabled");
    } else {
        sig_limiter_succeeded(a->limiter, c->name, c->now);
        if (c->hashed == 1)
            store_fresh(a, u.id, &c->fresh);
        if (!c->forgotten) /* a token nobody receives is not made */
            start_session(a, &u, c->ua, c->now, out);
        char target[32];
        snprintf(target, sizeof target, "user:%" PRId64, u.id);
        sto_audit_append(a->db, u.id, "user.login", target, c->addr);
        lt_log(LT_LOG_INFO, "signal", "login", "user=%" PRId64 " addr=%s", u.id, c->addr);
    }
    sto_user_clear(&u);
}

static void finish_password(struct sig_api *a, struct password_call *c, struct sig_http_reply *out)
{
    if (c->verified != 0) {
        sig_limiter_failed(a->limiter, c->name, c->addr, clock_now(a, c->now));
        sig_api_error(out, 403, "forbidden", "the old password is wrong");
    } else if (c->hashed != 1 || store_fresh(a, c->user_id, &c->fresh) != 0) {
        sig_api_error(out, 500, "internal", "could not store the password");
    } else {
        /* Every other device must log in again with the new password. */
        sto_session_revoke_user(a->db, c->user_id, c->session_id, NULL);
        sig_hub_session_revoked(a->hub, c->user_id, 0, c->session_id); /* this device stays */
        char target[32];
        snprintf(target, sizeof target, "user:%" PRId64, c->user_id);
        sto_audit_append(a->db, c->user_id, "user.password", target, c->addr);
        reply_json(out, 200, json_object());
    }
}

static void finish_create(struct sig_api *a, struct password_call *c, struct sig_http_reply *out)
{
    if (c->hashed != 1) {
        sig_api_error(out, 500, "internal", "could not hash the password");
        return;
    }
    const char *name = str_field(c->req, "name"), *display = str_field(c->req, "display_name");
    bool is_admin = c->allow_admin && json_is_true(json_object_get(c->req, "is_admin"));
    struct sto_password pw = {c->fresh.hash, sizeof c->fresh.hash, c->fresh.salt,
                              sizeof c->fresh.salt, c->fresh.params};
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
    sto_audit_append(a->db, c->user_id, "user.create", target, is_admin ? "admin" : "");
    struct sto_user u = {0};
    if (sto_user_get(a->db, id, &u) == 0)
        reply_json(out, 201, json_pack("{so}", "user", user_json(&u)));
    sto_user_clear(&u);
}

static void finish(struct sig_api *a, struct password_call *c, struct sig_http_reply *out)
{
    sig_hub_flush(a->hub); /* our writes are our own transactions, not the chat's batch */
    if (c->kind == CALL_LOGIN)
        finish_login(a, c, out);
    else if (c->kind == CALL_PASSWORD)
        finish_password(a, c, out);
    else
        finish_create(a, c, out);
}

static void unlink_call(struct sig_api *a, struct password_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else if (a->calls == c)
        a->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* From the pool, on the loop's thread (or from sig_kdf_pool_free). */
static void call_done(struct sig_kdf_job *job)
{
    struct password_call *c = (struct password_call *)job;
    struct sig_api *a = c->a;
    unlink_call(a, c);
    if (c->job.cancelled) { /* the service is stopping */
        if (c->waiter)
            c->waiter->call = NULL;
        call_free(c);
        return;
    }
    struct sig_http_reply r = {0};
    finish(a, c, &r);
    if (c->waiter) {
        c->waiter->call = NULL;
        c->waiter->reply(c->waiter, &r);
    }
    sig_http_reply_clear(&r);
    call_free(c);
}

/* Runs the call at once or hands it to the pool. Takes c. */
static int dispatch(struct sig_api *a, struct password_call *c, struct sig_api_waiter *waiter,
                    struct sig_http_reply *out)
{
    c->a = a;
    c->kdf = a->cfg->kdf;
    c->job.work = call_work;
    c->job.done = call_done;
    if (!waiter || !a->pool) {
        call_work(&c->job);
        finish(a, c, out);
        call_free(c);
        return 0;
    }
    if (sig_kdf_pool_submit(a->pool, &c->job) != 0) {
        out->retry_after_s = 1;
        sig_api_error(out, 503, "busy", "the server is busy checking other passwords; retry in a "
                      "moment");
        lt_log(LT_LOG_WARN, "signal", "password_busy", "addr=%s jobs=%u", c->addr,
               sig_kdf_pool_outstanding(a->pool));
        call_free(c);
        return 0;
    }
    c->waiter = waiter;
    waiter->call = c;
    c->next = a->calls;
    if (a->calls)
        a->calls->prev = c;
    a->calls = c;
    return SIG_API_PENDING;
}

static bool name_in_flight(const struct sig_api *a, const char *name)
{
    for (const struct password_call *c = a->calls; c; c = c->next)
        if (c->kind != CALL_CREATE && strcasecmp(c->name, name) == 0)
            return true;
    return false;
}

static struct password_call *call_new(enum call_kind kind, const char *name, const char *addr)
{
    struct password_call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->kind = kind;
    snprintf(c->name, sizeof c->name, "%s", name ? name : "");
    snprintf(c->addr, sizeof c->addr, "%s", addr ? addr : "");
    return c;
}

int api_login(struct sig_api *a, json_t *req, const char *addr, const char *ua, int64_t now,
              struct sig_api_waiter *waiter, struct sig_http_reply *out)
{
    const char *name = str_field(req, "name"), *password = str_field(req, "password");
    if (!name || !password || !*name || strlen(name) > STO_NAME_MAX ||
        strlen(password) > SIG_PASSWORD_MAX_LEN) {
        sig_api_error(out, 400, "bad_request", "\"name\" and \"password\" are required");
        return 0;
    }
    char who[96];
    lt_log_token(name, who, sizeof who);
    int64_t wait = sig_limiter_check(a->limiter, name, addr, now);
    if (wait == 0 && name_in_flight(a, name))
        wait = 1000;
    if (wait > 0) {
        out->retry_after_s = (int)((wait + 999) / 1000);
        sig_api_error(out, 429, "rate_limited", "too many failed logins; try again later");
        lt_log(LT_LOG_WARN, "signal", "login_throttled", "name=%s addr=%s wait_ms=%" PRId64, who,
               addr, wait);
        return 0;
    }
    struct password_call *c = call_new(CALL_LOGIN, name, addr);
    if (!c || !(c->password = strdup(password)) || !(c->new_password = strdup(password))) {
        if (c)
            call_free(c);
        sig_api_error(out, 500, "internal", "out of memory");
        return 0;
    }
    snprintf(c->ua, sizeof c->ua, "%s", ua ? ua : "");
    c->now = now;
    c->only_if_weaker = true;
    struct sto_user u = {0};
    c->known = sto_user_by_name(a->db, name, &u) == 0 &&
               sto_user_password(a->db, u.id, &c->stored) == 0;
    c->user_id = u.id;
    sto_user_clear(&u);
    return dispatch(a, c, waiter, out);
}

int api_change_password(struct sig_api *a, json_t *req, int64_t uid, int64_t sid,
                        const char *addr, int64_t now, struct sig_api_waiter *waiter,
                        struct sig_http_reply *out)
{
    const char *old = str_field(req, "old_password"), *new = str_field(req, "new_password"), *why;
    if (!old || !new) {
        sig_api_error(out, 400, "bad_request", "\"old_password\" and \"new_password\" are required");
        return 0;
    }
    if (sig_password_acceptable(new, &why) != 0) {
        sig_api_error(out, 400, "bad_request", why);
        return 0;
    }
    struct sto_user u = {0};
    if (sto_user_get(a->db, uid, &u) != 0) {
        sig_api_error(out, 500, "internal", "unknown user");
        return 0;
    }
    struct password_call *c = call_new(CALL_PASSWORD, u.name, addr);
    sto_user_clear(&u);
    if (!c) {
        sig_api_error(out, 500, "internal", "out of memory");
        return 0;
    }
    int64_t wait = sig_limiter_check(a->limiter, c->name, addr, now);
    if (wait == 0 && name_in_flight(a, c->name))
        wait = 1000;
    if (wait > 0) {
        call_free(c);
        out->retry_after_s = (int)((wait + 999) / 1000);
        sig_api_error(out, 429, "rate_limited", "too many failed attempts; try again later");
        return 0;
    }
    c->user_id = uid;
    c->session_id = sid;
    c->now = now;
    c->known = sto_user_password(a->db, uid, &c->stored) == 0;
    if (!(c->password = strdup(old)) || !(c->new_password = strdup(new))) {
        call_free(c);
        sig_api_error(out, 500, "internal", "out of memory");
        return 0;
    }
    return dispatch(a, c, waiter, out);
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

int api_create_user(struct sig_api *a, json_t *req, int64_t actor, bool allow_admin,
                    struct sig_api_waiter *waiter, struct sig_http_reply *out)
{
    const char *name = str_field(req, "name"), *password = str_field(req, "password"), *why;
    if (!name || !name_valid(name)) {
        sig_api_error(out, 400, "bad_request",
                      "\"name\" must be 1..64 characters: letters, digits, '.', '_' or '-'");
        return 0;
    }
    if (!password || sig_password_acceptable(password, &why) != 0) {
        sig_api_error(out, 400, "bad_request", password ? why : "\"password\" is required");
        return 0;
    }
    struct password_call *c = call_new(CALL_CREATE, name, "");
    if (!c || !(c->new_password = strdup(password))) {
        if (c)
            call_free(c);
        sig_api_error(out, 500, "internal", "out of memory");
        return 0;
    }
    c->user_id = actor;
    c->allow_admin = allow_admin;
    c->req = json_incref(req);
    return dispatch(a, c, waiter, out);
}

void sig_api_forget(struct sig_api *a, struct sig_api_waiter *waiter)
{
    (void)a;
    if (waiter && waiter->call) {
        waiter->call->waiter = NULL;
        waiter->call->forgotten = true;
        waiter->call = NULL;
    }
}

int sig_api_async_fd(const struct sig_api *a)
{
    return a->pool ? sig_kdf_pool_fd(a->pool) : -1;
}

void sig_api_drain(struct sig_api *a)
{
    if (a->pool)
        sig_kdf_pool_drain(a->pool);
}

void sig_api_set_wake(struct sig_api *a, void (*wake)(void *arg), void *arg)
{
    if (a->pool)
        sig_kdf_pool_set_wake(a->pool, wake, arg);
}
