/*
 * http.h - the console's libwebsockets callback: what server.c registers.
 */
#ifndef CON_HTTP_H
#define CON_HTTP_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>

#include "console.h"

#define CON_PROTOCOL "lanturn-console"

/* Per connection (lws allocates and zeroes it). */
struct con_pss {
    char method[8];
    char path[256];
    char query[512];
    char token[64];
    char peer[64];
    char ua[200];
    bool csrf_ok;
    char *body;
    size_t body_len;
    bool refused; /* answered before the body: close after the reply */
    int upload_fd; /* 0: none */
    char upload_tmp[600];
    uint64_t upload_bytes;
    uint64_t upload_max; /* 0: this request takes a JSON body */
    struct con_reply reply;
    int stage;
};

int con_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                      size_t len);

#endif
