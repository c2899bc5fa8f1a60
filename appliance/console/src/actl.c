/*
 * actl.c - talking to applianced: one JSON object per line on its control
 * socket, one reply line back (appliance/src/ctl.c), and running programs
 * (applianced --check) with their output captured.
 */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

json_t *con_actl(const struct console *c, json_t *req, int timeout_ms, char *err, size_t cap)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(c->cfg->control_socket) >= sizeof sa.sun_path) {
        snprintf(err, cap, "control socket path too long");
        return NULL;
    }
    strcpy(sa.sun_path, c->cfg->control_socket);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(err, cap, "applianced is not answering on %s: %s", c->cfg->control_socket,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char *line = json_dumps(req, JSON_COMPACT);
    json_t *reply = NULL;
    size_t len = line ? strlen(line) : 0;
    if (!line || write(fd, line, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
        snprintf(err, cap, "cannot write to applianced: %s", strerror(errno));
        goto out;
    }
    char buf[1 << 16];
    size_t n = 0;
    int64_t deadline = mono_ms() + timeout_ms;
    while (n < sizeof buf - 1) {
        int64_t left = deadline - mono_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
            snprintf(err, cap, "applianced did not answer within %d s", timeout_ms / 1000);
            goto out;
        }
        ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (memchr(buf, '\n', n))
            break;
    }
    json_error_t je;
    reply = json_loadb(buf, n, JSON_DISABLE_EOF_CHECK, &je);
    if (!json_is_object(reply)) {
        json_decref(reply);
        reply = NULL;
        snprintf(err, cap, "applianced sent no reply");
    }
out:
    free(line);
    close(fd);
    return reply;
}

json_t *con_actl_cmd(const struct console *c, const char *cmd, int timeout_ms)
{
    char err[512];
    json_t *req = json_pack("{ss}", "cmd", cmd);
    json_t *r = con_actl(c, req, timeout_ms, err, sizeof err);
    json_decref(req);
    return r ? r : json_pack("{sb ss}", "ok", 0, "error", err);
}

int con_run(char *const argv[], char *out, size_t cap)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return -errno;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        snprintf(out, cap, "cannot run %s: %s", argv[0], strerror(rc));
        return -rc;
    }
    size_t n = 0;
    for (;;) {
        char tmp[1024];
        ssize_t r = read(pipefd[0], tmp, sizeof tmp);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        size_t k = (size_t)r;
        if (n + k >= cap)
            k = cap - 1 - n;
        memcpy(out + n, tmp, k);
        n += k;
    }
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = '\0';
    close(pipefd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
