/*
 * control.c - the control socket (see control.h) on the main thread's GLib
 * loop.
 *
 * Requests on one connection are answered in order: while an echo.offer waits
 * for ICE gathering, later lines of that connection wait in its buffer.
 * A request may carry "req" (any JSON value); the reply carries it back.
 *
 * Sessions live on worker threads (worker.h): a request touches one only
 * while it holds that worker's lock, and whatever a worker has to say (an
 * answer, an event) comes here as a posted message that names its client
 * by serial number, so it finds nothing if that client has gone meanwhile.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>
#include <jansson.h>

#include "room.h"
#include "util/log.h"
#include "worker.h"

#define LINE_MAX_BYTES (256 * 1024)

struct client {
    struct client *next;
    struct media_control *ctl; /* ctl and serial never change: workers read them */
    uint64_t serial;
    int fd;
    guint watch;
    char *buf;
    size_t len;
    bool pending; /* an echo.offer or room.offer waiting for its answer */
    char pending_id[MEDIA_SESSION_ID_LEN];
    json_t *pending_req;
};

struct media_control {
    struct media_server *srv;
    int fd;
    guint watch;
    char *path;
    struct client *clients;
    uint64_t next_serial;
    atomic_uint posted; /* messages from workers not yet handled: they hold ctl */
    bool closed;        /* freed by the last posted message */
};

/* What a worker posts to the main loop: an answer for one client or an event for all. */
struct posted {
    struct media_control *ctl;
    uint64_t serial; /* 0: an event */
    char id[MEDIA_SESSION_ID_LEN];
    char *sdp, *error, *event;
};

static void send_all(int fd, const char *p, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t w = send(fd, p + off, len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

static void reply(struct client *c, json_t *req_tag, json_t *msg)
{
    if (req_tag)
        json_object_set(msg, "req", req_tag);
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!text)
        return;
    size_t len = strlen(text);
    text[len] = '\n'; /* replaces the NUL: we write len + 1 bytes */
    send_all(c->fd, text, len + 1);
    free(text);
}


static json_t *error_msg(const char *why) { return json_pack("{sb ss}", "ok", 0, "error", why); }

static void process_lines(struct client *c);

static void free_posted(struct posted *m)
{
    struct media_control *ctl = m->ctl;
    free(m->sdp);
    free(m->error);
    free(m->event);
    free(m);
    if (atomic_fetch_sub(&ctl->posted, 1) == 1 && ctl->closed)
        free(ctl);
}

/* Main thread: hand a posted answer to its client, or an event to every client. */
static gboolean on_posted(gpointer data)
{
    struct posted *m = data;
    struct media_control *ctl = m->ctl;
    for (struct client *c = ctl->clients; c && !ctl->closed; c = c->next) {
        if (!m->serial) {
            send_all(c->fd, m->event, strlen(m->event));
            continue;
        }
        if (c->serial != m->serial)
            continue;
        if (c->pending && strcmp(c->pending_id, m->id) == 0) {
            json_t *tag = c->pending_req;
            c->pending = false;
            c->pending_req = NULL;
            if (m->sdp)
                reply(c, tag, json_pack("{sb ss ss}", "ok", 1, "id", m->id, "sdp", m->sdp));
            else
                reply(c, tag, json_pack("{sb ss ss}", "ok", 0, "id", m->id, "error", m->error));
            json_decref(tag);
            process_lines(c);
        }
        break;
    }
    free_posted(m);
    return G_SOURCE_REMOVE;
}

static void post(struct posted *m)
{
    atomic_fetch_add(&m->ctl->posted, 1);
    media_main_defer(on_posted, m);
}

/* The session's worker thread (or the main thread, on a close request). */
static void on_answer(void *arg, struct media_session *s, const char *sdp, const char *error)
{
    const struct client *c = arg;
    struct posted *m = calloc(1, sizeof *m);
    if (!m)
        return;
    m->ctl = c->ctl;
    m->serial = c->serial;
    snprintf(m->id, sizeof m->id, "%s", media_session_id(s));
    m->sdp = sdp ? strdup(sdp) : NULL;
    m->error = strdup(error ? error : "failed");
    post(m);
}

void media_control_notify(struct media_server *srv, json_t *event)
{
    struct media_control *ctl = srv->control;
    char *text = ctl ? json_dumps(event, JSON_COMPACT) : NULL;
    json_decref(event);
    struct posted *m = text ? calloc(1, sizeof *m) : NULL;
    if (!m || !(m->event = malloc(strlen(text) + 2))) {
        free(m);
        free(text);
        return;
    }
    sprintf(m->event, "%s\n", text); /* one line, written as it is to every client */
    free(text);
    m->ctl = ctl;
    post(m);
}

static int read_turn_servers(json_t *list, struct media_echo_request *r, char *err, size_t cap)
{
    if (!list)
        return 0;
    if (!json_is_array(list)) {
        snprintf(err, cap, "ice_servers: expected a list");
        return -EINVAL;
    }
    size_t i;
    json_t *srv;
    json_array_foreach(list, i, srv) {
        json_t *urls = json_object_get(srv, "urls");
        const char *user = json_string_value(json_object_get(srv, "username"));
        const char *pass = json_string_value(json_object_get(srv, "credential"));
        json_t *one[1] = {urls};
        size_t n = json_is_array(urls) ? json_array_size(urls) : 1;
        for (size_t k = 0; k < n; k++) {
            json_t *u = json_is_array(urls) ? json_array_get(urls, k) : one[0];
            const char *url = json_string_value(u);
            struct media_turn_server *t = &r->turn[r->n_turn];
            /* stun: and turns: URLs and host names are skipped: libnice wants IPs and plain TURN */
            if (!url || !user || !pass || r->n_turn == MEDIA_MAX_ICE_SERVERS ||
                media_parse_turn_url(url, t->host, sizeof t->host, &t->port, &t->tcp) ||
                strlen(user) >= sizeof t->username || strlen(pass) >= sizeof t->password)
                continue;
            strcpy(t->username, user);
            strcpy(t->password, pass);
            r->n_turn++;
        }
    }
    return 0;
}

/* room.switch and room.stats (room.offer and room.candidate go with echo's). */
static void handle_room(struct client *c, json_t *tag, const char *what, json_t *req)
{
    struct media_server *srv = c->ctl->srv;
    if (strcmp(what, "stats") == 0) {
        const char *name = json_string_value(json_object_get(req, "room"));
        json_t *list = media_room_list(srv, name);
        if (name && json_array_size(list) == 0) {
            json_decref(list);
            reply(c, tag, error_msg("no such room"));
        } else {
            reply(c, tag, json_pack("{sb so}", "ok", 1, "rooms", list));
        }
        return;
    }
    if (strcmp(what, "switch") != 0) {
        reply(c, tag, error_msg("unknown cmd (room.offer, room.candidate, room.switch, room.stats)"));
        return;
    }
    const char *id = json_string_value(json_object_get(req, "id"));
    json_t *slot = json_object_get(req, "slot"), *ssrc = json_object_get(req, "ssrc");
    if (!json_is_integer(slot) || !json_is_integer(ssrc) || json_integer_value(slot) < 0 ||
        json_integer_value(ssrc) < 0 || json_integer_value(ssrc) > 0xffffffffll) {
        reply(c, tag, error_msg("room.switch needs \"slot\" and \"ssrc\" (0 for none)"));
        return;
    }
    struct media_worker *w;
    struct media_session *s = id ? media_server_find_locked(srv, id, &w) : NULL;
    struct media_room *room = s ? media_session_room(s) : NULL;
    if (!room) {
        if (s)
            media_worker_unlock(w);
        reply(c, tag, error_msg("no such room session"));
        return;
    }
    int rc = media_fwd_bind(media_room_fwd(room), media_session_now_us(), media_session_room_ep(s),
                            (unsigned)json_integer_value(slot), (uint32_t)json_integer_value(ssrc));
    json_t *stats = rc ? NULL : media_session_stats(s);
    media_worker_unlock(w);
    if (rc == -ENOENT)
        reply(c, tag, error_msg("no such source in the room"));
    else if (rc == -EEXIST)
        reply(c, tag, error_msg("the session receives that source on another slot already"));
    else if (rc)
        reply(c, tag, error_msg("no such slot, or a source of another kind or of its own"));
    else
        reply(c, tag, json_pack("{sb so}", "ok", 1, "session", stats));
}

/* One request; returns true when the reply will come later (echo.offer, room.offer). */
static bool handle(struct client *c, json_t *req)
{
    struct media_server *srv = c->ctl->srv;
    json_t *tag = json_object_get(req, "req");
    const char *cmd = json_string_value(json_object_get(req, "cmd"));
    char err[256] = "";
    if (!cmd) {
        reply(c, tag, error_msg("a request is {\"cmd\": ...}"));
    } else if (strcmp(cmd, "echo.offer") == 0 || strcmp(cmd, "room.offer") == 0) {
        struct media_echo_request r = {0};
        r.sdp = json_string_value(json_object_get(req, "sdp"));
        r.relay_only = json_is_true(json_object_get(req, "relay_only"));
        bool room = cmd[0] == 'r';
        r.room = room ? json_string_value(json_object_get(req, "room")) : NULL;
        if (!r.sdp) {
            reply(c, tag, error_msg(room ? "room.offer needs \"sdp\"" : "echo.offer needs \"sdp\""));
        } else if (room && (!r.room || !*r.room || strlen(r.room) >= MEDIA_ROOM_NAME_MAX)) {
            reply(c, tag, error_msg("room.offer needs \"room\": a name of 1-63 bytes"));
        } else if (read_turn_servers(json_object_get(req, "ice_servers"), &r, err, sizeof err) ||
                   media_session_new(srv, &r, on_answer, c, c->pending_id, err, sizeof err)) {
            reply(c, tag, error_msg(err));
        } else {
            c->pending = true;
            c->pending_req = json_incref(tag);
            return true;
        }
        memset(&r, 0, sizeof r); /* TURN passwords */
    } else if (strcmp(cmd, "echo.candidate") == 0 || strcmp(cmd, "room.candidate") == 0) {
        const char *id = json_string_value(json_object_get(req, "id"));
        const char *cand = json_string_value(json_object_get(req, "candidate"));
        struct media_worker *w;
        struct media_session *s = id ? media_server_find_locked(srv, id, &w) : NULL;
        int rc = s && cand && *cand ? media_session_add_candidate(s, cand) : 0;
        if (s)
            media_worker_unlock(w);
        if (!s)
            reply(c, tag, error_msg("no such session"));
        else if (rc)
            reply(c, tag, error_msg("unusable candidate"));
        else /* added, or the end of candidates */
            reply(c, tag, json_pack("{sb}", "ok", 1));
    } else if (strcmp(cmd, "stats") == 0) {
        const char *id = json_string_value(json_object_get(req, "id"));
        struct media_worker *w;
        struct media_session *s = id ? media_server_find_locked(srv, id, &w) : NULL;
        json_t *one = s ? media_session_stats(s) : NULL;
        if (s)
            media_worker_unlock(w);
        if (id && !s)
            reply(c, tag, error_msg("no such session"));
        else if (s)
            reply(c, tag, json_pack("{sb so}", "ok", 1, "session", one));
        else
            reply(c, tag, media_server_stats(srv));
    } else if (strcmp(cmd, "close") == 0) {
        const char *id = json_string_value(json_object_get(req, "id"));
        struct media_worker *w;
        struct media_session *s = id ? media_server_find_locked(srv, id, &w) : NULL;
        if (!s) {
            reply(c, tag, error_msg("no such session"));
        } else {
            json_t *final = media_session_stats(s);
            media_session_close(s, "closed by request");
            media_worker_unlock(w);
            reply(c, tag, json_pack("{sb so}", "ok", 1, "session", final));
        }
    } else if (strncmp(cmd, "room.", 5) == 0) {
        handle_room(c, tag, cmd + 5, req);
    } else {
        reply(c, tag, error_msg("unknown cmd (echo.offer, echo.candidate, room.offer, "
                                "room.candidate, room.switch, room.stats, stats, close)"));
    }
    return false;
}

static void process_lines(struct client *c)
{
    while (!c->pending) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (!nl)
            return;
        size_t line_len = (size_t)(nl - c->buf);
        json_error_t je;
        json_t *req = json_loadb(c->buf, line_len, 0, &je);
        memmove(c->buf, nl + 1, c->len - line_len - 1);
        c->len -= line_len + 1;
        if (line_len == 0) {
            json_decref(req);
            continue;
        }
        if (!json_is_object(req))
            reply(c, NULL, error_msg("a request is one JSON object on one line"));
        else
            handle(c, req);
        json_decref(req);
    }
}

static void drop_client(struct client *c)
{
    struct media_control *ctl = c->ctl;
    for (struct client **pp = &ctl->clients; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    struct media_worker *w;
    struct media_session *s = c->pending ? media_server_find_locked(ctl->srv, c->pending_id, &w)
                                         : NULL;
    if (s) { /* an answer already posted finds no client and is dropped */
        media_session_forget_answer(s);
        media_worker_unlock(w);
    }
    json_decref(c->pending_req);
    if (c->watch)
        g_source_remove(c->watch);
    close(c->fd);
    free(c->buf);
    free(c);
}

static gboolean on_client(gint fd, GIOCondition cond, gpointer data)
{
    struct client *c = data;
    (void)cond;
    char tmp[16384];
    ssize_t n = recv(fd, tmp, sizeof tmp, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    if (n <= 0 || c->len + (size_t)n > LINE_MAX_BYTES) {
        if (n > 0)
            reply(c, NULL, error_msg("request line too long"));
        c->watch = 0;
        drop_client(c);
        return G_SOURCE_REMOVE;
    }
    memcpy(c->buf + c->len, tmp, (size_t)n);
    c->len += (size_t)n;
    process_lines(c);
    return G_SOURCE_CONTINUE;
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
    struct media_control *ctl = data;
    (void)cond;
    int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (cfd < 0)
        return G_SOURCE_CONTINUE;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* a stuck reader cannot stall us long */
    struct client *c = calloc(1, sizeof *c);
    if (!c || !(c->buf = malloc(LINE_MAX_BYTES))) {
        free(c);
        close(cfd);
        return G_SOURCE_CONTINUE;
    }
    c->ctl = ctl;
    c->serial = ++ctl->next_serial;
    c->fd = cfd;
    c->watch = g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_client, c);
    c->next = ctl->clients;
    ctl->clients = c;
    return G_SOURCE_CONTINUE;
}

int media_control_open(struct media_control **out, struct media_server *srv, const char *path,
                       char *err, size_t err_cap)
{
    *out = NULL;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, err_cap, "control socket path too long: %s", path);
        return -ENAMETOOLONG;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, err_cap, "socket: %s", strerror(errno));
        return -errno;
    }
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || chmod(path, 0660) != 0 ||
        listen(fd, 16) != 0) {
        int e = errno;
        snprintf(err, err_cap, "control socket %s: %s", path, strerror(e));
        close(fd);
        return -e;
    }
    struct media_control *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return -ENOMEM;
    }
    c->srv = srv;
    c->fd = fd;
    c->path = strdup(path);
    c->watch = g_unix_fd_add(fd, G_IO_IN, on_accept, c);
    srv->control = c;
    *out = c;
    return 0;
}

void media_control_close(struct media_control *c)
{
    if (!c)
        return;
    /* Workers read srv->control to post events: no one may hold it after this. */
    for (unsigned i = 0; i < c->srv->n_workers; i++) {
        media_worker_lock(&c->srv->workers[i]);
        c->srv->control = NULL;
        media_worker_unlock(&c->srv->workers[i]);
    }
    c->srv->control = NULL;
    while (c->clients)
        drop_client(c->clients);
    if (c->watch)
        g_source_remove(c->watch);
    close(c->fd);
    if (c->path)
        unlink(c->path);
    free(c->path);
    c->closed = true;
    if (atomic_load(&c->posted) == 0) /* else the last posted message frees it */
        free(c);
}
