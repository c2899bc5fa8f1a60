/*
 * server.h - the console's HTTPS listener (libwebsockets): the API under /api,
 * /healthz, and the UI's static files from web_root.
 */
#ifndef CON_SERVER_H
#define CON_SERVER_H

#include <stddef.h>

struct console;
struct con_server;

/* NULL with a message in err when the listener cannot start. */
struct con_server *con_server_new(struct console *c, char *err, size_t cap);
/* Serves until SIGTERM or SIGINT: 0, or -EIO. */
int con_server_run(struct con_server *s);
void con_server_free(struct con_server *s);

#endif
