/*
 * cfg.c - signald's configuration (see cfg.h).
 */
#include "cfg.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <libconfig.h>

#include "lanturn/storage.h"

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

#define DAY_MS ((int64_t)86400 * 1000)
#define SIG_EVENT_RETENTION_DAYS 7 /* a week away still resumes exactly */

static void set_str(char **dst, const char *src)
{
    free(*dst);
    *dst = src ? strdup(src) : NULL;
}

void sig_config_defaults(struct sig_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    set_str(&cfg->data_dir, "/var/lib/lanturn");
    sig_parse_listen("127.0.0.1:443", &cfg->listen);
    sig_parse_listen("127.0.0.1:3000", &cfg->ws_listen);
    set_str(&cfg->web_root, "/usr/share/lanturn/web");
    set_str(&cfg->control_socket, "/run/lanturn/signald.sock");
    set_str(&cfg->media_socket, "");
    cfg->file_max_bytes = STO_FILE_MAX_DEFAULT;
    cfg->event_retention_ms = SIG_EVENT_RETENTION_DAYS * DAY_MS;
    cfg->log_level = LT_LOG_INFO;
    sig_hub_config_defaults(&cfg->hub);
    sig_api_config_defaults(&cfg->api);
}

void sig_config_release(struct sig_config *cfg)
{
    free(cfg->data_dir);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->web_root);
    free(cfg->control_socket);
    free(cfg->media_socket);
    if (cfg->turn_secret) {
        memset(cfg->turn_secret, 0, strlen(cfg->turn_secret));
        free(cfg->turn_secret);
    }
    free(cfg->turn_secret_file);
    for (unsigned i = 0; i < cfg->n_turn_urls; i++)
        free(cfg->turn_urls[i]);
    free(cfg->config_path);
    memset(cfg, 0, sizeof *cfg);
}

int sig_parse_listen(const char *s, struct sig_listen *l)
{
    const char *colon;
    size_t hlen;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return -EINVAL;
        hlen = (size_t)(close - s - 1);
        s++;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return -EINVAL;
        hlen = (size_t)(colon - s);
    }
    if (hlen == 0 || hlen >= sizeof l->host)
        return -EINVAL;
    char host[sizeof l->host];
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    unsigned char tmp[16];
    if (inet_pton(AF_INET, host, tmp) != 1 && inet_pton(AF_INET6, host, tmp) != 1)
        return -EINVAL;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return -EINVAL;
    memcpy(l->host, host, hlen + 1);
    l->port = (int)port;
    return 0;
}

static int add_turn_url(struct sig_config *cfg, const char *url, char *err, size_t cap,
                        const char *where)
{
    if (strncmp(url, "turn:", 5) != 0 && strncmp(url, "turns:", 6) != 0 &&
        strncmp(url, "stun:", 5) != 0)
        return fail(err, cap, "%s: '%s' is not a turn:, turns: or stun: URL", where, url);
    if (cfg->n_turn_urls == SIG_MAX_TURN_URLS)
        return fail(err, cap, "%s: at most %d TURN URLs", where, SIG_MAX_TURN_URLS);
    cfg->turn_urls[cfg->n_turn_urls++] = strdup(url);
    return 0;
}

static int read_secret_file(struct sig_config *cfg, char *err, size_t cap)
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

static const char *const KEYS[] = {
    "data_dir", "listen", "ws_listen", "tls_cert", "tls_key", "web_root", "turn_secret",
    "turn_secret_file", "turn_urls", "turn_ttl", "ice_transport_policy", "file_max_mb",
    "max_frame_kb", "rate_per_second", "rate_burst", "ring_timeout", "max_connections",
    "session_days", "self_registration", "password_scrypt_n", "log_level", "control_socket",
    "presence_broadcast_max", "media_socket", "password_threads", "password_jobs", "call_mesh_max",
    "broadcast_max", "call_sfu_max", "event_retention_days", NULL,
};

static int check_int(const config_setting_t *s, const char *file, long long lo, long long hi,
                     long long *out, char *err, size_t cap)
{
    if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
        return fail(err, cap, "%s:%d: signal.%s: expected an integer", file,
                    config_setting_source_line(s), config_setting_name(s));
    long long v = config_setting_get_int64(s);
    if (v < lo || v > hi)
        return fail(err, cap, "%s:%d: signal.%s: %lld is outside %lld..%lld", file,
                    config_setting_source_line(s), config_setting_name(s), v, lo, hi);
    *out = v;
    return 0;
}

static int load_group(struct sig_config *cfg, config_t *lc, const char *file, char *err,
                      size_t cap)
{
    config_setting_t *g = config_lookup(lc, "signal");
    if (!g)
        return 0;
    if (!config_setting_is_group(g))
        return fail(err, cap, "%s:%d: signal must be a group { ... }", file,
                    config_setting_source_line(g));
    for (int i = 0; i < config_setting_length(g); i++) {
        config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *key = config_setting_name(s);
        int line = config_setting_source_line(s);
        bool known = false;
        for (const char *const *k = KEYS; *k; k++)
            known |= strcmp(*k, key) == 0;
        if (!known)
            return fail(err, cap, "%s:%d: unknown setting '%s' in signal", file, line, key);
        const char *str = config_setting_get_string(s);
        long long v = 0;
        static const char *const STRING_KEYS[] = {
            "data_dir", "listen", "ws_listen", "tls_cert", "tls_key", "web_root", "turn_secret",
            "turn_secret_file", "ice_transport_policy", "log_level", "control_socket",
            "media_socket", NULL,
        };
        bool is_str_key = false;
        for (const char *const *k = STRING_KEYS; *k; k++)
            is_str_key |= strcmp(*k, key) == 0;
        if (is_str_key && !str)
            return fail(err, cap, "%s:%d: signal.%s: expected a string", file, line, key);
        if (strcmp(key, "data_dir") == 0)
            set_str(&cfg->data_dir, str);
        else if (strcmp(key, "listen") == 0 || strcmp(key, "ws_listen") == 0) {
            struct sig_listen *l = key[0] == 'l' ? &cfg->listen : &cfg->ws_listen;
            if (sig_parse_listen(str, l) != 0)
                return fail(err, cap, "%s:%d: signal.%s: expected \"IP:PORT\", got '%s'", file,
                            line, key, str);
        } else if (strcmp(key, "tls_cert") == 0)
            set_str(&cfg->tls_cert, str);
        else if (strcmp(key, "tls_key") == 0)
            set_str(&cfg->tls_key, str);
        else if (strcmp(key, "web_root") == 0)
            set_str(&cfg->web_root, str);
        else if (strcmp(key, "control_socket") == 0)
            set_str(&cfg->control_socket, str);
        else if (strcmp(key, "media_socket") == 0)
            set_str(&cfg->media_socket, str);
        else if (strcmp(key, "turn_secret") == 0)
            set_str(&cfg->turn_secret, str);
        else if (strcmp(key, "turn_secret_file") == 0)
            set_str(&cfg->turn_secret_file, str);
        else if (strcmp(key, "turn_urls") == 0) {
            if (!config_setting_is_array(s) && !config_setting_is_list(s))
                return fail(err, cap, "%s:%d: signal.turn_urls: expected a list of strings", file,
                            line);
            char where[300];
            snprintf(where, sizeof where, "%s:%d: signal.turn_urls", file, line);
            for (int k = 0; k < config_setting_length(s); k++) {
                const char *u = config_setting_get_string_elem(s, k);
                if (!u || add_turn_url(cfg, u, err, cap, where))
                    return u ? -EINVAL
                             : fail(err, cap, "%s: expected strings", where);
            }
        } else if (strcmp(key, "ice_transport_policy") == 0) {
            if (strcmp(str, "relay") != 0 && strcmp(str, "all") != 0)
                return fail(err, cap, "%s:%d: signal.ice_transport_policy: \"relay\" or \"all\"",
                            file, line);
            cfg->hub.relay_only = strcmp(str, "relay") == 0;
        } else if (strcmp(key, "log_level") == 0) {
            if (lt_log_level_parse(str, &cfg->log_level) != 0)
                return fail(err, cap, "%s:%d: signal.log_level: error, warn, info or debug", file,
                            line);
        } else if (strcmp(key, "self_registration") == 0) {
            if (config_setting_type(s) != CONFIG_TYPE_BOOL)
                return fail(err, cap, "%s:%d: signal.self_registration: true or false", file, line);
            cfg->api.self_registration = config_setting_get_bool(s);
        } else if (strcmp(key, "turn_ttl") == 0) {
            if (check_int(s, file, 60, 7 * 86400, &v, err, cap))
                return -EINVAL;
            cfg->hub.turn_ttl_s = v;
        } else if (strcmp(key, "file_max_mb") == 0) {
            if (check_int(s, file, 1, 4096, &v, err, cap))
                return -EINVAL;
            cfg->file_max_bytes = (uint64_t)v << 20;
        } else if (strcmp(key, "max_frame_kb") == 0) {
            if (check_int(s, file, 4, 1024, &v, err, cap))
                return -EINVAL;
            cfg->hub.max_frame = (size_t)v * 1024;
        } else if (strcmp(key, "rate_per_second") == 0) {
            if (check_int(s, file, 1, 10000, &v, err, cap))
                return -EINVAL;
            cfg->hub.rate_per_s = (unsigned)v;
        } else if (strcmp(key, "rate_burst") == 0) {
            if (check_int(s, file, 1, 100000, &v, err, cap))
                return -EINVAL;
            cfg->hub.rate_burst = (unsigned)v;
        } else if (strcmp(key, "ring_timeout") == 0) {
            if (check_int(s, file, 5, 600, &v, err, cap))
                return -EINVAL;
            cfg->hub.ring_timeout_ms = v * 1000;
        } else if (strcmp(key, "max_connections") == 0) {
            if (check_int(s, file, 1, 1000000, &v, err, cap))
                return -EINVAL;
            cfg->hub.max_connections = (unsigned)v;
        } else if (strcmp(key, "presence_broadcast_max") == 0) {
            if (check_int(s, file, 0, 1000000, &v, err, cap))
                return -EINVAL;
            cfg->hub.presence_broadcast_max = (unsigned)v;
        } else if (strcmp(key, "call_mesh_max") == 0) {
            if (check_int(s, file, 0, 8, &v, err, cap)) /* a mesh holds 8 devices at most */
                return -EINVAL;
            cfg->hub.call_mesh_max = (unsigned)v;
        } else if (strcmp(key, "broadcast_max") == 0) {
            if (check_int(s, file, 1, 10000, &v, err, cap)) /* mediad's max_sessions bounds it too */
                return -EINVAL;
            cfg->hub.broadcast_max = (unsigned)v;
        } else if (strcmp(key, "call_sfu_max") == 0) {
            if (check_int(s, file, 2, 32, &v, err, cap)) /* mediad: 64 streams a room, 2 a device */
                return -EINVAL;
            cfg->hub.call_sfu_max = (unsigned)v;
        } else if (strcmp(key, "event_retention_days") == 0) {
            if (check_int(s, file, 0, 3650, &v, err, cap)) /* 0: keep forever */
                return -EINVAL;
            cfg->event_retention_ms = v * DAY_MS;
        } else if (strcmp(key, "session_days") == 0) {
            if (check_int(s, file, 1, 365, &v, err, cap))
                return -EINVAL;
            cfg->api.session_ttl_ms = v * 86400 * 1000;
        } else if (strcmp(key, "password_scrypt_n") == 0) {
            if (check_int(s, file, SIG_KDF_MIN_N, 1 << 20, &v, err, cap))
                return -EINVAL;
            cfg->api.kdf.n = (uint64_t)v;
            if (sig_kdf_check(&cfg->api.kdf) != 0)
                return fail(err, cap, "%s:%d: signal.password_scrypt_n: a power of two", file,
                            line);
        } else if (strcmp(key, "password_threads") == 0) {
            if (check_int(s, file, 1, 64, &v, err, cap))
                return -EINVAL;
            cfg->api.password_threads = (unsigned)v;
        } else if (strcmp(key, "password_jobs") == 0) {
            if (check_int(s, file, 1, 100000, &v, err, cap))
                return -EINVAL;
            cfg->api.password_jobs = (unsigned)v;
        }
    }
    return 0;
}

int sig_config_from_string(struct sig_config *cfg, const char *text, const char *name, char *err,
                           size_t err_cap)
{
    sig_config_defaults(cfg);
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

static int load_file(struct sig_config *cfg, const char *path, char *err, size_t cap)
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
    fputs("Usage: signald [OPTION]...\n"
          "       signald user add NAME [--admin] [--display-name TEXT] --password-file FILE\n"
          "       signald user passwd NAME --password-file FILE\n"
          "       signald user disable NAME | user enable NAME | user list\n"
          "lanturn's chat and signalling service: HTTPS API, WebSocket protocol, the browser\n"
          "client, files, call signalling and TURN credentials.\n"
          "\n"
          "Settings come from built-in defaults, then the `signal { }` group of the config\n"
          "file, then these flags.\n"
          "  -c, --config FILE          libconfig file (e.g. /etc/lanturn/lanturn.conf)\n"
          "  -d, --data-dir DIR         database and files (default /var/lib/lanturn)\n"
          "  -l, --listen IP:PORT       HTTPS and WebSocket (default 127.0.0.1:443)\n"
          "  -w, --ws-listen IP:PORT    WebSocket only, port 0 = off (default 127.0.0.1:3000)\n"
          "      --tls-cert FILE        PEM certificate (chain) for both listeners\n"
          "      --tls-key FILE         PEM private key\n"
          "      --web-root DIR         the browser client (default /usr/share/lanturn/web)\n"
          "      --control-socket PATH  unix socket for stats, sessions and metrics\n"
          "                             (default /run/lanturn/signald.sock; \"\" = none)\n"
          "      --media-socket PATH    mediad's socket, for \"test my call\" (default: none)\n"
          "      --turn-url URL         a TURN URL handed to clients (repeatable), e.g.\n"
          "                             turn:192.0.2.10:3478?transport=udp\n"
          "      --turn-secret-file F   the secret shared with turnd\n"
          "      --ice-policy P         relay (default: media only through TURN) or all\n"
          "      --self-registration    let anyone create an account (off by default)\n"
          "      --scrypt-n N           password hashing cost (power of two, >= 16384)\n"
          "      --log-level LEVEL      error, warn, info (default) or debug\n"
          "      --log-timestamps       prefix log lines with the time\n"
          "      --print-config         print the effective configuration and exit\n"
          "  -h, --help                 this text\n"
          "  -V, --version              the version\n"
          "\n"
          "Admin subcommands work on the data directory directly (stop-free: SQLite\n"
          "allows them while signald runs). Exit codes: 0 done, 1 error, 2 usage,\n"
          "3 the user exists / does not exist.\n"
          "\n"
          "Example:\n"
          "  signald -d /tmp/lt --listen 127.0.0.1:8443 --ws-listen 0.0.0.0:0 \\\n"
          "          --tls-cert cert.pem --tls-key key.pem --web-root signal/web\n",
          out);
}

enum {
    OPT_TLS_CERT = 256, OPT_TLS_KEY, OPT_WEB_ROOT, OPT_TURN_URL, OPT_TURN_SECRET_FILE,
    OPT_ICE_POLICY, OPT_SELF_REG, OPT_SCRYPT_N, OPT_LOG_LEVEL, OPT_LOG_TS, OPT_PRINT, OPT_CONTROL,
    OPT_MEDIA,
};

int sig_config_from_args(struct sig_config *cfg, int argc, char **argv, FILE *out,
                         enum sig_cfg_action *action, char *err, size_t err_cap)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"data-dir", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"ws-listen", required_argument, NULL, 'w'},
        {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
        {"tls-key", required_argument, NULL, OPT_TLS_KEY},
        {"web-root", required_argument, NULL, OPT_WEB_ROOT},
        {"turn-url", required_argument, NULL, OPT_TURN_URL},
        {"turn-secret-file", required_argument, NULL, OPT_TURN_SECRET_FILE},
        {"ice-policy", required_argument, NULL, OPT_ICE_POLICY},
        {"self-registration", no_argument, NULL, OPT_SELF_REG},
        {"scrypt-n", required_argument, NULL, OPT_SCRYPT_N},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"log-timestamps", no_argument, NULL, OPT_LOG_TS},
        {"print-config", no_argument, NULL, OPT_PRINT},
        {"control-socket", required_argument, NULL, OPT_CONTROL},
        {"media-socket", required_argument, NULL, OPT_MEDIA},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {0},
    };
    sig_config_defaults(cfg);
    *action = SIG_RUN;
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
    bool print = false;
    bool urls_from_flags = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":c:d:l:w:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': break;
        case 'd': set_str(&cfg->data_dir, optarg); break;
        case 'l':
        case 'w':
            if (sig_parse_listen(optarg, c == 'l' ? &cfg->listen : &cfg->ws_listen))
                return fail(err, err_cap, "--%s: expected IP:PORT, got '%s'",
                            c == 'l' ? "listen" : "ws-listen", optarg);
            break;
        case OPT_TLS_CERT: set_str(&cfg->tls_cert, optarg); break;
        case OPT_TLS_KEY: set_str(&cfg->tls_key, optarg); break;
        case OPT_WEB_ROOT: set_str(&cfg->web_root, optarg); break;
        case OPT_CONTROL: set_str(&cfg->control_socket, optarg); break;
        case OPT_MEDIA: set_str(&cfg->media_socket, optarg); break;
        case OPT_TURN_URL:
            if (!urls_from_flags) { /* flags replace the file's list */
                for (unsigned i = 0; i < cfg->n_turn_urls; i++)
                    free(cfg->turn_urls[i]);
                cfg->n_turn_urls = 0;
                urls_from_flags = true;
            }
            if (add_turn_url(cfg, optarg, err, err_cap, "--turn-url"))
                return -EINVAL;
            break;
        case OPT_TURN_SECRET_FILE: set_str(&cfg->turn_secret_file, optarg); break;
        case OPT_ICE_POLICY:
            if (strcmp(optarg, "relay") != 0 && strcmp(optarg, "all") != 0)
                return fail(err, err_cap, "--ice-policy: relay or all, got '%s'", optarg);
            cfg->hub.relay_only = strcmp(optarg, "relay") == 0;
            break;
        case OPT_SELF_REG: cfg->api.self_registration = true; break;
        case OPT_SCRYPT_N: {
            char *end;
            unsigned long long n = strtoull(optarg, &end, 10);
            cfg->api.kdf.n = n;
            if (*end || sig_kdf_check(&cfg->api.kdf))
                return fail(err, err_cap, "--scrypt-n: a power of two from %d to 1048576",
                            SIG_KDF_MIN_N);
            break;
        }
        case OPT_LOG_LEVEL:
            if (lt_log_level_parse(optarg, &cfg->log_level))
                return fail(err, err_cap, "--log-level: error, warn, info or debug");
            break;
        case OPT_LOG_TS: cfg->log_timestamps = true; break;
        case OPT_PRINT: print = true; break;
        case 'h':
            usage(out);
            *action = SIG_EXIT_OK;
            return 0;
        case 'V':
            fprintf(out, "signald (lanturn) %s\n", LANTURN_VERSION);
            *action = SIG_EXIT_OK;
            return 0;
        case ':': return fail(err, err_cap, "%s needs a value", argv[optind - 1]);
        default: return fail(err, err_cap, "unknown option '%s' (see --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fail(err, err_cap, "unexpected argument '%s' (see --help)", argv[optind]);
    if (read_secret_file(cfg, err, err_cap))
        return -EINVAL;
    if (!cfg->tls_cert != !cfg->tls_key)
        return fail(err, err_cap, "tls_cert and tls_key go together");
    if (print) {
        sig_config_print(cfg, out);
        *action = SIG_EXIT_OK;
    }
    return 0;
}

static void print_listen(FILE *out, const char *key, const struct sig_listen *l)
{
    bool v6 = strchr(l->host, ':') != NULL;
    fprintf(out, "  %s = \"%s%s%s:%d\";\n", key, v6 ? "[" : "", l->host, v6 ? "]" : "", l->port);
}

void sig_config_print(const struct sig_config *cfg, FILE *out)
{
    fprintf(out, "# effective signald configuration (secrets redacted)\nsignal:\n{\n");
    fprintf(out, "  data_dir = \"%s\";\n", cfg->data_dir);
    print_listen(out, "listen", &cfg->listen);
    print_listen(out, "ws_listen", &cfg->ws_listen);
    if (cfg->tls_cert)
        fprintf(out, "  tls_cert = \"%s\";\n  tls_key = \"%s\";\n", cfg->tls_cert, cfg->tls_key);
    fprintf(out, "  web_root = \"%s\";\n", cfg->web_root);
    fprintf(out, "  control_socket = \"%s\";\n", cfg->control_socket);
    fprintf(out, "  media_socket = \"%s\";\n", cfg->media_socket);
    if (cfg->turn_secret_file)
        fprintf(out, "  turn_secret_file = \"%s\";\n", cfg->turn_secret_file);
    else if (cfg->turn_secret)
        fprintf(out, "  turn_secret = \"(redacted)\";\n");
    fprintf(out, "  turn_urls = [");
    for (unsigned i = 0; i < cfg->n_turn_urls; i++)
        fprintf(out, "%s\"%s\"", i ? ", " : "", cfg->turn_urls[i]);
    fprintf(out, "];\n  turn_ttl = %" PRId64 ";\n", cfg->hub.turn_ttl_s);
    fprintf(out, "  ice_transport_policy = \"%s\";\n", cfg->hub.relay_only ? "relay" : "all");
    fprintf(out, "  file_max_mb = %" PRIu64 ";\n", cfg->file_max_bytes >> 20);
    fprintf(out, "  max_frame_kb = %zu;\n", cfg->hub.max_frame / 1024);
    fprintf(out, "  rate_per_second = %u;\n  rate_burst = %u;\n", cfg->hub.rate_per_s,
            cfg->hub.rate_burst);
    fprintf(out, "  ring_timeout = %" PRId64 ";\n", cfg->hub.ring_timeout_ms / 1000);
    fprintf(out, "  max_connections = %u;\n", cfg->hub.max_connections);
    fprintf(out, "  presence_broadcast_max = %u;\n", cfg->hub.presence_broadcast_max);
    fprintf(out, "  call_mesh_max = %u;\n", cfg->hub.call_mesh_max);
    fprintf(out, "  broadcast_max = %u;\n", cfg->hub.broadcast_max);
    fprintf(out, "  call_sfu_max = %u;\n", cfg->hub.call_sfu_max);
    fprintf(out, "  event_retention_days = %" PRId64 ";\n", cfg->event_retention_ms / DAY_MS);
    fprintf(out, "  session_days = %" PRId64 ";\n", cfg->api.session_ttl_ms / 86400000);
    fprintf(out, "  self_registration = %s;\n", cfg->api.self_registration ? "true" : "false");
    fprintf(out, "  password_scrypt_n = %" PRIu64 ";\n", cfg->api.kdf.n);
    fprintf(out, "  password_threads = %u;\n  password_jobs = %u;\n", cfg->api.password_threads,
            cfg->api.password_jobs);
    fprintf(out, "  log_level = \"%s\";\n};\n", lt_log_level_name(cfg->log_level));
}
