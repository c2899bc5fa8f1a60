/*
 * update.c - the Update page: which version runs in which slot and what the
 * other slot holds (applianced's `update_status`), an uploaded bundle
 * installed into the other slot (applianced's `update`, which runs RAUC), and
 * the restart into it (`update_reboot`).
 *
 * The bundle is spooled by http.c under a name of ours; the browser's file
 * name is only shown and logged, and refused before any byte is read when it
 * could mean a path. An install takes minutes, so it runs on a thread of its
 * own whose only work is the blocking call to applianced: the loop keeps
 * answering, the page polls the state, and the result is written to the audit
 * log back on the loop's thread (the database is not shared across threads).
 */
#include "console.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

#define UPD_INSTALL_TIMEOUT_MS (60 * 60 * 1000)
#define UPD_STATUS_TIMEOUT_MS 15000

enum upd_state { UPD_IDLE, UPD_INSTALLING, UPD_INSTALLED, UPD_FAILED };

static const char *const STATE_NAMES[] = {"idle", "installing", "installed", "failed"};

struct con_upd {
    pthread_mutex_t mu;
    pthread_t thread;
    bool joinable; /* a thread ran and is not joined yet */
    bool audited;  /* its result is in the audit log */
    enum upd_state state;
    struct console *c;
    struct con_admin who;
    char name[CON_UPDATE_NAME_MAX + 2];
    char path[600];
    uint64_t bytes;
    int64_t started_at, finished_at; /* wall clock, ms */
    char message[800];
    char version[128], slot[32];
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the install thread ---- */

static void *install_thread(void *arg)
{
    struct con_upd *u = arg;
    char err[512], path[600];
    pthread_mutex_lock(&u->mu);
    snprintf(path, sizeof path, "%s", u->path);
    pthread_mutex_unlock(&u->mu);
    json_t *req = json_pack("{ss ss}", "cmd", "update", "path", path);
    json_t *rep = con_actl(u->c, req, UPD_INSTALL_TIMEOUT_MS, err, sizeof err);
    json_decref(req);
    unlink(path); /* RAUC copied what it needed into the slot */
    pthread_mutex_lock(&u->mu);
    u->finished_at = wall_ms();
    if (rep && json_is_true(json_object_get(rep, "ok"))) {
        const char *v = json_string_value(json_object_get(rep, "version"));
        const char *s = json_string_value(json_object_get(rep, "slot"));
        const char *note = json_string_value(json_object_get(rep, "note"));
        snprintf(u->version, sizeof u->version, "%s", v ? v : "");
        snprintf(u->slot, sizeof u->slot, "%s", s ? s : "");
        snprintf(u->message, sizeof u->message, "%s", note ? note : "installed");
        u->state = UPD_INSTALLED;
    } else {
        const char *e = rep ? json_string_value(json_object_get(rep, "error")) : err;
        snprintf(u->message, sizeof u->message, "%s", e ? e : "the update failed");
        u->state = UPD_FAILED;
    }
    json_decref(rep);
    /* under the lock: the server may be going away (con_update_stop_waking) */
    if (u->c->wake)
        u->c->wake(u->c->wake_ctx);
    pthread_mutex_unlock(&u->mu);
    return NULL;
}

void con_update_clear_spool(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, "update-", 7) != 0 && strncmp(e->d_name, "install-", 8) != 0)
            continue;
        char path[800];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0)
            lt_log(LT_LOG_INFO, "console", "update_spool_cleared", "file=%s", e->d_name);
    }
    if (d)
        closedir(d);
}

int con_update_init(struct console *c)
{
    struct con_upd *u = calloc(1, sizeof *u);
    if (!u)
        return -ENOMEM;
    pthread_mutex_init(&u->mu, NULL);
    u->c = c;
    c->upd = u;
    return 0;
}

void con_update_poll(struct console *c)
{
    struct con_upd *u = c->upd;
    if (!u)
        return;
    pthread_mutex_lock(&u->mu);
    bool done = (u->state == UPD_INSTALLED || u->state == UPD_FAILED) && !u->audited;
    u->audited |= done;
    pthread_mutex_unlock(&u->mu);
    if (!done)
        return;
    /* the thread has set its result and is returning: after the join the
     * state is ours alone until the next upload, which only this thread starts */
    if (u->joinable) {
        pthread_join(u->thread, NULL);
        u->joinable = false;
    }
    if (u->state == UPD_INSTALLED)
        con_audit(c, &u->who, "update.install", u->name, "installed version %s into slot %s",
                  u->version[0] ? u->version : "?", u->slot[0] ? u->slot : "?");
    else
        con_audit(c, &u->who, "update.install", u->name, "refused: %s", u->message);
    lt_log(LT_LOG_INFO, "console", "update_done", "state=%s", STATE_NAMES[u->state]);
}

void con_update_stop_waking(struct console *c)
{
    if (c->upd)
        pthread_mutex_lock(&c->upd->mu);
    c->wake = NULL;
    if (c->upd)
        pthread_mutex_unlock(&c->upd->mu);
}

void con_update_free(struct console *c)
{
    struct con_upd *u = c->upd;
    if (!u)
        return;
    pthread_mutex_lock(&u->mu);
    bool running = u->state == UPD_INSTALLING;
    pthread_mutex_unlock(&u->mu);
    if (running) /* RAUC finishes by itself; the thread dies with us */
        return;
    if (u->joinable)
        pthread_join(u->thread, NULL);
    pthread_mutex_destroy(&u->mu);
    free(u);
    c->upd = NULL;
}

/* ---- handlers ---- */

static json_t *install_json(struct con_upd *u)
{
    pthread_mutex_lock(&u->mu);
    json_t *o = json_pack("{ss}", "state", STATE_NAMES[u->state]);
    if (u->state != UPD_IDLE) {
        int64_t end = u->state == UPD_INSTALLING ? wall_ms() : u->finished_at;
        json_object_set_new(o, "name", json_string(u->name));
        json_object_set_new(o, "bytes", json_integer((json_int_t)u->bytes));
        json_object_set_new(o, "by", json_string(u->who.name));
        json_object_set_new(o, "started_at", json_integer(u->started_at));
        json_object_set_new(o, "elapsed_ms", json_integer(end - u->started_at));
    }
    if (u->state == UPD_INSTALLED || u->state == UPD_FAILED)
        json_object_set_new(o, "message", json_string(u->message));
    if (u->state == UPD_INSTALLED) {
        json_object_set_new(o, "version", json_string(u->version));
        json_object_set_new(o, "slot", json_string(u->slot));
    }
    pthread_mutex_unlock(&u->mu);
    return o;
}

static bool installing(struct con_upd *u)
{
    pthread_mutex_lock(&u->mu);
    bool busy = u->state == UPD_INSTALLING;
    pthread_mutex_unlock(&u->mu);
    return busy;
}

/* applianced's update_status, or {"ok":false,"error"} in its words. */
static json_t *ask_status(struct console *c)
{
    return con_actl_cmd(c, "update_status", UPD_STATUS_TIMEOUT_MS);
}

void con_update_status(struct console *c, const struct con_req *r, const struct con_admin *who,
                       json_t *body, struct con_reply *out)
{
    (void)r;
    (void)who;
    (void)body;
    con_update_poll(c);
    json_t *res = json_pack("{sb sI}", "ok", 1, "max_bytes", (json_int_t)CON_UPDATE_MAX);
    json_object_set_new(res, "install", install_json(c->upd));
    /* RAUC is busy writing the slot: its status can wait */
    json_t *st = installing(c->upd) ? NULL : ask_status(c);
    if (st && json_is_true(json_object_get(st, "ok"))) {
        json_object_set_new(res, "available", json_true());
        for (const char *const *k = (const char *const[]){"running", "other", "next_boot",
                                                          "compatible", NULL};
             *k; k++)
            if (json_object_get(st, *k))
                json_object_set(res, *k, json_object_get(st, *k));
        const char *slot = json_string_value(json_object_get(json_object_get(st, "running"), "slot"));
        const char *next = json_string_value(json_object_get(st, "next_boot"));
        json_object_set_new(res, "restart_pending",
                            json_boolean(slot && next && strcmp(slot, next) != 0));
    } else {
        /* No RAUC here (a developer's machine, a test stage), or it is busy:
         * say so, and still name the version that runs. */
        const char *e = st ? json_string_value(json_object_get(st, "error")) : NULL;
        json_object_set_new(res, "available", json_boolean(st == NULL));
        if (st)
            json_object_set_new(res, "reason", json_string(e ? e : "no answer from applianced"));
        json_t *s = con_actl_cmd(c, "status", 5000);
        const char *v = json_string_value(json_object_get(s, "version"));
        json_object_set_new(res, "running", json_pack("{ss}", "version", v ? v : LANTURN_VERSION));
        json_decref(s);
    }
    json_decref(st);
    con_json(out, 200, res);
}

bool con_update_precheck(struct console *c, const struct con_req *r, const struct con_admin *who,
                         struct con_reply *out)
{
    char name[CON_UPDATE_NAME_MAX + 2];
    const char *why;
    const char *given = con_query(r, "name", name, sizeof name);
    if (con_update_name_check(given, &why) != 0) {
        con_error(out, 400, "bad_name", "%s", why);
        con_audit(c, who, "update.upload", "", "refused: %s (name \"%.80s\")", why,
                  given ? given : "");
        return true;
    }
    if (installing(c->upd)) {
        con_error(out, 409, "busy", "an update is being installed; wait for it to finish");
        return true;
    }
    return false;
}

/* Reads the first 4 and last 8 bytes of the spooled file. */
static int read_ends(const char *path, uint8_t head[4], uint8_t tail[8], uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int rc = -EIO;
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) == 0) {
        *size = (uint64_t)st.st_size;
        memset(head, 0, 4);
        memset(tail, 0, 8);
        rc = st.st_size < 12 || (pread(fd, head, 4, 0) == 4 &&
                                 pread(fd, tail, 8, st.st_size - 8) == 8)
                 ? 0
                 : -EIO;
    }
    close(fd);
    return rc;
}

void con_update_upload(struct console *c, const struct con_req *r, const struct con_admin *who,
                       json_t *body, struct con_reply *out)
{
    (void)body;
    char name[CON_UPDATE_NAME_MAX + 2];
    const char *why;
    if (!r->upload || con_update_precheck(c, r, who, out))
        goto refused;
    con_query(r, "name", name, sizeof name);
    uint8_t head[4], tail[8];
    uint64_t size = 0;
    if (read_ends(r->upload, head, tail, &size) != 0) {
        con_error(out, 500, "internal", "cannot read the uploaded file back");
        return;
    }
    if (con_update_bundle_check(head, tail, size, &why) != 0) {
        con_error(out, 422, "not_a_bundle", "%s", why);
        con_audit(c, who, "update.upload", name, "refused: %s", why);
        return;
    }
    /* Say plainly when this system cannot install anything at all. */
    json_t *st = ask_status(c);
    const char *e = json_string_value(json_object_get(st, "error"));
    if (!json_is_true(json_object_get(st, "ok")) && e && strstr(e, "not available")) {
        con_error(out, 503, "unavailable", "updates cannot be installed here: %s", e);
        con_audit(c, who, "update.upload", name, "refused: %s", e);
        json_decref(st);
        return;
    }
    json_decref(st);
    struct con_upd *u = c->upd;
    char path[600];
    snprintf(path, sizeof path, "%s/install-XXXXXX.raucb", c->spool_dir);
    int fd = mkostemps(path, 6, O_CLOEXEC);
    /* the spooled file becomes ours: http.c removes only its own name */
    if (fd < 0 || rename(r->upload, path) != 0) {
        con_error(out, 500, "internal", "cannot keep the upload: %s", strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        return;
    }
    close(fd);
    pthread_mutex_lock(&u->mu);
    u->state = UPD_INSTALLING;
    u->audited = false;
    u->who = *who;
    snprintf(u->name, sizeof u->name, "%s", name);
    snprintf(u->path, sizeof u->path, "%s", path);
    u->bytes = size;
    u->started_at = wall_ms();
    u->message[0] = u->version[0] = u->slot[0] = '\0';
    pthread_mutex_unlock(&u->mu);
    con_audit(c, who, "update.upload", name, "%llu bytes; installing", (unsigned long long)size);
    int rc = pthread_create(&u->thread, NULL, install_thread, u);
    if (rc != 0) {
        unlink(path);
        pthread_mutex_lock(&u->mu);
        u->state = UPD_FAILED;
        u->audited = true;
        pthread_mutex_unlock(&u->mu);
        con_error(out, 500, "internal", "cannot start the install: %s", strerror(rc));
        return;
    }
    u->joinable = true;
    lt_log(LT_LOG_INFO, "console", "update_start", "bytes=%llu", (unsigned long long)size);
    con_json(out, 202, json_pack("{sb so}", "ok", 1, "install", install_json(u)));
    return;
refused:
    if (!out->status)
        con_error(out, 400, "bad_request", "upload the bundle as the request body");
}

void con_update_restart(struct console *c, const struct con_req *r, const struct con_admin *who,
                        json_t *body, struct con_reply *out)
{
    (void)r;
    (void)body;
    if (installing(c->upd)) {
        con_error(out, 409, "busy", "an update is being installed; restart when it has finished");
        return;
    }
    json_t *rep = con_actl_cmd(c, "update_reboot", 15000);
    bool ok = json_is_true(json_object_get(rep, "ok"));
    const char *e = json_string_value(json_object_get(rep, "error"));
    if (!e)
        e = "the restart was refused";
    con_audit(c, who, "update.restart", "", "%s%s", ok ? "restarting into the new version" : "refused: ",
              ok ? "" : e);
    if (ok)
        con_json(out, 200, json_pack("{sb ss}", "ok", 1, "note",
                                     "The appliance is restarting. This page reconnects when it "
                                     "is back."));
    else
        con_error(out, 409, "restart", "%s", e);
    json_decref(rep);
}
