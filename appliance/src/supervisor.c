/*
 * supervisor.c - the services' life cycle (see supervisor.h).
 *
 * A crash restarts the service: at once if it had run for APP_STABLE_MS,
 * otherwise after a back-off that doubles from 0.5 s to 30 s, so a service
 * that cannot start (bad certificate, port taken) does not spin. Stopping is
 * SIGTERM, then SIGKILL after APP_STOP_GRACE_MS.
 */
#include "supervisor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

void app_sup_init(struct app_sup *s, const struct app_sup_env *env)
{
    memset(s, 0, sizeof *s);
    s->env = env;
}

struct app_service *app_sup_add(struct app_sup *s, const char *name, char *const argv[])
{
    if (s->n == APP_SVC_MAX)
        return NULL;
    struct app_service *v = &s->svc[s->n++];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    for (int i = 0; argv[i] && i < APP_SVC_ARGV_MAX; i++)
        v->argv[i] = argv[i];
    v->last_status = -1;
    return v;
}

struct app_service *app_sup_find(struct app_sup *s, const char *name)
{
    for (unsigned i = 0; i < s->n; i++)
        if (strcmp(s->svc[i].name, name) == 0)
            return &s->svc[i];
    return NULL;
}

const char *app_svc_state_name(enum app_svc_state st)
{
    static const char *names[] = {"stopped", "running", "backoff", "stopping"};
    return names[st];
}

static void spawn(struct app_sup *s, struct app_service *v, int64_t now)
{
    pid_t pid;
    int err = s->env->spawn(s->env->ctx, v, &pid);
    if (err) { /* could not even fork/exec: treat as a quick crash */
        v->quick_failures++;
        v->state = APP_SVC_BACKOFF;
        unsigned shift = v->quick_failures > 7 ? 7 : v->quick_failures - 1;
        int64_t delay = (int64_t)APP_BACKOFF_FIRST_MS << shift;
        v->next_start_at = now + (delay > APP_BACKOFF_MAX_MS ? APP_BACKOFF_MAX_MS : delay);
        s->env->event(s->env->ctx, v, "spawn_failed", err);
        return;
    }
    if (v->ever_started)
        v->restarts++;
    v->ever_started = true;
    v->pid = pid;
    v->state = APP_SVC_RUNNING;
    v->started_at = now;
    s->env->event(s->env->ctx, v, "started", 0);
}

int app_sup_start(struct app_sup *s, const char *name, int64_t now)
{
    struct app_service *v = app_sup_find(s, name);
    if (!v)
        return -ENOENT;
    if (s->shutting_down)
        return -ESHUTDOWN;
    v->wanted = true;
    v->quick_failures = 0;
    if (v->state == APP_SVC_STOPPED || v->state == APP_SVC_BACKOFF)
        spawn(s, v, now);
    else if (v->state == APP_SVC_STOPPING)
        v->restart_after_stop = true;
    return 0;
}

static void stop(struct app_sup *s, struct app_service *v, int64_t now)
{
    v->wanted = false;
    v->restart_after_stop = false;
    if (v->state == APP_SVC_BACKOFF)
        v->state = APP_SVC_STOPPED;
    if (v->state != APP_SVC_RUNNING)
        return;
    s->env->signal(s->env->ctx, v->pid, SIGTERM);
    v->state = APP_SVC_STOPPING;
    v->stop_deadline = now + APP_STOP_GRACE_MS;
}

int app_sup_stop(struct app_sup *s, const char *name, int64_t now)
{
    struct app_service *v = app_sup_find(s, name);
    if (!v)
        return -ENOENT;
    stop(s, v, now);
    return 0;
}

int app_sup_restart(struct app_sup *s, const char *name, int64_t now)
{
    struct app_service *v = app_sup_find(s, name);
    if (!v)
        return -ENOENT;
    if (s->shutting_down)
        return -ESHUTDOWN;
    if (v->state != APP_SVC_RUNNING && v->state != APP_SVC_STOPPING)
        return app_sup_start(s, name, now);
    stop(s, v, now);
    v->wanted = true;
    v->restart_after_stop = true;
    v->quick_failures = 0;
    return 0;
}

void app_sup_start_all(struct app_sup *s, int64_t now)
{
    for (unsigned i = 0; i < s->n; i++)
        app_sup_start(s, s->svc[i].name, now);
}

void app_sup_shutdown(struct app_sup *s, int64_t now)
{
    s->shutting_down = true;
    for (unsigned i = 0; i < s->n; i++)
        stop(s, &s->svc[i], now);
}

bool app_sup_idle(const struct app_sup *s)
{
    for (unsigned i = 0; i < s->n; i++)
        if (s->svc[i].state == APP_SVC_RUNNING || s->svc[i].state == APP_SVC_STOPPING)
            return false;
    return true;
}

void app_sup_exited(struct app_sup *s, pid_t pid, int status, int64_t now)
{
    for (unsigned i = 0; i < s->n; i++) {
        struct app_service *v = &s->svc[i];
        if (v->pid != pid || (v->state != APP_SVC_RUNNING && v->state != APP_SVC_STOPPING))
            continue;
        bool expected = v->state == APP_SVC_STOPPING;
        v->pid = 0;
        v->last_status = status;
        s->env->event(s->env->ctx, v, expected ? "stopped" : "exited", status);
        if (expected && v->restart_after_stop && !s->shutting_down) {
            v->restart_after_stop = false;
            v->state = APP_SVC_STOPPED;
            spawn(s, v, now);
        } else if (expected || !v->wanted || s->shutting_down) {
            v->state = APP_SVC_STOPPED;
        } else {
            bool stable = now - v->started_at >= APP_STABLE_MS;
            v->quick_failures = stable ? 0 : v->quick_failures + 1;
            v->state = APP_SVC_BACKOFF;
            if (v->quick_failures == 0) {
                v->next_start_at = now;
            } else {
                unsigned shift = v->quick_failures > 7 ? 7 : v->quick_failures - 1;
                int64_t delay = (int64_t)APP_BACKOFF_FIRST_MS << shift;
                v->next_start_at = now + (delay > APP_BACKOFF_MAX_MS ? APP_BACKOFF_MAX_MS : delay);
            }
            if (v->next_start_at <= now)
                spawn(s, v, now);
        }
        return;
    }
}

void app_sup_tick(struct app_sup *s, int64_t now)
{
    for (unsigned i = 0; i < s->n; i++) {
        struct app_service *v = &s->svc[i];
        if (v->state == APP_SVC_BACKOFF && v->wanted && !s->shutting_down &&
            v->next_start_at <= now)
            spawn(s, v, now);
        else if (v->state == APP_SVC_STOPPING && v->stop_deadline <= now) {
            s->env->signal(s->env->ctx, v->pid, SIGKILL);
            v->stop_deadline = now + APP_STOP_GRACE_MS; /* and wait for the exit */
            s->env->event(s->env->ctx, v, "killed", SIGKILL);
        }
    }
}

int64_t app_sup_next_deadline(const struct app_sup *s)
{
    int64_t t = INT64_MAX;
    for (unsigned i = 0; i < s->n; i++) {
        const struct app_service *v = &s->svc[i];
        if (v->state == APP_SVC_BACKOFF && v->wanted && v->next_start_at < t)
            t = v->next_start_at;
        if (v->state == APP_SVC_STOPPING && v->stop_deadline < t)
            t = v->stop_deadline;
    }
    return t;
}
