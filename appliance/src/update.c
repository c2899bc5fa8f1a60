/*
 * update.c - `appliancectl update FILE` and `appliancectl update status`:
 * RAUC installs signed bundles into the other root slot; this file runs it,
 * turns its errors into plain words, and summarises the slots.
 */
#include "update.h"
#include "appliance.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

static json_t *fail(const char *msg)
{
    return json_pack("{sb ss}", "ok", 0, "error", msg);
}

/* ---- parsing ---- */

static bool contains(const char *hay, const char *needle)
{
    return strcasestr(hay, needle) != NULL;
}

/* GLib decorates messages: "rauc-Message: 12:00:00.123: text",
 * "(rauc:42): rauc-WARNING **: 12:00:00.123: text", "rauc: text". */
static const char *strip_prefix(const char *line)
{
    const char *p = line;
    const char *stars = strstr(p, "**: ");
    if (stars)
        p = stars + 4;
    else if (strncmp(p, "rauc-", 5) == 0 && strchr(p, ':'))
        p = strchr(p, ':') + 1;
    else if (strncmp(p, "rauc: ", 6) == 0)
        p += 6;
    while (*p == ' ')
        p++;
    /* a time stamp "12:00:00.123: " */
    if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) && p[2] == ':') {
        const char *c = strstr(p, ": ");
        if (c)
            p = c + 2;
    }
    return p;
}

void app_upd_explain(const char *out, char *msg, size_t cap)
{
    /* RAUC's own reason ("LastError: ..."); else the last line that reports a
     * failure other than the closing "Installing `FILE` failed"; else the
     * last non-empty line */
    char detail[512] = "", last_bad[512] = "", last[512] = "";
    for (const char *line = out; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
        buf[strcspn(buf, "\r")] = '\0';
        const char *s = strip_prefix(buf);
        if (strncmp(s, "LastError: ", 11) == 0 && !detail[0])
            snprintf(detail, sizeof detail, "%s", s + 11);
        else if (*s && strncmp(s, "Installing `", 12) != 0 &&
                 (contains(s, "fail") || contains(s, "error") || contains(s, "mismatch") ||
                  contains(s, "not allowed") || contains(s, "invalid") || contains(s, "refus") ||
                  contains(s, "cannot")))
            snprintf(last_bad, sizeof last_bad, "%s", s);
        if (*s)
            snprintf(last, sizeof last, "%s", s);
        line = end ? end + 1 : NULL;
    }
    if (!detail[0])
        snprintf(detail, sizeof detail, "%s", last_bad[0] ? last_bad : last);
    const char *why;
    /* no rauc, or no RAUC service behind it ("Could not connect: No such file
     * or directory" must not read as an unreadable update file) */
    if (contains(detail, "cannot run rauc") || contains(detail, "could not connect") ||
        contains(detail, "creating proxy"))
        why = "the update service is not available on this system";
    else if (contains(detail, "compatible"))
        why = "the update is for a different product or model";
    else if (contains(detail, "signature") || contains(detail, "certificate") ||
             contains(detail, "issuer") || contains(detail, "verify error") ||
             contains(detail, "signer") || contains(detail, "keyring") || contains(detail, "CMS"))
        why = "the update is not signed by a key this appliance trusts";
    else if (contains(detail, "verity") || contains(detail, "hash") || contains(detail, "checksum") ||
             contains(detail, "payload") || contains(detail, "size") || contains(detail, "squashfs") ||
             contains(detail, "corrupt") || contains(detail, "magic") || contains(detail, "i/o error") ||
             contains(detail, "input/output"))
        why = "the update file is damaged or was modified";
    else if (contains(detail, "format") && contains(detail, "not allowed"))
        why = "the update file has a format this appliance does not accept";
    else if (contains(detail, "no such file") || contains(detail, "does not exist") ||
             contains(detail, "permission denied"))
        why = "the update file cannot be read";
    else if (contains(detail, "already") || contains(detail, "busy") || contains(detail, "in progress"))
        why = "another update is being installed";
    else if (contains(detail, "dbus") || contains(detail, "d-bus"))
        why = "the update service is not available on this system";
    else
        why = "the update failed";
    snprintf(msg, cap, "%s (rauc: %s)", why, detail[0] ? detail : "no output");
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void copy_str(json_t *dst, const char *key, const char *value)
{
    if (value && *value)
        json_object_set_new(dst, key, json_string(value));
}

json_t *app_upd_parse_status(const char *text)
{
    json_error_t je;
    json_t *root = text ? json_loads(text, 0, &je) : NULL;
    json_t *slots = json_object_get(root, "slots");
    if (!json_is_object(root) || !json_is_array(slots)) {
        json_decref(root);
        return NULL;
    }
    json_t *out = json_object(), *list = json_array();
    copy_str(out, "booted", str(root, "booted"));
    copy_str(out, "primary", str(root, "boot_primary"));
    copy_str(out, "compatible", str(root, "compatible"));
    size_t i;
    json_t *entry;
    /* each entry is {"rootfs.0": {...}} */
    json_array_foreach(slots, i, entry)
    {
        const char *name;
        json_t *s;
        json_object_foreach(entry, name, s)
        {
            if (!json_is_object(s))
                continue;
            json_t *o = json_pack("{ss}", "name", name);
            copy_str(o, "bootname", str(s, "bootname"));
            copy_str(o, "state", str(s, "state"));
            copy_str(o, "boot_status", str(s, "boot_status"));
            json_t *st = json_object_get(s, "slot_status");
            copy_str(o, "version", str(json_object_get(st, "bundle"), "version"));
            copy_str(o, "installed", str(json_object_get(st, "installed"), "timestamp"));
            json_array_append_new(list, o);
        }
    }
    json_object_set_new(out, "slots", list);
    json_decref(root);
    return out;
}

int app_upd_release_version(const char *text, char *out, size_t cap)
{
    for (const char *l = text; l && *l;) {
        const char *end = strchr(l, '\n');
        size_t len = end ? (size_t)(end - l) : strlen(l);
        if (len > 8 && strncmp(l, "VERSION=", 8) == 0) {
            len -= 8;
            while (len && (l[8 + len - 1] == '\r' || l[8 + len - 1] == ' '))
                len--;
            if (len && len < cap) {
                memcpy(out, l + 8, len);
                out[len] = '\0';
                return 0;
            }
        }
        l = end ? end + 1 : NULL;
    }
    return -1;
}

/* ---- running rauc ---- */

static void running_version(char *out, size_t cap)
{
    char text[1024] = "";
    FILE *f = fopen(APP_UPD_RELEASE_FILE, "r");
    if (f) {
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
    }
    if (app_upd_release_version(text, out, cap) != 0)
        snprintf(out, cap, "%s (not an appliance image)", LANTURN_VERSION);
}

static json_t *slot_by_bootname(json_t *st, const char *bootname, bool same)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(st, "slots"), i, s)
    {
        const char *b = str(s, "bootname");
        if (b && bootname && (strcmp(b, bootname) == 0) == same)
            return s;
    }
    return NULL;
}

static json_t *rauc_status(char *err, size_t cap)
{
    static char out[65536];
    char *argv[] = {"rauc", "status", "--detailed", "--output-format=json", NULL};
    int rc = app_run(argv, out, sizeof out);
    /* GLib's messages may precede the JSON */
    const char *j = strchr(out, '{');
    json_t *st = rc == 0 && j ? app_upd_parse_status(j) : NULL;
    if (!st)
        app_upd_explain(out, err, cap);
    return st;
}

static json_t *status_reply(void)
{
    char err[700], version[128], note[1024];
    json_t *st = rauc_status(err, sizeof err);
    if (!st)
        return fail(err);
    running_version(version, sizeof version);
    const char *booted = str(st, "booted");
    json_t *cur = slot_by_bootname(st, booted, true), *other = slot_by_bootname(st, booted, false);
    json_t *reply = json_pack("{sb s{ss* ss ss*}}", "ok", 1, "running", "slot", booted, "version",
                              version, "boot_status", str(cur, "boot_status"));
    json_t *o = json_object();
    copy_str(o, "slot", str(other, "bootname"));
    copy_str(o, "version", str(other, "version"));
    copy_str(o, "boot_status", str(other, "boot_status"));
    copy_str(o, "installed", str(other, "installed"));
    json_object_set_new(reply, "other", o);
    const char *primary = str(st, "primary");
    json_t *next = NULL;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(st, "slots"), i, s)
    {
        if (primary && str(s, "name") && strcmp(str(s, "name"), primary) == 0)
            next = s;
    }
    copy_str(reply, "next_boot", str(next, "bootname"));
    copy_str(reply, "compatible", str(st, "compatible"));
    snprintf(note, sizeof note,
             "running: slot %s, version %s\nother:   slot %s, version %s, %s%s%s\nnext boot: slot %s",
             booted ? booted : "?", version, str(other, "bootname") ? str(other, "bootname") : "?",
             str(other, "version") ? str(other, "version") : "unknown",
             str(other, "boot_status") ? str(other, "boot_status") : "status unknown",
             str(other, "installed") ? ", installed " : "",
             str(other, "installed") ? str(other, "installed") : "",
             str(next, "bootname") ? str(next, "bootname") : (booted ? booted : "?"));
    json_object_set_new(reply, "note", json_string(note));
    json_decref(st);
    return reply;
}

static json_t *install(const char *path)
{
    if (!path || path[0] != '/')
        return fail("\"path\" must be an absolute file name");
    static char out[65536];
    char msg[700];
    char *argv[] = {"rauc", "install", (char *)path, NULL};
    lt_log(LT_LOG_INFO, "appliance", "update_start", "path=%s", path);
    int rc = app_run(argv, out, sizeof out);
    if (rc != 0) {
        app_upd_explain(out, msg, sizeof msg);
        lt_log(LT_LOG_WARN, "appliance", "update_refused", "path=%s rc=%d reason=\"%s\"", path, rc, msg);
        return fail(msg);
    }
    char err[700];
    json_t *st = rauc_status(err, sizeof err);
    json_t *target = slot_by_bootname(st, str(st, "booted"), false);
    const char *slot = str(target, "bootname"), *version = str(target, "version");
    char note[300];
    snprintf(note, sizeof note, "installed version %s into slot %s; restart the appliance to run it",
             version ? version : "?", slot ? slot : "?");
    json_t *reply = json_pack("{sb ss* ss* ss}", "ok", 1, "slot", slot, "version", version, "note", note);
    lt_log(LT_LOG_INFO, "appliance", "update_installed", "path=%s slot=%s version=%s", path,
           slot ? slot : "?", version ? version : "?");
    json_decref(st);
    return reply;
}

/* Restarting into the new slot: only an appliance image may be rebooted from
 * the control socket; a developer's machine is not ours to restart. */
static json_t *reboot(void)
{
    FILE *f = fopen(APP_UPD_RELEASE_FILE, "r");
    if (!f)
        return fail("restarting is only possible on the appliance image (this system has no "
                    APP_UPD_RELEASE_FILE ")");
    fclose(f);
    char out[1024];
    char *argv[] = {"systemctl", "reboot", NULL};
    lt_log(LT_LOG_INFO, "appliance", "reboot", "reason=update");
    if (app_run(argv, out, sizeof out) != 0) {
        char msg[1200];
        snprintf(msg, sizeof msg, "the restart was refused: %s", out);
        return fail(msg);
    }
    return json_pack("{sb ss}", "ok", 1, "note", "the appliance is restarting");
}

json_t *app_upd_handle(const char *cmd, json_t *req)
{
    if (strcmp(cmd, "update") == 0)
        return install(json_string_value(json_object_get(req, "path")));
    if (strcmp(cmd, "update_status") == 0)
        return status_reply();
    if (strcmp(cmd, "update_reboot") == 0)
        return reboot();
    return fail("unknown update command");
}
