/*
 * appliance.h - applianced's state shared by its files (prefix app_): the
 * config, the supervisor, and the commands the control socket accepts.
 */
#ifndef APP_APPLIANCE_H
#define APP_APPLIANCE_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "acfg.h"
#include "job.h"
#include "logbuf.h"
#include "supervisor.h"

struct appliance {
    struct app_config cfg;
    struct app_sup sup;
    int64_t started_at; /* monotonic ms */
    int epfd;           /* the main loop's, for the services' output pipes */
    struct app_logbuf logs;
    struct app_log_stream streams[APP_SVC_MAX];
    int out_fd[APP_SVC_MAX]; /* read end of each service's stdout+stderr; -1: none */
    pid_t update_pid;        /* the child answering an "update" request; 0: none */
    struct app_job job;      /* a backup or restore running in a child */
};

/* The epoll tag of a service's output pipe: APP_TAG_OUTPUT + index. */
#define APP_TAG_OUTPUT 1000

/* Runs `SERVICE --config FILE --print-config` for turnd and signald: 0, or
 * -EINVAL with the service's own message (file:line) in err. */
int app_validate_config(const struct appliance *a, char *err, size_t cap);

/* Handles one control request; returns the reply object (never NULL unless
 * out of memory). docs/applianced.md lists the commands; backup and restore
 * are not among these: they run in a child (job.h). */
json_t *app_ctl_handle(struct appliance *a, json_t *req, int64_t now);

/* The reply {"ok": false, "error": MESSAGE} (at most 600 bytes). */
json_t *app_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a program and waits for it: its exit status (0..255), or a negative
 * errno. Its standard output and error (at most cap-1 bytes) go to out. */
int app_run(char *const argv[], char *out, size_t cap);

/* stats.c: the dashboard's figures, requests passed to a service, metrics. */
json_t *app_stats(struct appliance *a);
json_t *app_forward(struct appliance *a, const char *service, json_t *req, const char *cmd);
json_t *app_metrics(struct appliance *a);

/* One request to a service's control socket (a JSON line each way, 2 s at
 * most): 0 and *reply, or a negative errno. */
int app_ask(const char *socket_path, json_t *req, json_t **reply);

#endif
