/*
 * cfg.c - mediad's configuration (see cfg.h), in the shape of signald's.
 */
#include "cfg.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libconfig.h>

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static void set_str(char **dst, const char *src)
{
    free(*dst);
    *dst = src ? strdup(src) : NULL;
}

void media_config_defaults(struct media_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    set_str(&cfg->control_socket, "/run/lanturn/mediad.sock");
    cfg->turn_ttl_s = 3600;
    cfg->max_sessions = 256; /* a broadcast of 200 viewers and some calls */
    cfg->max_video_kbps = 2500;
    cfg->idle_timeout_s = 20;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN); /* one loop per core */
    cfg->workers = cpus < 1 ? 1 : cpus > MEDIA_MAX_WORKERS ? MEDIA_MAX_WORKERS : (unsigned)cpus;
    cfg->max_duration_s = 600;
    cfg->echo_same_ssrc = true;
    cfg->ice_tcp = true;
    cfg->log_level = LT_LOG_INFO;
}

static void clear_list(char **items, unsigned *n)
{
    for (unsigned i = 0; i < *n; i++)
        free(items[i]);
    *n = 0;
}

void media_config_release(struct media_config *cfg)
{
    free(cfg->control_socket);
    clear_list(cfg->ice_addresses, &cfg->n_ice_addresses);
    clear_list(cfg->turn_urls, &cfg->n_turn_urls);
    if (cfg->turn_secret) {
        memset(cfg->turn_secret, 0, strlen(cfg->turn_secret));
        free(cfg->turn_secret);
    }
    free(cfg->turn_secret_file);
    free(cfg->config_path);
    memset(cfg, 0, sizeof *cfg);
}

int media_parse_turn_url(const char *url, char *host, size_t host_cap, int *port, bool *tcp)
{
    const char *p;
    if (strncmp(url, "turn:", 5) == 0)
        p = url + 5;
    else
        return -EINVAL;
    const char *q = strchr(p, '?');
    size_t hp_len = q ? (size_t)(q - p) : strlen(p);
    char hp[128];
    if (hp_len == 0 || hp_len >= sizeof hp)
        return -EINVAL;
    memcpy(hp, p, hp_len);
    hp[hp_len] = '\0';
    char *h = hp, *colon;
    if (hp[0] == '[') {
        char *close = strchr(hp, ']');
        if (!close)
            return -EINVAL;
        *close = '\0';
        h = hp + 1;
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = strrchr(hp, ':');
        if (colon)
            *colon = '\0';
    }
    long prt = 3478;
    if (colon) {
        char *end;
        prt = strtol(colon + 1, &end, 10);
        if (*end || end == colon + 1 || prt < 1 || prt > 65535)
            return -EINVAL;
    }
    unsigned char tmp[16];
    if (inet_pton(AF_INET, h, tmp) != 1 && inet_pton(AF_INET6, h, tmp) != 1)
        return -EINVAL;
    if (strlen(h) >= host_cap)
        return -EINVAL;
    strcpy(host, h);
    *port = (int)prt;
    *tcp = q && strstr(q, "transport=tcp") != NULL;
    if (q && !*tcp && !strstr(q, "transport=udp"))
        return -EINVAL;
    return 0;
}

static int add_turn_url(struct media_config *cfg, const char *url, char *err, size_t cap,
                        const char *where)
{
    char host[64];
    int port;
    bool tcp;
    if (media_parse_turn_url(url, host, sizeof host, &port, &tcp))
        return fail(err, cap, "%s: '%s' is not turn:IP[:PORT][?transport=udp|tcp]", where, url);
    if (cfg->n_turn_urls == MEDIA_MAX_TURN_URLS)
        return fail(err, cap, "%s: at most %d TURN URLs", where, MEDIA_MAX_TURN_URLS);
    cfg->turn_urls[cfg->n_turn_urls++] = strdup(url);
    return 0;
}

static int add_address(struct media_config *cfg, const char *a, char *err, size_t cap,
                       const char *where)
{
    unsigned char tmp[16];
    if (inet_pton(AF_INET, a, tmp) != 1 && inet_pton(AF_INET6, a, tmp) != 1)
        return fail(err, cap, "%s: '%s' is not an IP address", where, a);
    if (cfg->n_ice_addresses == MEDIA_MAX_ADDRS)
        return fail(err, cap, "%s: at most %d addresses", where, MEDIA_MAX_ADDRS);
    cfg->ice_addresses[cfg->n_ice_addresses++] = strdup(a);
    return 0;
}

static int parse_ports(const char *s, int *lo, int *hi)
{
    char *end;
    long a = strtol(s, &end, 10);
    if (end == s || *end != '-')
        return -EINVAL;
    const char *s2 = end + 1;
    long b = strtol(s2, &end, 10);
    if (end == s2 || *end || a < 1 || b > 65535 || a > b)
        return -EINVAL;
    *lo = (int)a;
    *hi = (int)b;
    return 0;
}

static int read_secret_file(struct media_config *cfg, char *err, size_t cap)
{
    if (!cfg->turn_secret_file)
        return 0;
    FILE *f = fopen(cfg->turn_secret_file, "r");
    if (!f)
        return fail(err, cap, "turn_secret_file: cannot open %s: %s", cfg->turn_secret_file,
                    strerror(errno));
    char buf[512];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    if (n == 0)
        return fail(err, cap, "turn_secret_file: %s is empty", cfg->turn_secret_file);
    set_str(&cfg->turn_secret, buf);
    memset(buf, 0, sizeof buf);
    return 0;
}

/* ---- the libconfig group ---- */

static int check_int(const config_setting_t *s, const char *file, long long lo, long long hi,
                     long long *out, char *err, size_t cap)
{
    if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
        return fail(err, cap, "%s:%d: media.%s: expected an integer", file,
                    config_setting_source_line(s), config_setting_name(s));
    long long v = config_setting_get_int64(s);
    if (v < lo || v > hi)
        return fail(err, cap, "%s:%d: media.%s: %lld is outside %lld..%lld", file,
                    config_setting_source_line(s), config_setting_name(s), v, lo, hi);
    *out = v;
    return 0;
}

static int load_list(config_setting_t *s, const char *file, int line, const char *key,
                     struct media_config *cfg, char *err, size_t cap)
{
    if (!config_setting_is_array(s) && !config_setting_is_list(s))
        return fail(err, cap, "%s:%d: media.%s: expected a list of strings", file, line, key);
    char where[300];
    snprintf(where, sizeof where, "%s:%d: media.%s", file, line, key);
    bool urls = strcmp(key, "turn_urls") == 0;
    for (int k = 0; k < config_setting_length(s); k++) {
        const char *v = config_setting_get_string_elem(s, k);
        if (!v)
            return fail(err, cap, "%s: expected strings", where);
        int rc = urls ? add_turn_url(cfg, v, err, cap, where) : add_address(cfg, v, err, cap, where);
        if (rc)
            return rc;
    }
    return 0;
}

static int load_group(struct media_config *cfg, config_t *lc, const char *file, char *err,
                      size_t cap)
{
    config_setting_t *g = config_lookup(lc, "media");
    if (!g)
        return 0;
    if (!config_setting_is_group(g))
        return fail(err, cap, "%s:%d: media must be a group { ... }", file,
                    config_setting_source_line(g));
    for (int i = 0; i < config_setting_length(g); i++) {
        config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *key = config_setting_name(s);
        int line = config_setting_source_line(s);
        const char *str = config_setting_type(s) == CONFIG_TYPE_STRING ? config_setting_get_string(s)
                                                                       : NULL;
        long long v = 0;
        static const char *const STRING_KEYS[] = {"control_socket", "turn_secret", "turn_secret_file",
                                                  "ports", "echo_ssrc", "log_level", NULL};
        for (const char *const *k = STRING_KEYS; *k; k++)
            if (strcmp(*k, key) == 0 && !str)
                return fail(err, cap, "%s:%d: media.%s: expected a string", file, line, key);
        if (strcmp(key, "control_socket") == 0)
            set_str(&cfg->control_socket, str);
        else if (strcmp(key, "turn_secret") == 0)
            set_str(&cfg->turn_secret, str);
        else if (strcmp(key, "turn_secret_file") == 0)
            set_str(&cfg->turn_secret_file, str);
        else if (strcmp(key, "ports") == 0) {
            if (parse_ports(str, &cfg->port_min, &cfg->port_max))
                return fail(err, cap, "%s:%d: media.ports: expected \"LO-HI\", got '%s'", file,
                            line, str);
        } else if (strcmp(key, "echo_ssrc") == 0) {
            if (strcmp(str, "same") != 0 && strcmp(str, "own") != 0)
                return fail(err, cap, "%s:%d: media.echo_ssrc: \"same\" or \"own\"", file, line);
            cfg->echo_same_ssrc = strcmp(str, "same") == 0;
        } else if (strcmp(key, "log_level") == 0) {
            if (lt_log_level_parse(str, &cfg->log_level) != 0)
                return fail(err, cap, "%s:%d: media.log_level: error, warn, info or debug", file,
                            line);
        } else if (strcmp(key, "turn_urls") == 0 || strcmp(key, "ice_addresses") == 0) {
            int rc = load_list(s, file, line, key, cfg, err, cap);
            if (rc)
                return rc;
        } else if (strcmp(key, "turn_ttl") == 0) {
            if (check_int(s, file, 60, 7 * 86400, &v, err, cap))
                return -EINVAL;
            cfg->turn_ttl_s = (int)v;
        } else if (strcmp(key, "max_sessions") == 0) {
            if (check_int(s, file, 1, 10000, &v, err, cap))
                return -EINVAL;
            cfg->max_sessions = (unsigned)v;
        } else if (strcmp(key, "max_video_kbps") == 0) {
            if (check_int(s, file, 100, 100000, &v, err, cap)) /* not below REMB's floor */
                return -EINVAL;
            cfg->max_video_kbps = (unsigned)v;
        } else if (strcmp(key, "workers") == 0) {
            if (check_int(s, file, 1, MEDIA_MAX_WORKERS, &v, err, cap))
                return -EINVAL;
            cfg->workers = (unsigned)v;
        } else if (strcmp(key, "idle_timeout") == 0) {
            if (check_int(s, file, 5, 3600, &v, err, cap))
                return -EINVAL;
            cfg->idle_timeout_s = (unsigned)v;
        } else if (strcmp(key, "ice_tcp") == 0) {
            if (config_setting_type(s) != CONFIG_TYPE_BOOL)
                return fail(err, cap, "%s:%d: media.ice_tcp: true or false", file, line);
            cfg->ice_tcp = config_setting_get_bool(s) != 0;
        } else if (strcmp(key, "max_duration") == 0) {
            if (check_int(s, file, 10, 86400, &v, err, cap))
                return -EINVAL;
            cfg->max_duration_s = (unsigned)v;
        } else {
            return fail(err, cap, "%s:%d: unknown setting '%s' in media", file, line, key);
        }
    }
    return 0;
}

int media_config_from_string(struct media_config *cfg, const char *text, const char *name,
                             char *err, size_t err_cap)
{
    media_config_defaults(cfg);
    config_t lc;
    config_init(&lc);
    int rc = 0;
    if (config_read_string(&lc, text) != CONFIG_TRUE)
        rc = fail(err, err_cap, "%s:%d: %s", name, config_error_line(&lc), config_error_text(&lc));
    else
        rc = load_group(cfg, &lc, name, err, err_cap);
    config_destroy(&lc);
    return rc;
}

static int load_file(struct media_config *cfg, const char *path, char *err, size_t cap)
{
    config_t lc;
    config_init(&lc);
    int rc = 0;
    if (config_read_file(&lc, path) != CONFIG_TRUE) {
        if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
            rc = fail(err, cap, "%s: cannot read: %s", path, strerror(errno));
        else
            rc = fail(err, cap, "%s:%d: %s", path, config_error_line(&lc), config_error_text(&lc));
    } else {
        rc = load_group(cfg, &lc, path, err, cap);
    }
    config_destroy(&lc);
    return rc;
}

static void usage(FILE *out)
{
    fputs("Usage: mediad [OPTION]...\n"
          "lanturn's media endpoint: WebRTC (ICE, DTLS-SRTP) for the \"test my call\" echo\n"
          "and for rooms whose members get each other's media through its forwarding core.\n"
          "signald drives it over a unix socket of line-delimited JSON (docs/mediad.md).\n"
          "\n"
          "Settings come from built-in defaults, then the `media { }` group of the config\n"
          "file, then these flags.\n"
          "  -c, --config FILE          libconfig file (e.g. /etc/lanturn/lanturn.conf)\n"
          "      --control-socket PATH  unix socket for commands (default\n"
          "                             /run/lanturn/mediad.sock)\n"
          "      --ice-address IP       local address for ICE, repeatable (default: every\n"
          "                             interface but loopback)\n"
          "      --ports LO-HI          local UDP and TCP ports for ICE (default: any)\n"
          "      --no-ice-tcp           no ICE-TCP candidates, UDP only (default: both)\n"
          "      --turn-url URL         turnd for relay-only sessions, repeatable, e.g.\n"
          "                             turn:192.0.2.10:3478?transport=udp\n"
          "      --turn-secret-file F   the secret shared with turnd\n"
          "      --turn-ttl S           lifetime of mediad's TURN credentials (default 3600)\n"
          "      --max-sessions N       echo and room sessions at once (default 32)\n"
          "      --workers N            threads that run sessions, a room on one of them\n"
          "                             (default: one per online CPU)\n"
          "      --idle-timeout S       end a session after S seconds without media (20)\n"
          "      --max-duration S       end an echo test after S seconds (600)\n"
          "      --echo-ssrc same|own   echo on the browser's own SSRCs (default) or mediad's\n"
          "      --log-level LEVEL      error, warn, info (default) or debug\n"
          "      --log-timestamps       prefix log lines with the time\n"
          "      --print-config         print the effective configuration and exit\n"
          "  -h, --help                 this text\n"
          "  -V, --version              the version\n"
          "\n"
          "Example:\n"
          "  mediad --control-socket /tmp/mediad.sock --ice-address 127.0.0.1 \\\n"
          "         --turn-url 'turn:127.0.0.1:3478?transport=udp' --turn-secret-file secret\n",
          out);
}

enum {
    OPT_CONTROL = 256, OPT_ICE_ADDR, OPT_PORTS, OPT_TURN_URL, OPT_TURN_SECRET_FILE, OPT_TURN_TTL,
    OPT_MAX_SESSIONS, OPT_WORKERS, OPT_IDLE, OPT_MAX_DURATION, OPT_ECHO_SSRC, OPT_LOG_LEVEL, OPT_LOG_TS, OPT_PRINT,
    OPT_NO_ICE_TCP,
};

static int flag_uint(const char *name, const char *v, long lo, long hi, long *out, char *err,
                     size_t cap)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || end == v || n < lo || n > hi)
        return fail(err, cap, "--%s: a number from %ld to %ld, got '%s'", name, lo, hi, v);
    *out = n;
    return 0;
}

int media_config_from_args(struct media_config *cfg, int argc, char **argv, FILE *out,
                           enum media_cfg_action *action, char *err, size_t err_cap)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"control-socket", required_argument, NULL, OPT_CONTROL},
        {"ice-address", required_argument, NULL, OPT_ICE_ADDR},
        {"ports", required_argument, NULL, OPT_PORTS},
        {"no-ice-tcp", no_argument, NULL, OPT_NO_ICE_TCP},
        {"turn-url", required_argument, NULL, OPT_TURN_URL},
        {"turn-secret-file", required_argument, NULL, OPT_TURN_SECRET_FILE},
        {"turn-ttl", required_argument, NULL, OPT_TURN_TTL},
        {"max-sessions", required_argument, NULL, OPT_MAX_SESSIONS},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {"idle-timeout", required_argument, NULL, OPT_IDLE},
        {"max-duration", required_argument, NULL, OPT_MAX_DURATION},
        {"echo-ssrc", required_argument, NULL, OPT_ECHO_SSRC},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"log-timestamps", no_argument, NULL, OPT_LOG_TS},
        {"print-config", no_argument, NULL, OPT_PRINT},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {0},
    };
    media_config_defaults(cfg);
    *action = MEDIA_RUN;
    /* The file first, so that flags override it wherever they appear. */
    for (int i = 1; i < argc; i++) {
        const char *path = NULL;
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            path = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        if (path) {
            set_str(&cfg->config_path, path);
            if (load_file(cfg, path, err, err_cap))
                return -EINVAL;
        }
    }
    bool print = false, urls_from_flags = false, addrs_from_flags = false;
    optind = 1;
    opterr = 0;
    int c;
    long n = 0;
    while ((c = getopt_long(argc, argv, ":c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': break;
        case OPT_CONTROL: set_str(&cfg->control_socket, optarg); break;
        case OPT_ICE_ADDR:
            if (!addrs_from_flags) /* flags replace the file's list */
                clear_list(cfg->ice_addresses, &cfg->n_ice_addresses);
            addrs_from_flags = true;
            if (add_address(cfg, optarg, err, err_cap, "--ice-address"))
                return -EINVAL;
            break;
        case OPT_PORTS:
            if (parse_ports(optarg, &cfg->port_min, &cfg->port_max))
                return fail(err, err_cap, "--ports: expected LO-HI, got '%s'", optarg);
            break;
        case OPT_NO_ICE_TCP: cfg->ice_tcp = false; break;
        case OPT_TURN_URL:
            if (!urls_from_flags)
                clear_list(cfg->turn_urls, &cfg->n_turn_urls);
            urls_from_flags = true;
            if (add_turn_url(cfg, optarg, err, err_cap, "--turn-url"))
                return -EINVAL;
            break;
        case OPT_TURN_SECRET_FILE: set_str(&cfg->turn_secret_file, optarg); break;
        case OPT_TURN_TTL:
            if (flag_uint("turn-ttl", optarg, 60, 7 * 86400, &n, err, err_cap))
                return -EINVAL;
            cfg->turn_ttl_s = (int)n;
            break;
        case OPT_MAX_SESSIONS:
            if (flag_uint("max-sessions", optarg, 1, 10000, &n, err, err_cap))
                return -EINVAL;
            cfg->max_sessions = (unsigned)n;
            break;
        case OPT_WORKERS:
            if (flag_uint("workers", optarg, 1, MEDIA_MAX_WORKERS, &n, err, err_cap))
                return -EINVAL;
            cfg->workers = (unsigned)n;
            break;
        case OPT_IDLE:
            if (flag_uint("idle-timeout", optarg, 5, 3600, &n, err, err_cap))
                return -EINVAL;
            cfg->idle_timeout_s = (unsigned)n;
            break;
        case OPT_MAX_DURATION:
            if (flag_uint("max-duration", optarg, 10, 86400, &n, err, err_cap))
                return -EINVAL;
            cfg->max_duration_s = (unsigned)n;
            break;
        case OPT_ECHO_SSRC:
            if (strcmp(optarg, "same") != 0 && strcmp(optarg, "own") != 0)
                return fail(err, err_cap, "--echo-ssrc: same or own, got '%s'", optarg);
            cfg->echo_same_ssrc = strcmp(optarg, "same") == 0;
            break;
        case OPT_LOG_LEVEL:
            if (lt_log_level_parse(optarg, &cfg->log_level))
                return fail(err, err_cap, "--log-level: error, warn, info or debug");
            break;
        case OPT_LOG_TS: cfg->log_timestamps = true; break;
        case OPT_PRINT: print = true; break;
        case 'h':
            usage(out);
            *action = MEDIA_EXIT_OK;
            return 0;
        case 'V':
            fprintf(out, "mediad (lanturn) %s\n", LANTURN_VERSION);
            *action = MEDIA_EXIT_OK;
            return 0;
        case ':': return fail(err, err_cap, "%s needs a value", argv[optind - 1]);
        default: return fail(err, err_cap, "unknown option '%s' (see --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fail(err, err_cap, "unexpected argument '%s' (see --help)", argv[optind]);
    if (read_secret_file(cfg, err, err_cap))
        return -EINVAL;
    if (cfg->n_turn_urls && !cfg->turn_secret)
        return fail(err, err_cap, "turn_urls need turn_secret_file (the secret shared with turnd)");
    if (print) {
        media_config_print(cfg, out);
        *action = MEDIA_EXIT_OK;
    }
    return 0;
}

void media_config_print(const struct media_config *cfg, FILE *out)
{
    fprintf(out, "# effective mediad configuration (secrets redacted)\nmedia:\n{\n");
    fprintf(out, "  control_socket = \"%s\";\n", cfg->control_socket);
    fprintf(out, "  ice_addresses = [");
    for (unsigned i = 0; i < cfg->n_ice_addresses; i++)
        fprintf(out, "%s\"%s\"", i ? ", " : "", cfg->ice_addresses[i]);
    fprintf(out, "];\n");
    if (cfg->port_min)
        fprintf(out, "  ports = \"%d-%d\";\n", cfg->port_min, cfg->port_max);
    fprintf(out, "  ice_tcp = %s;\n", cfg->ice_tcp ? "true" : "false");
    fprintf(out, "  turn_urls = [");
    for (unsigned i = 0; i < cfg->n_turn_urls; i++)
        fprintf(out, "%s\"%s\"", i ? ", " : "", cfg->turn_urls[i]);
    fprintf(out, "];\n");
    if (cfg->turn_secret_file)
        fprintf(out, "  turn_secret_file = \"%s\";\n", cfg->turn_secret_file);
    else if (cfg->turn_secret)
        fprintf(out, "  turn_secret = \"(redacted)\";\n");
    fprintf(out, "  turn_ttl = %d;\n  max_sessions = %u;\n  workers = %u;\n  idle_timeout = %u;\n",
            cfg->turn_ttl_s, cfg->max_sessions, cfg->workers, cfg->idle_timeout_s);
    fprintf(out, "  max_video_kbps = %u;\n", cfg->max_video_kbps);
    fprintf(out, "  max_duration = %u;\n  echo_ssrc = \"%s\";\n", cfg->max_duration_s,
            cfg->echo_same_ssrc ? "same" : "own");
    fprintf(out, "  log_level = \"%s\";\n};\n", lt_log_level_name(cfg->log_level));
}
