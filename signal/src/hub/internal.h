/*
 * internal.h - what the hub's files share: connections, the request being
 * handled, reply helpers and the handler table. Not for outside use.
 */
#ifndef SIG_HUB_INTERNAL_H
#define SIG_HUB_INTERNAL_H

#include "hub.h"

#include <jansson.h>

#include "lanturn/storage.h"

#define WATCH_BUCKETS 4096
#define ADDR_MAX 64

enum presence { PRESENCE_OFFLINE, PRESENCE_AWAY, PRESENCE_ONLINE };

struct sig_conn {
    struct sig_conn *prev, *next; /* every connection */
    struct sig_conn *user_next;   /* chain of conn_index.by_user (after hello) */
    struct sig_conn *id_next;     /* chain of conn_index.by_id */
    void *handle;
    uint32_t id; /* shown to clients: call signalling addresses a device by it */
    int64_t opened_at;
    int64_t last_rx;   /* the last frame or pong from the client */
    int64_t pinged_at; /* 0: no ping outstanding */
    int64_t checked_at; /* when its session was last found live (hub.c) */
    char media_session[48]; /* its mediad echo session, if any (media.c) */
    bool media_pending;     /* an echo.offer waits for mediad */
    int64_t user_id, session_id; /* 0 until hello */
    bool is_admin;
    bool away;
    bool closing;
    bool batch; /* said "batch": true in hello: takes events in batches */
    char addr[ADDR_MAX];
    double tokens;
    int64_t tokens_at;
    unsigned limited_in_a_row;
    struct sig_call *call; /* the call this device is in, if any */
    int64_t *subs;         /* users whose presence it asked for (presence.c) */
    size_t n_subs;
    bool subscribed;       /* it asked at least once: no more broadcasts */
};

/* An SFU call (call_sfu.c): each device offers mediad its own audio and
 * video (sendrecv, the first pair of slots) and CALL_SFU_PAIRS - 1 more
 * recvonly audio+video pairs; pair j carries one other device's streams.
 * mediad takes 12 m-lines per session, hence 6 pairs (a browser's offer is
 * then about 36 KB, well inside call.sfu.offer's limit). A call of more
 * devices (up to call_sfu_max) shows each device the latest speakers. */
#define CALL_SFU_PAIRS 6

struct call_sfu_dev {
    char session[48];                   /* mediad's room session; "" until it answers */
    bool offered;                       /* its room.offer went to mediad and did not fail */
    uint32_t ssrc[2];                   /* what it publishes: audio, video (0: nothing) */
    int8_t slot[CALL_SFU_PAIRS][2];     /* mediad's slot of pair j's audio, video (-1: none) */
    uint32_t pair_conn[CALL_SFU_PAIRS]; /* whose streams pair j carries (0: nobody's) */
    unsigned resyncs;                   /* full re-switches after a refused room.switch */
    uint32_t gen;                       /* which offer mediad's answer is for */
    uint32_t spoke;                     /* its last turn as the call's speaker (0: none) */
};

struct call_member {
    int64_t user_id;
    uint32_t conn_id; /* 0 until the user answers on a device */
    enum { CM_INVITED, CM_RINGING, CM_JOINED, CM_DECLINED, CM_LEFT } state;
    struct call_sfu_dev sfu;
};

struct sig_call {
    struct sig_call *next;
    char id[33];
    int64_t room_id;
    bool video;
    bool active; /* someone answered */
    bool sfu;    /* media through mediad's room named after id, not a mesh */
    bool broadcast; /* sfu: only m[0] (the presenter) publishes; the others view it */
    uint32_t sfu_offers; /* numbers the offers sent to mediad */
    uint32_t sfu_speaker; /* conn of its dominant speaker (mediad's room.speaker), 0: none */
    uint32_t sfu_turns;   /* numbers the speakers' turns (call_sfu_dev.spoke) */
    int64_t created_at;
    int64_t ring_deadline;
    struct call_member *m; /* m[0] is the caller */
    size_t n;
};

/* conn_index.c: connections by user (after hello) and by id. */
struct conn_index {
    struct sig_conn **by_user, **by_id;
    unsigned bits; /* 2^bits buckets in each table */
    size_t n;      /* connections by id */
};
int conn_index_init(struct conn_index *x);
void conn_index_free(struct conn_index *x);
void conn_index_add(struct conn_index *x, struct sig_conn *c);
void conn_index_remove(struct conn_index *x, struct sig_conn *c);
void conn_index_link_user(struct conn_index *x, struct sig_conn *c);
void conn_index_unlink_user(struct conn_index *x, struct sig_conn *c);
/* The first of the user's connections; the rest follow it on user_next,
 * among other users' (compare user_id). */
struct sig_conn *conn_index_user(const struct conn_index *x, int64_t user_id);
struct sig_conn *conn_index_id(const struct conn_index *x, uint32_t id);

struct sig_hub {
    const struct sig_hub_config *cfg;
    struct sto_db *db;
    const struct sig_hub_env *env;
    struct sig_conn *conns;
    struct conn_index index;
    struct sig_call *calls;
    struct watchers *watch[WATCH_BUCKETS]; /* user -> connections subscribed to them */
    uint32_t next_conn_id;
    struct sig_hub_stats stats;
    /* Sessions seen by hello since the last tick: their last-seen times are
     * written together, one transaction per tick instead of one per login. */
    int64_t *touch;
    size_t n_touch, cap_touch;
    int64_t idle_scan_at;
    bool batch_open;     /* a group-commit transaction is open (batch.c) */
    struct held *held;   /* replies and events waiting for its commit */
    size_t n_held, cap_held;
};

/* batch.c: group commit. A request's writes go between hub_tx_begin() and
 * hub_tx_end(rc) (a savepoint of the turn's transaction: rc != 0 undoes them).
 * While a batch is open, replies and event deliveries are held (the hold
 * functions return false when nothing is open: send at once). */
#define HUB_BATCH_MAX 512 /* held items before a request forces a commit */
int hub_tx_begin(struct sig_hub *h);
int hub_tx_end(struct sig_hub *h, int rc);
bool hub_hold_frame(struct sig_hub *h, struct sig_conn *c, const char *text, size_t len,
                    json_t *id);
/* Takes payload and users (malloc'd) when it returns true. */
bool hub_hold_event(struct sig_hub *h, int64_t seq, const char *type, char *payload,
                    int64_t *users, size_t n_users);
void hub_forget_conn(struct sig_hub *h, struct sig_conn *c);
void hub_batch_free(struct sig_hub *h);

/* One request being handled. A handler fills result (an object, may stay
 * NULL for {}) or calls req_fail() and returns its value. */
struct req {
    struct sig_hub *hub;
    struct sig_conn *conn;
    json_t *msg;
    int64_t now;
    json_t *result;
    const char *err_code;
    char err_msg[200];
};

typedef int (*handler_fn)(struct req *r);

/* -1, having set the error code and message. */
int req_fail(struct req *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps a storage errno to an error; what says what was being done. */
int req_fail_sto(struct req *r, int err, const char *what);

/* Field readers: 0, or a bad_request failure naming the field. */
int req_id(struct req *r, const char *field, int64_t *out);          /* required, > 0 */
int req_id_opt(struct req *r, const char *field, int64_t *out);      /* absent: 0 */
int req_str(struct req *r, const char *field, const char **out);     /* required */
int req_str_opt(struct req *r, const char *field, const char **out); /* absent: NULL */
int req_bool_opt(struct req *r, const char *field, bool *out);       /* absent: unchanged */
int req_limit(struct req *r, int dflt, int max, int *out);           /* "limit" */
/* Membership check: 0 or a forbidden failure. role may be NULL. */
int req_member(struct req *r, int64_t room_id, enum sto_role *role);

/* Closes a connection (once) and tells its user's watchers if that changed
 * the user's presence. */
void conn_close(struct sig_hub *h, struct sig_conn *c, int code, const char *reason);

/* Sending. Each takes ownership of nothing; frames are built per call. */
void conn_send_json(struct sig_hub *h, struct sig_conn *c, json_t *frame); /* steals frame */
void conn_send_text(struct sig_hub *h, struct sig_conn *c, const char *text, size_t len);
void conn_send_event(struct sig_hub *h, struct sig_conn *c, const char *text, size_t len);
/* An ephemeral event (no seq) to one connection / every device of a user. */
void send_ephemeral(struct sig_hub *h, struct sig_conn *c, const char *event, json_t *data);
void user_send_ephemeral(struct sig_hub *h, int64_t user_id, const char *event, json_t *data,
                         const struct sig_conn *except);
/* Store an event for every member of the room, then push it to the devices
 * online. data is borrowed. */
int room_event(struct sig_hub *h, int64_t room_id, const char *event, json_t *data);
/* The same in two steps, for a change and its event in one transaction:
 * store inside the transaction, send after the commit (or drop on rollback). */
struct pending_event {
    const char *type;
    char *payload;
    int64_t seq;
    int64_t *members; /* in the room when it was stored: who is owed it */
    size_t n;
};
int room_event_store(struct sig_hub *h, int64_t room_id, const char *event, json_t *data,
                     struct pending_event *pe);
void pending_event_send(struct sig_hub *h, struct pending_event *pe); /* also frees */
void pending_event_drop(struct pending_event *pe);
int user_event(struct sig_hub *h, int64_t user_id, const char *event, json_t *data);
/* A stored event to the online devices of users: one frame, built once. */
void deliver_event(struct sig_hub *h, int64_t seq, const char *type, const char *payload,
                   const int64_t *users, size_t n);
/* The event frame of a stored event, malloc'd in *out; its length or < 0. */
int hub_event_frame(char **out, int64_t seq, const char *type, const char *payload);
/* The session touches hello deferred, written in the turn's transaction (hello.c). */
void hub_flush_touches(struct sig_hub *h);

struct sig_conn *user_conns(struct sig_hub *h, int64_t user_id);
struct sig_conn *conn_by_id(struct sig_hub *h, uint32_t id);
enum presence user_presence(struct sig_hub *h, int64_t user_id);
void presence_changed(struct sig_hub *h, int64_t user_id, enum presence before);
void presence_unsubscribe_all(struct sig_hub *h, struct sig_conn *c);
void presence_free(struct sig_hub *h);

/* JSON views of storage rows. */
json_t *json_user(const struct sto_user *u, enum presence p);
json_t *json_room(struct sig_hub *h, const struct sto_room *room, int64_t viewer_id);
/* A room-list entry: json_room() plus "unread" and "unread_mentions". */
json_t *json_room_summary(const struct sto_room_summary *s, int64_t viewer_id);
json_t *json_message(struct sig_hub *h, const struct sto_message *m);
/* The same from extras already read (a history page reads them for all at once). */
json_t *json_message_with(const struct sto_message *m, const struct sto_message_extras *x);
const char *presence_name(enum presence p);

/* Handlers, by file. */
int h_hello(struct req *r);
int h_ping(struct req *r);
int h_user_me(struct req *r);
int h_user_list(struct req *r);
int h_presence_set(struct req *r);
int h_presence_list(struct req *r);
int h_presence_subscribe(struct req *r);
int h_typing(struct req *r);
int h_turn_credentials(struct req *r);
int h_search(struct req *r);

int h_room_list(struct req *r);
int h_room_get(struct req *r);
int h_room_create(struct req *r);
int h_room_direct(struct req *r);
int h_room_update(struct req *r);
int h_room_invite(struct req *r);
int h_room_leave(struct req *r);
int h_room_kick(struct req *r);
int h_room_members(struct req *r);

int h_message_send(struct req *r);
int h_message_edit(struct req *r);
int h_message_delete(struct req *r);
int h_message_history(struct req *r);
int h_reaction_add(struct req *r);
int h_reaction_remove(struct req *r);
int h_read_mark(struct req *r);
int h_unread(struct req *r);

int h_call_invite(struct req *r);
int h_call_ringing(struct req *r);
int h_call_accept(struct req *r);
int h_call_decline(struct req *r);
int h_call_cancel(struct req *r);
int h_call_hangup(struct req *r);
int h_call_signal(struct req *r);
int h_call_list(struct req *r);
int h_call_sfu_offer(struct req *r);
int h_call_sfu_candidate(struct req *r);

int h_media_echo(struct req *r);
int h_media_candidate(struct req *r);
int h_media_stats(struct req *r);
int h_media_close(struct req *r);
void media_conn_closed(struct sig_hub *h, struct sig_conn *c);
json_t *media_error_frame(json_t *reply); /* mediad's {"ok":false,...} as an error frame */

/* calls.c, for the hub's lifecycle. */
void calls_conn_closed(struct sig_hub *h, struct sig_conn *c, int64_t now);
void calls_tick(struct sig_hub *h, int64_t now);
int64_t calls_next_deadline(const struct sig_hub *h);
void calls_on_hello(struct sig_hub *h, struct sig_conn *c);
void calls_free(struct sig_hub *h);
/* call_sfu.c, for calls.c and media.c. */
struct call_member *call_member_of(struct sig_call *k, int64_t user_id);
struct sig_call *call_find(struct sig_hub *h, const char *id);
void call_sfu_left(struct sig_hub *h, struct sig_call *k, struct call_member *m);
void call_sfu_end(struct sig_hub *h, struct sig_call *k);
/* mediad's room.speaker: the call's devices get call.speaker. */
void call_sfu_speaker(struct sig_hub *h, const char *room, const char *session);
/* mediad's answer to a command call_sfu.c sent (its id has "sfu"). */
void call_sfu_reply(struct sig_hub *h, uint32_t conn_id, json_t *id, json_t *reply);

#endif
