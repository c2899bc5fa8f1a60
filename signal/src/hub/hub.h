/*
 * hub.h - signald's WebSocket protocol engine (prefix sig_hub_), sans-I/O.
 *
 * The hub owns the connections' protocol state: who is logged in on which
 * connection, rate limits, presence, typing, calls, and the per-user event
 * streams kept in storage. It never touches a socket: the network glue feeds
 * it text frames with the time and sends what it asks for through struct
 * sig_hub_env. docs/PROTOCOL.md describes the messages.
 */
#ifndef SIG_HUB_H
#define SIG_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_t;
struct sto_db;
struct sig_hub;
struct sig_conn;

struct sig_hub_config {
    const char *turn_secret;      /* NULL or "": no TURN credentials handed out */
    const char *const *turn_urls; /* e.g. "turn:10.0.0.5:3478?transport=udp" */
    size_t n_turn_urls;
    int64_t turn_ttl_s;           /* lifetime of TURN credentials */
    bool relay_only;              /* iceTransportPolicy "relay" */
    size_t max_frame;             /* bytes of one incoming text frame */
    unsigned rate_per_s;          /* requests per second per connection ... */
    unsigned rate_burst;          /* ... with bursts up to this many */
    int64_t ring_timeout_ms;      /* an unanswered call ends after this */
    int64_t replay_max;           /* more missed events than this: resync */
    unsigned max_connections;     /* 0: unlimited */
    unsigned presence_broadcast_max; /* see presence.c */
    unsigned call_mesh_max;  /* calls of more members go through mediad (call_sfu.c) */
    unsigned broadcast_max;  /* viewers of one broadcast (call_sfu.c) */
    unsigned call_sfu_max;   /* devices of one SFU call (call_sfu.c) */
};

void sig_hub_config_defaults(struct sig_hub_config *c);

struct sig_hub_env {
    void *ctx;
    /* Queue one text frame on the connection. 0, or -ENOBUFS when its queue
     * is full: the hub then closes it (the client catches up by seq). */
    int (*send)(void *ctx, void *handle, const char *text, size_t len);
    /* The same for an event frame to a client that said "batch": true in
     * hello: the glue may deliver it in one {"type":"batch"} message with
     * the event frames queued next to it, never with a reply. NULL: send(). */
    int (*send_event)(void *ctx, void *handle, const char *text, size_t len);
    /* Close the connection with a WebSocket close code. The glue must still
     * call sig_hub_closed() when it is gone. */
    void (*close)(void *ctx, void *handle, int code, const char *reason);
    /* Send a WebSocket ping; the pong comes back through sig_hub_alive(). */
    void (*ping)(void *ctx, void *handle);
    /* Pass a command to mediad; its answer comes back through
     * sig_hub_media_reply() with conn_id and id (conn_id 0: nobody waits).
     * 0, or a negative errno when mediad cannot be reached. NULL: no mediad. */
    int (*media)(void *ctx, uint32_t conn_id, struct json_t *id, struct json_t *cmd);
};

struct sig_hub_stats {
    uint64_t connections;    /* open now */
    uint64_t authenticated;  /* of those, past hello */
    uint64_t users_online;
    uint64_t calls;          /* ringing or active */
    uint64_t requests, errors, events_sent, events_replayed, rate_limited;
    uint64_t commits; /* group commits: requests per commit = requests / commits */
};

/* The hub keeps pointers to cfg, db and env; they must outlive it. */
struct sig_hub *sig_hub_new(const struct sig_hub_config *cfg, struct sto_db *db,
                            const struct sig_hub_env *env);
void sig_hub_free(struct sig_hub *h);

/* A WebSocket connection opened from peer_addr. NULL when refused (limit or
 * out of memory): the glue closes it. */
struct sig_conn *sig_hub_open(struct sig_hub *h, void *handle, const char *peer_addr,
                              int64_t now);
/* One complete text frame. */
void sig_hub_recv(struct sig_hub *h, struct sig_conn *c, const char *text, size_t len,
                  int64_t now);
/* A sign of life that is not a request (a pong). */
void sig_hub_alive(struct sig_hub *h, struct sig_conn *c, int64_t now);
/* The connection is gone; c is freed. */
void sig_hub_closed(struct sig_hub *h, struct sig_conn *c, int64_t now);

/* Connections quiet for SIG_HUB_PING_AFTER_MS get a ping; quiet for
 * SIG_HUB_IDLE_CLOSE_MS they are closed (dead peers, half-open TCP). One scan
 * of all connections every SIG_HUB_IDLE_SCAN_MS from sig_hub_tick(), instead
 * of a timer per connection. */
#define SIG_HUB_PING_AFTER_MS 30000
#define SIG_HUB_IDLE_CLOSE_MS 75000
#define SIG_HUB_IDLE_SCAN_MS 5000

/* Commit the writes of the requests handled since the last flush and send
 * their held replies and events. The glue calls it once per event-loop turn
 * (before it waits), and anything that must not see uncommitted state (the
 * HTTP API) calls it first. */
void sig_hub_flush(struct sig_hub *h);

/* Ring timeouts and idle checks; call at or after sig_hub_next_deadline(). */
void sig_hub_tick(struct sig_hub *h, int64_t now);
int64_t sig_hub_next_deadline(const struct sig_hub *h); /* INT64_MAX: nothing due */

/* A session ended elsewhere (logout, password change, user disabled): close
 * its connections. session_id 0 with user_id: every session of the user
 * except keep_session_id (0: none kept). */
void sig_hub_session_revoked(struct sig_hub *h, int64_t user_id, int64_t session_id,
                             int64_t keep_session_id);
/* An event some other part stored for the user (e.g. a file upload's message):
 * deliver it to the user's connections. */
void sig_hub_deliver(struct sig_hub *h, int64_t user_id, int64_t seq, const char *type,
                     const char *payload);

void sig_hub_stats(const struct sig_hub *h, struct sig_hub_stats *out);

/* mediad's answer to a command passed on for connection conn_id. */
void sig_hub_media_reply(struct sig_hub *h, uint32_t conn_id, struct json_t *id,
                         struct json_t *reply);
/* An event mediad sent by itself ({"event":"room.speaker",...}). */
void sig_hub_media_event(struct sig_hub *h, struct json_t *event);

/* The control socket's commands (stats, metrics, sessions, kill): a JSON
 * request object in, a new reply object out (hub/control.c). */
struct json_t *sig_hub_control(struct sig_hub *h, struct json_t *req, int64_t now);

#endif
