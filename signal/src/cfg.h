/*
 * cfg.h - signald's configuration: defaults, then the `signal { ... }` group
 * of the appliance's libconfig file, then command-line flags (flags win).
 * Nothing else in signald sees libconfig. Errors name the file and line.
 */
#ifndef SIG_CFG_H
#define SIG_CFG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "api/api.h"
#include "hub/hub.h"
#include "util/log.h"

#define SIG_MAX_TURN_URLS 8

struct sig_listen {
    char host[64]; /* an IP address */
    int port;
};

struct sig_config {
    char *data_dir;
    struct sig_listen listen;    /* HTTPS: API, files, web client (and WebSocket) */
    struct sig_listen ws_listen; /* WebSocket only; port 0 = off */
    char *tls_cert, *tls_key;    /* PEM files */
    char *web_root;              /* the browser client's files */
    char *control_socket;        /* unix socket for local tools; "" = none */
    char *media_socket;          /* mediad's control socket; "" = no echo tests */
    char *turn_secret;           /* read from turn_secret_file when that is set */
    char *turn_secret_file;
    char *turn_urls[SIG_MAX_TURN_URLS];
    unsigned n_turn_urls;
    uint64_t file_max_bytes;
    int64_t event_retention_ms; /* events older than this are pruned; 0: kept forever */
    enum lt_log_level log_level;
    bool log_timestamps;
    char *config_path;

    struct sig_hub_config hub;
    struct sig_api_config api;
};

enum sig_cfg_action { SIG_RUN = 0, SIG_EXIT_OK };

/* Build the effective configuration from argv. 0 and *action, or a negative
 * errno with a one-line message in err ("lanturn.conf:7: signal.listen: ...").
 * --help, --version and --print-config write to out. Release cfg in every case. */
int sig_config_from_args(struct sig_config *cfg, int argc, char **argv, FILE *out,
                         enum sig_cfg_action *action, char *err, size_t err_cap);
/* The `signal` group of a libconfig text on top of defaults (for tests). */
int sig_config_from_string(struct sig_config *cfg, const char *text, const char *name, char *err,
                           size_t err_cap);
void sig_config_defaults(struct sig_config *cfg);
void sig_config_print(const struct sig_config *cfg, FILE *out);
void sig_config_release(struct sig_config *cfg);
/* "ADDR:PORT" or "[v6]:PORT" -> l. 0 or -EINVAL. */
int sig_parse_listen(const char *s, struct sig_listen *l);

#endif
