/*
 * cfg.h - mediad's configuration: defaults, then the `media { ... }` group of
 * the appliance's libconfig file, then command-line flags (flags win).
 * Nothing else in mediad sees libconfig. Errors name the file and line.
 */
#ifndef MEDIA_CFG_H
#define MEDIA_CFG_H

#include <stdbool.h>
#include <stdio.h>

#include "util/log.h"

#define MEDIA_MAX_ADDRS 8
#define MEDIA_MAX_TURN_URLS 8
#define MEDIA_MAX_WORKERS 64

struct media_config {
    char *control_socket;                  /* unix socket signald drives mediad through */
    char *ice_addresses[MEDIA_MAX_ADDRS];  /* local ICE addresses; none = every interface */
    unsigned n_ice_addresses;
    int port_min, port_max;                /* local UDP ports for ICE; 0-0 = any */
    bool ice_tcp;                          /* also ICE-TCP host candidates (RFC 6544) */
    char *turn_urls[MEDIA_MAX_TURN_URLS];  /* turnd, for sessions asked to be relay-only */
    unsigned n_turn_urls;
    char *turn_secret;                     /* read from turn_secret_file when that is set */
    char *turn_secret_file;
    int turn_ttl_s;
    unsigned max_sessions;
    unsigned max_video_kbps;               /* room mode: the most a video stream is given by REMB */
    unsigned workers;                      /* threads that run sessions; default one per CPU */
    unsigned idle_timeout_s;               /* no media for this long ends a session */
    unsigned max_duration_s;               /* an echo test ends after this long */
    bool echo_same_ssrc;                   /* echo on the browser's own SSRCs */
    enum lt_log_level log_level;
    bool log_timestamps;
    char *config_path;
};

enum media_cfg_action { MEDIA_RUN = 0, MEDIA_EXIT_OK };

/* Build the effective configuration from argv. 0 and *action, or a negative
 * errno with a one-line message in err ("lanturn.conf:7: media.ports: ...").
 * --help, --version and --print-config write to out. Release cfg in every case. */
int media_config_from_args(struct media_config *cfg, int argc, char **argv, FILE *out,
                           enum media_cfg_action *action, char *err, size_t err_cap);
/* The `media` group of a libconfig text on top of defaults (for tests). */
int media_config_from_string(struct media_config *cfg, const char *text, const char *name,
                             char *err, size_t err_cap);
void media_config_defaults(struct media_config *cfg);
void media_config_print(const struct media_config *cfg, FILE *out);
void media_config_release(struct media_config *cfg);

/* "turn:HOST:PORT?transport=udp|tcp" with HOST an IP address. 0 or -EINVAL. */
int media_parse_turn_url(const char *url, char *host, size_t host_cap, int *port, bool *tcp);

#endif
