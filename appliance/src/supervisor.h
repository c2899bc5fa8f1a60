/*
 * supervisor.h - which services should run and what to do when one exits
 * (prefix app_sup_), sans-I/O: the caller spawns, signals and reaps through
 * struct app_sup_env and passes the time in. applianced drives it with real
 * processes; tests drive it with a fake env and chosen times.
 */
#ifndef APP_SUPERVISOR_H
#define APP_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define APP_SVC_MAX 8
#define APP_SVC_ARGV_MAX 16
#define APP_STOP_GRACE_MS 10000   /* SIGTERM, then SIGKILL after this */
#define APP_STABLE_MS 10000       /* ran this long: the next crash restarts at once */
#define APP_BACKOFF_FIRST_MS 500  /* after a quick crash, doubling ... */
#define APP_BACKOFF_MAX_MS 30000  /* ... up to this */

enum app_svc_state {
    APP_SVC_STOPPED,  /* not running, not wanted */
    APP_SVC_RUNNING,
    APP_SVC_BACKOFF,  /* crashed; will start again at next_start_at */
    APP_SVC_STOPPING, /* SIGTERM sent, waiting for it to exit */
};

struct app_service {
    char name[16];
    char *argv[APP_SVC_ARGV_MAX + 1]; /* owned by the caller */
    enum app_svc_state state;
    bool wanted;
    bool restart_after_stop; /* a restart: start again once it has exited */
    bool ever_started;
    pid_t pid;
    int64_t started_at, next_start_at, stop_deadline;
    unsigned restarts;       /* starts after the first, since applianced started */
    unsigned quick_failures; /* crashes in a row that came before APP_STABLE_MS */
    int last_status;         /* waitpid status of the last exit; -1: none yet */
};

struct app_sup_env {
    void *ctx;
    /* Start the service; 0 and *pid, or a negative errno. */
    int (*spawn)(void *ctx, const struct app_service *svc, pid_t *pid);
    void (*signal)(void *ctx, pid_t pid, int sig);
    /* Told about every start, exit and give-up, for the log. */
    void (*event)(void *ctx, const struct app_service *svc, const char *what, int status);
};

struct app_sup {
    struct app_service svc[APP_SVC_MAX];
    unsigned n;
    const struct app_sup_env *env;
    bool shutting_down;
};

void app_sup_init(struct app_sup *s, const struct app_sup_env *env);
/* Adds a service (not started). NULL when full. */
struct app_service *app_sup_add(struct app_sup *s, const char *name, char *const argv[]);
struct app_service *app_sup_find(struct app_sup *s, const char *name);

/* Requests, effective at once or at the next tick. -ENOENT unknown name. */
int app_sup_start(struct app_sup *s, const char *name, int64_t now);
int app_sup_stop(struct app_sup *s, const char *name, int64_t now);
int app_sup_restart(struct app_sup *s, const char *name, int64_t now);
void app_sup_start_all(struct app_sup *s, int64_t now);
/* Stop everything and start nothing again. */
void app_sup_shutdown(struct app_sup *s, int64_t now);
/* true once every service has exited after app_sup_shutdown. */
bool app_sup_idle(const struct app_sup *s);

/* A child exited (from waitpid); unknown pids are ignored. */
void app_sup_exited(struct app_sup *s, pid_t pid, int status, int64_t now);
/* Start services whose backoff ended, SIGKILL those past their grace. */
void app_sup_tick(struct app_sup *s, int64_t now);
int64_t app_sup_next_deadline(const struct app_sup *s); /* INT64_MAX: none */

const char *app_svc_state_name(enum app_svc_state st);

#endif
