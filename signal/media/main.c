/*
 * main.c - mediad: flags and config, the DTLS certificate, the worker threads
 * (worker.c), the control socket and the main thread's GLib loop that serves
 * it. Everything else lives in session.c and control.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <glib-unix.h>
#include <glib.h>

#include "cfg.h"
#include "control.h"
#include "dtls.h"
#include "session.h"
#include "util/log.h"
#include "worker.h"

static gboolean on_signal(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
    struct media_config cfg;
    enum media_cfg_action action;
    char err[512] = "";
    if (media_config_from_args(&cfg, argc, argv, stdout, &action, err, sizeof err) != 0) {
        fprintf(stderr, "mediad: %s\n", err);
        media_config_release(&cfg);
        return 2;
    }
    if (action == MEDIA_EXIT_OK) {
        media_config_release(&cfg);
        return 0;
    }
    lt_log_set_level(cfg.log_level);
    lt_log_set_timestamps(cfg.log_timestamps);
    signal(SIGPIPE, SIG_IGN);
    /* Each session holds a socket per local address and ICE transport (UDP,
     * and a listening TCP one with ice_tcp): more than a soft limit of 1,024
     * allows for max_sessions on a host with several addresses. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    struct media_server srv = {.cfg = &cfg};
    if (media_dtls_cert_new(&srv.cert, err, sizeof err) != 0) {
        lt_log(LT_LOG_ERROR, "media", "certificate", "error=\"%s\"", err);
        media_config_release(&cfg);
        return 1;
    }
    if (media_workers_start(&srv, cfg.workers) != 0) {
        lt_log(LT_LOG_ERROR, "media", "workers", "error=\"cannot start %u threads\"", cfg.workers);
        media_dtls_cert_free(srv.cert);
        media_config_release(&cfg);
        return 1;
    }
    struct media_control *ctl;
    if (media_control_open(&ctl, &srv, cfg.control_socket, err, sizeof err) != 0) {
        lt_log(LT_LOG_ERROR, "media", "control_socket", "error=\"%s\"", err);
        media_workers_stop(&srv);
        media_dtls_cert_free(srv.cert);
        media_config_release(&cfg);
        return 1;
    }
    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGTERM, on_signal, loop);
    g_unix_signal_add(SIGINT, on_signal, loop);
    lt_log(LT_LOG_INFO, "media", "start",
           "version=%s control=%s turn_urls=%u ice_addresses=%u ice_tcp=%d max_sessions=%u "
           "workers=%u fingerprint=\"%s\"",
           LANTURN_VERSION, cfg.control_socket, cfg.n_turn_urls, cfg.n_ice_addresses, cfg.ice_tcp,
           cfg.max_sessions, cfg.workers, media_dtls_cert_fingerprint(srv.cert));
    g_main_loop_run(loop);

    unsigned open = 0;
    for (unsigned i = 0; i < srv.n_workers; i++)
        open += atomic_load(&srv.workers[i].n_sessions);
    lt_log(LT_LOG_INFO, "media", "stop", "sessions=%u", open);
    media_control_close(ctl); /* no more requests, answers or events */
    media_workers_stop(&srv);  /* every session closed and freed, threads joined */
    while (g_main_context_iteration(NULL, FALSE)) /* messages the workers posted */
        ;
    g_main_loop_unref(loop);
    media_dtls_cert_free(srv.cert);
    media_config_release(&cfg);
    return 0;
}
