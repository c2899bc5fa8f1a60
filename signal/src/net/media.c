/*
 * media.c - signald's side of mediad's control socket: one stream
 * connection, opened when the first echo test starts, adopted into the
 * event loop. Each command carries a "req" token; mediad answers in order,
 * and the answer goes back to the device that asked (sig_hub_media_reply).
 * Lines with "event" and no "req" are mediad's own news (sig_hub_media_event).
 * If mediad goes away, every waiting device gets an error and the next test
 * connects again.
 */
#include "internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../cfg.h"
#include "../hub/hub.h"
#include "util/log.h"

#define WAITING_MAX 256
#define LINE_MAX_BYTES 262144

struct waiting {
    uint64_t token;
    uint32_t conn_id;
    json_t *id;
};

struct media_link {
    struct lws *wsi;
    int fd;
    uint64_t next_token;
    struct waiting w[WAITING_MAX];
    size_t n;
    char *buf;
    size_t len;
};

static struct media_link link_state = {.fd = -1};

static void fail_all(struct sig_server *s, const char *why)
{
    json_t *err = json_pack("{sb ss}", "ok", 0, "error", why);
    for (size_t i = 0; i < link_state.n; i++) {
        if (link_state.w[i].conn_id)
            sig_hub_media_reply(s->hub, link_state.w[i].conn_id, link_state.w[i].id, err);
        json_decref(link_state.w[i].id);
    }
    json_decref(err);
    link_state.n = 0;
}

static void drop_link(struct sig_server *s, const char *why)
{
    if (link_state.fd >= 0)
        lt_log(LT_LOG_WARN, "signal", "mediad_lost", "reason=\"%s\"", why);
    link_state.fd = -1;
    link_state.wsi = NULL;
    free(link_state.buf);
    link_state.buf = NULL;
    link_state.len = 0;
    fail_all(s, "the media service went away; try again");
}

static int connect_link(struct sig_server *s)
{
    const char *path = s->cfg->media_socket;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!path || !*path || strlen(path) >= sizeof sa.sun_path || !s->https_vh)
        return -ENOTSUP;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    lws_sock_file_fd_type u = {.filefd = fd};
    struct lws *wsi = lws_adopt_descriptor_vhost(s->https_vh, LWS_ADOPT_RAW_FILE_DESC, u,
                                                 SIG_MEDIA_PROTOCOL, NULL);
    if (!wsi) {
        close(fd); /* lws closes only descriptors it adopts as sockets */
        return -EIO;
    }
    link_state.fd = fd;
    link_state.wsi = wsi;
    lt_log(LT_LOG_INFO, "signal", "mediad_connected", "socket=%s", path);
    return 0;
}

static int media_send(void *ctx, uint32_t conn_id, json_t *id, json_t *cmd)
{
    struct sig_server *s = ctx;
    if (link_state.fd < 0) {
        int err = connect_link(s);
        if (err)
            return err;
    }
    if (link_state.n == WAITING_MAX)
        return -EBUSY;
    uint64_t token = ++link_state.next_token;
    json_t *copy = json_deep_copy(cmd);
    json_object_set_new(copy, "req", json_integer((json_int_t)token));
    char *text = json_dumps(copy, JSON_COMPACT);
    json_decref(copy);
    if (!text)
        return -ENOMEM;
    size_t len = strlen(text);
    text[len] = '\n';
    /* A local socket with a deep buffer and small commands: a short blocking
     * write; a mediad that stops reading is treated as gone. */
    struct timeval tv = {.tv_sec = 1};
    setsockopt(link_state.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ssize_t w = write(link_state.fd, text, len + 1);
    free(text);
    if (w != (ssize_t)(len + 1)) {
        drop_link(s, "write failed");
        return -EIO;
    }
    link_state.w[link_state.n++] =
        (struct waiting){.token = token, .conn_id = conn_id, .id = id ? json_incref(id) : NULL};
    return 0;
}

static void answer(struct sig_server *s, const char *line, size_t len)
{
    json_t *reply = json_loadb(line, len, 0, NULL);
    if (json_object_get(reply, "event") && !json_object_get(reply, "req")) {
        sig_hub_media_event(s->hub, reply); /* unsolicited: room.speaker */
        json_decref(reply);
        return;
    }
    json_int_t token = json_integer_value(json_object_get(reply, "req"));
    for (size_t i = 0; i < link_state.n; i++) {
        if (link_state.w[i].token != (uint64_t)token)
            continue;
        struct waiting w = link_state.w[i];
        link_state.w[i] = link_state.w[--link_state.n];
        if (w.conn_id && reply)
            sig_hub_media_reply(s->hub, w.conn_id, w.id, reply);
        json_decref(w.id);
        break;
    }
    json_decref(reply);
}

int media_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    (void)user;
    (void)in;
    (void)len;
    struct sig_server *s = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE: {
        char buf[8192];
        ssize_t n = read(lws_get_socket_fd(wsi), buf, sizeof buf);
        if (n <= 0) {
            drop_link(s, n == 0 ? "closed by mediad" : "read failed");
            return -1;
        }
        if (link_state.len + (size_t)n > LINE_MAX_BYTES) {
            drop_link(s, "answer too long");
            return -1;
        }
        char *grown = realloc(link_state.buf, link_state.len + (size_t)n);
        if (!grown) {
            drop_link(s, "out of memory");
            return -1;
        }
        link_state.buf = grown;
        memcpy(link_state.buf + link_state.len, buf, (size_t)n);
        link_state.len += (size_t)n;
        char *nl;
        while ((nl = memchr(link_state.buf, '\n', link_state.len))) {
            size_t line = (size_t)(nl - link_state.buf);
            answer(s, link_state.buf, line);
            memmove(link_state.buf, nl + 1, link_state.len - line - 1);
            link_state.len -= line + 1;
        }
        return 0;
    }
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (link_state.wsi == wsi)
            drop_link(s, "closed");
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_HTTP:
        return -1; /* never reachable from the network */
    default:
        return 0;
    }
}

void media_env(struct sig_server *s, struct sig_hub_env *env)
{
    if (s->cfg->media_socket && *s->cfg->media_socket)
        env->media = media_send;
}
