/*
 * job.h - backup and restore in a child process (prefix app_job_). Copying a
 * large database takes minutes; inside applianced's loop that would leave a
 * crashed service down and every other request waiting. The child does the
 * work (backup.h) and writes its reply to a pipe; the loop reads it, restarts
 * signald after a restore, and answers the client that asked. One job at a
 * time: another backup or restore meanwhile is refused.
 */
#ifndef APP_JOB_H
#define APP_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct appliance;

/* Longest backup file name and working directory accepted. */
#define APP_BACKUP_PATH_MAX 1024

struct app_job {
    pid_t pid;                     /* the child; 0: none, or reaped */
    int reply_fd;                  /* read end of the child's reply pipe; -1: none */
    int client_fd;                 /* the connection waiting for the reply; -1: none */
    bool restore;                  /* else a backup */
    bool cancelled;                /* applianced is stopping: the child was killed */
    char dir[APP_BACKUP_PATH_MAX]; /* the child's working directory */
    char *reply;                   /* what the child wrote so far */
    size_t len;
    int64_t started_at; /* monotonic ms */
};

/* The epoll tag of the reply pipe. */
#define APP_TAG_JOB 900

void app_job_init(struct app_job *j);
/* true for the commands run as a job: "backup" and "restore". */
bool app_job_handles(const char *cmd);
/* true while a child runs or its reply is not yet passed on. */
bool app_job_busy(const struct app_job *j);

/* Starts the request in a child and takes client_fd: it is answered and
 * closed when the child is done, or at once when the request is refused. */
void app_job_start(struct appliance *a, json_t *req, int client_fd, int64_t now);
/* The reply pipe is readable: at its end, the client is answered. */
void app_job_readable(struct appliance *a, int64_t now);
/* From waitpid: true if pid was the job's child. */
bool app_job_reaped(struct appliance *a, pid_t pid, int status);
/* applianced is stopping: kill the child and everything it started (a
 * restore's transaction rolls back; a backup file is left incomplete and the
 * client told so). */
void app_job_cancel(struct appliance *a);

/* Writes a reply as one JSON line to fd and frees it. */
void app_reply(int fd, json_t *reply);

#endif
