/*
 * server.h - signald's network side (prefix sig_server_): libwebsockets
 * serving HTTPS (API, file upload and download, the browser client) and
 * WebSocket, feeding the hub and the API. The only part of signald that
 * includes <libwebsockets.h>.
 */
#ifndef SIG_SERVER_H
#define SIG_SERVER_H

#include <stddef.h>

struct sig_config;
struct sig_hub;
struct sig_hub_env;
struct sig_api;
struct sto_db;
struct sig_server;

/* Binds the listeners. NULL with a message in err on failure. */
struct sig_server *sig_server_new(const struct sig_config *cfg, struct sto_db *db, char *err,
                                  size_t err_cap);
/* The env the hub sends through. */
void sig_server_env(struct sig_server *s, struct sig_hub_env *env);
/* Run until SIGINT or SIGTERM: 0, or a negative errno. */
int sig_server_run(struct sig_server *s, struct sig_hub *hub, struct sig_api *api);
void sig_server_free(struct sig_server *s);

#endif
