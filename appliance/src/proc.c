/*
 * proc.c - running programs: the services (spawned, their output passed
 * through to applianced's stderr so journald keeps one stream) and short
 * helper commands whose output is captured.
 */
#include "appliance.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int app_run(char *const argv[], char *out, size_t cap)
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
    size_t n = 0;
    if (rc == 0) {
        ssize_t r;
        char buf[512];
        while ((r = read(pipefd[0], buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR)) {
            if (r <= 0)
                continue;
            size_t take = (size_t)r < cap - 1 - n ? (size_t)r : cap - 1 - n;
            memcpy(out + n, buf, take);
            n += take;
        }
    }
    close(pipefd[0]);
    out[n] = '\0';
    while (n > 0 && out[n - 1] == '\n')
        out[--n] = '\0';
    if (rc != 0) {
        snprintf(out, cap, "cannot run %s: %s", argv[0], strerror(rc));
        return -rc;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int app_validate_config(const struct appliance *a, char *err, size_t cap)
{
    const char *bins[4] = {a->cfg.turnd_bin, a->cfg.signald_bin};
    int n = 2;
    if (a->cfg.console)
        bins[n++] = a->cfg.console_bin;
    if (a->cfg.media)
        bins[n++] = a->cfg.mediad_bin;
    for (int i = 0; i < n; i++) {
        char *argv[] = {(char *)bins[i], "--config", a->cfg.config_path, "--print-config", NULL};
        char out[8192];
        int rc = app_run(argv, out, sizeof out);
        if (rc != 0) {
            /* the service's own message is its first line ("turnd: file:line: ...") */
            out[strcspn(out, "\n")] = '\0';
            snprintf(err, cap, "%s", out);
            return -EINVAL;
        }
    }
    return 0;
}

int app_ask(const char *socket_path, json_t *req, json_t **reply)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    *reply = NULL;
    if (!socket_path || strlen(socket_path) >= sizeof sa.sun_path)
        return -EINVAL;
    strcpy(sa.sun_path, socket_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    char *text = json_dumps(req, JSON_COMPACT);
    size_t len = text ? strlen(text) : 0;
    int rc = -ENOMEM;
    if (text) {
        text[len] = '\n';
        rc = write(fd, text, len + 1) == (ssize_t)(len + 1) ? 0 : -EIO;
        free(text);
    }
    if (rc == 0) {
        FILE *f = fdopen(fd, "r");
        json_error_t je;
        *reply = f ? json_loadf(f, JSON_DISABLE_EOF_CHECK, &je) : NULL;
        if (f)
            fclose(f);
        else
            close(fd);
        return *reply ? 0 : -EPROTO;
    }
    close(fd);
    return rc;
}
