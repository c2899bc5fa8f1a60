/*
 * server.c - the libwebsockets context, its one HTTPS vhost and mount table,
 * and the run loop (see server.h). Requests are handled in http.c.
 */
#include "http.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "server.h"
#include "util/log.h"

struct con_server {
    struct console *c;
    struct lws_context *ctx;
    struct lws_http_mount mounts[3];
};

static volatile sig_atomic_t stop_signal;
static struct lws_context *signal_ctx;

static const struct lws_protocols PROTOCOLS[] = {
    {CON_PROTOCOL, con_http_callback, sizeof(struct con_pss), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_to_ours(int level, const char *line)
{
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        n--;
    lt_log(level == LLL_ERR ? LT_LOG_ERROR : LT_LOG_WARN, "lws", "log", "msg=\"%.*s\"",
           (int)(n < 250 ? n : 250), line);
}

static void wake_loop(void *ctx)
{
    lws_cancel_service(ctx);
}

struct con_server *con_server_new(struct console *c, char *err, size_t cap)
{
    const struct con_config *cfg = c->cfg;
    struct con_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    s->c = c;
    /* The API and healthz are ours; everything else is the UI's files. */
    s->mounts[0] = (struct lws_http_mount){.mount_next = &s->mounts[1], .mountpoint = "/api",
                                           .origin = CON_PROTOCOL,
                                           .origin_protocol = LWSMPRO_CALLBACK,
                                           .mountpoint_len = 4};
    s->mounts[1] = (struct lws_http_mount){.mount_next = &s->mounts[2], .mountpoint = "/healthz",
                                           .origin = CON_PROTOCOL,
                                           .origin_protocol = LWSMPRO_CALLBACK,
                                           .mountpoint_len = 8};
    s->mounts[2] = (struct lws_http_mount){.mountpoint = "/", .origin = cfg->web_root,
                                           .def = "index.html", .origin_protocol = LWSMPRO_FILE,
                                           .mountpoint_len = 1};
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_ours);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                   LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.user = c;
    info.protocols = PROTOCOLS;
    if (!(s->ctx = lws_create_context(&info))) {
        snprintf(err, cap, "libwebsockets could not start");
        free(s);
        return NULL;
    }
    struct lws_context_creation_info vi;
    memset(&vi, 0, sizeof vi);
    vi.vhost_name = "console";
    vi.port = cfg->listen.port;
    vi.iface = cfg->listen.host;
    vi.protocols = PROTOCOLS;
    vi.mounts = s->mounts;
    vi.alpn = "http/1.1";
    vi.options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    vi.ssl_cert_filepath = cfg->tls_cert;
    vi.ssl_private_key_filepath = cfg->tls_key;
    vi.ssl_options_set = SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
    vi.keepalive_timeout = 30;
    if (!lws_create_vhost(s->ctx, &vi)) {
        snprintf(err, cap, "cannot listen on %s:%d: in use, no permission, or a bad certificate/key "
                 "(%s, %s)", cfg->listen.host, cfg->listen.port, cfg->tls_cert, cfg->tls_key);
        con_server_free(s);
        return NULL;
    }
    c->wake = wake_loop;
    c->wake_ctx = s->ctx;
    lt_log(LT_LOG_INFO, "console", "listen", "addr=%s port=%d", cfg->listen.host, cfg->listen.port);
    return s;
}

static void on_signal(int sig)
{
    stop_signal = sig;
    if (signal_ctx)
        lws_cancel_service(signal_ctx);
}

int con_server_run(struct con_server *s)
{
    signal_ctx = s->ctx;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN); /* settings apply at the next start */
    int rc = 0;
    while (!stop_signal)
        if (lws_service(s->ctx, 0) < 0) {
            rc = -EIO;
            break;
        }
    lt_log(LT_LOG_INFO, "console", "stopping", "signal=%d", (int)stop_signal);
    signal_ctx = NULL;
    return rc;
}

void con_server_free(struct con_server *s)
{
    if (!s)
        return;
    con_update_stop_waking(s->c);
    if (s->ctx)
        lws_context_destroy(s->ctx);
    free(s);
}
