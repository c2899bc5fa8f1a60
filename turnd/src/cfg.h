/*
 * cfg.h - turnd's configuration: defaults, then the libconfig file's
 * `turnd { ... }` section, then command-line flags (flags win). Nothing else
 * in turnd sees libconfig. Errors name the file and line.
 */
#ifndef LANTURN_TURND_CFG_H
#define LANTURN_TURND_CFG_H

#include "turn/core.h"
#include "util/log.h"

#include <stdbool.h>
#include <stdio.h>

#define TURND_MAX_LISTEN 16
#define TURND_MAX_WORKERS 64
#define TURND_DEFAULT_PORT 3478
#define TURND_DEFAULT_TLS_PORT 5349

struct turnd_config {
    struct stun_addr listen[TURND_MAX_LISTEN]; /* UDP (and TCP) listening addresses */
    unsigned n_listen;
    bool tcp;                                      /* TURN over TCP on `listen` too */
    struct stun_addr tls_listen[TURND_MAX_LISTEN]; /* TURN over TLS */
    unsigned n_tls_listen;
    char *tls_cert, *tls_key; /* PEM files; TLS is on when both are set */
    bool dtls;                /* TURN over DTLS too, when TLS is on */
    struct stun_addr dtls_listen[TURND_MAX_LISTEN]; /* UDP; default: the TLS addresses */
    unsigned n_dtls_listen;
    uint32_t max_dtls_sessions;
    struct stun_addr metrics_listen; /* GET /metrics over HTTP; port 0 = off */
    uint32_t max_connections; /* TCP + TLS connections */
    uint32_t udp_buffer;      /* SO_RCVBUF/SO_SNDBUF of the UDP listeners; 0 = kernel default */
    uint32_t workers;         /* UDP worker threads (main.c, io/worker.c); 1 = one loop */
    uint32_t idle_timeout;    /* seconds, for connections without an allocation */
    enum lt_log_level log_level;
    bool log_timestamps;
    char *config_path; /* NULL when started from flags alone */
    char *control_socket; /* unix socket for stats, sessions, kill, reload; "" = none */

    /* Policy rules as written, for --print-config. */
    char *allow_peer[TURN_POLICY_MAX_RULES];
    unsigned n_allow_peer;
    char *deny_peer[TURN_POLICY_MAX_RULES];
    unsigned n_deny_peer;
    char *client_subnets[TURN_POLICY_MAX_RULES]; /* closed-loop mode's reachable subnets */
    unsigned n_client_subnets;

    struct turn_core_config core;
};

enum turnd_cfg_action {
    TURND_RUN = 0,     /* start the server */
    TURND_EXIT_OK,     /* --help / --version / --print-config done: exit 0 */
};

/* Build the effective configuration from argv (which may name --config FILE).
 * On error returns a negative errno and writes a one-line message such as
 * "turnd.conf:12: relay_ports: expected \"LO-HI\" with 1024 <= LO <= HI <= 65535"
 * or "--listen: bad address 'x'" into err. On success returns 0 and sets
 * *action; --help, --version and --print-config write to `out`. The caller
 * releases cfg with turnd_config_release() in every case. */
int turnd_config_from_args(struct turnd_config *cfg, int argc, char **argv, FILE *out,
                           enum turnd_cfg_action *action, char *err, size_t err_cap);

/* Load only a config text (the `turnd` section of a libconfig document) on
 * top of defaults; `name` is used in error messages. For tests. */
int turnd_config_from_string(struct turnd_config *cfg, const char *text, const char *name,
                             char *err, size_t err_cap);

/* Print the effective configuration as a libconfig document (passwords and
 * the shared secret shown as "<redacted>"). */
void turnd_config_print(const struct turnd_config *cfg, FILE *out);

void turnd_config_release(struct turnd_config *cfg);

#endif
