/*
 * server.c - the libwebsockets context, its two vhosts (HTTPS on `listen`,
 * WebSocket on `ws_listen`), the tick timer and the run loop.
 */
#include "internal.h"

#include <ev.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../api/api.h"
#include "../cfg.h"
#include "../hub/hub.h"
#include "util/log.h"

static volatile sig_atomic_t stop_signal;
static struct lws_context *signal_ctx;

int64_t net_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t net_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void net_peer(struct lws *wsi, char *out, size_t cap)
{
    out[0] = '\0';
    lws_get_peer_simple(wsi, out, cap);
    if (!out[0])
        snprintf(out, cap, "?");
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct sig_server *s = lws_context_user(lws_get_context(wsi));
    struct pss *p = user;
    if (!p) /* connections that never got as far as a request */
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_RECEIVE_PONG:
    case LWS_CALLBACK_CLOSED:
        return ws_callback(s, wsi, reason, p, in, len);
    default:
        return http_callback(s, wsi, reason, p, in, len);
    }
}

static const struct lws_protocols PROTOCOLS[] = {
    {SIG_PROTOCOL, callback, sizeof(struct pss), 16384, 0, NULL, 0},
    {SIG_CONTROL_PROTOCOL, listen_callback, 0, 0, 0, NULL, 0},
    {SIG_MEDIA_PROTOCOL, media_callback, 0, 0, 0, NULL, 0},
    {SIG_LISTEN_PROTOCOL, listen_callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_to_ours(int level, const char *line)
{
    char buf[300];
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        n--;
    snprintf(buf, sizeof buf, "%.*s", (int)(n < 250 ? n : 250), line);
    lt_log(level == LLL_ERR ? LT_LOG_ERROR : LT_LOG_WARN, "lws", "log", "msg=\"%s\"", buf);
}

static struct lws_vhost *make_vhost(struct sig_server *s, const char *name,
                                    const struct sig_listen *l, struct net_listener *nl,
                                    bool with_http, char *err, size_t cap)
{
    const struct sig_config *cfg = s->cfg;
    struct lws_context_creation_info vi;
    memset(&vi, 0, sizeof vi);
    vi.vhost_name = name;
    vi.port = CONTEXT_PORT_NO_LISTEN_SERVER; /* listen.c listens, so EMFILE cannot spin */
    vi.protocols = PROTOCOLS;
    vi.mounts = with_http ? s->mounts : NULL;
    /* No per-connection idle timers: libwebsockets keeps them in one sorted
     * list, which costs O(connections) per re-arm. The hub scans for idle
     * connections a few times a minute instead (sig_hub_tick). Without a
     * policy of our own, lws' default one pings after 300 s and hangs up at
     * 310 s, and its empty ping's pong never counts in 4.1: it closed every
     * connection whose last pong was older than that. Zeros turn it off. */
    static const lws_retry_bo_t no_lws_idle = {.secs_since_valid_ping = 0,
                                               .secs_since_valid_hangup = 0};
    vi.retry_and_idle_policy = &no_lws_idle;
    vi.alpn = "http/1.1";
    vi.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (cfg->tls_cert) {
        vi.ssl_cert_filepath = cfg->tls_cert;
        vi.ssl_private_key_filepath = cfg->tls_key;
        vi.ssl_options_set = SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
        vi.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    }
    struct lws_vhost *vh = lws_create_vhost(s->ctx, &vi);
    if (!vh) {
        snprintf(err, cap, "cannot serve %s:%d (%s): a bad certificate/key", l->host, l->port,
                 name);
        return NULL;
    }
    int rc = listen_tcp(nl, s, vh, l, name);
    if (rc) {
        snprintf(err, cap, "cannot listen on %s:%d (%s): %s", l->host, l->port, name,
                 strerror(-rc));
        return NULL;
    }
    lt_log(LT_LOG_INFO, "signal", "listen", "vhost=%s addr=%s port=%d tls=%s", name, l->host,
           l->port, cfg->tls_cert ? "yes" : "no");
    return vh;
}

struct sig_server *sig_server_new(const struct sig_config *cfg, struct sto_db *db, char *err,
                                  size_t err_cap)
{
    struct sig_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_cap, "out of memory");
        return NULL;
    }
    s->cfg = cfg;
    s->db = db;
    snprintf(s->tmp_dir, sizeof s->tmp_dir, "%s/tmp", cfg->data_dir);
    if (mkdir(s->tmp_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_cap, "cannot create %s: %s", s->tmp_dir, strerror(errno));
        free(s);
        return NULL;
    }
    /* The API and healthz are ours; everything else is the browser client. */
    s->mounts[0] = (struct lws_http_mount){.mount_next = &s->mounts[1], .mountpoint = "/api",
                                           .origin = SIG_PROTOCOL, .origin_protocol =
                                               LWSMPRO_CALLBACK, .mountpoint_len = 4};
    s->mounts[1] = (struct lws_http_mount){.mount_next = &s->mounts[2], .mountpoint = "/healthz",
                                           .origin = SIG_PROTOCOL, .origin_protocol =
                                               LWSMPRO_CALLBACK, .mountpoint_len = 8};
    s->mounts[2] = (struct lws_http_mount){.mountpoint = "/", .origin = cfg->web_root,
                                           .def = "index.html", .origin_protocol = LWSMPRO_FILE,
                                           .mountpoint_len = 1};

    listen_fd_budget(s);
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_ours);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                   LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.user = s;
    info.protocols = PROTOCOLS;
    /* libwebsockets' own loop is poll(), which costs O(connections) per wakeup;
     * on libev's epoll backend a wakeup costs what is ready. libev is used when
     * its libwebsockets plugin is installed; poll() is the fallback. */
    s->loop = ev_loop_new(EVBACKEND_EPOLL);
    void *foreign[1] = {s->loop};
    if (s->loop) {
        info.options |= LWS_SERVER_OPTION_LIBEV;
        info.foreign_loops = foreign;
        s->ctx = lws_create_context(&info);
    }
    if (!s->ctx) {
        if (s->loop) {
            lt_log(LT_LOG_WARN, "signal", "event_loop",
                   "msg=\"libev plugin unavailable (libwebsockets-evlib-ev); using poll()\"");
            ev_loop_destroy(s->loop);
            s->loop = NULL;
        }
        info.options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
        info.foreign_loops = NULL;
        s->ctx = lws_create_context(&info);
    }
    if (!s->ctx) {
        snprintf(err, err_cap, "libwebsockets could not start");
        free(s);
        return NULL;
    }
    lt_log(LT_LOG_INFO, "signal", "event_loop", "backend=%s", s->loop ? "libev-epoll" : "poll");
    struct lws_vhost *https = make_vhost(s, "https", &cfg->listen, &s->https_l, true, err, err_cap);
    if (!https ||
        (cfg->ws_listen.port && !make_vhost(s, "ws", &cfg->ws_listen, &s->ws_l, false, err, err_cap))) {
        sig_server_free(s);
        return NULL;
    }
    s->https_vh = https;
    int rc = control_listen(s, https, cfg->control_socket);
    if (rc) /* the service works without it; say why it is missing */
        lt_log(LT_LOG_WARN, "signal", "control_unavailable", "socket=%s err=\"%s\"",
               cfg->control_socket, strerror(-rc));
    listen_ws_cap(s);
    return s;
}

void sig_server_env(struct sig_server *s, struct sig_hub_env *env)
{
    ws_env(s, env);
    media_env(s, env);
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
    struct sig_server *s = lws_container_of(sul, struct sig_server, tick);
    sig_hub_tick(s->hub, net_now_ms());
    /* After the hub's tick, which committed its batch: the prune is a
     * transaction of its own. */
    sig_retention_step(&s->retention, s->db, net_now_ms(), net_wall_ms());
    lws_sul_schedule(s->ctx, 0, &s->tick, on_tick, 250 * LWS_US_PER_MS);
}

static void on_signal(int sig)
{
    stop_signal = sig;
    if (signal_ctx)
        lws_cancel_service(signal_ctx);
}

static void on_ev_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)loop;
    (void)revents;
    struct sig_server *s = w->data;
    sig_hub_flush(s->hub);
    ws_flush(s);
}

/* Password checks finished in the worker pool: answer them. */
static void on_ev_passwords(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    struct sig_server *s = w->data;
    sig_api_drain(s->api);
}

static void wake_poll_loop(void *arg)
{
    lws_cancel_service(arg); /* safe from any thread */
}

static void on_ev_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)revents;
    stop_signal = w->signum;
    ev_break(loop, EVBREAK_ALL);
}

int sig_server_run(struct sig_server *s, struct sig_hub *hub, struct sig_api *api)
{
    s->hub = hub;
    s->api = api;
    signal(SIGPIPE, SIG_IGN);
    /* A reload request must not kill the service (SIGHUP's default): settings
     * take effect at the next start, which keeps every client's state intact. */
    signal(SIGHUP, SIG_IGN);
    sig_retention_init(&s->retention, s->cfg->event_retention_ms, net_now_ms());
    lws_sul_schedule(s->ctx, 0, &s->tick, on_tick, 250 * LWS_US_PER_MS);
    int rc = 0;
    if (s->loop) {
        ev_signal term, intr;
        ev_signal_init(&term, on_ev_signal, SIGTERM);
        ev_signal_init(&intr, on_ev_signal, SIGINT);
        ev_signal_start(s->loop, &term);
        ev_signal_start(s->loop, &intr);
        ev_prepare flush; /* before each wait: commit the turn's writes, then answer */
        ev_prepare_init(&flush, on_ev_prepare);
        flush.data = s;
        ev_prepare_start(s->loop, &flush);
        ev_io passwords;
        int pfd = sig_api_async_fd(api);
        ev_io_init(&passwords, on_ev_passwords, pfd, EV_READ);
        passwords.data = s;
        if (pfd >= 0)
            ev_io_start(s->loop, &passwords);
        ev_run(s->loop, 0);
        if (pfd >= 0)
            ev_io_stop(s->loop, &passwords);
        ev_prepare_stop(s->loop, &flush);
        ev_signal_stop(s->loop, &term);
        ev_signal_stop(s->loop, &intr);
    } else {
        signal_ctx = s->ctx;
        struct sigaction sa = {.sa_handler = on_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sig_api_set_wake(api, wake_poll_loop, s->ctx);
        while (!stop_signal) {
            if (lws_service(s->ctx, 0) < 0) {
                rc = -EIO;
                break;
            }
            sig_api_drain(api);
            sig_hub_flush(s->hub);
            ws_flush(s);
        }
        signal_ctx = NULL;
    }
    lt_log(LT_LOG_INFO, "signal", "stopping", "signal=%d", (int)stop_signal);
    return rc;
}

void sig_server_free(struct sig_server *s)
{
    if (!s)
        return;
    if (s->ctx)
        lws_context_destroy(s->ctx);
    if (s->loop)
        ev_loop_destroy(s->loop);
    if (s->control_path[0])
        unlink(s->control_path);
    free(s);
}
