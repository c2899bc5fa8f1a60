/*
 * job.c - backup and restore in a child process, so that applianced's loop
 * goes on supervising and answering while the data is copied (job.h).
 */
#include "job.h"
#include "appliance.h"
#include "backup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/log.h"

#define REPLY_MAX (1 << 20) /* a reply is a few hundred bytes; more is a broken child */

void app_reply(int fd, json_t *reply)
{
    char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
    json_decref(reply);
    if (!text)
        return;
    size_t len = strlen(text), off = 0;
    text[len++] = '\n'; /* over the terminating NUL: the text is not used as a string again */
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    free(text);
}

void app_job_init(struct app_job *j)
{
    memset(j, 0, sizeof *j);
    j->reply_fd = -1;
    j->client_fd = -1;
}

bool app_job_handles(const char *cmd)
{
    return cmd && (strcmp(cmd, "backup") == 0 || strcmp(cmd, "restore") == 0);
}

bool app_job_busy(const struct app_job *j)
{
    return j->pid > 0 || j->reply_fd >= 0;
}

static const char *what(const struct app_job *j)
{
    return j->restore ? "restore" : "backup";
}

/* The child: do the work, report, leave without running the parent's exit handlers. */
static void run_child(const struct appliance *a, bool restore, const char *path, const char *dir,
                      int reply_fd)
{
    setpgid(0, 0); /* its own group, which cancel kills with the tar or cp it runs */
    json_t *r = restore ? app_backup_restore(a, path, dir) : app_backup_write(a, path, dir);
    app_remove_tree(dir);
    app_reply(reply_fd, r);
    _exit(0);
}

void app_job_start(struct appliance *a, json_t *req, int client_fd, int64_t now)
{
    struct app_job *j = &a->job;
    const char *cmd = json_string_value(json_object_get(req, "cmd"));
    bool restore = strcmp(cmd, "restore") == 0;
    const char *path = json_string_value(json_object_get(req, "path"));
    int p[2] = {-1, -1};
    json_t *refusal = NULL;
    char dir[APP_BACKUP_PATH_MAX];
    int rc;
    if (!path || path[0] != '/')
        refusal = app_error("\"path\" must be an absolute file name");
    else if (strlen(path) >= APP_BACKUP_PATH_MAX)
        refusal = app_error("\"path\" is longer than %d bytes", APP_BACKUP_PATH_MAX - 1);
    else if (a->sup.shutting_down)
        refusal = app_error("applianced is stopping");
    else if (app_job_busy(j))
        refusal = app_error("a %s is running; try again when it has finished", what(j));
    else if ((rc = app_backup_temp_dir(dir, sizeof dir)) != 0)
        refusal = app_error("cannot make a temporary directory: %s", strerror(-rc));
    else if (pipe2(p, O_CLOEXEC) != 0) {
        refusal = app_error("cannot start the %s: %s", cmd, strerror(errno));
        rmdir(dir);
    }
    pid_t pid = refusal ? -1 : fork();
    if (pid == 0) {
        close(p[0]);
        close(client_fd);
        run_child(a, restore, path, dir, p[1]);
    }
    if (!refusal && pid < 0) {
        refusal = app_error("cannot start the %s: %s", cmd, strerror(errno));
        close(p[0]);
        close(p[1]);
        rmdir(dir);
    }
    if (refusal) {
        app_reply(client_fd, refusal);
        close(client_fd);
        return;
    }
    setpgid(pid, pid); /* as the child does, so that cancel can never miss it */
    close(p[1]);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = APP_TAG_JOB};
    epoll_ctl(a->epfd, EPOLL_CTL_ADD, p[0], &ev);
    j->pid = pid;
    j->reply_fd = p[0];
    j->client_fd = client_fd;
    j->restore = restore;
    j->cancelled = false;
    snprintf(j->dir, sizeof j->dir, "%s", dir);
    j->len = 0;
    j->started_at = now;
    lt_log(LT_LOG_INFO, "appliance", restore ? "restore_start" : "backup_start", "path=%s pid=%d",
           path, (int)pid);
}

/* The child has written all it will: answer the client. */
static void finish(struct appliance *a, int64_t now)
{
    struct app_job *j = &a->job;
    epoll_ctl(a->epfd, EPOLL_CTL_DEL, j->reply_fd, NULL);
    close(j->reply_fd);
    j->reply_fd = -1;
    json_error_t je;
    json_t *r = j->len ? json_loadb(j->reply, j->len, JSON_DISABLE_EOF_CHECK, &je) : NULL;
    if (!json_is_object(r)) {
        json_decref(r);
        r = app_error("the %s stopped before it finished%s", what(j),
                      j->cancelled ? ": applianced is stopping" : "");
    }
    bool ok = json_is_true(json_object_get(r, "ok"));
    /* signald keeps per-connection state from the old data: restart it */
    struct app_service *sig = app_sup_find(&a->sup, "signald");
    if (ok && j->restore && sig && sig->wanted)
        app_sup_restart(&a->sup, "signald", now);
    app_reply(j->client_fd, r);
    close(j->client_fd);
    j->client_fd = -1;
    free(j->reply);
    j->reply = NULL;
    j->len = 0;
    if (access(j->dir, F_OK) == 0) /* the child did not get to clean up */
        app_remove_tree(j->dir);
    lt_log(ok ? LT_LOG_INFO : LT_LOG_WARN, "appliance", j->restore ? "restore_done" : "backup_done",
           "ok=%s ms=%lld", ok ? "yes" : "no", (long long)(now - j->started_at));
}

void app_job_readable(struct appliance *a, int64_t now)
{
    struct app_job *j = &a->job;
    if (j->reply_fd < 0)
        return;
    for (;;) {
        char buf[4096];
        ssize_t n = read(j->reply_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0 || j->len + (size_t)n > REPLY_MAX) {
            finish(a, now);
            return;
        }
        char *grown = realloc(j->reply, j->len + (size_t)n);
        if (!grown) {
            finish(a, now);
            return;
        }
        memcpy(grown + j->len, buf, (size_t)n);
        j->reply = grown;
        j->len += (size_t)n;
    }
}

bool app_job_reaped(struct appliance *a, pid_t pid, int status)
{
    struct app_job *j = &a->job;
    if (j->pid <= 0 || pid != j->pid)
        return false;
    j->pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        lt_log(LT_LOG_WARN, "appliance", "job_exited", "job=%s status=%d signal=%d", what(j),
               WIFEXITED(status) ? WEXITSTATUS(status) : -1,
               WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return true;
}

void app_job_cancel(struct appliance *a)
{
    struct app_job *j = &a->job;
    if (j->pid <= 0 || j->cancelled)
        return;
    j->cancelled = true;
    kill(-j->pid, SIGKILL);
    lt_log(LT_LOG_INFO, "appliance", "job_cancelled", "job=%s pid=%d", what(j), (int)j->pid);
}
