/*
 * main.c - lanturn-console: flags and config, the database, the login
 * back-off table, then the HTTPS server until SIGTERM.
 */
#include "console.h"
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/limiter.h"
#include "lanturn/storage.h"
#include "util/log.h"

int main(int argc, char **argv)
{
    struct con_config cfg;
    enum con_cfg_action action;
    char err[1024];
    if (con_config_from_args(&cfg, argc, argv, stdout, &action, err, sizeof err) != 0) {
        fprintf(stderr, "lanturn-console: %s\n", err);
        con_config_release(&cfg);
        return 2;
    }
    if (action == CON_EXIT_OK) {
        con_config_release(&cfg);
        return 0;
    }
    lt_log_set_level(cfg.log_level);
    lt_log_set_timestamps(cfg.log_timestamps);
    static struct console c;
    c.cfg = &cfg;
    int rc = 1;
    struct con_server *srv = NULL;
    if (sto_open(cfg.data_dir, &c.db, err, sizeof err) != 0) {
        fprintf(stderr, "lanturn-console: database in %s: %s\n", cfg.data_dir, err);
        goto out;
    }
    snprintf(c.tmp_dir, sizeof c.tmp_dir, "%s/console-tmp", cfg.data_dir);
    if (mkdir(c.tmp_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "lanturn-console: cannot create %s: %s\n", c.tmp_dir, strerror(errno));
        goto out;
    }
    /* update bundles wait here for RAUC; one left by a crash is stale */
    snprintf(c.spool_dir, sizeof c.spool_dir, "%s/update-spool", cfg.data_dir);
    if (mkdir(c.spool_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "lanturn-console: cannot create %s: %s\n", c.spool_dir, strerror(errno));
        goto out;
    }
    con_update_clear_spool(c.spool_dir);
    if (con_update_init(&c) != 0 || !(c.limiter = sig_limiter_new(4096))) {
        fprintf(stderr, "lanturn-console: out of memory\n");
        goto out;
    }
    if (!(srv = con_server_new(&c, err, sizeof err))) {
        fprintf(stderr, "lanturn-console: %s\n", err);
        goto out;
    }
    lt_log(LT_LOG_INFO, "console", "start", "version=%s data_dir=%s control=%s", LANTURN_VERSION,
           cfg.data_dir, cfg.control_socket);
    rc = con_server_run(srv) == 0 ? 0 : 1;
out:
    con_server_free(srv);
    con_update_free(&c);
    sig_limiter_free(c.limiter);
    sto_close(c.db);
    con_config_release(&cfg);
    return rc;
}
