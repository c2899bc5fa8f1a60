/*
 * control.c - signald's control socket: a unix stream socket where local
 * tools (applianced, the console) send one JSON request per connection and
 * read one JSON reply (hub/control.c has the commands). The listening socket
 * is adopted into libwebsockets' loop by listen.c; requests are tiny and
 * local, so each is read and answered in one turn.
 */
#include "internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../cfg.h"
#include "../hub/hub.h"
#include "util/log.h"

#define REQUEST_MAX 8192

static void answer(struct sig_server *s, int fd)
{
    /* No cap: the control socket is how an operator sees a signald that is full. */
    struct timeval tv = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    char buf[REQUEST_MAX];
    size_t n = 0;
    while (n < sizeof buf - 1) {
        ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        if (memchr(buf, '\n', n))
            break;
    }
    json_error_t je;
    json_t *req = json_loadb(buf, n, JSON_DISABLE_EOF_CHECK, &je);
    json_t *reply = json_is_object(req) ? sig_hub_control(s->hub, req, net_now_ms())
                                        : json_pack("{sb ss}", "ok", 0, "error",
                                                    "a request is one JSON object on one line");
    json_decref(req);
    char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
    json_decref(reply);
    if (text) {
        size_t len = strlen(text);
        text[len] = '\n';
        for (size_t off = 0; off <= len;) {
            ssize_t w = write(fd, text + off, len + 1 - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        free(text);
    }
    close(fd);
}

int control_listen(struct sig_server *s, struct lws_vhost *vh, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!path || !*path)
        return 0;
    if (strlen(path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    unlink(path);
    mode_t old = umask(0117);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 16) == 0 ? 0 : -errno;
    umask(old);
    if (rc) {
        close(fd);
        return rc;
    }
    s->control_l.on_accept = answer;
    rc = listen_adopt(&s->control_l, s, vh, fd, SIG_CONTROL_PROTOCOL, "control");
    if (rc)
        return rc;
    snprintf(s->control_path, sizeof s->control_path, "%s", path);
    lt_log(LT_LOG_INFO, "signal", "control", "socket=%s", path);
    return 0;
}
