/*
 * ctl.c - the control socket's commands: status, start/stop/restart, config
 * check and reload, users, logs, stats; backup and restore run in a child
 * (job.c). One JSON object per line in, one per line out: {"ok": true, ...}
 * or {"ok": false, "error": "..."}.
 */
#include "appliance.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth/password.h"
#include "lanturn/storage.h"
#include "update.h"
#include "util/log.h"

json_t *app_error(const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return json_pack("{sb ss}", "ok", 0, "error", msg);
}

static json_t *ok(void)
{
    return json_pack("{sb}", "ok", 1);
}

static json_t *status(struct appliance *a, int64_t now)
{
    json_t *list = json_array();
    for (unsigned i = 0; i < a->sup.n; i++) {
        const struct app_service *v = &a->sup.svc[i];
        json_t *s = json_pack("{ss ss sI sI}", "name", v->name, "state",
                              app_svc_state_name(v->state), "pid", (json_int_t)v->pid, "restarts",
                              (json_int_t)v->restarts);
        if (v->state == APP_SVC_RUNNING)
            json_object_set_new(s, "uptime_s", json_integer((now - v->started_at) / 1000));
        if (v->last_status >= 0) {
            char last[48];
            if (WIFSIGNALED(v->last_status))
                snprintf(last, sizeof last, "killed by signal %d", WTERMSIG(v->last_status));
            else
                snprintf(last, sizeof last, "exit %d", WEXITSTATUS(v->last_status));
            json_object_set_new(s, "last_exit", json_string(last));
        }
        json_array_append_new(list, s);
    }
    return json_pack("{sb ss sI ss so}", "ok", 1, "version", LANTURN_VERSION, "uptime_s",
                     (json_int_t)((now - a->started_at) / 1000), "config", a->cfg.config_path,
                     "services", list);
}

static json_t *service_cmd(struct appliance *a, const char *cmd, json_t *req, int64_t now)
{
    const char *name = json_string_value(json_object_get(req, "service"));
    if (!name)
        return app_error("\"service\" is required (turnd, signald or console)");
    if (strcmp(cmd, "stop") != 0) {
        char err[1024];
        if (app_validate_config(a, err, sizeof err) != 0)
            return app_error("not started: the configuration is invalid: %s", err);
    }
    int rc = strcmp(cmd, "start") == 0   ? app_sup_start(&a->sup, name, now)
             : strcmp(cmd, "stop") == 0  ? app_sup_stop(&a->sup, name, now)
                                         : app_sup_restart(&a->sup, name, now);
    if (rc == -ENOENT)
        return app_error("no service '%s' (turnd, signald or console)", name);
    if (rc)
        return app_error("%s %s: %s", cmd, name, strerror(-rc));
    lt_log(LT_LOG_INFO, "appliance", "service_cmd", "cmd=%s service=%s", cmd, name);
    return ok();
}

/* ---- users, on the database directly ---- */

static struct sto_db *open_db(struct appliance *a, char *err, size_t cap)
{
    struct sto_db *db = NULL;
    if (sto_open(a->cfg.signal_data_dir, &db, err, cap) != 0)
        return NULL;
    return db;
}

static json_t *users_list(struct appliance *a)
{
    char err[STO_ERR_MAX];
    struct sto_db *db = open_db(a, err, sizeof err);
    if (!db)
        return app_error("%s", err);
    json_t *list = json_array();
    int64_t after = 0;
    for (;;) {
        struct sto_user *u = NULL;
        size_t n = 0;
        if (sto_user_list(db, after, 500, &u, &n) != 0)
            break;
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(list, json_pack("{sI ss ss sb sb}", "id", (json_int_t)u[i].id,
                                                  "name", u[i].name, "display_name",
                                                  u[i].display_name, "is_admin", u[i].is_admin,
                                                  "disabled", u[i].disabled));
            after = u[i].id;
        }
        sto_users_free(u, n);
        if (n < 500)
            break;
    }
    sto_close(db);
    return json_pack("{sb so}", "ok", 1, "users", list);
}

static json_t *users_add(struct appliance *a, json_t *req)
{
    const char *name = json_string_value(json_object_get(req, "name"));
    const char *pw = json_string_value(json_object_get(req, "password"));
    const char *display = json_string_value(json_object_get(req, "display_name"));
    bool admin = json_is_true(json_object_get(req, "admin"));
    const char *why;
    if (!name || !pw)
        return app_error("\"name\" and \"password\" are required");
    if (sig_password_acceptable(pw, &why) != 0)
        return app_error("%s", why);
    struct sig_kdf kdf;
    sig_kdf_defaults(&kdf);
    struct sig_password_hash h;
    if (sig_password_hash(pw, &kdf, &h) != 0)
        return app_error("could not hash the password");
    char err[STO_ERR_MAX];
    struct sto_db *db = open_db(a, err, sizeof err);
    if (!db)
        return app_error("%s", err);
    struct sto_password sp = {h.hash, sizeof h.hash, h.salt, sizeof h.salt, h.params};
    int64_t id;
    int rc = sto_user_create(db, name, display ? display : name, admin, &sp, &id);
    json_t *r = rc == -EEXIST ? app_error("user '%s' already exists", name)
                : rc          ? app_error("cannot add '%s': %s", name, sto_errmsg(db))
                              : json_pack("{sb sI}", "ok", 1, "id", (json_int_t)id);
    if (!rc)
        sto_audit_append(db, 0, "user.create", name, "appliancectl");
    sto_close(db);
    return r;
}

static json_t *users_set_disabled(struct appliance *a, json_t *req, bool disabled)
{
    const char *name = json_string_value(json_object_get(req, "name"));
    if (!name)
        return app_error("\"name\" is required");
    char err[STO_ERR_MAX];
    struct sto_db *db = open_db(a, err, sizeof err);
    if (!db)
        return app_error("%s", err);
    struct sto_user u = {0};
    int rc = sto_user_by_name(db, name, &u);
    if (rc == 0)
        rc = sto_user_set_disabled(db, u.id, disabled);
    json_t *r = rc == -ENOENT ? app_error("no user '%s'", name)
                : rc          ? app_error("%s", sto_errmsg(db))
                              : ok();
    if (!rc)
        sto_audit_append(db, 0, disabled ? "user.disable" : "user.enable", name, "appliancectl");
    if (!rc && disabled) { /* end the user's open connections now, not at signald's next check */
        json_t *kill = json_pack("{ss sI}", "cmd", "kill", "user", (json_int_t)u.id), *ignored = NULL;
        app_ask(a->cfg.signal_control, kill, &ignored);
        json_decref(kill);
        json_decref(ignored);
    }
    sto_user_clear(&u);
    sto_close(db);
    return r;
}

static void add_line(void *ctx, const struct app_log_line *l)
{
    json_array_append_new(ctx, json_pack("{sI ss ss}", "at", (json_int_t)l->at, "service",
                                         l->service, "text", l->text));
}

/* The recent lines of the services (and applianced's own events). */
static json_t *logs(struct appliance *a, json_t *req)
{
    const char *service = json_string_value(json_object_get(req, "service"));
    const char *level = json_string_value(json_object_get(req, "level"));
    const char *contains = json_string_value(json_object_get(req, "contains"));
    json_t *lim = json_object_get(req, "limit");
    json_int_t limit = lim ? json_integer_value(lim) : 200;
    if (limit < 1 || limit > APP_LOG_LINES)
        return app_error("\"limit\" must be 1..%d", APP_LOG_LINES);
    json_t *lines = json_array();
    app_logbuf_query(&a->logs, service && *service ? service : NULL,
                     level && *level ? level : NULL, contains && *contains ? contains : NULL,
                     (size_t)limit, add_line, lines);
    return json_pack("{sb so}", "ok", 1, "lines", lines);
}

json_t *app_ctl_handle(struct appliance *a, json_t *req, int64_t now)
{
    const char *cmd = json_string_value(json_object_get(req, "cmd"));
    if (!cmd)
        return app_error("\"cmd\" is required");
    if (strcmp(cmd, "status") == 0)
        return status(a, now);
    if (strcmp(cmd, "start") == 0 || strcmp(cmd, "stop") == 0 || strcmp(cmd, "restart") == 0)
        return service_cmd(a, cmd, req, now);
    if (strcmp(cmd, "config_check") == 0 || strcmp(cmd, "reload") == 0) {
        char err[1024];
        if (app_validate_config(a, err, sizeof err) != 0)
            return app_error("%s", err);
        if (strcmp(cmd, "reload") == 0) {
            /* turnd re-reads what it can on SIGHUP; signald's settings apply at restart */
            struct app_service *t = app_sup_find(&a->sup, "turnd");
            if (t && t->state == APP_SVC_RUNNING)
                kill(t->pid, SIGHUP);
            return json_pack("{sb ss}", "ok", 1, "note",
                             "configuration valid; turnd was asked to reload; restart signald to "
                             "apply its changes");
        }
        return ok();
    }
    if (strcmp(cmd, "users_list") == 0)
        return users_list(a);
    if (strcmp(cmd, "users_add") == 0)
        return users_add(a, req);
    if (strcmp(cmd, "users_disable") == 0 || strcmp(cmd, "users_enable") == 0)
        return users_set_disabled(a, req, strcmp(cmd, "users_disable") == 0);
    if (strcmp(cmd, "logs") == 0)
        return logs(a, req);
    if (strcmp(cmd, "stats") == 0)
        return app_stats(a);
    if (strcmp(cmd, "metrics") == 0)
        return app_metrics(a);
    /* signald_sessions, signald_kill, turnd_sessions, turnd_kill: passed on */
    if (strncmp(cmd, "signald_", 8) == 0)
        return app_forward(a, "signald", req, cmd + 8);
    if (strncmp(cmd, "turnd_", 6) == 0)
        return app_forward(a, "turnd", req, cmd + 6);
    if (strcmp(cmd, "update") == 0 || strcmp(cmd, "update_status") == 0 ||
        strcmp(cmd, "update_reboot") == 0)
        return app_upd_handle(cmd, req);
    return app_error("unknown command '%.40s'", cmd);
}
