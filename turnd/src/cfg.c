/*
 * cfg.c - turnd's configuration: defaults, the `turnd { }` group of a
 * libconfig file, then command-line flags (see cfg.h). Values are collected
 * into a small "pending" form first so the realm is known before user keys
 * are derived and flags can replace or extend the file's lists.
 */
#include "cfg.h"

#include <errno.h>
#include <getopt.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#define MAX_USERS 1024

struct pending {
    char *listen[TURND_MAX_LISTEN];
    unsigned n_listen;
    char *tls_listen[TURND_MAX_LISTEN];
    unsigned n_tls_listen;
    char *dtls_listen[TURND_MAX_LISTEN];
    unsigned n_dtls_listen;
    char *relay[4];
    unsigned n_relay;
    char *users[MAX_USERS]; /* "name:password" */
    unsigned n_users;
    char *secret;
    char *secret_file;
};

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static void free_list(char **list, unsigned *n)
{
    for (unsigned i = 0; i < *n; i++)
        free(list[i]);
    *n = 0;
}

static void pending_release(struct pending *p)
{
    free_list(p->listen, &p->n_listen);
    free_list(p->tls_listen, &p->n_tls_listen);
    free_list(p->dtls_listen, &p->n_dtls_listen);
    free_list(p->relay, &p->n_relay);
    for (unsigned i = 0; i < p->n_users; i++) {
        memset(p->users[i], 0, strlen(p->users[i]));
        free(p->users[i]);
    }
    p->n_users = 0;
    free(p->secret);
    free(p->secret_file);
}

static int push(char **list, unsigned *n, unsigned max, const char *s)
{
    if (*n >= max)
        return -ENOSPC;
    list[*n] = strdup(s);
    if (!list[*n])
        return -ENOMEM;
    (*n)++;
    return 0;
}

static int set_str(char **dst, const char *s)
{
    char *copy = strdup(s);
    if (!copy)
        return -ENOMEM;
    free(*dst);
    *dst = copy;
    return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

/* "" turns the endpoint off; otherwise an address with a port. */
static int parse_metrics_listen(const char *s, struct stun_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (!*s) return 0;
    return stun_addr_parse(s, out) == 0 && out->port != 0 ? 0 : -EINVAL;
}

static int parse_ports(const char *s, uint16_t *lo, uint16_t *hi)
{
    char buf[32];
    const char *dash = strchr(s, '-');
    unsigned long a, b;
    if (!dash || (size_t)(dash - s) >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, (size_t)(dash - s));
    buf[dash - s] = '\0';
    if (parse_uint(buf, 65535, &a) || parse_uint(dash + 1, 65535, &b) || a < 1024 || b <= a)
        return -EINVAL;
    *lo = (uint16_t)a;
    *hi = (uint16_t)b;
    return 0;
}

/* ---- the config file ---- */

static const char *const known_keys[] = {
    "listen",          "relay_ip",         "relay_ports",         "realm",
    "software",        "users",            "secret",              "secret_file",
    "allow_peer",      "deny_peer",        "lifetime_default",    "lifetime_max",
    "permission_lifetime", "channel_lifetime", "nonce_lifetime",  "max_allocations",
    "user_quota",      "max_permissions",  "max_channels",        "log_level",
    "log_timestamps",  "tcp",              "tls_listen",          "tls_cert",
    "tls_key",         "max_connections",  "idle_timeout",        "auth_fail_limit",
    "auth_fail_window", "alloc_bandwidth",  "user_bandwidth",      "closed_loop",
    "client_subnets", "alternate_server", "alternate_domain",  "draining",
    "control_socket", "udp_buffer", "workers",
    "dtls", "dtls_listen", "max_dtls_sessions", "metrics_listen",
    "max_tcp_connections", "unauth_answer_limit", "unauth_answer_window",
};

struct file_ctx {
    const char *name;
    char *err;
    size_t cap;
};

static int bad(const struct file_ctx *f, const config_setting_t *s, const char *what)
{
    return fail(f->err, f->cap, "%s:%d: %s: %s", f->name, config_setting_source_line(s),
                config_setting_name(s) ? config_setting_name(s) : "value", what);
}

/* A string or a list/array of strings, appended to list. */
static int read_strings(const struct file_ctx *f, const config_setting_t *s, char **list,
                        unsigned *n, unsigned max)
{
    if (config_setting_type(s) == CONFIG_TYPE_STRING)
        return push(list, n, max, config_setting_get_string(s)) ? bad(f, s, "too many") : 0;
    if (!config_setting_is_aggregate(s) || config_setting_is_group(s))
        return bad(f, s, "expected a string or a list of strings");
    for (int i = 0; i < config_setting_length(s); i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return bad(f, s, "expected a list of strings");
        if (push(list, n, max, config_setting_get_string(e)))
            return bad(f, s, "too many entries");
    }
    return 0;
}

static int read_uint(const struct file_ctx *f, const config_setting_t *s, unsigned long min,
                     unsigned long max, uint32_t *out)
{
    if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
        return bad(f, s, "expected an integer");
    long long v = config_setting_get_int64(s);
    if (v < (long long)min || v > (long long)max) {
        char msg[96];
        snprintf(msg, sizeof(msg), "must be between %lu and %lu", min, max);
        return bad(f, s, msg);
    }
    *out = (uint32_t)v;
    return 0;
}

static int read_users(const struct file_ctx *f, const config_setting_t *s, struct pending *p)
{
    if (!config_setting_is_list(s))
        return bad(f, s, "expected a list of { name = \"...\"; password = \"...\"; }");
    for (int i = 0; i < config_setting_length(s); i++) {
        const config_setting_t *u = config_setting_get_elem(s, (unsigned)i);
        const char *name = NULL, *password = NULL;
        if (!config_setting_is_group(u) || !config_setting_lookup_string(u, "name", &name) ||
            !config_setting_lookup_string(u, "password", &password) ||
            config_setting_length(u) != 2)
            return fail(f->err, f->cap, "%s:%d: users: each entry needs exactly name and password",
                        f->name, config_setting_source_line(u));
        if (!*name || strchr(name, ':'))
            return fail(f->err, f->cap, "%s:%d: users: bad user name '%s'", f->name,
                        config_setting_source_line(u), name);
        size_t n = strlen(name) + strlen(password) + 2;
        char *entry = malloc(n);
        if (!entry)
            return -ENOMEM;
        snprintf(entry, n, "%s:%s", name, password);
        if (p->n_users >= MAX_USERS) {
            free(entry);
            return bad(f, s, "too many users");
        }
        p->users[p->n_users++] = entry;
    }
    return 0;
}

static int read_setting(const struct file_ctx *f, const config_setting_t *s,
                        struct turnd_config *cfg, struct pending *p)
{
    const char *key = config_setting_name(s);
    struct turn_core_config *c = &cfg->core;
    const char *str = config_setting_type(s) == CONFIG_TYPE_STRING ? config_setting_get_string(s)
                                                                  : NULL;
    if (!strcmp(key, "listen"))
        return read_strings(f, s, p->listen, &p->n_listen, TURND_MAX_LISTEN);
    if (!strcmp(key, "tls_listen"))
        return read_strings(f, s, p->tls_listen, &p->n_tls_listen, TURND_MAX_LISTEN);
    if (!strcmp(key, "dtls_listen"))
        return read_strings(f, s, p->dtls_listen, &p->n_dtls_listen, TURND_MAX_LISTEN);
    if (!strcmp(key, "relay_ip"))
        return read_strings(f, s, p->relay, &p->n_relay, 4);
    if (!strcmp(key, "users"))
        return read_users(f, s, p);
    if (!strcmp(key, "allow_peer") || !strcmp(key, "deny_peer") ||
        !strcmp(key, "client_subnets")) {
        bool allow = key[0] == 'a', subnets = key[0] == 'c';
        char **list = subnets ? cfg->client_subnets : allow ? cfg->allow_peer : cfg->deny_peer;
        unsigned *n = subnets ? &cfg->n_client_subnets
                              : allow ? &cfg->n_allow_peer : &cfg->n_deny_peer;
        unsigned before = *n;
        int rc = read_strings(f, s, list, n, TURN_POLICY_MAX_RULES);
        for (unsigned i = before; rc == 0 && i < *n; i++) {
            struct turn_cidr cidr;
            if (turn_cidr_parse(list[i], &cidr) != 0) {
                char msg[128];
                snprintf(msg, sizeof(msg), "bad address range '%s'", list[i]);
                return bad(f, s, msg);
            }
        }
        return rc;
    }
    struct {
        const char *name;
        bool *dst;
    } bools[] = {
        {"log_timestamps", &cfg->log_timestamps},
        {"tcp", &cfg->tcp},
        {"dtls", &cfg->dtls},
        {"closed_loop", &c->policy.closed_loop},
        {"draining", &c->draining},
    };
    for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
        if (strcmp(key, bools[i].name))
            continue;
        if (config_setting_type(s) != CONFIG_TYPE_BOOL)
            return bad(f, s, "expected true or false");
        *bools[i].dst = config_setting_get_bool(s);
        return 0;
    }
    struct {
        const char *name;
        uint32_t *dst;
        unsigned long min, max;
    } ints[] = {
        {"lifetime_default", &c->lifetime_default, 60, 86400},
        {"lifetime_max", &c->lifetime_max, 60, 86400},
        {"permission_lifetime", &c->perm_lifetime, 30, 3600},
        {"channel_lifetime", &c->chan_lifetime, 60, 3600},
        {"nonce_lifetime", &c->nonce_lifetime, 10, 86400},
        {"max_allocations", &c->max_allocations, 0, 10000000},
        {"user_quota", &c->max_allocations_per_user, 0, 10000000},
        {"max_permissions", &c->max_permissions, 1, 65536},
        {"max_channels", &c->max_channels, 1, 4096},
        {"max_tcp_connections", &c->max_tcp_connections, 1, 65536},
        {"max_connections", &cfg->max_connections, 1, 1000000},
        {"max_dtls_sessions", &cfg->max_dtls_sessions, 1, 1000000},
        {"udp_buffer", &cfg->udp_buffer, 0, 1 << 30},
        {"workers", &cfg->workers, 1, TURND_MAX_WORKERS},
        {"idle_timeout", &cfg->idle_timeout, 5, 3600},
        {"auth_fail_limit", &c->auth_fail_limit, 0, 1000000},
        {"auth_fail_window", &c->auth_fail_window, 1, 86400},
        {"unauth_answer_limit", &c->unauth_answer_limit, 0, 100000000},
        {"unauth_answer_window", &c->unauth_answer_window, 1, 3600},
        {"alloc_bandwidth", &c->alloc_bandwidth, 0, 1000000000},
        {"user_bandwidth", &c->user_bandwidth, 0, 1000000000},
    };
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        if (!strcmp(key, ints[i].name))
            return read_uint(f, s, ints[i].min, ints[i].max, ints[i].dst);
    if (!str)
        return bad(f, s, "expected a string");
    if (!strcmp(key, "relay_ports"))
        return parse_ports(str, &c->port_lo, &c->port_hi)
                   ? bad(f, s, "expected \"LO-HI\" with 1024 <= LO < HI <= 65535")
                   : 0;
    if (!strcmp(key, "realm") || !strcmp(key, "software")) {
        char *dst = key[0] == 'r' ? c->realm : c->software;
        size_t cap = key[0] == 'r' ? sizeof(c->realm) : sizeof(c->software);
        if (strlen(str) >= cap || (key[0] == 'r' && !*str))
            return bad(f, s, "empty or too long");
        strcpy(dst, str);
        return 0;
    }
    if (!strcmp(key, "secret"))
        return set_str(&p->secret, str);
    if (!strcmp(key, "secret_file"))
        return set_str(&p->secret_file, str);
    if (!strcmp(key, "control_socket"))
        return set_str(&cfg->control_socket, str);
    if (!strcmp(key, "metrics_listen"))
        return parse_metrics_listen(str, &cfg->metrics_listen)
                   ? bad(f, s, "expected IP:PORT or [IPv6]:PORT with a port, or \"\" for none")
                   : 0;
    if (!strcmp(key, "tls_cert") || !strcmp(key, "tls_key"))
        return *str ? set_str(key[4] == 'c' ? &cfg->tls_cert : &cfg->tls_key, str)
                    : bad(f, s, "empty file name");
    if (!strcmp(key, "alternate_server")) {
        struct stun_addr *a = &c->alternate_server;
        if (stun_addr_parse(str, a) != 0 || stun_addr_is_any(a))
            return bad(f, s, "expected IP:PORT or [IPv6]:PORT of another TURN server");
        if (a->port == 0)
            a->port = TURND_DEFAULT_PORT;
        return 0;
    }
    if (!strcmp(key, "alternate_domain")) {
        if (strlen(str) >= sizeof(c->alternate_domain))
            return bad(f, s, "too long (at most 255 characters)");
        strcpy(c->alternate_domain, str);
        return 0;
    }
    if (!strcmp(key, "log_level"))
        return lt_log_level_parse(str, &cfg->log_level)
                   ? bad(f, s, "expected error, warn, info or debug")
                   : 0;
    return bad(f, s, "unhandled setting");
}

static int load_config(config_t *lc, const char *name, struct turnd_config *cfg, struct pending *p,
                       char *err, size_t cap)
{
    struct file_ctx f = {.name = name, .err = err, .cap = cap};
    const config_setting_t *group = config_lookup(lc, "turnd");
    if (!group)
        return 0; /* other parts of the appliance's file only */
    if (!config_setting_is_group(group))
        return fail(err, cap, "%s:%d: turnd must be a group { ... }", name,
                    config_setting_source_line(group));
    for (int i = 0; i < config_setting_length(group); i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *key = config_setting_name(s);
        bool known = false;
        for (size_t k = 0; k < sizeof(known_keys) / sizeof(known_keys[0]) && !known; k++)
            known = !strcmp(key, known_keys[k]);
        if (!known)
            return fail(err, cap, "%s:%d: unknown setting '%s' in turnd", name,
                        config_setting_source_line(s), key);
        int rc = read_setting(&f, s, cfg, p);
        if (rc)
            return rc;
    }
    return 0;
}

static int load_file(const char *path, struct turnd_config *cfg, struct pending *p, char *err,
                     size_t cap)
{
    config_t lc;
    config_init(&lc);
    int rc;
    if (!config_read_file(&lc, path)) {
        if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
            rc = fail(err, cap, "%s: cannot read: %s", path, strerror(errno));
        else
            rc = fail(err, cap, "%s:%d: %s", path, config_error_line(&lc), config_error_text(&lc));
    } else {
        rc = load_config(&lc, path, cfg, p, err, cap);
    }
    config_destroy(&lc);
    return rc;
}

/* ---- merging ---- */

static int read_secret_file(const char *path, char **out, char *err, size_t cap)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return fail(err, cap, "secret file %s: %s", path, strerror(errno));
    char buf[1024];
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    if (n == 0)
        return fail(err, cap, "secret file %s is empty", path);
    int rc = set_str(out, buf);
    memset(buf, 0, sizeof(buf));
    return rc;
}

/* DTLS rides on TLS's certificate; by default on the TLS addresses, over UDP. */
static int finish_dtls(struct turnd_config *cfg, struct pending *p, char *err, size_t cap)
{
    if (p->n_dtls_listen > 0 && (!cfg->tls_cert || !cfg->dtls))
        return fail(err, cap, "dtls_listen needs tls_cert and tls_key (and dtls = true)");
    for (unsigned i = 0; cfg->tls_cert && cfg->dtls && i < p->n_dtls_listen; i++) {
        struct stun_addr *a = &cfg->dtls_listen[cfg->n_dtls_listen];
        if (stun_addr_parse(p->dtls_listen[i], a) != 0)
            return fail(err, cap, "dtls_listen: bad address '%s' (use IP:PORT or [IPv6]:PORT)",
                        p->dtls_listen[i]);
        if (a->port == 0)
            a->port = TURND_DEFAULT_TLS_PORT;
        cfg->n_dtls_listen++;
    }
    for (unsigned i = 0; cfg->dtls && p->n_dtls_listen == 0 && i < cfg->n_tls_listen; i++)
        cfg->dtls_listen[cfg->n_dtls_listen++] = cfg->tls_listen[i];
    return 0;
}

static int finish(struct turnd_config *cfg, struct pending *p, char *err, size_t cap)
{
    struct turn_core_config *c = &cfg->core;
    if (p->n_listen == 0 && push(p->listen, &p->n_listen, TURND_MAX_LISTEN, "127.0.0.1"))
        return -ENOMEM;
    for (unsigned i = 0; i < p->n_listen; i++) {
        struct stun_addr *a = &cfg->listen[cfg->n_listen];
        if (stun_addr_parse(p->listen[i], a) != 0)
            return fail(err, cap, "listen: bad address '%s' (use IP:PORT or [IPv6]:PORT)",
                        p->listen[i]);
        if (a->port == 0)
            a->port = TURND_DEFAULT_PORT;
        cfg->n_listen++;
    }
    if (!cfg->tls_cert != !cfg->tls_key)
        return fail(err, cap, "tls_cert and tls_key go together: set both or neither");
    if (p->n_tls_listen > 0 && !cfg->tls_cert)
        return fail(err, cap, "tls_listen needs tls_cert and tls_key");
    for (unsigned i = 0; cfg->tls_cert && i < p->n_tls_listen; i++) {
        struct stun_addr *a = &cfg->tls_listen[cfg->n_tls_listen];
        if (stun_addr_parse(p->tls_listen[i], a) != 0)
            return fail(err, cap, "tls_listen: bad address '%s' (use IP:PORT or [IPv6]:PORT)",
                        p->tls_listen[i]);
        if (a->port == 0)
            a->port = TURND_DEFAULT_TLS_PORT;
        cfg->n_tls_listen++;
    }
    /* TLS without tls_listen: the listen addresses on port 5349 (RFC 8656 §3.1). */
    for (unsigned i = 0; cfg->tls_cert && p->n_tls_listen == 0 && i < cfg->n_listen; i++) {
        cfg->tls_listen[cfg->n_tls_listen] = cfg->listen[i];
        cfg->tls_listen[cfg->n_tls_listen++].port = TURND_DEFAULT_TLS_PORT;
    }
    if (finish_dtls(cfg, p, err, cap) != 0)
        return -EINVAL;
    for (unsigned i = 0; i < p->n_relay; i++) {
        struct stun_addr a;
        if (stun_addr_parse(p->relay[i], &a) != 0 || a.port != 0)
            return fail(err, cap, "relay_ip: bad address '%s'", p->relay[i]);
        if (stun_addr_is_any(&a))
            return fail(err, cap, "relay_ip: '%s' is a wildcard; a relay needs a concrete address",
                        p->relay[i]);
        for (unsigned k = 0; k < c->n_relay_ip; k++)
            if (c->relay_ip[k].family == a.family)
                return fail(err, cap, "relay_ip: at most one address per family ('%s')",
                            p->relay[i]);
        if (c->n_relay_ip >= 2)
            return fail(err, cap, "relay_ip: at most two addresses");
        c->relay_ip[c->n_relay_ip++] = a;
    }
    if (c->n_relay_ip == 0) {
        if (stun_addr_is_any(&cfg->listen[0]))
            return fail(err, cap, "relay_ip is required when listening on a wildcard address");
        c->relay_ip[0] = cfg->listen[0];
        c->relay_ip[0].port = 0;
        c->n_relay_ip = 1;
    }
    if (c->lifetime_default > c->lifetime_max)
        return fail(err, cap, "lifetime_default (%u) exceeds lifetime_max (%u)",
                    c->lifetime_default, c->lifetime_max);
    if (p->secret_file && read_secret_file(p->secret_file, &p->secret, err, cap))
        return -EINVAL;
    if (p->secret && turn_core_config_set_secret(c, p->secret))
        return -ENOMEM;
    for (unsigned i = 0; i < p->n_users; i++) {
        char *colon = strchr(p->users[i], ':');
        if (!colon || colon == p->users[i] || !colon[1])
            return fail(err, cap, "user: expected NAME:PASSWORD");
        *colon = '\0';
        int rc = turn_core_config_add_user(c, p->users[i], colon + 1);
        *colon = ':';
        if (rc)
            return rc;
    }
    for (unsigned i = 0; i < cfg->n_deny_peer; i++)
        if (turn_policy_add_rule(&c->policy, cfg->deny_peer[i], false))
            return fail(err, cap, "deny_peer: bad address range '%s'", cfg->deny_peer[i]);
    for (unsigned i = 0; i < cfg->n_allow_peer; i++)
        if (turn_policy_add_rule(&c->policy, cfg->allow_peer[i], true))
            return fail(err, cap, "allow_peer: bad address range '%s'", cfg->allow_peer[i]);
    for (unsigned i = 0; i < cfg->n_client_subnets; i++)
        if (turn_policy_add_client_subnet(&c->policy, cfg->client_subnets[i]))
            return fail(err, cap, "client_subnets: bad address range '%s'",
                        cfg->client_subnets[i]);
    if (cfg->n_client_subnets && !c->policy.closed_loop)
        return fail(err, cap, "client_subnets only applies with closed_loop = true");
    if (c->alternate_domain[0] && !c->alternate_server.port)
        return fail(err, cap, "alternate_domain needs alternate_server");
    if (!cfg->control_socket)
        return fail(err, cap, "out of memory");
    if (strlen(cfg->control_socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return fail(err, cap, "control_socket: longer than %zu characters",
                    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
    return 0;
}

static void defaults(struct turnd_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->log_level = LT_LOG_INFO;
    cfg->tcp = true;
    cfg->max_connections = 4096;
    cfg->dtls = true;
    cfg->max_dtls_sessions = 4096;
    cfg->udp_buffer = 4 << 20;
    cfg->workers = 1;
    cfg->idle_timeout = 30;
    cfg->control_socket = strdup("/run/lanturn/turnd.sock");
    turn_core_config_defaults(&cfg->core);
}

int turnd_config_from_string(struct turnd_config *cfg, const char *text, const char *name,
                             char *err, size_t err_cap)
{
    defaults(cfg);
    struct pending p = {0};
    config_t lc;
    config_init(&lc);
    int rc;
    if (!config_read_string(&lc, text))
        rc = fail(err, err_cap, "%s:%d: %s", name, config_error_line(&lc), config_error_text(&lc));
    else
        rc = load_config(&lc, name, cfg, &p, err, err_cap);
    config_destroy(&lc);
    if (rc == 0)
        rc = finish(cfg, &p, err, err_cap);
    pending_release(&p);
    return rc;
}

/* ---- the command line ---- */

enum {
    OPT_PRINT = 256,
    OPT_LISTEN,
    OPT_RELAY_IP,
    OPT_RELAY_PORTS,
    OPT_REALM,
    OPT_USER,
    OPT_SECRET,
    OPT_SECRET_FILE,
    OPT_ALLOW,
    OPT_DENY,
    OPT_MAX_ALLOC,
    OPT_USER_QUOTA,
    OPT_LOG_LEVEL,
    OPT_LOG_TIMESTAMPS,
    OPT_NO_TCP,
    OPT_TLS_LISTEN,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_MAX_CONNECTIONS,
    OPT_IDLE_TIMEOUT,
    OPT_CONTROL_SOCKET,
    OPT_DTLS_LISTEN,
    OPT_NO_DTLS,
    OPT_MAX_DTLS_SESSIONS,
    OPT_METRICS_LISTEN,
    OPT_WORKERS,
};

static const struct option long_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"config", required_argument, NULL, 'c'},
    {"print-config", no_argument, NULL, OPT_PRINT},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"relay-ip", required_argument, NULL, OPT_RELAY_IP},
    {"relay-ports", required_argument, NULL, OPT_RELAY_PORTS},
    {"realm", required_argument, NULL, OPT_REALM},
    {"user", required_argument, NULL, OPT_USER},
    {"secret", required_argument, NULL, OPT_SECRET},
    {"secret-file", required_argument, NULL, OPT_SECRET_FILE},
    {"allow-peer", required_argument, NULL, OPT_ALLOW},
    {"deny-peer", required_argument, NULL, OPT_DENY},
    {"max-allocations", required_argument, NULL, OPT_MAX_ALLOC},
    {"user-quota", required_argument, NULL, OPT_USER_QUOTA},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"log-timestamps", no_argument, NULL, OPT_LOG_TIMESTAMPS},
    {"no-tcp", no_argument, NULL, OPT_NO_TCP},
    {"tls-listen", required_argument, NULL, OPT_TLS_LISTEN},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"control-socket", required_argument, NULL, OPT_CONTROL_SOCKET},
    {"dtls-listen", required_argument, NULL, OPT_DTLS_LISTEN},
    {"no-dtls", no_argument, NULL, OPT_NO_DTLS},
    {"max-dtls-sessions", required_argument, NULL, OPT_MAX_DTLS_SESSIONS},
    {"metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *out)
{
    fputs(
        "Usage: turnd [OPTION]...\n"
        "lanturn's STUN/TURN server (RFC 8489, RFC 8656) over UDP, TCP, TLS and DTLS.\n"
        "\n"
        "Settings come from built-in defaults, then the `turnd { }` group of the config\n"
        "file, then these flags; flags win. List flags given here replace the file's\n"
        "--listen list and add to its users and peer rules.\n"
        "\n"
        "  -c, --config FILE        libconfig file (production: /etc/lanturn/lanturn.conf)\n"
        "      --listen ADDR:PORT   UDP and TCP address to serve STUN/TURN on, repeatable;\n"
        "                           IPv6 as [::1]:3478; port 3478 when omitted\n"
        "                           (default 127.0.0.1:3478)\n"
        "      --no-tcp             UDP only on the listen addresses\n"
        "      --tls-cert F         PEM certificate chain: turns on TURN over TLS\n"
        "      --tls-key F          PEM private key of --tls-cert\n"
        "      --tls-listen ADDR:PORT  TLS address, repeatable; port 5349 when omitted\n"
        "                           (default: the listen addresses on port 5349)\n"
        "      --max-connections N  TCP and TLS connections at once (default 4096)\n"
        "      --workers N          UDP worker threads, each with its own listening\n"
        "                           sockets (SO_REUSEPORT) and allocations; TCP, TLS,\n"
        "                           DTLS, control and metrics stay on the first (default 1)\n"
        "      --dtls-listen ADDR:PORT  DTLS (UDP) address, repeatable; port 5349 when\n"
        "                           omitted (default: the TLS addresses, when TLS is on)\n"
        "      --no-dtls            no TURN over DTLS\n"
        "      --max-dtls-sessions N  DTLS sessions at once (default 4096)\n"
        "      --metrics-listen ADDR:PORT  serve Prometheus GET /metrics over HTTP there\n"
        "                           (default: off; e.g. 127.0.0.1:9641)\n"
        "      --idle-timeout S     close a TCP/TLS connection without an allocation after\n"
        "                           S seconds without a message (default 30)\n"
        "      --relay-ip ADDR      address relays are allocated on, one per family\n"
        "                           (default: the first listen address)\n"
        "      --relay-ports LO-HI  relay port range (default 49152-65535)\n"
        "      --realm R            authentication realm (default lanturn)\n"
        "      --user NAME:PASS     static long-term user, repeatable\n"
        "      --secret S           shared secret for time-limited credentials\n"
        "                           (username <unix-expiry>:<user>,\n"
        "                            password base64(HMAC-SHA1(secret, username)))\n"
        "      --secret-file F      the same, read from a file (keeps it out of ps)\n"
        "      --allow-peer CIDR    let relays reach this range, repeatable\n"
        "      --deny-peer CIDR     never relay to this range, repeatable\n"
        "      --max-allocations N  allocations on the whole server, 0 = no limit (default 0)\n"
        "      --user-quota N       allocations per user, 0 = no limit (default 0)\n"
        "      --control-socket P   unix socket for stats, sessions, kill and reload;\n"
        "                           \"\" = none (default /run/lanturn/turnd.sock)\n"
        "      --log-level L        error, warn, info or debug (default info)\n"
        "      --log-timestamps     prefix log lines with the time (outside journald)\n"
        "      --print-config       print the effective configuration and exit\n"
        "  -h, --help               show this help and exit\n"
        "  -V, --version            show the version and exit\n"
        "\n"
        "Relays never reach loopback, 0.0.0.0/8, ::, link-local, multicast, broadcast, this\n"
        "host's own addresses, or IPv4 hidden in IPv6 forms of those; the server's own relay\n"
        "addresses are reachable on their live relay ports only. Admin rules take the\n"
        "longest matching prefix, deny winning a tie.\n"
        "\n"
        "Example:\n"
        "  turnd --listen 127.0.0.1:3478 --relay-ip 127.0.0.1 --realm demo --user alice:secret\n"
        "\n"
        "Exit status: 0 after a clean stop (SIGTERM or SIGINT), 1 when the server could not\n"
        "start or failed, 2 for a bad command line or configuration.\n",
        out);
}

static int apply_flag(int opt, const char *arg, struct turnd_config *cfg, struct pending *p,
                      bool *listen_replaced, bool *tls_listen_replaced,
                      bool *dtls_listen_replaced, char *err, size_t cap)
{
    struct turn_core_config *c = &cfg->core;
    unsigned long v;
    switch (opt) {
    case OPT_LISTEN:
        if (!*listen_replaced) {
            free_list(p->listen, &p->n_listen);
            *listen_replaced = true;
        }
        return push(p->listen, &p->n_listen, TURND_MAX_LISTEN, arg)
                   ? fail(err, cap, "--listen: too many addresses")
                   : 0;
    case OPT_TLS_LISTEN:
        if (!*tls_listen_replaced) {
            free_list(p->tls_listen, &p->n_tls_listen);
            *tls_listen_replaced = true;
        }
        return push(p->tls_listen, &p->n_tls_listen, TURND_MAX_LISTEN, arg)
                   ? fail(err, cap, "--tls-listen: too many addresses")
                   : 0;
    case OPT_NO_TCP:
        cfg->tcp = false;
        return 0;
    case OPT_TLS_CERT:
    case OPT_TLS_KEY:
        if (!*arg)
            return fail(err, cap, "--tls-%s: empty file name",
                        opt == OPT_TLS_CERT ? "cert" : "key");
        return set_str(opt == OPT_TLS_CERT ? &cfg->tls_cert : &cfg->tls_key, arg);
    case OPT_MAX_CONNECTIONS:
        if (parse_uint(arg, 1000000, &v) || v < 1)
            return fail(err, cap, "--max-connections: expected a number from 1 to 1000000");
        cfg->max_connections = (uint32_t)v;
        return 0;
    case OPT_WORKERS:
        if (parse_uint(arg, TURND_MAX_WORKERS, &v) || v < 1)
            return fail(err, cap, "--workers: expected a number from 1 to %d", TURND_MAX_WORKERS);
        cfg->workers = (uint32_t)v;
        return 0;
    case OPT_IDLE_TIMEOUT:
        if (parse_uint(arg, 3600, &v) || v < 5)
            return fail(err, cap, "--idle-timeout: expected seconds from 5 to 3600");
        cfg->idle_timeout = (uint32_t)v;
        return 0;
    case OPT_RELAY_IP:
        return push(p->relay, &p->n_relay, 4, arg) ? fail(err, cap, "--relay-ip: too many") : 0;
    case OPT_RELAY_PORTS:
        return parse_ports(arg, &c->port_lo, &c->port_hi)
                   ? fail(err, cap, "--relay-ports: expected LO-HI with 1024 <= LO < HI <= 65535")
                   : 0;
    case OPT_REALM:
        if (!*arg || strlen(arg) >= sizeof(c->realm))
            return fail(err, cap, "--realm: empty or too long");
        strcpy(c->realm, arg);
        return 0;
    case OPT_USER:
        if (!strchr(arg, ':'))
            return fail(err, cap, "--user: expected NAME:PASSWORD");
        return push(p->users, &p->n_users, MAX_USERS, arg) ? -ENOMEM : 0;
    case OPT_SECRET:
        return set_str(&p->secret, arg);
    case OPT_SECRET_FILE:
        return set_str(&p->secret_file, arg);
    case OPT_ALLOW:
    case OPT_DENY: {
        struct turn_cidr cidr;
        bool allow = opt == OPT_ALLOW;
        if (turn_cidr_parse(arg, &cidr) != 0)
            return fail(err, cap, "--%s-peer: bad address range '%s'", allow ? "allow" : "deny",
                        arg);
        return push(allow ? cfg->allow_peer : cfg->deny_peer,
                    allow ? &cfg->n_allow_peer : &cfg->n_deny_peer, TURN_POLICY_MAX_RULES, arg)
                   ? fail(err, cap, "too many peer rules")
                   : 0;
    }
    case OPT_MAX_ALLOC:
    case OPT_USER_QUOTA:
        if (parse_uint(arg, 10000000, &v))
            return fail(err, cap, "--%s: expected a number",
                        opt == OPT_MAX_ALLOC ? "max-allocations" : "user-quota");
        *(opt == OPT_MAX_ALLOC ? &c->max_allocations : &c->max_allocations_per_user) =
            (unsigned)v;
        return 0;
    case OPT_LOG_LEVEL:
        return lt_log_level_parse(arg, &cfg->log_level)
                   ? fail(err, cap, "--log-level: expected error, warn, info or debug")
                   : 0;
    case OPT_LOG_TIMESTAMPS:
        cfg->log_timestamps = true;
        return 0;
    case OPT_CONTROL_SOCKET:
        return set_str(&cfg->control_socket, arg);
    case OPT_DTLS_LISTEN:
        if (!*dtls_listen_replaced) {
            free_list(p->dtls_listen, &p->n_dtls_listen);
            *dtls_listen_replaced = true;
        }
        return push(p->dtls_listen, &p->n_dtls_listen, TURND_MAX_LISTEN, arg)
                   ? fail(err, cap, "--dtls-listen: too many addresses")
                   : 0;
    case OPT_NO_DTLS:
        cfg->dtls = false;
        return 0;
    case OPT_MAX_DTLS_SESSIONS:
        if (parse_uint(arg, 1000000, &v) || v < 1)
            return fail(err, cap, "--max-dtls-sessions: expected a number from 1 to 1000000");
        cfg->max_dtls_sessions = (uint32_t)v;
        return 0;
    case OPT_METRICS_LISTEN:
        return parse_metrics_listen(arg, &cfg->metrics_listen)
                   ? fail(err, cap, "--metrics-listen: expected IP:PORT or [IPv6]:PORT")
                   : 0;
    default:
        return 0;
    }
}

int turnd_config_from_args(struct turnd_config *cfg, int argc, char **argv, FILE *out,
                           enum turnd_cfg_action *action, char *err, size_t err_cap)
{
    defaults(cfg);
    *action = TURND_RUN;
    struct pending p = {0};
    bool print = false, listen_replaced = false, tls_listen_replaced = false;
    bool dtls_listen_replaced = false;
    int rc = 0, opt;

    /* First pass: --help, --version and --config, so the file loads before flags apply. */
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "hVc:", long_options, NULL)) != -1) {
        if (opt == 'h' || opt == 'V') {
            if (opt == 'h')
                usage(out);
            else
                fprintf(out, "turnd (lanturn) %s\n", LANTURN_VERSION);
            *action = TURND_EXIT_OK;
            return 0;
        }
        if (opt == 'c' && set_str(&cfg->config_path, optarg))
            return -ENOMEM;
        if (opt == '?') {
            rc = fail(err, err_cap, "unknown or incomplete option '%s'", argv[optind - 1]);
            goto out;
        }
    }
    if (optind < argc) {
        rc = fail(err, err_cap, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (cfg->config_path && (rc = load_file(cfg->config_path, cfg, &p, err, err_cap)) != 0)
        goto out;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "hVc:", long_options, NULL)) != -1) {
        if (opt == OPT_PRINT)
            print = true;
        else if ((rc = apply_flag(opt, optarg, cfg, &p, &listen_replaced, &tls_listen_replaced,
                                  &dtls_listen_replaced, err, err_cap)) != 0)
            goto out;
    }
    rc = finish(cfg, &p, err, err_cap);
    if (rc == 0 && print) {
        turnd_config_print(cfg, out);
        *action = TURND_EXIT_OK;
    }
out:
    pending_release(&p);
    return rc;
}

/* ---- printing ---- */

static void print_list(FILE *out, const char *key, char *const *list, unsigned n)
{
    fprintf(out, "  %s = [", key);
    for (unsigned i = 0; i < n; i++)
        fprintf(out, "%s\"%s\"", i ? ", " : "", list[i]);
    fprintf(out, "];\n");
}

void turnd_config_print(const struct turnd_config *cfg, FILE *out)
{
    const struct turn_core_config *c = &cfg->core;
    char a[64];
    fprintf(out, "# effective turnd configuration (secrets redacted)\nturnd:\n{\n  listen = [");
    for (unsigned i = 0; i < cfg->n_listen; i++) {
        stun_addr_format(&cfg->listen[i], true, a, sizeof(a));
        fprintf(out, "%s\"%s\"", i ? ", " : "", a);
    }
    fprintf(out, "];\n  tcp = %s;\n  tls_listen = [", cfg->tcp ? "true" : "false");
    for (unsigned i = 0; i < cfg->n_tls_listen; i++) {
        stun_addr_format(&cfg->tls_listen[i], true, a, sizeof(a));
        fprintf(out, "%s\"%s\"", i ? ", " : "", a);
    }
    fprintf(out, "];\n  dtls = %s;\n  dtls_listen = [", cfg->dtls ? "true" : "false");
    for (unsigned i = 0; i < cfg->n_dtls_listen; i++) {
        stun_addr_format(&cfg->dtls_listen[i], true, a, sizeof(a));
        fprintf(out, "%s\"%s\"", i ? ", " : "", a);
    }
    stun_addr_format(&cfg->metrics_listen, true, a, sizeof(a));
    fprintf(out, "];\n  max_dtls_sessions = %u;\n  metrics_listen = \"%s\";\n",
            cfg->max_dtls_sessions, cfg->metrics_listen.port ? a : "");
    if (cfg->tls_cert)
        fprintf(out, "  tls_cert = \"%s\";\n  tls_key = \"%s\";\n", cfg->tls_cert, cfg->tls_key);
    fprintf(out,
            "  max_connections = %u;\n  idle_timeout = %u;\n  udp_buffer = %u;\n"
            "  workers = %u;\n  relay_ip = [",
            cfg->max_connections, cfg->idle_timeout, cfg->udp_buffer, cfg->workers);
    for (unsigned i = 0; i < c->n_relay_ip; i++) {
        stun_addr_format(&c->relay_ip[i], false, a, sizeof(a));
        fprintf(out, "%s\"%s\"", i ? ", " : "", a);
    }
    fprintf(out, "];\n  relay_ports = \"%u-%u\";\n  realm = \"%s\";\n  software = \"%s\";\n",
            c->port_lo, c->port_hi, c->realm, c->software);
    fprintf(out, "  users = (");
    for (unsigned i = 0; i < c->n_users; i++)
        fprintf(out, "%s\n    { name = \"%s\"; password = \"<redacted>\"; }", i ? "," : "",
                c->users[i].name);
    fprintf(out, "%s);\n", c->n_users ? "\n  " : "");
    if (c->secret)
        fprintf(out, "  secret = \"<redacted>\";\n");
    print_list(out, "allow_peer", cfg->allow_peer, cfg->n_allow_peer);
    print_list(out, "deny_peer", cfg->deny_peer, cfg->n_deny_peer);
    fprintf(out, "  closed_loop = %s;\n", c->policy.closed_loop ? "true" : "false");
    print_list(out, "client_subnets", cfg->client_subnets, cfg->n_client_subnets);
    fprintf(out,
            "  lifetime_default = %u;\n  lifetime_max = %u;\n  permission_lifetime = %u;\n"
            "  channel_lifetime = %u;\n  nonce_lifetime = %u;\n  max_allocations = %u;\n"
            "  user_quota = %u;\n  max_permissions = %u;\n  max_channels = %u;\n"
            "  auth_fail_limit = %u;\n  auth_fail_window = %u;\n"
            "  alloc_bandwidth = %u;\n  user_bandwidth = %u;\n  max_tcp_connections = %u;\n",
            c->lifetime_default, c->lifetime_max, c->perm_lifetime, c->chan_lifetime,
            c->nonce_lifetime, c->max_allocations, c->max_allocations_per_user,
            c->max_permissions, c->max_channels, c->auth_fail_limit, c->auth_fail_window,
            c->alloc_bandwidth, c->user_bandwidth, c->max_tcp_connections);
    if (c->alternate_server.port) {
        stun_addr_format(&c->alternate_server, true, a, sizeof(a));
        fprintf(out, "  alternate_server = \"%s\";\n", a);
    }
    if (c->alternate_domain[0])
        fprintf(out, "  alternate_domain = \"%s\";\n", c->alternate_domain);
    fprintf(out, "  draining = %s;\n", c->draining ? "true" : "false");
    fprintf(out, "  control_socket = \"%s\";\n", cfg->control_socket ? cfg->control_socket : "");
    fprintf(out, "  log_level = \"%s\";\n  log_timestamps = %s;\n};\n",
            lt_log_level_name(cfg->log_level), cfg->log_timestamps ? "true" : "false");
}

void turnd_config_release(struct turnd_config *cfg)
{
    free(cfg->config_path);
    cfg->config_path = NULL;
    free(cfg->control_socket);
    cfg->control_socket = NULL;
    free(cfg->tls_cert);
    free(cfg->tls_key);
    cfg->tls_cert = cfg->tls_key = NULL;
    free_list(cfg->allow_peer, &cfg->n_allow_peer);
    free_list(cfg->deny_peer, &cfg->n_deny_peer);
    free_list(cfg->client_subnets, &cfg->n_client_subnets);
    turn_core_config_release(&cfg->core);
}
