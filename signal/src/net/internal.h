/*
 * internal.h - what server.c, ws.c and http.c share.
 */
#ifndef SIG_NET_INTERNAL_H
#define SIG_NET_INTERNAL_H

#include <libwebsockets.h>

struct ev_loop;
struct sig_listen;
#include <stdbool.h>
#include <stdint.h>

#include "server.h"
#include "../api/api.h"
#include "../retention.h"
#include "util/log.h"

#define SIG_PROTOCOL "lanturn.v1"
#define SIG_CONTROL_PROTOCOL "lanturn-control"
#define SIG_MEDIA_PROTOCOL "lanturn-media"
#define SIG_LISTEN_PROTOCOL "lanturn-listen"
#define OUT_QUEUE_MAX_BYTES (8u << 20) /* a client this far behind reconnects */
#define CLOSE_GRACE_S 5                /* to flush the queue and the close frame */
#define PEER_MAX 64
#define WS_CLOSE_TRY_AGAIN_LATER 1013 /* IANA WebSocket close code registry */

struct frame {
    struct frame *next;
    size_t len;
    bool event; /* may go out in a batch with the event frames next to it */
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
    bool writable_asked; /* a SERVER_WRITEABLE is on its way: it drains the queue */
    bool write_failed;   /* a direct write failed: the next callback closes it */
    bool dirty;          /* on the server's list of queues to write this turn */
    struct pss *dirty_prev, *dirty_next;

    /* HTTP */
    char method[8];
    char path[256];
    char token[64];
    char *body;
    size_t body_len;
    bool too_large;
    bool body_done;    /* the request body has all arrived */
    bool drain_body;   /* refused before its body: read and drop it after answering */
    bool draining;     /* answered; dropping the rest of the body, then closing */
    uint64_t drained;  /* body bytes dropped so far */
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

/* A listening socket adopted into lws' loop as a raw descriptor (listen.c). */
struct net_listener {
    struct sig_server *s;
    const char *name;     /* for logs: "https", "ws", "control" */
    struct lws_vhost *vh; /* accepted TCP sockets are adopted here */
    /* Set: each accepted (blocking) socket goes here instead, past any cap. */
    void (*on_accept)(struct sig_server *s, int fd);
    struct lws *wsi;
    lws_sorted_usec_list_t resume; /* the end of a back-off */
    unsigned long long refused, failures;
    struct lt_log_limit refuse_log, fail_log;
};

struct sig_server {
    const struct sig_config *cfg;
    struct sto_db *db;
    struct lws_context *ctx;
    struct sig_hub *hub;
    struct sig_api *api;
    lws_sorted_usec_list_t tick;
    struct sig_retention retention; /* pruning the event stream, a chunk per tick */
    char tmp_dir[300];
    struct lws_http_mount mounts[3];
    char control_path[108];
    struct ev_loop *loop; /* libev (epoll) when available, else NULL: lws' poll() */
    struct lws_vhost *https_vh;
    struct net_listener https_l, ws_l, control_l;
    int fd_limit, fd_limit_was; /* RLIMIT_NOFILE now, and before signald raised it */
    int accept_cap;             /* accepted descriptors from here on are refused */
    unsigned ws_cap;  /* WebSocket connections: max_connections, or what fits below accept_cap */
    unsigned ws_open; /* WebSocket connections the hub holds */
    unsigned long long ws_refused;
    struct lt_log_limit ws_refuse_log;
    struct pss *dirty, *dirty_tail; /* WebSocket queues that got frames this turn (ws_flush) */
};

int64_t net_now_ms(void);
int64_t net_wall_ms(void);
void net_peer(struct lws *wsi, char *out, size_t cap);

int ws_callback(struct sig_server *s, struct lws *wsi, enum lws_callback_reasons reason,
                struct pss *p, void *in, size_t len);
void ws_env(struct sig_server *s, struct sig_hub_env *env);
/* Writes the frames queued this turn, before the loop waits again. */
void ws_flush(struct sig_server *s);

/* Listens on the unix socket path (none when empty). 0 or a negative errno. */
int control_listen(struct sig_server *s, struct lws_vhost *vh, const char *path);

int media_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len);
void media_env(struct sig_server *s, struct sig_hub_env *env);

/* Raise RLIMIT_NOFILE to the hard limit and set accept_cap: before lws'
 * context, which sizes its tables by the limit. */
void listen_fd_budget(struct sig_server *s);
/* Once everything signald holds at start is open: set and log ws_cap. */
void listen_ws_cap(struct sig_server *s);
/* Listen on `where` and adopt what arrives into vh. 0 or a negative errno. */
int listen_tcp(struct net_listener *l, struct sig_server *s, struct lws_vhost *vh,
               const struct sig_listen *where, const char *name);
/* Adopt a listening fd into vh under protocol (whose callback calls
 * listen_rx on RAW_RX_FILE). Takes fd, even on failure. */
int listen_adopt(struct net_listener *l, struct sig_server *s, struct lws_vhost *vh, int fd,
                 const char *protocol, const char *name);
void listen_rx(struct lws *wsi);
int listen_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len);

int http_callback(struct sig_server *s, struct lws *wsi, enum lws_callback_reasons reason,
                  struct pss *p, void *in, size_t len);

#endif
