/*
 * main.c - applianced: validate the one config file, provision what a first
 * start needs, start turnd and signald, keep them running, answer the control
 * socket, and stop everything on SIGTERM. One thread, one epoll loop.
 */
#include "appliance.h"
#include "provision.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

#define CTL_LINE_MAX 65536

extern char **environ;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void to_stderr(const char *line, size_t len)
{
    ssize_t w = write(2, line, len);
    (void)w;
}

/* The service's stdout and stderr go through a pipe to applianced, which
 * keeps the recent lines (appliancectl logs, the console) and passes them on
 * to its own stderr, so journald still gets one stream. */
static int spawn_service(void *ctx, const struct app_service *svc, pid_t *pid)
{
    struct appliance *a = ctx;
    int idx = (int)(svc - a->sup.svc);
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return -errno;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&at, &none); /* applianced blocks signals for signalfd */
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&at, 0); /* Ctrl-C goes to applianced, which stops them in order */
    int rc = posix_spawn(pid, svc->argv[0], &fa, &at, svc->argv, environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        return -rc;
    }
    if (a->out_fd[idx] >= 0) { /* the previous run's pipe: drained at its EOF already */
        epoll_ctl(a->epfd, EPOLL_CTL_DEL, a->out_fd[idx], NULL);
        close(a->out_fd[idx]);
    }
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    a->out_fd[idx] = pipefd[0];
    a->streams[idx].len = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = APP_TAG_OUTPUT + (uint64_t)idx};
    epoll_ctl(a->epfd, EPOLL_CTL_ADD, pipefd[0], &ev);
    return 0;
}

static void read_output(struct appliance *a, int idx)
{
    char buf[4096];
    for (;;) {
        ssize_t n = read(a->out_fd[idx], buf, sizeof buf);
        if (n > 0) {
            app_logbuf_feed(&a->logs, &a->streams[idx], a->sup.svc[idx].name, buf, (size_t)n,
                            wall_ms(), to_stderr);
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) { /* the service closed it */
            epoll_ctl(a->epfd, EPOLL_CTL_DEL, a->out_fd[idx], NULL);
            close(a->out_fd[idx]);
            a->out_fd[idx] = -1;
        }
        return;
    }
}

static void signal_service(void *ctx, pid_t pid, int sig)
{
    (void)ctx;
    if (pid > 0)
        kill(pid, sig);
}

static void service_event(void *ctx, const struct app_service *svc, const char *what, int status)
{
    struct appliance *a = ctx;
    char line[200];
    enum lt_log_level level = LT_LOG_INFO;
    if (strcmp(what, "exited") == 0 || strcmp(what, "stopped") == 0) {
        level = strcmp(what, "exited") == 0 ? LT_LOG_WARN : LT_LOG_INFO;
        if (WIFSIGNALED(status))
            snprintf(line, sizeof line, "service=%s signal=%d", svc->name, WTERMSIG(status));
        else
            snprintf(line, sizeof line, "service=%s status=%d", svc->name, WEXITSTATUS(status));
    } else {
        level = strcmp(what, "started") == 0 ? LT_LOG_INFO : LT_LOG_ERROR;
        snprintf(line, sizeof line, "service=%s pid=%d restarts=%u", svc->name, (int)svc->pid,
                 svc->restarts);
    }
    lt_log(level, "appliance", what, "%s", line);
    char rec[300];
    int n = snprintf(rec, sizeof rec, "level=%s module=appliance event=%s %s\n",
                     lt_log_level_name(level), what, line);
    struct app_log_stream s = {0};
    app_logbuf_feed(&a->logs, &s, "applianced", rec, (size_t)n, wall_ms(), NULL);
}


static void usage(FILE *out)
{
    fputs("Usage: applianced [--config FILE] [--log-timestamps]\n"
          "Supervises lanturn's services: validates the config file's groups, creates what a\n"
          "first start needs (TURN secret, self-signed certificate, first administrator),\n"
          "starts turnd and signald, restarts a crashed one with back-off, answers\n"
          "appliancectl on its control socket, and stops everything on SIGTERM.\n"
          "  -c, --config FILE     default /etc/lanturn/lanturn.conf\n"
          "      --check           validate and provision, then exit (0 valid)\n"
          "      --log-timestamps  prefix log lines with the time\n"
          "  -h, --help, -V, --version\n",
          out);
}

static int listen_control(const char *path, char *err, size_t cap)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, cap, "control socket path too long: %s", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    char dir[sizeof sa.sun_path];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        mkdir(dir, 0750);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    unlink(path); /* a stale socket from a previous run */
    mode_t old = umask(0117); /* owner and group: the admin group may use appliancectl */
    int rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc != 0 || listen(fd, 16) != 0) {
        snprintf(err, cap, "cannot listen on %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* One request per connection: read a line, answer, close. Requests are small
 * and local, so a blocking read with a short timeout keeps this simple. */
static void serve_client(struct appliance *a, int lfd)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char *buf = malloc(CTL_LINE_MAX);
    size_t n = 0;
    while (buf && n < CTL_LINE_MAX - 1) {
        ssize_t r = read(fd, buf + n, CTL_LINE_MAX - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        if (memchr(buf, '\n', n))
            break;
    }
    json_t *reply;
    json_error_t je;
    json_t *req = buf ? json_loadb(buf, n, JSON_DISABLE_EOF_CHECK, &je) : NULL;
    free(buf);
    const char *cmd = json_string_value(json_object_get(req, "cmd"));
    if (json_is_object(req) && app_job_handles(cmd)) { /* answered when its child is done */
        app_job_start(a, req, fd, now_ms());
        json_decref(req);
        return;
    }
    /* Installing an update takes minutes: a child answers it, so the
     * services stay supervised and other requests answered meanwhile. */
    bool in_child = false;
    if (cmd && strcmp(cmd, "update") == 0) {
        pid_t pid = a->update_pid ? 0 : fork();
        if (pid > 0) {
            a->update_pid = pid;
            json_decref(req);
            close(fd);
            return;
        }
        in_child = pid == 0 && !a->update_pid;
        if (in_child && a->job.client_fd >= 0) /* its client sees the end when the job answers */
            close(a->job.client_fd);
    }
    if (!json_is_object(req))
        reply = json_pack("{sb ss}", "ok", 0, "error", "a request is one JSON object on one line");
    else if (cmd && strcmp(cmd, "update") == 0 && !in_child)
        reply = json_pack("{sb ss}", "ok", 0, "error",
                          a->update_pid ? "another update is being installed"
                                        : "cannot start the update: fork failed");
    else
        reply = app_ctl_handle(a, req, now_ms());
    json_decref(req);
    app_reply(fd, reply);
    close(fd);
    if (in_child)
        _exit(0);
}

static int provision(struct appliance *a)
{
    char err[1024], pw[64] = "";
    bool made;
    if (app_prov_secret(a->cfg.turn_secret_file, &made, err, sizeof err) != 0) {
        fprintf(stderr, "applianced: %s\n", err);
        return -1;
    }
    if (made)
        lt_log(LT_LOG_INFO, "appliance", "provisioned", "what=turn_secret path=%s",
               a->cfg.turn_secret_file);
    if (app_prov_certificate(a->cfg.tls_cert, a->cfg.tls_key, a->cfg.hostname, &made, err,
                             sizeof err) != 0) {
        fprintf(stderr, "applianced: %s\n", err);
        return -1;
    }
    if (made)
        lt_log(LT_LOG_INFO, "appliance", "provisioned", "what=certificate path=%s host=%s",
               a->cfg.tls_cert, a->cfg.hostname);
    if (app_prov_admin(a->cfg.signal_data_dir, a->cfg.admin_password_file, a->cfg.state_dir, &made,
                       pw, err, sizeof err) != 0) {
        fprintf(stderr, "applianced: %s\n", err);
        return -1;
    }
    if (made)
        lt_log(LT_LOG_INFO, "appliance", "provisioned",
               "what=first_admin name=admin password_file=%s/%s", a->cfg.state_dir,
               APP_INITIAL_PASSWORD_FILE);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'k'},
        {"log-timestamps", no_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {0},
    };
    const char *config = "/etc/lanturn/lanturn.conf";
    bool check = false;
    int c;
    while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'k': check = true; break;
        case 't': lt_log_set_timestamps(true); break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("applianced (lanturn) %s\n", LANTURN_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    static struct appliance a;
    char err[1024];
    if (app_config_load(&a.cfg, config, err, sizeof err) != 0) {
        fprintf(stderr, "applianced: %s\n", err);
        return 2;
    }
    if (provision(&a) != 0)
        return 1;
    if (app_validate_config(&a, err, sizeof err) != 0) {
        fprintf(stderr, "applianced: the configuration is invalid: %s\n", err);
        app_config_release(&a.cfg);
        return 2;
    }
    if (check) {
        printf("configuration valid: %s\n", config);
        app_config_release(&a.cfg);
        return 0;
    }

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    int lfd = listen_control(a.cfg.control_socket, err, sizeof err);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (sfd < 0 || lfd < 0 || ep < 0) {
        fprintf(stderr, "applianced: %s\n", lfd < 0 ? err : strerror(errno));
        return 1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)sfd};
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
    ev.data.u64 = (uint64_t)lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);

    char *turnd_argv[] = {a.cfg.turnd_bin, "--config", a.cfg.config_path, NULL};
    char *signald_argv[] = {a.cfg.signald_bin, "--config", a.cfg.config_path, NULL};
    static struct app_sup_env sup_env = {
        .spawn = spawn_service, .signal = signal_service, .event = service_event};
    sup_env.ctx = &a;
    a.epfd = ep;
    app_job_init(&a.job);
    for (int i = 0; i < APP_SVC_MAX; i++)
        a.out_fd[i] = -1;
    if (app_logbuf_init(&a.logs) != 0) {
        fprintf(stderr, "applianced: out of memory\n");
        return 1;
    }
    app_sup_init(&a.sup, &sup_env);
    app_sup_add(&a.sup, "turnd", turnd_argv);
    app_sup_add(&a.sup, "signald", signald_argv);
    char *console_argv[] = {a.cfg.console_bin, "--config", a.cfg.config_path, NULL};
    if (a.cfg.console) /* only when the config file asks for it */
        app_sup_add(&a.sup, "console", console_argv);
    char *mediad_argv[] = {a.cfg.mediad_bin, "--config", a.cfg.config_path, NULL};
    if (a.cfg.media)
        app_sup_add(&a.sup, "mediad", mediad_argv);
    a.started_at = now_ms();
    lt_log(LT_LOG_INFO, "appliance", "start", "version=%s config=%s control=%s", LANTURN_VERSION,
           config, a.cfg.control_socket);
    app_sup_start_all(&a.sup, now_ms());

    for (;;) {
        int64_t now = now_ms(), next = app_sup_next_deadline(&a.sup);
        int timeout = next == INT64_MAX ? 1000 : next <= now ? 0 : (int)(next - now);
        struct epoll_event evs[8];
        int n = epoll_wait(ep, evs, 8, timeout);
        now = now_ms();
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 == APP_TAG_JOB) {
                app_job_readable(&a, now);
                continue;
            }
            if (evs[i].data.u64 >= APP_TAG_OUTPUT) {
                read_output(&a, (int)(evs[i].data.u64 - APP_TAG_OUTPUT));
                continue;
            }
            if (evs[i].data.u64 == (uint64_t)lfd) {
                serve_client(&a, lfd);
                continue;
            }
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                    if (!a.sup.shutting_down)
                        lt_log(LT_LOG_INFO, "appliance", "stopping", "signal=%d", si.ssi_signo);
                    app_sup_shutdown(&a.sup, now);
                    app_job_cancel(&a);
                } else if (si.ssi_signo == SIGHUP) {
                    json_t *req = json_pack("{ss}", "cmd", "reload");
                    json_t *r = app_ctl_handle(&a, req, now);
                    lt_log(LT_LOG_INFO, "appliance", "reload", "ok=%s",
                           json_is_true(json_object_get(r, "ok")) ? "yes" : "no");
                    json_decref(req);
                    json_decref(r);
                }
            }
            int status;
            pid_t pid;
            while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                if (pid == a.update_pid)
                    a.update_pid = 0;
                if (app_job_reaped(&a, pid, status))
                    continue;
                app_sup_exited(&a.sup, pid, status, now);
            }
        }
        app_sup_tick(&a.sup, now);
        if (a.sup.shutting_down && app_sup_idle(&a.sup) && !app_job_busy(&a.job))
            break;
    }
    lt_log(LT_LOG_INFO, "appliance", "stopped", "uptime_s=%" PRId64, (now_ms() - a.started_at) / 1000);
    for (unsigned i = 0; i < a.sup.n; i++) /* the last words of stopped services */
        if (a.out_fd[i] >= 0)
            read_output(&a, (int)i);
    close(lfd);
    unlink(a.cfg.control_socket);
    app_logbuf_free(&a.logs);
    app_config_release(&a.cfg);
    return 0;
}
