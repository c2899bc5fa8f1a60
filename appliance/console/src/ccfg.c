/*
 * ccfg.c - lanturn-console's configuration (see ccfg.h).
 */
#include "ccfg.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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

void con_config_defaults(struct con_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    con_parse_listen("0.0.0.0:8443", &cfg->listen);
    set_str(&cfg->web_root, "/usr/share/lanturn/console");
    set_str(&cfg->control_socket, "/run/lanturn/applianced.sock");
    set_str(&cfg->data_dir, "/var/lib/lanturn");
    set_str(&cfg->applianced_bin, "/usr/sbin/applianced");
    cfg->idle_minutes = 30;
    cfg->session_hours = 12;
    cfg->scrypt_n = 32768;
    cfg->log_level = LT_LOG_INFO;
}

void con_config_release(struct con_config *cfg)
{
    free(cfg->config_path);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->web_root);
    free(cfg->control_socket);
    free(cfg->data_dir);
    free(cfg->applianced_bin);
    memset(cfg, 0, sizeof *cfg);
}

int con_parse_listen(const char *s, struct con_listen *l)
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
    if (*end || end == colon + 1 || port < 1 || port > 65535)
        return -EINVAL;
    memcpy(l->host, host, hlen + 1);
    l->port = (int)port;
    return 0;
}

/* ---- the libconfig group; each key next to the code that reads it ---- */

struct key {
    const char *name;
    int (*load)(struct con_config *cfg, const config_setting_t *s, const char *where, char *err,
                size_t cap);
};

static int load_listen(struct con_config *cfg, const config_setting_t *s, const char *where,
                       char *err, size_t cap)
{
    const char *v = config_setting_get_string(s);
    if (!v || con_parse_listen(v, &cfg->listen) != 0)
        return fail(err, cap, "%s: expected \"IP:PORT\"%s%s%s", where, v ? ", got '" : "",
                    v ? v : "", v ? "'" : "");
    return 0;
}

#define STRING_KEY(field)                                                                        \
    static int load_##field(struct con_config *cfg, const config_setting_t *s, const char *where, \
                            char *err, size_t cap)                                               \
    {                                                                                            \
        const char *v = config_setting_get_string(s);                                            \
        if (!v || !v[0])                                                                         \
            return fail(err, cap, "%s: expected a non-empty string", where);                     \
        set_str(&cfg->field, v);                                                                 \
        return 0;                                                                                \
    }
STRING_KEY(tls_cert)
STRING_KEY(tls_key)
STRING_KEY(web_root)
STRING_KEY(control_socket)
STRING_KEY(data_dir)
STRING_KEY(applianced_bin)

static int get_int(const config_setting_t *s, const char *where, long long lo, long long hi,
                   long long *out, char *err, size_t cap)
{
    if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
        return fail(err, cap, "%s: expected an integer", where);
    long long v = config_setting_get_int64(s);
    if (v < lo || v > hi)
        return fail(err, cap, "%s: %lld is outside %lld..%lld", where, v, lo, hi);
    *out = v;
    return 0;
}

static int load_idle(struct con_config *cfg, const config_setting_t *s, const char *where,
                     char *err, size_t cap)
{
    long long v = 0;
    if (get_int(s, where, 1, 24 * 60, &v, err, cap))
        return -EINVAL;
    cfg->idle_minutes = (int)v;
    return 0;
}

static int load_session(struct con_config *cfg, const config_setting_t *s, const char *where,
                        char *err, size_t cap)
{
    long long v = 0;
    if (get_int(s, where, 1, 24 * 7, &v, err, cap))
        return -EINVAL;
    cfg->session_hours = (int)v;
    return 0;
}

static int load_log_level(struct con_config *cfg, const config_setting_t *s, const char *where,
                          char *err, size_t cap)
{
    const char *v = config_setting_get_string(s);
    if (!v || lt_log_level_parse(v, &cfg->log_level) != 0)
        return fail(err, cap, "%s: error, warn, info or debug", where);
    return 0;
}

static const struct key KEYS[] = {
    {"listen", load_listen},
    {"tls_cert", load_tls_cert},
    {"tls_key", load_tls_key},
    {"web_root", load_web_root},
    {"control_socket", load_control_socket},
    {"data_dir", load_data_dir},
    {"applianced", load_applianced_bin},
    {"idle_minutes", load_idle},
    {"session_hours", load_session},
    {"log_level", load_log_level},
    {NULL, NULL},
};

/* Defaults borrowed from the other groups (read, never validated here: their
 * owners do that). */
static void borrow(struct con_config *cfg, config_t *lc)
{
    const char *s;
    if (config_lookup_string(lc, "appliance.control_socket", &s) == CONFIG_TRUE)
        set_str(&cfg->control_socket, s);
    if (config_lookup_string(lc, "signal.data_dir", &s) == CONFIG_TRUE)
        set_str(&cfg->data_dir, s);
    if (config_lookup_string(lc, "signal.tls_cert", &s) == CONFIG_TRUE)
        set_str(&cfg->tls_cert, s);
    if (config_lookup_string(lc, "signal.tls_key", &s) == CONFIG_TRUE)
        set_str(&cfg->tls_key, s);
    long long n;
    if (config_lookup_int64(lc, "signal.password_scrypt_n", &n) == CONFIG_TRUE && n > 0)
        cfg->scrypt_n = (uint64_t)n;
    else {
        int i;
        if (config_lookup_int(lc, "signal.password_scrypt_n", &i) == CONFIG_TRUE && i > 0)
            cfg->scrypt_n = (uint64_t)i;
    }
}

static int load_group(struct con_config *cfg, config_t *lc, const char *file, char *err, size_t cap)
{
    borrow(cfg, lc);
    config_setting_t *g = config_lookup(lc, "console");
    if (!g)
        return 0;
    if (!config_setting_is_group(g))
        return fail(err, cap, "%s:%d: console must be a group { ... }", file,
                    config_setting_source_line(g));
    for (int i = 0; i < config_setting_length(g); i++) {
        config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        char where[600];
        snprintf(where, sizeof where, "%s:%d: console.%s", file, config_setting_source_line(s),
                 name);
        const struct key *k = KEYS;
        while (k->name && strcmp(k->name, name) != 0)
            k++;
        if (!k->name)
            return fail(err, cap, "%s:%d: unknown setting '%s' in console", file,
                        config_setting_source_line(s), name);
        if (k->load(cfg, s, where, err, cap))
            return -EINVAL;
    }
    return 0;
}

int con_config_load_file(struct con_config *cfg, const char *path, char *err, size_t cap)
{
    config_t lc;
    config_init(&lc);
    int rc;
    if (config_read_file(&lc, path) != CONFIG_TRUE)
        rc = config_error_type(&lc) == CONFIG_ERR_FILE_IO
                 ? fail(err, cap, "%s: cannot read: %s", path, strerror(errno))
                 : fail(err, cap, "%s:%d: %s", path, config_error_line(&lc), config_error_text(&lc));
    else
        rc = load_group(cfg, &lc, path, err, cap);
    config_destroy(&lc);
    return rc;
}

static void usage(FILE *out)
{
    fputs("Usage: lanturn-console [OPTION]...\n"
          "lanturn's admin web console: services, users, rooms, TURN sessions, settings,\n"
          "certificates, backups, logs, the audit log and network diagnostics, over HTTPS,\n"
          "for administrators only. applianced starts it; it asks applianced (control\n"
          "socket) about the services and works on the database directly.\n"
          "\n"
          "Settings come from built-in defaults, then the `console { }` group of the config\n"
          "file (certificate, data directory and control socket default to those of the\n"
          "other groups), then these flags.\n"
          "  -c, --config FILE        the appliance's config file (Settings edits it)\n"
          "  -l, --listen IP:PORT     HTTPS (default 0.0.0.0:8443)\n"
          "      --tls-cert FILE      PEM certificate chain (default signal.tls_cert)\n"
          "      --tls-key FILE       PEM private key (default signal.tls_key)\n"
          "      --web-root DIR       the console's UI (default /usr/share/lanturn/console)\n"
          "      --control-socket P   applianced's socket (default appliance.control_socket)\n"
          "  -d, --data-dir DIR       the database (default signal.data_dir)\n"
          "      --applianced FILE    checks edited configs (default /usr/sbin/applianced)\n"
          "      --log-level LEVEL    error, warn, info (default) or debug\n"
          "      --log-timestamps     prefix log lines with the time\n"
          "      --print-config       print the effective configuration and exit\n"
          "  -h, --help               this text\n"
          "  -V, --version            the version\n",
          out);
}

enum {
    OPT_TLS_CERT = 256, OPT_TLS_KEY, OPT_WEB_ROOT, OPT_CONTROL, OPT_APPLIANCED, OPT_LOG_LEVEL,
    OPT_LOG_TS, OPT_PRINT,
};

int con_config_from_args(struct con_config *cfg, int argc, char **argv, FILE *out,
                         enum con_cfg_action *action, char *err, size_t cap)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"data-dir", required_argument, NULL, 'd'},
        {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
        {"tls-key", required_argument, NULL, OPT_TLS_KEY},
        {"web-root", required_argument, NULL, OPT_WEB_ROOT},
        {"control-socket", required_argument, NULL, OPT_CONTROL},
        {"applianced", required_argument, NULL, OPT_APPLIANCED},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"log-timestamps", no_argument, NULL, OPT_LOG_TS},
        {"print-config", no_argument, NULL, OPT_PRINT},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {0},
    };
    con_config_defaults(cfg);
    *action = CON_RUN;
    /* The file first, so that flags override it wherever they appear. */
    for (int i = 1; i < argc; i++) {
        const char *path = NULL;
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            path = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        if (path) {
            set_str(&cfg->config_path, path);
            if (con_config_load_file(cfg, path, err, cap))
                return -EINVAL;
        }
    }
    bool print = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":c:l:d:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': break;
        case 'l':
            if (con_parse_listen(optarg, &cfg->listen))
                return fail(err, cap, "--listen: expected IP:PORT, got '%s'", optarg);
            break;
        case 'd': set_str(&cfg->data_dir, optarg); break;
        case OPT_TLS_CERT: set_str(&cfg->tls_cert, optarg); break;
        case OPT_TLS_KEY: set_str(&cfg->tls_key, optarg); break;
        case OPT_WEB_ROOT: set_str(&cfg->web_root, optarg); break;
        case OPT_CONTROL: set_str(&cfg->control_socket, optarg); break;
        case OPT_APPLIANCED: set_str(&cfg->applianced_bin, optarg); break;
        case OPT_LOG_LEVEL:
            if (lt_log_level_parse(optarg, &cfg->log_level))
                return fail(err, cap, "--log-level: error, warn, info or debug");
            break;
        case OPT_LOG_TS: cfg->log_timestamps = true; break;
        case OPT_PRINT: print = true; break;
        case 'h':
            usage(out);
            *action = CON_EXIT_OK;
            return 0;
        case 'V':
            fprintf(out, "lanturn-console (lanturn) %s\n", LANTURN_VERSION);
            *action = CON_EXIT_OK;
            return 0;
        case ':': return fail(err, cap, "%s needs a value", argv[optind - 1]);
        default: return fail(err, cap, "unknown option '%s' (see --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fail(err, cap, "unexpected argument '%s' (see --help)", argv[optind]);
    /* HTTPS only: the console carries admin passwords. */
    if (!cfg->tls_cert || !cfg->tls_key)
        return fail(err, cap, "console: tls_cert and tls_key are required (or signal.tls_cert "
                    "and signal.tls_key in the same file)");
    if (print) {
        con_config_print(cfg, out);
        *action = CON_EXIT_OK;
    }
    return 0;
}

void con_config_print(const struct con_config *cfg, FILE *out)
{
    bool v6 = strchr(cfg->listen.host, ':') != NULL;
    fprintf(out, "# effective lanturn-console configuration\nconsole:\n{\n");
    fprintf(out, "  listen = \"%s%s%s:%d\";\n", v6 ? "[" : "", cfg->listen.host, v6 ? "]" : "",
            cfg->listen.port);
    fprintf(out, "  tls_cert = \"%s\";\n  tls_key = \"%s\";\n", cfg->tls_cert, cfg->tls_key);
    fprintf(out, "  web_root = \"%s\";\n", cfg->web_root);
    fprintf(out, "  control_socket = \"%s\";\n", cfg->control_socket);
    fprintf(out, "  data_dir = \"%s\";\n", cfg->data_dir);
    fprintf(out, "  applianced = \"%s\";\n", cfg->applianced_bin);
    fprintf(out, "  idle_minutes = %d;\n  session_hours = %d;\n", cfg->idle_minutes,
            cfg->session_hours);
    fprintf(out, "  log_level = \"%s\";\n};\n", lt_log_level_name(cfg->log_level));
}
