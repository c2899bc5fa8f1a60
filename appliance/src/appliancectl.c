/*
 * appliancectl.c - the shell's way into applianced: one request over its
 * unix control socket, the answer printed for people or, with --json, as it
 * came. Exit codes: 0 done, 1 refused or failed, 2 usage, 3 applianced is
 * not running.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define DEFAULT_SOCKET "/run/lanturn/applianced.sock"

static void usage(FILE *out)
{
    fputs("Usage: appliancectl [--socket PATH] [--json] COMMAND\n"
          "Commands:\n"
          "  status                      services, their state, pid, uptime and restarts\n"
          "  start|stop|restart SERVICE  turnd, signald or console\n"
          "  reload                      validate the config file and apply what can be\n"
          "  config check                validate the config file\n"
          "  users list\n"
          "  users add NAME [--admin] [--display-name TEXT]   (password on standard input)\n"
          "  users disable NAME | users enable NAME\n"
          "  logs [SERVICE] [--level L] [--lines N]   recent log lines (turnd, signald, applianced)\n"
          "  stats                       users online, calls, TURN allocations, CPU, memory, disk\n"
          "  metrics                     both services' Prometheus metrics\n"
          "  sessions list               connected devices (signald)\n"
          "  sessions kill CONN|--user ID   disconnect a device, or all of a user's\n"
          "  turn sessions | turn kill ID   TURN allocations, and ending one (turnd)\n"
          "  backup FILE                 database + files + config into FILE (.tar.gz)\n"
          "  restore FILE                replace the data with a backup (signald restarts)\n"
          "  update FILE | update status install a signed update into the other slot | slots and versions\n"
          "Options: --socket PATH (default " DEFAULT_SOCKET "), --json (raw replies)\n"
          "Exit codes: 0 done, 1 refused or failed, 2 usage, 3 applianced not reachable.\n",
          out);
}

static int talk(const char *path, json_t *req, json_t **reply)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return -e;
    }
    char *text = json_dumps(req, JSON_COMPACT);
    size_t len = strlen(text);
    text[len] = '\n';
    bool sent = write(fd, text, len + 1) == (ssize_t)(len + 1);
    free(text);
    json_error_t je;
    FILE *f = sent ? fdopen(fd, "r") : NULL;
    *reply = f ? json_loadf(f, JSON_DISABLE_EOF_CHECK, &je) : NULL;
    if (f)
        fclose(f);
    else
        close(fd);
    return *reply ? 0 : -EPROTO;
}

static void print_status(json_t *r)
{
    printf("applianced %s, up %llds, config %s\n",
           json_string_value(json_object_get(r, "version")),
           (long long)json_integer_value(json_object_get(r, "uptime_s")),
           json_string_value(json_object_get(r, "config")));
    size_t i;
    json_t *s;
    printf("%-10s %-9s %8s %10s %9s  %s\n", "SERVICE", "STATE", "PID", "UPTIME", "RESTARTS",
           "LAST EXIT");
    json_array_foreach(json_object_get(r, "services"), i, s)
    {
        json_t *up = json_object_get(s, "uptime_s");
        char upbuf[24] = "-";
        if (up)
            snprintf(upbuf, sizeof upbuf, "%llds", (long long)json_integer_value(up));
        const char *last = json_string_value(json_object_get(s, "last_exit"));
        printf("%-10s %-9s %8lld %10s %9lld  %s\n", json_string_value(json_object_get(s, "name")),
               json_string_value(json_object_get(s, "state")),
               (long long)json_integer_value(json_object_get(s, "pid")), upbuf,
               (long long)json_integer_value(json_object_get(s, "restarts")), last ? last : "-");
    }
}

/* One service's figure, or "-" when it did not answer. */
static void print_figure(json_t *svc, const char *key, const char *label)
{
    json_t *v = json_object_get(json_object_get(svc, "stats"), key);
    if (v)
        printf("  %-22s %lld\n", label, (long long)json_integer_value(v));
    else
        printf("  %-22s - (%s)\n", label,
               json_string_value(json_object_get(svc, "error")) ?: "not reported");
}

static void print_stats(json_t *r)
{
    json_t *sig = json_object_get(r, "signald"), *turn = json_object_get(r, "turnd");
    json_t *sys = json_object_get(r, "system");
    printf("chat (signald)\n");
    print_figure(sig, "users_online", "users online");
    print_figure(sig, "connections", "connections");
    print_figure(sig, "calls", "calls");
    printf("relay (turnd)\n");
    print_figure(turn, "allocations", "allocations");
    print_figure(turn, "client_to_peer_bytes", "bytes client->peer");
    print_figure(turn, "peer_to_client_bytes", "bytes peer->client");
    double gib = 1024.0 * 1024 * 1024;
    printf("machine\n  %-22s %.1f of %.1f GiB free\n", "memory",
           (double)json_integer_value(json_object_get(sys, "mem_available_bytes")) / gib,
           (double)json_integer_value(json_object_get(sys, "mem_total_bytes")) / gib);
    printf("  %-22s %.1f of %.1f GiB free (%s)\n", "disk",
           (double)json_integer_value(json_object_get(sys, "disk_free_bytes")) / gib,
           (double)json_integer_value(json_object_get(sys, "disk_total_bytes")) / gib,
           json_string_value(json_object_get(sys, "disk_path")) ?: "?");
    json_t *load = json_object_get(sys, "load");
    if (load)
        printf("  %-22s %.2f %.2f %.2f\n", "load", json_real_value(json_array_get(load, 0)),
               json_real_value(json_array_get(load, 1)), json_real_value(json_array_get(load, 2)));
}

static void print_users(json_t *r)
{
    size_t i;
    json_t *u;
    printf("%6s  %-24s %-8s %s\n", "ID", "NAME", "ROLE", "DISPLAY NAME");
    json_array_foreach(json_object_get(r, "users"), i, u)
    {
        bool admin = json_is_true(json_object_get(u, "is_admin"));
        bool disabled = json_is_true(json_object_get(u, "disabled"));
        printf("%6lld  %-24s %-8s %s%s\n", (long long)json_integer_value(json_object_get(u, "id")),
               json_string_value(json_object_get(u, "name")), admin ? "admin" : "user",
               json_string_value(json_object_get(u, "display_name")), disabled ? " (disabled)" : "");
    }
}

/* An absolute path for the server, which does not share our working directory. */
/* A session's relayed addresses, "v4,v6" for a dual-stack allocation. */
static const char *relay_list(json_t *session, char *buf, size_t cap)
{
    json_t *relays = json_object_get(session, "relays"), *r;
    size_t i, n = 0;
    buf[0] = 0;
    json_array_foreach(relays, i, r)
    {
        if (json_is_string(r) && n < cap)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? "," : "", json_string_value(r));
    }
    if (!buf[0])
        snprintf(buf, cap, "%s", json_string_value(json_object_get(session, "relay")) ?: "-");
    return buf;
}

static char *absolute(const char *p)
{
    if (p[0] == '/')
        return strdup(p);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    char *out;
    return asprintf(&out, "%s/%s", cwd, p) < 0 ? NULL : out;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"admin", no_argument, NULL, 'a'},        {"display-name", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
        {"level", required_argument, NULL, 'l'},  {"lines", required_argument, NULL, 'n'},
        {"user", required_argument, NULL, 'u'},
        {0},
    };
    const char *sock = getenv("LANTURN_CONTROL_SOCKET");
    const char *display = NULL, *level = NULL;
    long lines = 200, user = 0;
    bool json = false, admin = false;
    int c;
    if (!sock)
        sock = DEFAULT_SOCKET;
    /* GNU getopt moves the command words after the options, wherever they were. */
    while ((c = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
        switch (c) {
        case 's': sock = optarg; break;
        case 'j': json = true; break;
        case 'a': admin = true; break;
        case 'd': display = optarg; break;
        case 'l': level = optarg; break;
        case 'n': lines = strtol(optarg, NULL, 10); break;
        case 'u': user = strtol(optarg, NULL, 10); break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("appliancectl (lanturn) %s\n", LANTURN_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    char **words = argv + optind;
    int nw = argc - optind;
    if (nw == 0) {
        usage(stderr);
        return 2;
    }
    const char *w0 = words[0], *w1 = nw > 1 ? words[1] : NULL, *w2 = nw > 2 ? words[2] : NULL;
    json_t *req = NULL;
    char *path = NULL;
    if (strcmp(w0, "status") == 0)
        req = json_pack("{ss}", "cmd", "status");
    else if ((strcmp(w0, "start") == 0 || strcmp(w0, "stop") == 0 || strcmp(w0, "restart") == 0) && w1)
        req = json_pack("{ss ss}", "cmd", w0, "service", w1);
    else if (strcmp(w0, "stats") == 0 || strcmp(w0, "metrics") == 0)
        req = json_pack("{ss}", "cmd", w0);
    else if (strcmp(w0, "sessions") == 0 && w1 && strcmp(w1, "list") == 0)
        req = json_pack("{ss}", "cmd", "signald_sessions");
    else if (strcmp(w0, "sessions") == 0 && w1 && strcmp(w1, "kill") == 0 && (w2 || user > 0))
        req = user > 0 ? json_pack("{ss sI}", "cmd", "signald_kill", "user", (json_int_t)user)
                       : json_pack("{ss sI}", "cmd", "signald_kill", "conn",
                                   (json_int_t)strtoll(w2, NULL, 10));
    else if (strcmp(w0, "turn") == 0 && w1 && strcmp(w1, "sessions") == 0)
        req = json_pack("{ss}", "cmd", "turnd_sessions");
    else if (strcmp(w0, "turn") == 0 && w1 && strcmp(w1, "kill") == 0 && w2)
        req = json_pack("{ss ss}", "cmd", "turnd_kill", "id", w2);
    else if (strcmp(w0, "logs") == 0) {
        req = json_pack("{ss sI}", "cmd", "logs", "limit", (json_int_t)lines);
        if (w1)
            json_object_set_new(req, "service", json_string(w1));
        if (level)
            json_object_set_new(req, "level", json_string(level));
    } else if (strcmp(w0, "reload") == 0)
        req = json_pack("{ss}", "cmd", "reload");
    else if (strcmp(w0, "config") == 0 && w1 && strcmp(w1, "check") == 0)
        req = json_pack("{ss}", "cmd", "config_check");
    else if (strcmp(w0, "users") == 0 && w1 && strcmp(w1, "list") == 0)
        req = json_pack("{ss}", "cmd", "users_list");
    else if (strcmp(w0, "users") == 0 && w1 && w2 &&
             (strcmp(w1, "disable") == 0 || strcmp(w1, "enable") == 0))
        req = json_pack("{ss ss}", "cmd", strcmp(w1, "disable") == 0 ? "users_disable" : "users_enable",
                        "name", w2);
    else if (strcmp(w0, "users") == 0 && w1 && w2 && strcmp(w1, "add") == 0) {
        char pw[1100];
        if (!fgets(pw, sizeof pw, stdin)) {
            fprintf(stderr, "appliancectl: give the password on standard input\n");
            return 2;
        }
        pw[strcspn(pw, "\r\n")] = '\0';
        req = json_pack("{ss ss ss sb}", "cmd", "users_add", "name", w2, "password", pw, "admin",
                        admin);
        if (display)
            json_object_set_new(req, "display_name", json_string(display));
        memset(pw, 0, sizeof pw);
    } else if (strcmp(w0, "update") == 0 && w1 && strcmp(w1, "status") == 0) {
        req = json_pack("{ss}", "cmd", "update_status");
    } else if ((strcmp(w0, "backup") == 0 || strcmp(w0, "restore") == 0 || strcmp(w0, "update") == 0) && w1) {
        if (!(path = absolute(w1)))
            return 1;
        req = json_pack("{ss ss}", "cmd", w0, "path", path);
    }
    free(path);
    if (!req) {
        usage(stderr);
        return 2;
    }
    json_t *reply = NULL;
    int rc = talk(sock, req, &reply);
    json_decref(req);
    if (rc) {
        fprintf(stderr, "appliancectl: cannot reach applianced at %s: %s\n", sock, strerror(-rc));
        return 3;
    }
    bool ok = json_is_true(json_object_get(reply, "ok"));
    if (json) {
        char *t = json_dumps(reply, JSON_INDENT(2));
        puts(t);
        free(t);
    } else if (!ok) {
        fprintf(stderr, "appliancectl: %s\n", json_string_value(json_object_get(reply, "error")));
    } else if (strcmp(w0, "status") == 0) {
        print_status(reply);
    } else if (strcmp(w0, "users") == 0 && strcmp(w1, "list") == 0) {
        print_users(reply);
    } else if (strcmp(w0, "metrics") == 0) {
        fputs(json_string_value(json_object_get(reply, "metrics")), stdout);
    } else if (strcmp(w0, "stats") == 0) {
        print_stats(reply);
    } else if (strcmp(w0, "sessions") == 0 && strcmp(w1, "list") == 0) {
        size_t i;
        json_t *x;
        printf("%8s %8s  %-40s %10s %-8s %s\n", "CONN", "USER", "ADDRESS", "CONNECTED", "STATUS",
               "CALL");
        json_array_foreach(json_object_get(reply, "sessions"), i, x)
        {
            printf("%8lld %8lld  %-40s %9llds %-8s %s\n",
                   (long long)json_integer_value(json_object_get(x, "conn")),
                   (long long)json_integer_value(json_object_get(x, "user")),
                   json_string_value(json_object_get(x, "addr")),
                   (long long)json_integer_value(json_object_get(x, "connected_s")),
                   json_string_value(json_object_get(x, "presence")),
                   json_is_true(json_object_get(x, "in_call")) ? "yes" : "-");
        }
    } else if (strcmp(w0, "turn") == 0 && strcmp(w1, "sessions") == 0) {
        size_t i;
        json_t *x;
        char relays[160];
        printf("%-8s %-22s %-26s %-4s %-22s %12s %12s %7s\n", "ID", "USER", "CLIENT", "VIA", "RELAY",
               "BYTES IN", "BYTES OUT", "AGE");
        json_array_foreach(json_object_get(reply, "sessions"), i, x)
        {
            printf("%-8s %-22s %-26s %-4s %-22s %12lld %12lld %6llds\n",
                   json_string_value(json_object_get(x, "id")) ?: "?",
                   json_string_value(json_object_get(x, "user")) ?: "-",
                   json_string_value(json_object_get(x, "client")) ?: "-",
                   json_string_value(json_object_get(x, "transport")) ?: "-",
                   relay_list(x, relays, sizeof(relays)),
                   (long long)json_integer_value(json_object_get(x, "client_to_peer_bytes")),
                   (long long)json_integer_value(json_object_get(x, "peer_to_client_bytes")),
                   (long long)json_integer_value(json_object_get(x, "age_s")));
        }
    } else if (strcmp(w0, "logs") == 0) {
        size_t i;
        json_t *l;
        json_array_foreach(json_object_get(reply, "lines"), i, l)
        {
            time_t t = (time_t)(json_integer_value(json_object_get(l, "at")) / 1000);
            char when[32];
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&t));
            printf("%s %-10s %s\n", when, json_string_value(json_object_get(l, "service")),
                   json_string_value(json_object_get(l, "text")));
        }
    } else {
        const char *note = json_string_value(json_object_get(reply, "note"));
        json_t *bytes = json_object_get(reply, "bytes");
        if (bytes)
            printf("backup written: %s (%lld bytes)\n",
                   json_string_value(json_object_get(reply, "path")),
                   (long long)json_integer_value(bytes));
        else
            printf("ok%s%s\n", note ? ": " : "", note ? note : "");
    }
    json_decref(reply);
    return ok ? 0 : 1;
}
