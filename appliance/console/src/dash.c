/*
 * dash.c - the dashboard: services from applianced's `status`, live usage
 * from its `stats` (users online, calls, TURN allocations, relayed bytes) when
 * applianced offers it, and this machine's CPU, memory, disk and load from
 * /proc and statvfs. The UI polls it and draws the history itself.
 */
#include "console.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "lanturn/storage.h"

void con_me(struct console *c, const struct con_req *r, const struct con_admin *who, json_t *body,
            struct con_reply *out)
{
    (void)r;
    (void)body;
    struct sto_user u = {0};
    sto_user_get(c->db, who->user_id, &u);
    con_json(out, 200, json_pack("{sb s{sI ss ss} ss}", "ok", 1, "user", "id",
                                 (json_int_t)who->user_id, "name", who->name, "display_name",
                                 u.display_name ? u.display_name : who->name, "version",
                                 LANTURN_VERSION));
    sto_user_clear(&u);
}

/* CPU busy share since the previous call (the first call: since boot). */
static double cpu_percent(struct console *c)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 4)
        return -1;
    uint64_t total = 0;
    for (int i = 0; i < 8; i++)
        total += v[i];
    uint64_t idle = v[3] + v[4]; /* idle + iowait */
    struct con_cpu now = {total - idle, total};
    uint64_t dt = now.total - c->cpu_prev.total, db = now.busy - c->cpu_prev.busy;
    c->cpu_prev = now;
    return dt ? 100.0 * (double)db / (double)dt : 0;
}

static json_t *memory(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return json_null();
    char line[256];
    unsigned long long total = 0, avail = 0, kb;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
            total = kb * 1024;
        else if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            avail = kb * 1024;
    }
    fclose(f);
    return json_pack("{sI sI}", "total", (json_int_t)total, "used", (json_int_t)(total - avail));
}

static json_t *disk(const char *path)
{
    struct statvfs sv;
    if (statvfs(path, &sv) != 0)
        return json_null();
    uint64_t total = (uint64_t)sv.f_blocks * sv.f_frsize, avail = (uint64_t)sv.f_bavail * sv.f_frsize;
    return json_pack("{ss sI sI sI}", "path", path, "total", (json_int_t)total, "used",
                     (json_int_t)(total - (uint64_t)sv.f_bfree * sv.f_frsize) , "available",
                     (json_int_t)avail);
}

void con_dashboard(struct console *c, const struct con_req *r, const struct con_admin *who,
                   json_t *body, struct con_reply *out)
{
    (void)r;
    (void)who;
    (void)body;
    json_t *res = json_pack("{sb}", "ok", 1);
    json_t *st = con_actl_cmd(c, "status", 3000);
    if (json_is_true(json_object_get(st, "ok"))) {
        json_object_set(res, "services", json_object_get(st, "services"));
        json_object_set_new(res, "appliance",
                            json_pack("{sO sO}", "version", json_object_get(st, "version"),
                                      "uptime_s", json_object_get(st, "uptime_s")));
    } else {
        json_object_set(res, "services_error", json_object_get(st, "error"));
    }
    json_decref(st);
    json_t *stats = con_actl_cmd(c, "stats", 3000);
    if (json_is_true(json_object_get(stats, "ok"))) {
        json_object_del(stats, "ok");
        json_object_set(res, "stats", stats);
    } else {
        json_object_set(res, "stats_error", json_object_get(stats, "error"));
    }
    json_decref(stats);
    double load[3] = {0};
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = load[1] = load[2] = 0;
        fclose(f);
    }
    double up = 0;
    f = fopen("/proc/uptime", "r");
    if (f) {
        if (fscanf(f, "%lf", &up) != 1)
            up = 0;
        fclose(f);
    }
    json_object_set_new(res, "system",
                        json_pack("{sf so so s[fff] sI}", "cpu_percent", cpu_percent(c), "memory",
                                  memory(), "disk", disk(c->cfg->data_dir), "load", load[0],
                                  load[1], load[2], "uptime_s", (json_int_t)up));
    con_json(out, 200, res);
}
