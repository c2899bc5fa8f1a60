/*
 * stats.c - what the dashboard shows, gathered in one place: each service's
 * own figures from its control socket, and the machine's CPU, memory and disk
 * from /proc and statvfs. A service that does not answer is reported with the
 * reason instead of failing the whole request.
 */
#include "appliance.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

static json_t *ask_or_reason(const char *path, json_t *req)
{
    json_t *reply = NULL;
    int rc = app_ask(path, req, &reply);
    if (rc)
        return json_pack("{sb ss}", "ok", 0, "error", strerror(-rc));
    return reply;
}

/* CPU time since boot (all cores, in clock ticks): busy and total. */
static void cpu_ticks(json_t *sys)
{
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    if (f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                    &v[4], &v[5], &v[6], &v[7]) == 8) {
        unsigned long long idle = v[3] + v[4], total = 0;
        for (int i = 0; i < 8; i++)
            total += v[i];
        json_object_set_new(sys, "cpu_busy_ticks", json_integer((json_int_t)(total - idle)));
        json_object_set_new(sys, "cpu_total_ticks", json_integer((json_int_t)total));
    }
    if (f)
        fclose(f);
}

static void memory(json_t *sys)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char key[64];
    unsigned long long kb, total = 0, avail = 0;
    while (f && fscanf(f, "%63s %llu kB\n", key, &kb) == 2) {
        if (strcmp(key, "MemTotal:") == 0)
            total = kb;
        else if (strcmp(key, "MemAvailable:") == 0)
            avail = kb;
    }
    if (f)
        fclose(f);
    json_object_set_new(sys, "mem_total_bytes", json_integer((json_int_t)(total * 1024)));
    json_object_set_new(sys, "mem_available_bytes", json_integer((json_int_t)(avail * 1024)));
}

static void disk(json_t *sys, const char *path)
{
    struct statvfs st;
    if (statvfs(path, &st) != 0)
        return;
    json_object_set_new(sys, "disk_path", json_string(path));
    json_object_set_new(sys, "disk_total_bytes",
                        json_integer((json_int_t)((unsigned long long)st.f_blocks * st.f_frsize)));
    json_object_set_new(sys, "disk_free_bytes",
                        json_integer((json_int_t)((unsigned long long)st.f_bavail * st.f_frsize)));
}

json_t *app_stats(struct appliance *a)
{
    json_t *req = json_pack("{ss}", "cmd", "stats");
    json_t *sys = json_object();
    cpu_ticks(sys);
    memory(sys);
    disk(sys, a->cfg.signal_data_dir);
    double load[3];
    if (getloadavg(load, 3) == 3)
        json_object_set_new(sys, "load", json_pack("[fff]", load[0], load[1], load[2]));
    json_t *sig = ask_or_reason(a->cfg.signal_control, req);
    json_t *turn = ask_or_reason(a->cfg.turnd_control, req);
    json_t *r = json_pack("{sb sO sO so}", "ok", 1, "signald", sig, "turnd", turn, "system", sys);
    json_decref(req);
    /* The dashboard's headline figures, flat, when the services answered. */
    json_t *ss = json_object_get(sig, "stats"), *ts = json_object_get(turn, "stats");
    if (ss) {
        json_object_set(r, "users_online", json_object_get(ss, "users_online"));
        json_object_set(r, "connections", json_object_get(ss, "connections"));
        json_object_set(r, "active_calls", json_object_get(ss, "calls"));
    }
    if (ts) { /* in: what clients sent through the relays; out: what reached them */
        json_object_set(r, "turn_allocations", json_object_get(ts, "allocations"));
        json_object_set(r, "relayed_bytes_in", json_object_get(ts, "client_to_peer_bytes"));
        json_object_set(r, "relayed_bytes_out", json_object_get(ts, "peer_to_client_bytes"));
    }
    json_decref(sig);
    json_decref(turn);
    return r;
}

/* A request passed to a service's control socket as it is, minus our "cmd"
 * prefix: {"cmd": "signald_sessions"} -> signald {"cmd": "sessions"}. */
json_t *app_forward(struct appliance *a, const char *service, json_t *req, const char *cmd)
{
    const char *path = strcmp(service, "signald") == 0 ? a->cfg.signal_control
                                                       : a->cfg.turnd_control;
    json_t *copy = json_deep_copy(req);
    json_object_set_new(copy, "cmd", json_string(cmd));
    json_t *reply = NULL;
    int rc = app_ask(path, copy, &reply);
    json_decref(copy);
    if (rc)
        return json_pack("{sb ss}", "ok", 0, "error",
                         rc == -ENOENT || rc == -ECONNREFUSED
                             ? "the service is not running or has no control socket"
                             : strerror(-rc));
    return reply;
}

/* Both services' Prometheus text, one after the other. */
json_t *app_metrics(struct appliance *a)
{
    json_t *req = json_pack("{ss}", "cmd", "metrics");
    const char *paths[] = {a->cfg.signal_control, a->cfg.turnd_control};
    char *all = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&all, &len);
    for (int i = 0; i < 2 && out; i++) {
        json_t *reply = NULL;
        if (app_ask(paths[i], req, &reply) == 0 && json_is_string(json_object_get(reply, "metrics")))
            fputs(json_string_value(json_object_get(reply, "metrics")), out);
        json_decref(reply);
    }
    if (out)
        fclose(out);
    json_decref(req);
    json_t *r = json_pack("{sb ss}", "ok", 1, "metrics", all ? all : "");
    free(all);
    return r;
}
