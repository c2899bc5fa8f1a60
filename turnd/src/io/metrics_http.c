/*
 * metrics_http.c - GET /metrics over HTTP/1.1 for Prometheus, on a local
 * address the operator names (metrics_listen). The same text as the control
 * socket's "metrics" command (metrics.c).
 *
 * It shares the relay loop's thread, so it must never block it: sockets are
 * non-blocking, a request head is at most HTTP_REQ_MAX bytes (431 past
 * that), each connection has HTTP_DEADLINE_MS from accept to its last byte
 * sent, at most HTTP_CLIENTS_MAX connections are open (more are closed at
 * once), and every answer closes the connection, so there is no keep-alive
 * state. 404 for other paths, 405 for other methods, 400 for a malformed
 * request. After the answer the connection reads and drops what the client
 * still sends until it closes, so the kernel does not reset the answer away.
 */
#include "http_req.h"
#include "internal.h"
#include "../util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP_REQ_MAX 4096
#define HTTP_CLIENTS_MAX 8
#define HTTP_DEADLINE_MS 5000

struct http_client {
    struct tio_sock sock; /* first: epoll events and by_fd point here */
    struct http_client *prev, *next;
    uint64_t deadline_ms;
    char *out; /* the whole answer, once there is one */
    size_t out_len, out_off;
    bool draining; /* answered; dropping input until the client closes */
    size_t rlen;
    char req[HTTP_REQ_MAX];
};

struct tio_http {
    struct tio_sock listener;
    struct http_client *clients;
    unsigned n_clients;
};

static void client_close(struct tio_server *s, struct http_client *c)
{
    struct tio_http *h = s->http;
    if (c->prev)
        c->prev->next = c->next;
    else
        h->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    h->n_clients--;
    free(c->out);
    c->out = NULL;
    tio_retire(s, &c->sock); /* frees c after the batch */
}

static void set_events(struct tio_server *s, struct http_client *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = &c->sock};
    epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->sock.fd, &ev);
}

static void answer(struct http_client *c, int status, const char *reason, const char *type,
                   const char *extra, const char *body, size_t body_len, bool head_only)
{
    char hdr[512];
    int n = snprintf(hdr, sizeof(hdr),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Connection: close\r\n\r\n",
                     status, reason, type, body_len, extra);
    size_t send_body = head_only ? 0 : body_len;
    c->out = malloc((size_t)n + send_body);
    if (!c->out) return; /* closed without an answer */
    memcpy(c->out, hdr, (size_t)n);
    memcpy(c->out + n, body, send_body);
    c->out_len = (size_t)n + send_body;
}

static void error_answer(struct http_client *c, int status, const char *reason, const char *extra)
{
    char body[64];
    int n = snprintf(body, sizeof(body), "%d %s\n", status, reason);
    answer(c, status, reason, "text/plain; charset=utf-8", extra, body, (size_t)n, false);
}

static void respond(struct tio_server *s, struct http_client *c, int parsed,
                    const struct tio_http_request *r)
{
    if (parsed == TIO_HTTP_INCOMPLETE) {
        error_answer(c, 431, "Request Header Fields Too Large", "");
        return;
    }
    if (parsed == TIO_HTTP_BAD) {
        error_answer(c, 400, "Bad Request", "");
        return;
    }
    bool get = r->method_len == 3 && !memcmp(r->method, "GET", 3);
    bool head = r->method_len == 4 && !memcmp(r->method, "HEAD", 4);
    const char *q = memchr(r->target, '?', r->target_len);
    size_t path_len = q ? (size_t)(q - r->target) : r->target_len;
    if (path_len != 8 || memcmp(r->target, "/metrics", 8)) {
        error_answer(c, 404, "Not Found", "");
        return;
    }
    if (!get && !head) {
        error_answer(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
        return;
    }
    size_t len;
    tio_workers_pause(s); /* every worker's counters, read while they wait */
    char *text = tio_metrics_render(s, &len);
    tio_workers_resume(s);
    if (!text) {
        error_answer(c, 500, "Internal Server Error", "");
        return;
    }
    answer(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", "", text, len, head);
    free(text);
}

/* false when c was closed */
static bool write_out(struct tio_server *s, struct http_client *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->sock.fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            set_events(s, c, EPOLLIN | EPOLLOUT);
            return true;
        }
        if (n <= 0) {
            client_close(s, c);
            return false;
        }
        c->out_off += (size_t)n;
    }
    shutdown(c->sock.fd, SHUT_WR);
    c->draining = true;
    set_events(s, c, EPOLLIN);
    return true;
}

static void client_event(struct tio_server *s, struct http_client *c, uint32_t events)
{
    if (c->out && !c->draining) {
        if (events & EPOLLOUT) write_out(s, c);
        if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
        if (c->sock.dead) return;
    }
    for (int round = 0; round < 4; round++) {
        char drop[1024];
        bool keep = !c->out;
        char *into = keep ? c->req + c->rlen : drop;
        size_t cap = keep ? sizeof(c->req) - c->rlen : sizeof(drop);
        ssize_t n = recv(c->sock.fd, into, cap, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) { /* closed or failed: nothing more to read or to say */
            client_close(s, c);
            return;
        }
        if (!keep) continue;
        c->rlen += (size_t)n;
        struct tio_http_request r;
        int parsed = tio_http_parse(c->req, c->rlen, &r);
        if (parsed == TIO_HTTP_INCOMPLETE && c->rlen < sizeof(c->req)) continue;
        respond(s, c, parsed, &r);
        if (!c->out) {
            client_close(s, c);
            return;
        }
        if (!write_out(s, c)) return;
    }
}

static void accept_clients(struct tio_server *s)
{
    struct tio_http *h = s->http;
    for (int i = 0; i < 16; i++) {
        int fd = accept4(h->listener.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        struct http_client *c = h->n_clients < HTTP_CLIENTS_MAX ? calloc(1, sizeof(*c)) : NULL;
        if (!c) {
            close(fd); /* over the cap: the scraper retries at its next interval */
            continue;
        }
        c->sock.fd = fd;
        c->sock.kind = SOCK_HTTP;
        c->deadline_ms = tio_now_ms() + HTTP_DEADLINE_MS;
        if (tio_watch(s, &c->sock, EPOLLIN) != 0) {
            close(fd);
            free(c);
            continue;
        }
        c->next = h->clients;
        if (h->clients) h->clients->prev = c;
        h->clients = c;
        h->n_clients++;
    }
}

void tio_http_event(struct tio_server *s, struct tio_sock *sock, uint32_t events)
{
    if (sock == &s->http->listener)
        accept_clients(s);
    else
        client_event(s, (struct http_client *)sock, events);
}

void tio_http_maintain(struct tio_server *s, uint64_t now_ms)
{
    if (!s->http) return;
    struct http_client *c = s->http->clients;
    while (c) {
        struct http_client *next = c->next;
        if (now_ms >= c->deadline_ms) client_close(s, c);
        c = next;
    }
}

int tio_server_metrics_http(struct tio_server *s, const struct stun_addr *addr, char *err,
                            size_t err_cap)
{
    char name[64];
    stun_addr_format(addr, true, name, sizeof(name));
    struct sockaddr_storage ss;
    unsigned sl;
    struct tio_http *h = calloc(1, sizeof(*h));
    if (!h || tio_addr_to_sockaddr(addr, &ss, &sl) != 0) {
        free(h);
        snprintf(err, err_cap, "metrics_listen %s: bad address or out of memory", name);
        return -EINVAL;
    }
    int one = 1;
    int fd = socket(addr->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 16) != 0) {
        snprintf(err, err_cap, "cannot listen on %s/tcp (metrics): %s", name, strerror(errno));
        if (fd >= 0) close(fd);
        free(h);
        return -EADDRINUSE;
    }
    h->listener.fd = fd;
    h->listener.kind = SOCK_HTTP;
    h->listener.local = *addr;
    s->http = h;
    int rc = tio_watch(s, &h->listener, EPOLLIN);
    if (rc != 0) {
        snprintf(err, err_cap, "cannot watch %s/tcp: %s", name, strerror(-rc));
        return rc; /* tio_http_free() closes it */
    }
    lt_log(LT_LOG_INFO, "metrics", "listening", "http=%s path=/metrics", name);
    return 0;
}

void tio_http_free(struct tio_server *s)
{
    struct tio_http *h = s->http;
    if (!h) return;
    while (h->clients) {
        struct http_client *c = h->clients;
        h->clients = c->next;
        close(c->sock.fd);
        free(c->out);
        free(c);
    }
    if (h->listener.fd >= 0) close(h->listener.fd);
    free(h);
    s->http = NULL;
}
