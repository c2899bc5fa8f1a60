/*
 * internal.h - what server.c, ws.c and http.c share.
 */
#ifndef SIG_NET_INTERNAL_H
#define SIG_NET_INTERNAL_H

#include <libwebsockets.h>

struct ev_loop;
#include <stdbool.h>
#include <stdint.h>

#include "server.h"
#include "../api/api.h"

#define SIG_PROTOCOL "lanturn.v1"
#define SIG_CONTROL_PROTOCOL "lanturn-control"
#define SIG_MEDIA_PROTOCOL "lanturn-media"
#define OUT_QUEUE_MAX_BYTES (8u << 20) /* a client this far behind reconnects */
#define CLOSE_GRACE_S 5                /* to flush the queue and the close frame */
#define PEER_MAX 64

struct frame {
    struct frame *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes of headroom, then len bytes */
};

/* Per connection, HTTP or WebSocket (lws allocates and zeroes it). */
struct pss {
    /* WebSocket */
    struct sig_conn *conn;
    struct frame *out_head, *out_tail;
    size_t out_bytes;
    char *rx;
    size_t rx_len;
    int close_code;
    char close_reason[64];
    bool ping_pending;

    /* HTTP */
    char method[8];
    char path[256];
    char token[64];
    char *body;
    size_t body_len;
    bool too_large;
    int upload_fd; /* 0: none; fds are > 0 here */
    char upload_tmp[340];
    uint64_t upload_bytes;
    uint8_t head[16];
    size_t head_len;
    int64_t upload_room;
    char upload_name[256];
    int64_t user_id;
    /* the response, written on the next HTTP_WRITEABLE */
    int status;
    char *resp;
    size_t resp_len;
    char *set_cookie;
    int retry_after;
    int resp_stage;
    bool resp_ready;
    /* a password route answering later (api/passwords.c) */
    struct sig_api_waiter waiter;
    struct lws *wsi;
};

struct sig_server {
    const struct sig_config *cfg;
    struct sto_db *db;
    struct lws_context *ctx;
    struct sig_hub *hub;
    struct sig_api *api;
    lws_sorted_usec_list_t tick;
    char tmp_dir[300];
    struct lws_http_mount mounts[3];
    char control_path[108];
    struct ev_loop *loop; /* libev (epoll) when available, else NULL: lws' poll() */
    struct lws_vhost *https_vh;
};

int64_t net_now_ms(void);
int64_t net_wall_ms(void);
void net_peer(struct lws *wsi, char *out, size_t cap);

int ws_callback(struct sig_server *s, struct lws *wsi, enum lws_callback_reasons reason,
                struct pss *p, void *in, size_t len);
void ws_env(struct sig_server *s, struct sig_hub_env *env);

int control_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len);
/* Listens on the unix socket path (none when empty). 0 or a negative errno. */
int control_listen(struct sig_server *s, struct lws_vhost *vh, const char *path);

int media_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len);
void media_env(struct sig_server *s, struct sig_hub_env *env);

int http_callback(struct sig_server *s, struct lws *wsi, enum lws_callback_reasons reason,
                  struct pss *p, void *in, size_t len);

#endif
