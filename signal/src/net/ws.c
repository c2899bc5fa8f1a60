/*
 * ws.c - WebSocket connections: reassemble text messages, hand them to the
 * hub, and write the hub's frames from a per-connection queue (several events
 * in one batch message for clients that take them). Frames queued while the
 * hub works are written at the end of the event-loop turn, directly when lws
 * holds nothing back for the connection, else from SERVER_WRITEABLE. A queue
 * that grows past OUT_QUEUE_MAX_BYTES means the client stopped reading: it is
 * closed, and catches up by seq when it returns.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../cfg.h"
#include "../hub/hub.h"
#include "util/log.h"

static void ask_writable(struct lws *wsi, struct pss *p)
{
    p->writable_asked = true;
    lws_callback_on_writable(wsi);
}

static void unmark_dirty(struct sig_server *s, struct pss *p)
{
    if (!p->dirty)
        return;
    if (p->dirty_prev)
        p->dirty_prev->dirty_next = p->dirty_next;
    else
        s->dirty = p->dirty_next;
    if (p->dirty_next)
        p->dirty_next->dirty_prev = p->dirty_prev;
    else
        s->dirty_tail = p->dirty_prev;
    p->dirty = false;
    p->dirty_prev = p->dirty_next = NULL;
}

/* Asking lws for a writable callback per delivery cost two epoll_ctl calls
 * and a pass through the loop; ws_flush writes the turn's frames instead, in
 * the order the connections got them, so the turn's first event is written
 * first. */
static void mark_dirty(struct sig_server *s, struct pss *p)
{
    if (p->dirty || p->writable_asked)
        return;
    p->dirty = true;
    p->dirty_next = NULL;
    p->dirty_prev = s->dirty_tail;
    if (s->dirty_tail)
        s->dirty_tail->dirty_next = p;
    else
        s->dirty = p;
    s->dirty_tail = p;
}

static int queue(struct sig_server *s, struct lws *wsi, const char *text, size_t len, bool event)
{
    struct pss *p = lws_wsi_user(wsi);
    if (p->out_bytes + len > OUT_QUEUE_MAX_BYTES)
        return -ENOBUFS;
    struct frame *f = malloc(sizeof *f + LWS_PRE + len);
    if (!f)
        return -ENOBUFS;
    f->next = NULL;
    f->len = len;
    f->event = event;
    memcpy(f->data + LWS_PRE, text, len);
    if (p->out_tail)
        p->out_tail->next = f;
    else
        p->out_head = f;
    p->out_tail = f;
    p->out_bytes += len;
    mark_dirty(s, p);
    return 0;
}

static int queue_frame(void *ctx, void *handle, const char *text, size_t len)
{
    return queue(ctx, handle, text, len, false);
}

static int queue_event(void *ctx, void *handle, const char *text, size_t len)
{
    return queue(ctx, handle, text, len, true);
}

static void close_conn(void *ctx, void *handle, int code, const char *reason)
{
    (void)ctx;
    struct lws *wsi = handle;
    struct pss *p = lws_wsi_user(wsi);
    p->close_code = code;
    snprintf(p->close_reason, sizeof p->close_reason, "%s", reason);
    ask_writable(wsi, p);
    /* The queue goes out before the close frame, but a client that stopped
     * reading never makes the socket writable: without a deadline it would
     * keep its connection and up to OUT_QUEUE_MAX_BYTES of queue until the
     * idle ping gave up, 70 s later. */
    lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, CLOSE_GRACE_S);
}

static void ping_conn(void *ctx, void *handle)
{
    (void)ctx;
    struct lws *wsi = handle;
    struct pss *p = lws_wsi_user(wsi);
    p->ping_pending = true;
    ask_writable(wsi, p);
}

void ws_env(struct sig_server *s, struct sig_hub_env *env)
{
    env->ctx = s;
    env->send = queue_frame;
    env->send_event = queue_event;
    env->close = close_conn;
    env->ping = ping_conn;
}

static void free_queue(struct pss *p)
{
    while (p->out_head) {
        struct frame *f = p->out_head;
        p->out_head = f->next;
        free(f);
    }
    p->out_tail = NULL;
    p->out_bytes = 0;
    free(p->rx);
    p->rx = NULL;
    p->rx_len = 0;
}

static int refuse(struct lws *wsi, struct pss *p, enum lws_close_status code, const char *why)
{
    lws_close_reason(wsi, code, (unsigned char *)why, strlen(why));
    free(p->rx);
    p->rx = NULL;
    p->rx_len = 0;
    return -1;
}

/* Past ws_cap (or out of memory) the upgrade completes and closes at once
 * with 1013 Try Again Later, which a browser reads as a reason to come back. */
static int refuse_full(struct sig_server *s, struct lws *wsi, struct pss *p)
{
    s->ws_refused++;
    unsigned long long quiet;
    if (lt_log_limit_pass(&s->ws_refuse_log, net_now_ms(), 1000, &quiet))
        lt_log(LT_LOG_WARN, "signal", "conn_refused",
               "reason=ws_cap connections=%u ws_cap=%u fd_limit=%d refused=%llu unlogged=%llu",
               s->ws_open, s->ws_cap, s->fd_limit, s->ws_refused, quiet);
    return refuse(wsi, p, (enum lws_close_status)WS_CLOSE_TRY_AGAIN_LATER,
                  "server full; try again later");
}

static int on_receive(struct sig_server *s, struct lws *wsi, struct pss *p, const void *in,
                      size_t len)
{
    if (!p->conn)
        return -1;
    if (lws_frame_is_binary(wsi))
        return refuse(wsi, p, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "text frames only");
    size_t max = s->cfg->hub.max_frame;
    if (p->rx_len + len > max) {
        lt_log(LT_LOG_WARN, "signal", "ws_too_large", "bytes=%zu max=%zu", p->rx_len + len, max);
        return refuse(wsi, p, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
    }
    bool whole = lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi) &&
                 !lws_remaining_packet_payload(wsi);
    if (whole && !p->rx) {
        sig_hub_recv(s->hub, p->conn, in, len, net_now_ms());
        return 0;
    }
    char *grown = realloc(p->rx, p->rx_len + len + 1);
    if (!grown)
        return refuse(wsi, p, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
    p->rx = grown;
    memcpy(p->rx + p->rx_len, in, len);
    p->rx_len += len;
    if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
        char *msg = p->rx;
        size_t n = p->rx_len;
        p->rx = NULL;
        p->rx_len = 0;
        sig_hub_recv(s->hub, p->conn, msg, n, net_now_ms());
        free(msg);
    }
    return 0;
}

/* Several event frames waiting for one writable callback go out as one
 * {"type":"batch","events":[...]} message: one lws_write, hence one write()
 * and one TLS record per 16 KiB instead of one of each per frame, which is
 * where chat delivery spent its time. A batch stops at the first frame that
 * is not an event (a reply goes out next, in order) and at BATCH_MAX_BYTES. */
#define BATCH_MAX_BYTES (64u << 10)
static const char batch_head[] = "{\"type\":\"batch\",\"events\":[";
static const char batch_tail[] = "]}";

/* How many frames from f fit in one batch; *bytes: the batch's length. */
static size_t batch_span(const struct frame *f, size_t *bytes)
{
    size_t n = 0, len = sizeof batch_head - 1 + sizeof batch_tail - 1;
    for (; f && f->event; f = f->next, n++) {
        size_t add = f->len + (n > 0); /* the comma */
        if (len + add > BATCH_MAX_BYTES)
            break;
        len += add;
    }
    *bytes = len;
    return n;
}

static struct frame *pop_frame(struct pss *p)
{
    struct frame *f = p->out_head;
    p->out_head = f->next;
    if (!p->out_head)
        p->out_tail = NULL;
    p->out_bytes -= f->len;
    return f;
}

static int write_batch(struct lws *wsi, struct pss *p, size_t n, size_t len)
{
    unsigned char *buf = malloc(LWS_PRE + len);
    if (!buf)
        return 1; /* send them one by one instead */
    unsigned char *at = buf + LWS_PRE;
    memcpy(at, batch_head, sizeof batch_head - 1);
    at += sizeof batch_head - 1;
    for (size_t i = 0; i < n; i++) {
        struct frame *f = pop_frame(p);
        if (i)
            *at++ = ',';
        memcpy(at, f->data + LWS_PRE, f->len);
        at += f->len;
        free(f);
    }
    memcpy(at, batch_tail, sizeof batch_tail - 1);
    int w = lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT);
    free(buf);
    return w < 0 ? -1 : 0;
}

/* Writes the next frame, or the next batch of event frames. */
static int write_next(struct lws *wsi, struct pss *p)
{
    size_t len, n = batch_span(p->out_head, &len);
    int err = n > 1 ? write_batch(wsi, p, n, len) : 1;
    if (err <= 0)
        return err;
    struct frame *f = pop_frame(p);
    int w = lws_write(wsi, f->data + LWS_PRE, f->len, LWS_WRITE_TEXT);
    free(f);
    return w < 0 ? -1 : 0;
}

static int on_writeable(struct lws *wsi, struct pss *p)
{
    p->writable_asked = false;
    if (p->write_failed)
        return -1;
    if (p->ping_pending && !p->close_code) {
        /* Not empty: libwebsockets 4.1 passes an empty pong to nobody, and
         * the hub would close a client that answered every ping. */
        unsigned char buf[LWS_PRE + 4] = {[LWS_PRE] = 'l', 't'};
        p->ping_pending = false;
        if (lws_write(wsi, buf + LWS_PRE, 2, LWS_WRITE_PING) < 0)
            return -1;
        if (p->out_head)
            ask_writable(wsi, p);
        return 0;
    }
    if (p->out_head) {
        if (write_next(wsi, p) < 0)
            return -1;
        if (p->out_head || p->close_code)
            ask_writable(wsi, p);
        return 0;
    }
    if (p->close_code) { /* queued frames first, then the close */
        lws_close_reason(wsi, (enum lws_close_status)p->close_code,
                         (unsigned char *)p->close_reason, strlen(p->close_reason));
        return -1;
    }
    return 0;
}

void ws_flush(struct sig_server *s)
{
    while (s->dirty) {
        struct pss *p = s->dirty;
        unmark_dirty(s, p);
        struct lws *wsi = p->wsi;
        if (p->writable_asked || !p->out_head)
            continue;
        if (p->ping_pending || p->close_code) { /* the callback keeps their order */
            ask_writable(wsi, p);
            continue;
        }
        /* lws keeps what the socket did not take and sends it first: write
         * only while it holds nothing, at most a batch's worth per turn. */
        size_t written = 0;
        while (p->out_head && written < BATCH_MAX_BYTES && !lws_partial_buffered(wsi)) {
            size_t before = p->out_bytes;
            if (write_next(wsi, p) < 0) {
                p->write_failed = true;
                break;
            }
            written += before - p->out_bytes;
        }
        if (p->out_head || p->write_failed)
            ask_writable(wsi, p);
    }
}

int ws_callback(struct sig_server *s, struct lws *wsi, enum lws_callback_reasons reason,
                struct pss *p, void *in, size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: {
        char peer[PEER_MAX];
        net_peer(wsi, peer, sizeof peer);
        p->wsi = wsi;
        p->conn = s->ws_open < s->ws_cap ? sig_hub_open(s->hub, wsi, peer, net_now_ms()) : NULL;
        if (!p->conn)
            return refuse_full(s, wsi, p);
        s->ws_open++;
        return 0;
    }
    case LWS_CALLBACK_RECEIVE:
        return on_receive(s, wsi, p, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(wsi, p);
    case LWS_CALLBACK_RECEIVE_PONG:
        if (p->conn)
            sig_hub_alive(s->hub, p->conn, net_now_ms());
        return 0;
    case LWS_CALLBACK_CLOSED:
        if (p->conn) {
            sig_hub_closed(s->hub, p->conn, net_now_ms());
            s->ws_open--;
        }
        p->conn = NULL;
        unmark_dirty(s, p);
        free_queue(p);
        return 0;
    default:
        return 0;
    }
}
