/*
 * ccfg.h - lanturn-console's configuration (prefix con_cfg_): defaults, then the
 * `console { }` group of the appliance's one config file, then flags. A few
 * defaults come from the other groups of the same file, so that a stock
 * appliance needs no console group at all: the certificate is signald's, the
 * database directory is signal.data_dir, the control socket is applianced's.
 * Nothing else in the console sees libconfig. Errors name the file and line.
 */
#ifndef CON_CFG_H
#define CON_CFG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/log.h"

struct con_listen {
    char host[64]; /* an IP address */
    int port;
};

struct con_config {
    char *config_path;        /* the one config file; Settings edits it */
    struct con_listen listen; /* HTTPS; default 0.0.0.0:8443 */
    char *tls_cert, *tls_key; /* default: signal.tls_cert / tls_key */
    char *web_root;           /* the console's UI files */
    char *control_socket;     /* default: appliance.control_socket */
    char *data_dir;           /* the database; default: signal.data_dir */
    char *applianced_bin;     /* runs `--check` on edited configs */
    int idle_minutes;         /* a console session idle this long ends */
    int session_hours;        /* and ends this long after login anyway */
    uint64_t scrypt_n;        /* signal.password_scrypt_n, so passwords set here match */
    enum lt_log_level log_level;
    bool log_timestamps;
};

enum con_cfg_action { CON_RUN = 0, CON_EXIT_OK };

/* Builds the effective configuration from argv. 0 and *action, or -EINVAL with
 * a one-line message in err ("lanturn.conf:7: console.listen: ..."). --help,
 * --version and --print-config write to out. Release cfg in every case. */
int con_config_from_args(struct con_config *cfg, int argc, char **argv, FILE *out,
                         enum con_cfg_action *action, char *err, size_t err_cap);
/* The console group of a config file on top of defaults (Settings checks an
 * edited file with it before anything else). */
int con_config_load_file(struct con_config *cfg, const char *path, char *err, size_t err_cap);
void con_config_defaults(struct con_config *cfg);
void con_config_print(const struct con_config *cfg, FILE *out);
void con_config_release(struct con_config *cfg);
/* "IP:PORT" or "[v6]:PORT". 0 or -EINVAL. */
int con_parse_listen(const char *s, struct con_listen *l);

#endif
