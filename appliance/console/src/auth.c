/*
 * auth.c - the console's own sign-in: administrators only, scrypt verifiers
 * shared with signald, back-off on failures (per name and per address), and a
 * session in storage carried by a separate cookie (HttpOnly, Secure,
 * SameSite=Strict). A session counts only if the console made it (its user
 * agent starts with CON_UA_PREFIX), so a chat client's token is no key to the
 * console; it ends after idle_minutes without use or session_hours anyway, and
 * when the user stops being an administrator.
 */
#include "console.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/limiter.h"
#include "auth/password.h"
#include "lanturn/storage.h"
#include "util/log.h"

/* A verifier of a password nobody knows, so an unknown name costs as much as
 * a wrong password and names cannot be told apart by timing. */
static struct sig_password_hash dummy;
static bool dummy_ready;

static void spend_like_verify(const struct console *c)
{
    if (!dummy_ready) {
        struct sig_kdf kdf;
        sig_kdf_defaults(&kdf);
        kdf.n = c->cfg->scrypt_n;
        if (sig_kdf_check(&kdf) != 0)
            sig_kdf_defaults(&kdf);
        dummy_ready = sig_password_hash("lanturn-console: no such user", &kdf, &dummy) == 0;
    }
    if (dummy_ready)
        sig_password_verify("x", dummy.hash, sizeof dummy.hash, dummy.salt, sizeof dummy.salt,
                            dummy.params);
}

static void login_failed(struct console *c, const struct con_req *r, const char *name,
                         struct con_reply *out)
{
    char tok[80];
    sig_limiter_failed(c->limiter, name, r->peer, r->now);
    lt_log(LT_LOG_WARN, "console", "login_failed", "user=%s peer=%s",
           lt_log_token(name, tok, sizeof tok), r->peer);
    con_error(out, 401, "bad_credentials", "wrong name or password");
}

void con_auth_login(struct console *c, const struct con_req *r, json_t *body, struct con_reply *out)
{
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *pw = json_string_value(json_object_get(body, "password"));
    if (!name || !pw || !name[0] || strlen(name) > STO_NAME_MAX || strlen(pw) > SIG_PASSWORD_MAX_LEN) {
        con_error(out, 400, "bad_request", "\"name\" and \"password\" are required");
        return;
    }
    int64_t wait = sig_limiter_check(c->limiter, name, r->peer, r->now);
    if (wait > 0) {
        out->retry_after_s = (int)((wait + 999) / 1000);
        con_error(out, 429, "rate_limited", "too many failed sign-ins; try again in %d s",
                  out->retry_after_s);
        return;
    }
    struct sto_user u = {0};
    struct sto_password_buf pb = {0};
    if (sto_user_by_name(c->db, name, &u) != 0 || sto_user_password(c->db, u.id, &pb) != 0) {
        spend_like_verify(c);
        login_failed(c, r, name, out);
        goto out;
    }
    if (sig_password_verify(pw, pb.hash, pb.hash_len, pb.salt, pb.salt_len, pb.params) != 0) {
        login_failed(c, r, name, out);
        goto out;
    }
    sig_limiter_succeeded(c->limiter, name, r->now);
    struct con_admin who = {.user_id = u.id};
    snprintf(who.name, sizeof who.name, "%s", u.name);
    if (u.disabled) {
        con_error(out, 403, "disabled", "this account is disabled");
        goto out;
    }
    if (!u.is_admin) {
        con_audit(c, &who, "console.login_refused", u.name, "not an administrator, from %s",
                  r->peer);
        con_error(out, 403, "not_admin", "this console is for administrators only");
        goto out;
    }
    char ua[260], token[STO_TOKEN_LEN + 1];
    snprintf(ua, sizeof ua, "%s%s", CON_UA_PREFIX, r->user_agent ? r->user_agent : "");
    int64_t ttl = (int64_t)c->cfg->session_hours * 3600 * 1000;
    if (sto_session_create(c->db, u.id, ttl, ua, token, &who.session_id) != 0) {
        lt_log(LT_LOG_ERROR, "console", "session_create", "err=\"%s\"", sto_errmsg(c->db));
        con_error(out, 500, "internal", "cannot start a session: %s", sto_errmsg(c->db));
        goto out;
    }
    char cookie[256];
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; Max-Age=%d; HttpOnly; Secure; SameSite=Strict",
             CON_COOKIE, token, c->cfg->session_hours * 3600);
    out->set_cookie = strdup(cookie);
    con_audit(c, &who, "console.login", u.name, "from %s", r->peer);
    lt_log(LT_LOG_INFO, "console", "login", "user_id=%lld peer=%s", (long long)u.id, r->peer);
    con_json(out, 200,
             json_pack("{sb s{sI ss ss}}", "ok", 1, "user", "id", (json_int_t)u.id, "name", u.name,
                       "display_name", u.display_name));
out:
    sto_password_clear(&pb);
    sto_user_clear(&u);
}

int con_auth_check(struct console *c, const struct con_req *r, struct con_admin *who)
{
    if (!r->token || !r->token[0])
        return -EACCES;
    struct sto_session s = {0};
    struct sto_user u = {0};
    int rc = -EACCES;
    if (sto_session_get(c->db, r->token, &s) != 0 || !s.user_agent ||
        strncmp(s.user_agent, CON_UA_PREFIX, strlen(CON_UA_PREFIX)) != 0)
        goto out;
    if (r->now - s.last_seen_at > (int64_t)c->cfg->idle_minutes * 60 * 1000) {
        sto_session_revoke(c->db, s.id);
        goto out;
    }
    if (sto_user_get(c->db, s.user_id, &u) != 0 || !u.is_admin || u.disabled)
        goto out;
    sto_session_touch(c->db, s.id);
    who->user_id = u.id;
    who->session_id = s.id;
    snprintf(who->name, sizeof who->name, "%s", u.name);
    rc = 0;
out:
    sto_session_clear(&s);
    sto_user_clear(&u);
    return rc;
}

void con_auth_logout(struct console *c, const struct con_req *r, const struct con_admin *who,
                     struct con_reply *out)
{
    (void)r;
    sto_session_revoke(c->db, who->session_id);
    con_audit(c, who, "console.logout", who->name, NULL);
    char cookie[160];
    snprintf(cookie, sizeof cookie, "%s=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict",
             CON_COOKIE);
    out->set_cookie = strdup(cookie);
    con_ok(out);
}
