/*
 * backup.c - download a consistent backup (applianced's `backup`: database,
 * files and config in one .tar.gz, written to a temporary file and streamed),
 * and restore one uploaded by the browser (applianced's `restore`).
 */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BACKUP_TIMEOUT_MS (15 * 60 * 1000)

void con_backup_download(struct console *c, const struct con_req *r, const struct con_admin *who,
                         json_t *body, struct con_reply *out)
{
    (void)r;
    (void)body;
    char path[600];
    snprintf(path, sizeof path, "%s/backup-XXXXXX.tar.gz", c->tmp_dir);
    int fd = mkostemps(path, 7, O_CLOEXEC);
    if (fd < 0) {
        con_error(out, 500, "internal", "cannot create %s: %s", path, strerror(errno));
        return;
    }
    close(fd);
    char err[512];
    json_t *req = json_pack("{ss ss}", "cmd", "backup", "path", path);
    json_t *rep = con_actl(c, req, BACKUP_TIMEOUT_MS, err, sizeof err);
    json_decref(req);
    if (!rep || !json_is_true(json_object_get(rep, "ok"))) {
        const char *e = rep ? json_string_value(json_object_get(rep, "error")) : err;
        con_error(out, 502, "applianced", "the backup failed: %s", e ? e : "no reason");
        con_audit(c, who, "backup.download", "", "failed: %s", e ? e : "no reason");
        json_decref(rep);
        unlink(path);
        return;
    }
    json_int_t bytes = json_integer_value(json_object_get(rep, "bytes"));
    json_decref(rep);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char name[80], disp[160];
    strftime(name, sizeof name, "lanturn-backup-%Y%m%d-%H%M%S.tar.gz", &tm);
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", name);
    out->status = 200;
    out->file = strdup(path);
    out->disposition = strdup(disp);
    out->content_type = "application/gzip";
    out->unlink_file = true;
    con_audit(c, who, "backup.download", name, "%lld bytes", (long long)bytes);
}

void con_backup_restore(struct console *c, const struct con_req *r, const struct con_admin *who,
                        json_t *body, struct con_reply *out)
{
    (void)body;
    if (!r->upload) {
        con_error(out, 400, "bad_request", "upload the backup file as the request body");
        return;
    }
    char err[512];
    json_t *req = json_pack("{ss ss}", "cmd", "restore", "path", r->upload);
    json_t *rep = con_actl(c, req, BACKUP_TIMEOUT_MS, err, sizeof err);
    json_decref(req);
    if (!rep || !json_is_true(json_object_get(rep, "ok"))) {
        const char *e = rep ? json_string_value(json_object_get(rep, "error")) : err;
        con_error(out, 422, "restore", "%s", e ? e : "the restore failed");
        con_audit(c, who, "backup.restore", "", "refused: %s", e ? e : "no reason");
    } else {
        con_audit(c, who, "backup.restore", "", "restored; signald restarted");
        con_json(out, 200, json_pack("{sb ss}", "ok", 1, "note",
                                     "Restored. signald was restarted; users reconnect by "
                                     "themselves. Sign in again if your session was not in the "
                                     "backup."));
    }
    json_decref(rep);
}
