/*
 * users.c - user administration on the database: list and search, create,
 * disable and enable, reset a password, make or unmake an administrator, bulk
 * import from CSV, and "delete". Storage has no way to delete a user yet, so
 * delete disables the account and says so; what it would keep is recorded.
 */
#include "console.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/password.h"
#include "lanturn/storage.h"

static json_t *user_json(const struct sto_user *u)
{
    return json_pack("{sI ss ss sb sb sI}", "id", (json_int_t)u->id, "name", u->name,
                     "display_name", u->display_name, "is_admin", u->is_admin, "disabled",
                     u->disabled, "created_at", (json_int_t)u->created_at);
}

void con_users_list(struct console *c, const struct con_req *r, const struct con_admin *who,
                    json_t *body, struct con_reply *out)
{
    (void)who;
    (void)body;
    char q[STO_NAME_MAX * 2 + 1];
    const char *query = con_query(r, "q", q, sizeof q);
    json_t *list = json_array();
    int64_t after = 0;
    for (;;) {
        struct sto_user *u = NULL;
        size_t n = 0;
        if (sto_user_list(c->db, after, 500, &u, &n) != 0) {
            json_decref(list);
            con_error(out, 500, "internal", "%s", sto_errmsg(c->db));
            return;
        }
        for (size_t i = 0; i < n; i++) {
            after = u[i].id;
            if (query && query[0] && !strcasestr(u[i].name, query) &&
                !strcasestr(u[i].display_name, query))
                continue;
            json_array_append_new(list, user_json(&u[i]));
        }
        sto_users_free(u, n);
        if (n < 500)
            break;
    }
    con_json(out, 200, json_pack("{sb so}", "ok", 1, "users", list));
}

static int hash_password(const struct console *c, const char *pw, struct sig_password_hash *h,
                         const char **why)
{
    if (sig_password_acceptable(pw, why) != 0)
        return -EINVAL;
    struct sig_kdf kdf;
    sig_kdf_defaults(&kdf);
    kdf.n = c->cfg->scrypt_n;
    if (sig_kdf_check(&kdf) != 0)
        sig_kdf_defaults(&kdf);
    if (sig_password_hash(pw, &kdf, h) != 0) {
        *why = "the password could not be hashed";
        return -EIO;
    }
    return 0;
}

static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > STO_NAME_MAX)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("._-", *p)))
            return false;
    return true;
}

/* 0 and *id, or an HTTP status with the message in err. */
static int create_one(struct console *c, const char *name, const char *display, const char *pw,
                      bool admin, int64_t *id, char *err, size_t cap)
{
    const char *why;
    if (!name_ok(name)) {
        snprintf(err, cap, "a user name is 1-%d letters, digits, '.', '_' or '-'", STO_NAME_MAX);
        return 400;
    }
    if (display && strlen(display) > STO_DISPLAY_NAME_MAX) {
        snprintf(err, cap, "the display name is longer than %d bytes", STO_DISPLAY_NAME_MAX);
        return 400;
    }
    struct sig_password_hash h;
    if (hash_password(c, pw, &h, &why) != 0) {
        snprintf(err, cap, "%s", why);
        return 400;
    }
    struct sto_password sp = {h.hash, sizeof h.hash, h.salt, sizeof h.salt, h.params};
    int rc = sto_user_create(c->db, name, display && display[0] ? display : name, admin, &sp, id);
    memset(&h, 0, sizeof h);
    if (rc == -EEXIST) {
        snprintf(err, cap, "user '%s' already exists", name);
        return 409;
    }
    if (rc) {
        snprintf(err, cap, "%s", sto_errmsg(c->db));
        return rc == -EINVAL ? 400 : 500;
    }
    return 0;
}

void con_users_create(struct console *c, const struct con_req *r, const struct con_admin *who,
                      json_t *body, struct con_reply *out)
{
    (void)r;
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *pw = json_string_value(json_object_get(body, "password"));
    const char *display = json_string_value(json_object_get(body, "display_name"));
    bool admin = json_is_true(json_object_get(body, "admin"));
    if (!name || !pw) {
        con_error(out, 400, "bad_request", "\"name\" and \"password\" are required");
        return;
    }
    char err[400];
    int64_t id;
    int status = create_one(c, name, display, pw, admin, &id, err, sizeof err);
    if (status) {
        con_error(out, status, status == 409 ? "exists" : "bad_request", "%s", err);
        return;
    }
    con_audit(c, who, "user.create", name, "%s", admin ? "administrator" : "user");
    con_json(out, 201, json_pack("{sb sI}", "ok", 1, "id", (json_int_t)id));
}

/* Looks up body.name; on failure the reply is filled and -1 returned. */
static int find_user(struct console *c, json_t *body, struct sto_user *u, struct con_reply *out)
{
    const char *name = json_string_value(json_object_get(body, "name"));
    if (!name) {
        con_error(out, 400, "bad_request", "\"name\" is required");
        return -1;
    }
    if (sto_user_by_name(c->db, name, u) != 0) {
        con_error(out, 404, "not_found", "no user '%s'", name);
        return -1;
    }
    return 0;
}

void con_users_set_disabled_h(struct console *c, const struct con_req *r,
                              const struct con_admin *who, json_t *body, struct con_reply *out)
{
    bool disable = strcmp(r->path, "/api/users/disable") == 0;
    struct sto_user u = {0};
    if (find_user(c, body, &u, out))
        return;
    if (disable && u.id == who->user_id)
        con_error(out, 409, "self", "you cannot disable your own account");
    else if (sto_user_set_disabled(c->db, u.id, disable) != 0)
        con_error(out, 500, "internal", "%s", sto_errmsg(c->db));
    else {
        con_audit(c, who, disable ? "user.disable" : "user.enable", u.name, NULL);
        con_ok(out);
    }
    sto_user_clear(&u);
}

void con_users_password(struct console *c, const struct con_req *r, const struct con_admin *who,
                        json_t *body, struct con_reply *out)
{
    (void)r;
    const char *pw = json_string_value(json_object_get(body, "password"));
    struct sto_user u = {0};
    if (!pw) {
        con_error(out, 400, "bad_request", "\"password\" is required");
        return;
    }
    if (find_user(c, body, &u, out))
        return;
    struct sig_password_hash h;
    const char *why;
    if (hash_password(c, pw, &h, &why) != 0) {
        con_error(out, 400, "bad_password", "%s", why);
    } else {
        struct sto_password sp = {h.hash, sizeof h.hash, h.salt, sizeof h.salt, h.params};
        /* a reset password signs the user out everywhere (but not this console) */
        int64_t n = 0;
        if (sto_user_set_password(c->db, u.id, &sp) != 0 ||
            sto_session_revoke_user(c->db, u.id, u.id == who->user_id ? who->session_id : 0, &n) !=
                0) {
            con_error(out, 500, "internal", "%s", sto_errmsg(c->db));
        } else {
            con_audit(c, who, "user.password_reset", u.name, "%lld sessions signed out",
                      (long long)n);
            con_json(out, 200, json_pack("{sb sI}", "ok", 1, "sessions_revoked", (json_int_t)n));
        }
        memset(&h, 0, sizeof h);
    }
    sto_user_clear(&u);
}

void con_users_admin(struct console *c, const struct con_req *r, const struct con_admin *who,
                     json_t *body, struct con_reply *out)
{
    (void)r;
    json_t *flag = json_object_get(body, "admin");
    struct sto_user u = {0};
    if (!json_is_boolean(flag)) {
        con_error(out, 400, "bad_request", "\"admin\" must be true or false");
        return;
    }
    if (find_user(c, body, &u, out))
        return;
    bool admin = json_is_true(flag);
    if (!admin && u.id == who->user_id)
        con_error(out, 409, "self", "you cannot remove your own administrator rights");
    else if (sto_user_set_admin(c->db, u.id, admin) != 0)
        con_error(out, 500, "internal", "%s", sto_errmsg(c->db));
    else {
        con_audit(c, who, admin ? "user.make_admin" : "user.revoke_admin", u.name, NULL);
        con_ok(out);
    }
    sto_user_clear(&u);
}

/* One CSV field (RFC 4180 quoting) from *p, which moves past it and its comma. */
static void csv_field(const char **p, char *out, size_t cap)
{
    const char *s = *p;
    size_t o = 0;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '"') {
        for (s++; *s && !(*s == '"' && s[1] != '"'); s++) {
            if (*s == '"')
                s++;
            if (o + 1 < cap)
                out[o++] = *s;
        }
        if (*s == '"')
            s++;
        while (*s && *s != ',')
            s++;
    } else {
        while (*s && *s != ',')
            if (o + 1 < cap)
                out[o++] = *s++;
            else
                s++;
        while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t' || out[o - 1] == '\r'))
            o--;
    }
    out[o] = '\0';
    *p = *s == ',' ? s + 1 : s;
}

/* name,display_name,password[,admin]: one user a line; a first line starting
 * with "name" is a header. Each line stands alone: a bad one is reported with
 * its number and the others are still created. */
void con_users_import(struct console *c, const struct con_req *r, const struct con_admin *who,
                      json_t *body, struct con_reply *out)
{
    (void)r;
    const char *csv = json_string_value(json_object_get(body, "csv"));
    if (!csv) {
        con_error(out, 400, "bad_request", "\"csv\" is required: name,display_name,password[,admin]");
        return;
    }
    json_t *created = json_array(), *errors = json_array();
    int lineno = 0;
    for (const char *line = csv; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        lineno++;
        char buf[2048];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
        line = nl ? nl + 1 : line + len;
        const char *p = buf;
        char name[256], display[512], pw[SIG_PASSWORD_MAX_LEN + 1], admin[16];
        csv_field(&p, name, sizeof name);
        csv_field(&p, display, sizeof display);
        csv_field(&p, pw, sizeof pw);
        csv_field(&p, admin, sizeof admin);
        if (!name[0] && !pw[0])
            continue; /* blank line */
        if (lineno == 1 && strcasecmp(name, "name") == 0)
            continue;
        char err[400];
        int64_t id;
        bool is_admin = strcasecmp(admin, "yes") == 0 || strcasecmp(admin, "true") == 0 ||
                        strcmp(admin, "1") == 0 || strcasecmp(admin, "admin") == 0;
        int status = create_one(c, name, display, pw, is_admin, &id, err, sizeof err);
        memset(pw, 0, sizeof pw);
        if (status)
            json_array_append_new(errors, json_pack("{si ss ss}", "line", lineno, "name", name,
                                                    "error", err));
        else
            json_array_append_new(created, json_string(name));
    }
    con_audit(c, who, "user.import", "", "%zu created, %zu refused", json_array_size(created),
              json_array_size(errors));
    con_json(out, 200, json_pack("{sb so so}", "ok", 1, "created", created, "errors", errors));
}

/* retention: "keep" (messages and files stay, attributed to the account) or
 * "erase". Storage cannot delete accounts or erase their data yet; both
 * disable the account, and the reply says what happened. */
void con_users_delete(struct console *c, const struct con_req *r, const struct con_admin *who,
                      json_t *body, struct con_reply *out)
{
    (void)r;
    const char *retention = json_string_value(json_object_get(body, "retention"));
    if (!retention || (strcmp(retention, "keep") != 0 && strcmp(retention, "erase") != 0)) {
        con_error(out, 400, "bad_request", "\"retention\" is \"keep\" or \"erase\"");
        return;
    }
    struct sto_user u = {0};
    if (find_user(c, body, &u, out))
        return;
    if (u.id == who->user_id) {
        con_error(out, 409, "self", "you cannot delete your own account");
    } else if (sto_user_set_disabled(c->db, u.id, true) != 0) {
        con_error(out, 500, "internal", "%s", sto_errmsg(c->db));
    } else {
        con_audit(c, who, "user.delete_requested", u.name,
                  "retention=%s; disabled (storage cannot delete accounts yet)", retention);
        con_json(out, 200,
                 json_pack("{sb sb ss}", "ok", 1, "deleted", 0, "note",
                           "This version of the database cannot delete accounts: the account was "
                           "disabled and signed out everywhere, and its messages and files were "
                           "kept. Your retention choice is recorded in the audit log."));
    }
    sto_user_clear(&u);
}
