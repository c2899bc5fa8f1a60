/*
 * main.c - turnd, lanturn's STUN/TURN server: configuration, wiring of the
 * sans-I/O core to the epoll shell (UDP, TCP, TLS and DTLS), the control
 * socket, metrics over HTTP, reloading the configuration on SIGHUP, and a clean stop on SIGTERM/SIGINT.
 */
#include "cfg.h"
#include "io/io.h"
#include "turn/core.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* The policy protects every address of this host; relay addresses are the
 * exception that lets clients of this server reach each other. */
static int collect_own_addresses(struct turnd_config *cfg)
{
    struct turn_policy *p = &cfg->core.policy;
    int rc = tio_add_interface_addresses(p);
    for (unsigned i = 0; rc == 0 && i < cfg->n_listen; i++)
        if (!stun_addr_is_any(&cfg->listen[i]))
            rc = turn_policy_add_own(p, &cfg->listen[i]);
    for (unsigned i = 0; rc == 0 && i < cfg->n_tls_listen; i++)
        if (!stun_addr_is_any(&cfg->tls_listen[i]))
            rc = turn_policy_add_own(p, &cfg->tls_listen[i]);
    for (unsigned i = 0; rc == 0 && i < cfg->n_dtls_listen; i++)
        if (!stun_addr_is_any(&cfg->dtls_listen[i]))
            rc = turn_policy_add_own(p, &cfg->dtls_listen[i]);
    for (unsigned i = 0; rc == 0 && i < cfg->core.n_relay_ip; i++)
        rc = turn_policy_add_relay(p, &cfg->core.relay_ip[i]);
    return rc;
}

/* "a,b,c" into out, cut short when it does not fit. */
static void format_addrs(const struct stun_addr *addrs, unsigned n, bool with_port, char *out,
                         size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < n; i++) {
        char a[64];
        stun_addr_format(&addrs[i], with_port, a, sizeof(a));
        o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", i ? "," : "", a);
    }
}

/* udp_rcvbuf/udp_sndbuf: what the kernel granted the UDP listeners. */
static void log_started(const struct turnd_config *cfg, unsigned rcvbuf, unsigned sndbuf)
{
    char listen[256], tls[256], dtls[256], relay[128], metrics[64] = "-";
    format_addrs(cfg->listen, cfg->n_listen, true, listen, sizeof(listen));
    format_addrs(cfg->tls_listen, cfg->n_tls_listen, true, tls, sizeof(tls));
    format_addrs(cfg->dtls_listen, cfg->n_dtls_listen, true, dtls, sizeof(dtls));
    if (cfg->metrics_listen.port)
        stun_addr_format(&cfg->metrics_listen, true, metrics, sizeof(metrics));
    format_addrs(cfg->core.relay_ip, cfg->core.n_relay_ip, false, relay, sizeof(relay));
    lt_log(LT_LOG_INFO, "turnd", "started",
           "version=%s listen=%s transport=%s tls_listen=%s dtls_listen=%s metrics_http=%s "
           "relay=%s ports=%u-%u realm=%s "
           "users=%u shared_secret=%s peer_rules=%u udp_rcvbuf=%u udp_sndbuf=%u workers=%u",
           LANTURN_VERSION, listen, cfg->tcp ? "udp,tcp" : "udp", cfg->n_tls_listen ? tls : "-",
           cfg->n_dtls_listen ? dtls : "-", metrics, relay, cfg->core.port_lo, cfg->core.port_hi, cfg->core.realm,
           cfg->core.n_users, cfg->core.secret ? "yes" : "no", cfg->core.policy.n_rules, rcvbuf,
           sndbuf, cfg->workers);
    if (rcvbuf < cfg->udp_buffer || sndbuf < cfg->udp_buffer)
        lt_log(LT_LOG_WARN, "turnd", "udp_buffer_capped",
               "requested=%u udp_rcvbuf=%u udp_sndbuf=%u detail=\"the kernel caps it: raise "
               "net.core.rmem_max and net.core.wmem_max\"",
               cfg->udp_buffer, rcvbuf, sndbuf);
    if (cfg->core.n_users == 0 && !cfg->core.secret)
        lt_log(LT_LOG_WARN, "turnd", "no_credentials",
               "detail=\"no users and no shared secret: only STUN Binding will succeed\"");
}

/* Every worker's counters, summed (after the workers stopped). */
static void log_stopped(struct turn_core *const *cores, unsigned n)
{
    struct turn_stats sum = {0};
    for (unsigned w = 0; w < n; w++)
        turn_stats_add(&sum, turn_core_stats(cores[w]));
    const struct turn_stats *st = &sum;
    lt_log(LT_LOG_INFO, "turnd", "stopped",
           "allocations_total=%llu auth_failures=%llu auth_rate_limited=%llu unauth_dropped=%llu "
           "peer_denied=%llu own_port_dropped=%llu client_to_peer_packets=%llu "
           "peer_to_client_packets=%llu malformed=%llu bandwidth_dropped_packets=%llu",
           (unsigned long long)st->allocations_total, (unsigned long long)st->auth_failures,
           (unsigned long long)st->auth_rate_limited, (unsigned long long)st->unauth_dropped,
           (unsigned long long)st->peer_denied, (unsigned long long)st->own_port_dropped,
           (unsigned long long)st->client_to_peer_packets,
           (unsigned long long)st->peer_to_client_packets, (unsigned long long)st->malformed,
           (unsigned long long)st->bandwidth_dropped_packets);
}

/* What a reload needs: the command line (it names the file; its flags win
 * again), the live configuration the core points into, and the shell. */
struct reloader {
    int argc;
    char **argv;
    struct turnd_config *cfg;
    struct tio_server *server;
};

static bool same_addrs(const struct stun_addr *a, unsigned na, const struct stun_addr *b,
                       unsigned nb)
{
    if (na != nb)
        return false;
    for (unsigned i = 0; i < na; i++)
        if (!stun_addr_equal(&a[i], &b[i]))
            return false;
    return true;
}

/* Settings the running sockets were made from: a reload keeps the old ones
 * and says which changes wait for a restart. */
static void keep_restart_only(const struct turnd_config *old, struct turnd_config *next)
{
    const struct turn_core_config *o = &old->core;
    struct turn_core_config *n = &next->core;
    const char *changed[8];
    unsigned k = 0;
    if (!same_addrs(old->listen, old->n_listen, next->listen, next->n_listen) ||
        old->tcp != next->tcp)
        changed[k++] = "listen";
    if (!same_addrs(old->tls_listen, old->n_tls_listen, next->tls_listen, next->n_tls_listen))
        changed[k++] = "tls_listen";
    if (!same_addrs(old->dtls_listen, old->n_dtls_listen, next->dtls_listen,
                    next->n_dtls_listen) ||
        old->max_dtls_sessions != next->max_dtls_sessions)
        changed[k++] = "dtls_listen/max_dtls_sessions";
    if (!same_addrs(&old->metrics_listen, 1, &next->metrics_listen, 1))
        changed[k++] = "metrics_listen";
    if (!same_addrs(o->relay_ip, o->n_relay_ip, n->relay_ip, n->n_relay_ip))
        changed[k++] = "relay_ip";
    if (o->port_lo != n->port_lo || o->port_hi != n->port_hi)
        changed[k++] = "relay_ports";
    if (old->max_connections != next->max_connections || old->idle_timeout != next->idle_timeout)
        changed[k++] = "max_connections/idle_timeout";
    if (old->udp_buffer != next->udp_buffer || old->workers != next->workers)
        changed[k++] = "udp_buffer/workers";
    if (strcmp(old->control_socket ? old->control_socket : "",
               next->control_socket ? next->control_socket : ""))
        changed[k++] = "control_socket";
    for (unsigned i = 0; i < k; i++)
        lt_log(LT_LOG_WARN, "turnd", "reload_needs_restart", "setting=%s detail=\"kept the running "
               "value; restart turnd to apply\"", changed[i]);
    memcpy(next->listen, old->listen, sizeof(old->listen));
    next->n_listen = old->n_listen;
    next->tcp = old->tcp;
    memcpy(next->tls_listen, old->tls_listen, sizeof(old->tls_listen));
    next->n_tls_listen = old->n_tls_listen;
    memcpy(next->dtls_listen, old->dtls_listen, sizeof(old->dtls_listen));
    next->n_dtls_listen = old->n_dtls_listen;
    next->dtls = old->dtls;
    next->max_dtls_sessions = old->max_dtls_sessions;
    next->metrics_listen = old->metrics_listen;
    next->max_connections = old->max_connections;
    next->idle_timeout = old->idle_timeout;
    next->udp_buffer = old->udp_buffer;
    next->workers = old->workers;
    memcpy(n->relay_ip, o->relay_ip, sizeof(o->relay_ip));
    n->n_relay_ip = o->n_relay_ip;
    n->port_lo = o->port_lo;
    n->port_hi = o->port_hi;
    free(next->control_socket);
    next->control_socket = old->control_socket ? strdup(old->control_socket) : NULL;
}

/* SIGHUP and the control socket's "reload": parse anew, validate, swap; on
 * any error the old configuration stays whole. Allocations live in the core
 * and are untouched; the core reads the swapped settings from the next
 * request or datagram on. Every core points into the one configuration:
 * the callers hold the other workers paused (tio_workers_pause()) for the
 * swap, so none reads it meanwhile. */
static int reload(void *arg, char *err, size_t err_cap)
{
    struct reloader *r = arg;
    struct turnd_config next;
    enum turnd_cfg_action action;
    int rc = turnd_config_from_args(&next, r->argc, r->argv, stdout, &action, err, err_cap);
    if (rc == 0)
        keep_restart_only(r->cfg, &next); /* before: own addresses come from the running ones */
    if (rc == 0 && collect_own_addresses(&next) != 0) {
        snprintf(err, err_cap, "cannot list own addresses");
        rc = -EIO;
    }
    if (rc == 0 && next.tls_cert)
        rc = tio_server_reload_tls(r->server, next.tls_cert, next.tls_key, err, err_cap);
    if (rc != 0) {
        lt_log(LT_LOG_ERROR, "turnd", "reload_failed", "error=\"%s\" action=kept-old", err);
        turnd_config_release(&next);
        return rc;
    }
    struct turnd_config old = *r->cfg;
    *r->cfg = next; /* same address: the core's pointer stays valid */
    turnd_config_release(&old);
    lt_log_set_level(r->cfg->log_level);
    lt_log_set_timestamps(r->cfg->log_timestamps);
    lt_log(LT_LOG_INFO, "turnd", "reloaded", "config=%s users=%u shared_secret=%s peer_rules=%u",
           r->cfg->config_path ? r->cfg->config_path : "-", r->cfg->core.n_users,
           r->cfg->core.secret ? "yes" : "no", r->cfg->core.policy.n_rules);
    return 0;
}

int main(int argc, char **argv)
{
    struct turnd_config cfg;
    enum turnd_cfg_action action;
    char err[512];
    if (turnd_config_from_args(&cfg, argc, argv, stdout, &action, err, sizeof(err)) != 0) {
        fprintf(stderr, "turnd: %s\n", err);
        fprintf(stderr, "Try 'turnd --help' for more information.\n");
        turnd_config_release(&cfg);
        return 2;
    }
    if (action == TURND_EXIT_OK) {
        turnd_config_release(&cfg);
        return 0;
    }
    lt_log_set_level(cfg.log_level);
    lt_log_set_timestamps(cfg.log_timestamps);

    int status = 1;
    unsigned n_workers = cfg.workers;
    struct tio_server *servers[TURND_MAX_WORKERS] = {NULL};
    struct turn_core *cores[TURND_MAX_WORKERS] = {NULL};
    struct turn_shared *shared = NULL;
    struct tio_group *group = NULL;
    struct tio_stream_config stream = {
        .tcp = cfg.tcp,
        .tls_listen = cfg.tls_listen,
        .n_tls_listen = cfg.n_tls_listen,
        .tls_cert = cfg.tls_cert,
        .tls_key = cfg.tls_key,
        .max_connections = cfg.max_connections,
        .idle_timeout_s = cfg.idle_timeout,
        .udp_shared = n_workers > 1,
    };
    /* Every worker's listeners are bound before any datagram is read: a
     * SO_REUSEPORT group that changes moves clients between sockets. */
    struct tio_server *server = servers[0] =
        tio_server_new(cfg.listen, cfg.n_listen, &stream, err, sizeof(err));
    for (unsigned i = 1; server && i < n_workers; i++)
        if (!(servers[i] = tio_server_new_worker(cfg.listen, cfg.n_listen, err, sizeof(err))))
            server = NULL;
    if (!server) {
        lt_log(LT_LOG_ERROR, "turnd", "start_failed", "error=\"%s\"", err);
        goto out;
    }
    struct tio_dtls_config dtls = {
        .listen = cfg.dtls_listen,
        .n_listen = cfg.n_dtls_listen,
        .cert = cfg.tls_cert,
        .key = cfg.tls_key,
        .max_sessions = cfg.max_dtls_sessions,
        .idle_timeout_s = cfg.idle_timeout,
    };
    if (tio_server_dtls(server, &dtls, err, sizeof(err)) != 0 ||
        (cfg.metrics_listen.port &&
         tio_server_metrics_http(server, &cfg.metrics_listen, err, sizeof(err)) != 0)) {
        lt_log(LT_LOG_ERROR, "turnd", "start_failed", "error=\"%s\"", err);
        goto out;
    }
    if (collect_own_addresses(&cfg) != 0) {
        lt_log(LT_LOG_ERROR, "turnd", "start_failed", "error=\"cannot list own addresses\"");
        goto out;
    }
    /* Bursts arrive while the loop waits for a CPU: a deep queue on the
     * listening sockets is what keeps them (docs/PERFORMANCE.md). */
    unsigned rcvbuf = 0, sndbuf = 0;
    for (unsigned i = 0; i < n_workers; i++) {
        int rc = tio_server_udp_buffers(servers[i], cfg.udp_buffer, &rcvbuf, &sndbuf);
        if (rc != 0) {
            lt_log(LT_LOG_ERROR, "turnd", "start_failed", "error=\"udp_buffer: %s\"",
                   strerror(-rc));
            goto out;
        }
    }
    shared = n_workers > 1 ? turn_shared_new() : NULL;
    for (unsigned i = 0; i < n_workers; i++) {
        struct turn_env env = {0};
        tio_server_env(servers[i], &env);
        cores[i] = turn_core_new(&cfg.core, &env);
        if (!cores[i] || (n_workers > 1 && !shared)) {
            lt_log(LT_LOG_ERROR, "turnd", "start_failed", "error=\"out of memory\"");
            goto out;
        }
        if (shared)
            turn_core_share(cores[i], shared, i);
    }
    tio_server_control(server, cfg.control_socket, 0660);
    struct reloader reloader = {argc, argv, &cfg, server};
    tio_server_on_reload(server, reload, &reloader);
    if (n_workers > 1 && !(group = tio_group_start(servers, cores, n_workers, err, sizeof(err)))) {
        lt_log(LT_LOG_ERROR, "turnd", "start_failed", "error=\"%s\"", err);
        goto out;
    }
    log_started(&cfg, rcvbuf, sndbuf);
    if (tio_server_run(server, cores[0]) == 0)
        status = 0;
    tio_group_stop(group); /* the other workers' cores are this thread's from here on */
    for (unsigned i = 0; i < n_workers; i++)
        turn_core_clear(cores[i]);
    log_stopped(cores, n_workers);
out:
    for (unsigned i = 0; i < n_workers; i++)
        turn_core_free(cores[i]);
    turn_shared_free(shared);
    for (unsigned i = 0; i < n_workers; i++)
        tio_server_free(servers[i]);
    turnd_config_release(&cfg);
    return status;
}
