/*
 * listen.c - signald's listening sockets and its descriptor budget.
 *
 * libwebsockets' own listener retries a failing accept() at once: out of
 * descriptors (EMFILE) it spins a core and logs every try. So signald
 * listens itself. The listening sockets are adopted into libwebsockets' loop
 * as raw descriptors (which works on both its loops, libev and poll()); each
 * accepted TCP socket is handed to its vhost as if lws had accepted it.
 *  - At start the descriptor limit is raised to the hard limit and split:
 *    a reserve for the database, log files, file transfers and mediad that
 *    connections never take, and within the rest, room for HTTPS logins that
 *    WebSockets never take (sig_server_ws_cap()).
 *  - A connection whose descriptor falls in the reserve is closed at once.
 *    The kernel hands out the lowest free descriptor, so an accepted one at
 *    or past accept_cap means every one below it is taken.
 *  - When accept() fails for want of descriptors, the listener stops being
 *    polled for LISTEN_BACKOFF_MS instead of waking the loop again at once.
 * Refusals and failures are logged at most once a second, with counts.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../cfg.h"
#include "util/log.h"

#define LISTEN_BACKOFF_MS 250
#define ACCEPT_BATCH 32        /* per wakeup, so one busy listener cannot starve the loop */
#define FD_LIMIT_MAX (1 << 20) /* lws sizes its tables by the limit (and distrusts > 10^7) */
#define LOG_PERIOD_MS 1000

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void listen_fd_budget(struct sig_server *s)
{
    struct rlimit rl;
    int limit = 1024, was = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        was = rl.rlim_cur > INT_MAX ? INT_MAX : (int)rl.rlim_cur;
        limit = rl.rlim_cur > FD_LIMIT_MAX ? FD_LIMIT_MAX : (int)rl.rlim_cur;
        /* The hard limit, within what lws sizes its tables by sensibly (a
         * soft limit above that is lowered to it, for the same reason). */
        rlim_t want = rl.rlim_max > FD_LIMIT_MAX ? FD_LIMIT_MAX : rl.rlim_max;
        if (want != rl.rlim_cur) {
            rl.rlim_cur = want;
            if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
                limit = (int)want;
            else
                lt_log(LT_LOG_WARN, "signal", "fd_limit_raise_failed", "limit=%d err=\"%s\"",
                       (int)want, strerror(errno));
        }
    }
    s->fd_limit = limit;
    s->fd_limit_was = was;
    s->accept_cap = limit - clamp(limit / 32, 8, 256);
}

/* After every listener and the database are open: what is taken now is what
 * signald holds whatever its load, so WebSockets get what is left below
 * accept_cap less the room kept for logins, or max_connections if fewer. */
void listen_ws_cap(struct sig_server *s)
{
    int lowest_free = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (lowest_free >= 0)
        close(lowest_free);
    else
        lowest_free = 0;
    int login_room = clamp(s->fd_limit / 16, 8, 1024);
    int cap = s->accept_cap - login_room - lowest_free;
    s->ws_cap = cap > 1 ? (unsigned)cap : 1;
    unsigned configured = s->cfg->hub.max_connections;
    if (configured && configured < s->ws_cap) s->ws_cap = configured;
    lt_log(LT_LOG_INFO, "signal", "fd_limit",
           "nofile=%d was=%d in_use=%d accept_cap=%d max_connections=%u ws_cap=%u", s->fd_limit,
           s->fd_limit_was, lowest_free, s->accept_cap, configured, s->ws_cap);
}

static void on_resume(lws_sorted_usec_list_t *sul)
{
    struct net_listener *l = lws_container_of(sul, struct net_listener, resume);
    lws_rx_flow_control(l->wsi, 1);
}

static void back_off(struct net_listener *l, int err)
{
    /* Applied when the RX callback returns: the loop stops polling it. */
    lws_rx_flow_control(l->wsi, 0);
    lws_sul_schedule(l->s->ctx, 0, &l->resume, on_resume, LISTEN_BACKOFF_MS * LWS_US_PER_MS);
    l->failures++;
    unsigned long long quiet;
    if (lt_log_limit_pass(&l->fail_log, net_now_ms(), LOG_PERIOD_MS, &quiet))
        lt_log(LT_LOG_WARN, "signal", "accept_paused",
               "listener=%s err=\"%s\" backoff_ms=%d fd_limit=%d failures=%llu unlogged=%llu",
               l->name, strerror(err), LISTEN_BACKOFF_MS, l->s->fd_limit, l->failures, quiet);
}

static void adopt(struct net_listener *l, int fd)
{
    if (fd >= l->s->accept_cap) {
        close(fd);
        l->refused++;
        unsigned long long quiet;
        if (lt_log_limit_pass(&l->refuse_log, net_now_ms(), LOG_PERIOD_MS, &quiet))
            lt_log(LT_LOG_WARN, "signal", "conn_refused",
                   "reason=descriptors listener=%s fd_limit=%d accept_cap=%d refused=%llu "
                   "unlogged=%llu",
                   l->name, l->s->fd_limit, l->s->accept_cap, l->refused, quiet);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* small frames go at once */
    lws_adopt_socket_vhost(l->vh, fd); /* on failure lws closed fd and said why */
}

void listen_rx(struct lws *wsi)
{
    struct net_listener *l = lws_get_opaque_user_data(wsi);
    if (!l) return;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept4(lws_get_socket_fd(wsi), NULL, NULL,
                         SOCK_CLOEXEC | (l->on_accept ? 0 : SOCK_NONBLOCK));
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                back_off(l, errno);
            return; /* EAGAIN: drained; anything else was the peer's and is gone */
        }
        if (l->on_accept)
            l->on_accept(l->s, fd);
        else
            adopt(l, fd);
    }
}

int listen_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    (void)user;
    (void)in;
    (void)len;
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        listen_rx(wsi);
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_HTTP:
        return -1; /* never a WebSocket or HTTP connection, whatever a client asks for */
    default:
        return 0;
    }
}

int listen_adopt(struct net_listener *l, struct sig_server *s, struct lws_vhost *vh, int fd,
                 const char *protocol, const char *name)
{
    l->s = s;
    l->name = name;
    l->vh = vh;
    lws_adopt_desc_t d = {.vh = vh,
                          .type = LWS_ADOPT_RAW_FILE_DESC,
                          .fd.filefd = fd,
                          .vh_prot_name = protocol,
                          .opaque = l};
    l->wsi = lws_adopt_descriptor_vhost_via_info(&d);
    if (!l->wsi) {
        close(fd); /* lws closes only what it adopts as a socket */
        return -EIO;
    }
    return 0;
}

int listen_tcp(struct net_listener *l, struct sig_server *s, struct lws_vhost *vh,
               const struct sig_listen *where, const char *name)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, where->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)where->port);
        sl = sizeof *v4;
    } else if (inet_pton(AF_INET6, where->host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)where->port);
        sl = sizeof *v6;
    } else {
        return -EINVAL;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, SOMAXCONN) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return listen_adopt(l, s, vh, fd, SIG_LISTEN_PROTOCOL, name);
}
