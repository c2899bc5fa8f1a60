/*
 * backup.h - the work of the control commands `backup` and `restore` (prefix
 * app_backup_): database, file store and config in one .tar.gz and back. The
 * functions block for as long as the data is large; job.h runs them in a
 * child process. Neither touches the supervisor: after a restore the caller
 * restarts signald.
 */
#ifndef APP_BACKUP_H
#define APP_BACKUP_H

#include <jansson.h>
#include <stddef.h>

#include "appliance.h"

/* An empty working directory under $TMPDIR (else /tmp): 0, or a negative errno. */
int app_backup_temp_dir(char *out, size_t cap);
/* rm -rf DIR */
void app_remove_tree(const char *dir);

/* Writes the backup to path (absolute) using dir for the database's copy;
 * the reply {"ok": true, "path", "bytes"} or {"ok": false, "error"}. */
json_t *app_backup_write(const struct appliance *a, const char *path, const char *dir);
/* Replaces the database and adds the backup's files, unpacking into dir; the
 * reply {"ok": true} or {"ok": false, "error"} (nothing changed). */
json_t *app_backup_restore(const struct appliance *a, const char *path, const char *dir);

#endif
