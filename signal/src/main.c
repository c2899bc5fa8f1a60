/*
 * main.c - signald: flags and config, then wiring storage, the hub, the API
 * and the network glue together. Thin on purpose.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "api/api.h"
#include "cfg.h"
#include "hub/hub.h"
#include "lanturn/storage.h"
#include "net/server.h"
#include "util/log.h"

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "user") == 0)
            return sig_admin_main(argc, argv);

    struct sig_config cfg;
    enum sig_cfg_action action;
    char err[512];
    if (sig_config_from_args(&cfg, argc, argv, stdout, &action, err, sizeof err) != 0) {
        fprintf(stderr, "signald: %s\n", err);
        sig_config_release(&cfg);
        return 2;
    }
    if (action == SIG_EXIT_OK) {
        sig_config_release(&cfg);
        return 0;
    }
    lt_log_set_level(cfg.log_level);
    lt_log_set_timestamps(cfg.log_timestamps);
    if (!cfg.tls_cert)
        lt_log(LT_LOG_WARN, "signal", "no_tls",
               "msg=\"serving plain HTTP: give --tls-cert and --tls-key outside tests\"");

    const char *urls[SIG_MAX_TURN_URLS];
    for (unsigned i = 0; i < cfg.n_turn_urls; i++)
        urls[i] = cfg.turn_urls[i];
    cfg.hub.turn_urls = urls;
    cfg.hub.n_turn_urls = cfg.n_turn_urls;
    cfg.hub.turn_secret = cfg.turn_secret;
    if (!cfg.turn_secret || !cfg.n_turn_urls)
        lt_log(LT_LOG_WARN, "signal", "no_turn",
               "msg=\"no TURN URL or secret: calls will not get TURN credentials\"");

    struct sto_config sc;
    sto_config_init(&sc, cfg.data_dir);
    sc.file_max_bytes = cfg.file_max_bytes;
    struct sto_db *db = NULL;
    if (sto_open_config(&sc, &db, err, sizeof err) != 0) {
        fprintf(stderr, "signald: %s\n", err);
        sig_config_release(&cfg);
        return 1;
    }
    int rc = 1;
    struct sig_hub_env env = {0}; /* a service it has no socket for stays NULL */
    struct sig_server *server = sig_server_new(&cfg, db, err, sizeof err);
    struct sig_hub *hub = NULL;
    struct sig_api *api = NULL;
    if (!server) {
        fprintf(stderr, "signald: %s\n", err);
        goto out;
    }
    sig_server_env(server, &env);
    hub = sig_hub_new(&cfg.hub, db, &env);
    api = hub ? sig_api_new(&cfg.api, db, hub) : NULL;
    if (!hub || !api) {
        fprintf(stderr, "signald: out of memory\n");
        goto out;
    }
    int version = 0;
    sto_schema_version(db, &version);
    lt_log(LT_LOG_INFO, "signal", "start", "version=%s data_dir=%s schema=%d", LANTURN_VERSION,
           cfg.data_dir, version);
    rc = sig_server_run(server, hub, api) == 0 ? 0 : 1;
out:
    sig_server_free(server); /* closes connections: the hub hears about each */
    sig_api_free(api);
    sig_hub_free(hub);
    sto_close(db);
    sig_config_release(&cfg);
    return rc;
}
