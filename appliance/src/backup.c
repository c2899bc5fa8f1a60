/*
 * backup.c - the work of `backup` and `restore`: the database, the file store
 * and the config file in one .tar.gz, and back. job.c runs these in a child
 * process, as they take as long as the data is large; nothing here touches
 * the supervisor. The caller makes the working directory and restarts
 * signald after a restore.
 */
#include "backup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lanturn/storage.h"
#include "util/log.h"

int app_backup_temp_dir(char *out, size_t cap)
{
    /* TMPDIR lets a unit keep a large database's copy off a small /tmp */
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/')
        tmp = "/tmp";
    if ((size_t)snprintf(out, cap, "%s/lanturn-backup-XXXXXX", tmp) >= cap)
        return -ENAMETOOLONG;
    return mkdtemp(out) ? 0 : -errno;
}

void app_remove_tree(const char *dir)
{
    char *argv[] = {"rm", "-rf", (char *)dir, NULL};
    char out[64];
    app_run(argv, out, sizeof out);
}

static struct sto_db *open_db(const struct appliance *a, char *err, size_t cap)
{
    struct sto_db *db = NULL;
    if (sto_open(a->cfg.signal_data_dir, &db, err, cap) != 0)
        return NULL;
    return db;
}

json_t *app_backup_write(const struct appliance *a, const char *path, const char *dir)
{
    char err[STO_ERR_MAX], dbcopy[APP_BACKUP_PATH_MAX + 16], out[1024];
    snprintf(dbcopy, sizeof dbcopy, "%s/lanturn.db", dir);
    struct sto_db *db = open_db(a, err, sizeof err);
    /* SQLite's backup API: one consistent snapshot while signald writes on */
    int rc = db ? sto_backup(db, dbcopy, NULL) : -EIO;
    if (db && rc)
        snprintf(err, sizeof err, "%s", sto_errmsg(db));
    sto_close(db);
    if (rc)
        return app_error("database backup failed: %s", err);
    char conf[APP_BACKUP_PATH_MAX + 16];
    snprintf(conf, sizeof conf, "%s/lanturn.conf", dir);
    char *cp[] = {"cp", a->cfg.config_path, conf, NULL};
    char files[4096];
    snprintf(files, sizeof files, "%s/files", a->cfg.signal_data_dir);
    mkdir(files, 0700);
    /* files/ is read in place: its files are immutable and named by their hash */
    char *tar[] = {"tar", "-czf", (char *)path, "-C", (char *)dir, "lanturn.db", "lanturn.conf",
                   "-C", a->cfg.signal_data_dir, "--exclude=files/tmp", "files", NULL};
    if (app_run(cp, out, sizeof out) != 0)
        return app_error("cannot copy the config: %s", out);
    if (app_run(tar, out, sizeof out) != 0)
        return app_error("tar failed: %s", out);
    struct stat st;
    if (stat(path, &st) != 0)
        return app_error("%s: %s", path, strerror(errno));
    lt_log(LT_LOG_INFO, "appliance", "backup", "path=%s bytes=%lld", path, (long long)st.st_size);
    return json_pack("{sb ss sI}", "ok", 1, "path", path, "bytes", (json_int_t)st.st_size);
}

json_t *app_backup_restore(const struct appliance *a, const char *path, const char *dir)
{
    char out[1024], err[STO_ERR_MAX];
    /* Only the expected members; GNU tar drops a leading / and refuses ../ members itself */
    char *untar[] = {"tar", "-xzf", (char *)path, "-C", (char *)dir, "--no-same-owner",
                     "lanturn.db", "files", NULL};
    if (app_run(untar, out, sizeof out) != 0)
        return app_error("not a lanturn backup (tar: %s)", out);
    char dbfile[APP_BACKUP_PATH_MAX + 16];
    snprintf(dbfile, sizeof dbfile, "%s/lanturn.db", dir);
    struct sto_db *db = open_db(a, err, sizeof err);
    /* one write transaction: signald's readers see the old data or the new */
    int rc = db ? sto_restore(db, dbfile, NULL) : -EIO;
    if (db && rc)
        snprintf(err, sizeof err, "%s", sto_errmsg(db));
    sto_close(db);
    if (rc)
        return app_error("restore refused: %s", err);
    char src[APP_BACKUP_PATH_MAX + 16];
    snprintf(src, sizeof src, "%s/files/.", dir);
    char dst[4096];
    snprintf(dst, sizeof dst, "%s/files", a->cfg.signal_data_dir);
    mkdir(dst, 0700);
    char *cp[] = {"cp", "-a", "-n", src, dst, NULL};
    app_run(cp, out, sizeof out);
    lt_log(LT_LOG_INFO, "appliance", "restore", "path=%s", path);
    return json_pack("{sb}", "ok", 1);
}
