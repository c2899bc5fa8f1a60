/*
 * control.c - turnd's control socket: a unix stream socket where an
 * operator (or applianced) writes one JSON object per line and reads one
 * JSON object per line back. Commands:
 *
 *   {"cmd":"stats"}                  -> {"ok":true,"stats":{"allocations":N,...}}
 *   {"cmd":"metrics"}                -> {"ok":true,"metrics":"<Prometheus text>"}
 *   {"cmd":"sessions"}               -> {"ok":true,"sessions":[{"id":"7","user":...},...]}
 *   {"cmd":"kill","id":"7"}          -> {"ok":true,"killed":1}
 *   {"cmd":"kill","user":"alice"}    -> {"ok":true,"killed":N}
 *   {"cmd":"reload"}                 -> {"ok":true} or {"ok":false,"error":"file:line: ..."}
 *
 * Everything runs in the event loop's thread between batches, like a
 * signal: the core is never touched from elsewhere. Answers are written
 * with a short send timeout, so a client that stops reading costs the loop
 * at most that long once, and is then dropped.
 */
#include "internal.h"
#include "../util/log.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CONTROL_LINE_MAX 4096
#define CONTROL_CLIENTS_MAX 16

struct control_client {
    struct tio_sock sock; /* first: epoll events and by_fd point here */
    size_t len;
    char buf[CONTROL_LINE_MAX];
};

static json_t *stats_json(const struct tio_server *s)
{
    struct turn_stats st;
    uint64_t send_errors, msgs[TIO_TRANSPORTS], bytes[TIO_TRANSPORTS];
    tio_workers_totals(s, &st, &send_errors, msgs, bytes);
    json_t *o = json_object();
    for (size_t i = 0; i < tio_n_stats; i++)
        json_object_set_new(o, tio_stats[i].name, json_integer((json_int_t)tio_stat_value(&st, i)));
    json_object_set_new(o, "connections", json_integer(s->n_conns));
    struct tio_dtls_stats d;
    tio_dtls_stats(s, &d);
    json_object_set_new(o, "dtls_sessions", json_integer((json_int_t)d.sessions));
    json_object_set_new(o, "connections_total", json_integer((json_int_t)s->conns_total));
    json_object_set_new(o, "send_errors", json_integer((json_int_t)send_errors));
    struct tio_server *const *list;
    uint64_t handoffs = 0;
    for (unsigned i = 0, n = tio_workers_list(s, &list); i < n; i++)
        handoffs += list[i]->handoffs;
    json_object_set_new(o, "worker_handoffs", json_integer((json_int_t)handoffs));
    return o;
}

static json_t *metrics_text(const struct tio_server *s)
{
    size_t len;
    char *text = tio_metrics_render(s, &len);
    if (!text)
        return NULL;
    json_t *j = json_stringn(text, len);
    free(text);
    return j;
}

struct session_walk {
    const struct tio_server *s;
    json_t *list;
};

static json_t *addr_json(const struct stun_addr *a, bool with_port)
{
    char text[64];
    stun_addr_format(a, with_port, text, sizeof(text));
    return json_string(text);
}

static void add_session(void *arg, const struct turn_session *t)
{
    struct session_walk *w = arg;
    char id[24];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)t->id);
    json_t *peers = json_array();
    for (unsigned i = 0; i < t->n_peers; i++)
        json_array_append_new(peers, addr_json(&t->peers[i], false));
    json_t *relays = json_pack("[o]", addr_json(&t->relay, true));
    if (t->relay2.family)
        json_array_append_new(relays, addr_json(&t->relay2, true));
    json_array_append_new(
        w->list,
        json_pack("{ss ss so ss so so so sI sI sI sI sI si}", "id", id, "user", t->user, "client",
                  addr_json(&t->client, true), "transport", tio_session_transport(w->s, t), "relay",
                  addr_json(&t->relay, true), "relays", relays, "peers", peers,
                  "client_to_peer_bytes",
                  (json_int_t)t->to_peer_bytes, "client_to_peer_packets",
                  (json_int_t)t->to_peer_packets, "peer_to_client_bytes",
                  (json_int_t)t->to_client_bytes, "peer_to_client_packets",
                  (json_int_t)t->to_client_packets, "age_s", (json_int_t)(t->age_ms / 1000),
                  "worker", (int)w->s->worker));
}

static json_t *error_reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *error_reply(const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return json_pack("{sb ss}", "ok", 0, "error", msg);
}

static json_t *do_kill(struct tio_server *s, json_t *req)
{
    json_t *id = json_object_get(req, "id");
    const char *user = json_string_value(json_object_get(req, "user"));
    unsigned long long n = 0;
    if (json_is_integer(id) && json_integer_value(id) > 0) {
        n = (unsigned long long)json_integer_value(id);
    } else if (json_is_string(id)) {
        char *end;
        n = strtoull(json_string_value(id), &end, 10);
        if (*end || n == 0)
            return error_reply("no such session id '%s'", json_string_value(id));
    } else if (!user || !*user) {
        return error_reply("%s", "kill needs \"id\" or \"user\"");
    }
    struct tio_server *const *list;
    unsigned killed = 0;
    for (unsigned w = 0, nw = tio_workers_list(s, &list); w < nw; w++)
        killed += turn_core_kill(list[w]->core, n, n ? NULL : user);
    lt_log(LT_LOG_INFO, "control", "kill", "id=%llu killed=%u", n, killed);
    return json_pack("{sb si}", "ok", 1, "killed", killed);
}

/* Every command sees all workers: they are held for its length (worker.c). */
static json_t *handle(struct tio_server *s, const char *line)
{
    json_error_t je;
    json_t *req = json_loads(line, 0, &je);
    json_t *reply;
    const char *cmd = json_string_value(json_object_get(req, "cmd"));
    if (!req || !cmd) {
        reply = error_reply("%s", "expected a JSON object with \"cmd\"");
    } else if (!strcmp(cmd, "stats")) {
        reply = json_pack("{sb so}", "ok", 1, "stats", stats_json(s));
    } else if (!strcmp(cmd, "metrics")) {
        json_t *text = metrics_text(s);
        reply = text ? json_pack("{sb so}", "ok", 1, "metrics", text)
                     : error_reply("%s", "out of memory");
    } else if (!strcmp(cmd, "sessions")) {
        struct session_walk w = {s, json_array()};
        struct tio_server *const *list;
        int rc = 0;
        for (unsigned i = 0, nw = tio_workers_list(s, &list); rc == 0 && i < nw; i++) {
            w.s = list[i]; /* its handles are its own sockets */
            rc = turn_core_sessions(list[i]->core, tio_now_ms(), add_session, &w);
        }
        if (rc != 0) {
            json_decref(w.list);
            reply = error_reply("%s", "out of memory");
        } else {
            reply = json_pack("{sb so}", "ok", 1, "sessions", w.list);
        }
    } else if (!strcmp(cmd, "kill")) {
        reply = do_kill(s, req);
    } else if (!strcmp(cmd, "reload")) {
        char err[512] = "";
        int rc = s->reload ? s->reload(s->reload_arg, err, sizeof(err)) : -ENOTSUP;
        reply = rc == 0 ? json_pack("{sb}", "ok", 1)
                        : error_reply("%s", err[0] ? err : "reload is not available");
    } else {
        reply = error_reply("unknown command '%s'", cmd);
    }
    json_decref(req);
    return reply;
}

static bool write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

static void client_read(struct tio_server *s, struct control_client *c)
{
    for (;;) {
        ssize_t n = recv(c->sock.fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0)
            break; /* closed or failed */
        c->len += (size_t)n;
        char *nl;
        while ((nl = memchr(c->buf, '\n', c->len))) {
            *nl = '\0';
            tio_workers_pause(s);
            json_t *reply = handle(s, c->buf);
            tio_workers_resume(s);
            char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
            json_decref(reply);
            bool ok = text && write_all(c->sock.fd, text, strlen(text)) &&
                      write_all(c->sock.fd, "\n", 1);
            free(text);
            if (!ok)
                goto close;
            c->len -= (size_t)(nl + 1 - c->buf);
            memmove(c->buf, nl + 1, c->len);
        }
        if (c->len == sizeof(c->buf) - 1) {
            write_all(c->sock.fd, "{\"ok\":false,\"error\":\"line too long\"}\n", 37);
            break;
        }
    }
close:
    s->n_control--;
    tio_retire(s, &c->sock);
}

static void accept_client(struct tio_server *s)
{
    int fd = accept4(s->control.fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    struct control_client *c = s->n_control < CONTROL_CLIENTS_MAX ? calloc(1, sizeof(*c)) : NULL;
    struct timeval tv = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (!c) {
        close(fd);
        return;
    }
    c->sock.fd = fd;
    c->sock.kind = SOCK_CONTROL;
    if (tio_watch(s, &c->sock, EPOLLIN) != 0) {
        close(fd);
        free(c);
        return;
    }
    s->n_control++;
}

void tio_control_event(struct tio_server *s, struct tio_sock *sock)
{
    if (sock == &s->control)
        accept_client(s);
    else
        client_read(s, (struct control_client *)sock);
}

/* A socket file someone still listens on belongs to another turnd: leave it. */
static bool in_use(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool used = fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
    if (fd >= 0)
        close(fd);
    return used;
}

int tio_server_control(struct tio_server *s, const char *path, unsigned mode)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    const char *why = NULL;
    int fd = -1;
    if (!path || !*path)
        return 0;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        why = "path too long";
        goto fail;
    }
    strcpy(sa.sun_path, path);
    if (in_use(&sa)) {
        why = "another process is listening there";
        goto fail;
    }
    unlink(path); /* a stale file from a turnd that did not stop cleanly */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, mode) != 0 ||
        listen(fd, 16) != 0) {
        why = strerror(errno);
        goto fail;
    }
    s->control.fd = fd;
    s->control.kind = SOCK_CONTROL;
    if (tio_watch(s, &s->control, EPOLLIN) != 0) {
        why = "cannot watch it";
        goto fail;
    }
    free(s->control_path);
    s->control_path = strdup(path);
    lt_log(LT_LOG_INFO, "control", "listening", "socket=%s", path);
    return 0;
fail:
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    s->control.fd = -1;
    lt_log(LT_LOG_WARN, "control", "unavailable", "socket=%s error=\"%s\"", path, why);
    return -EIO;
}

void tio_control_close(struct tio_server *s)
{
    for (unsigned fd = 0; s->n_control && s->by_fd && fd < s->max_fd; fd++) {
        struct tio_sock *sock = s->by_fd[fd];
        if (sock && sock->kind == SOCK_CONTROL && sock != &s->control) {
            close(sock->fd);
            s->by_fd[fd] = NULL;
            free(sock);
            s->n_control--;
        }
    }
    if (s->control.fd < 0)
        return;
    close(s->control.fd);
    s->control.fd = -1;
    if (s->control_path)
        unlink(s->control_path);
    free(s->control_path);
    s->control_path = NULL;
}
