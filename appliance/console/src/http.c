/*
 * http.c - one HTTPS request of the console: read the method, path, cookie and
 * CSRF headers, collect a JSON body (or stream a restore upload to a file),
 * hand a struct con_req to the router, and write its reply in two
 * HTTP_WRITEABLE turns (headers, then body), or serve a file.
 */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

enum { STAGE_NONE, STAGE_HEADERS, STAGE_BODY, STAGE_DONE };

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **pp,
                      unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), pp, end);
}

static int security_headers(struct lws *wsi, unsigned char **pos, unsigned char *end)
{
    return add_header(wsi, "x-content-type-options:", "nosniff", pos, end) ||
           add_header(wsi, "x-frame-options:", "DENY", pos, end) ||
           add_header(wsi, "referrer-policy:", "no-referrer", pos, end) ||
           add_header(wsi, "strict-transport-security:", "max-age=31536000", pos, end);
}

static void cleanup(struct con_pss *p)
{
    if (p->upload_fd > 0) {
        close(p->upload_fd);
        unlink(p->upload_tmp);
    }
    p->upload_fd = 0;
    free(p->body);
    p->body = NULL;
    p->body_len = 0;
    con_reply_clear(&p->reply);
}

/* Streams reply.file; the rest of the reply is dropped. */
static int serve_file(struct lws *wsi, struct con_pss *p)
{
    unsigned char hbuf[2048], *pos = hbuf, *end = hbuf + sizeof hbuf;
    int rc = -1;
    if (!security_headers(wsi, &pos, end) &&
        !add_header(wsi, "cache-control:", "no-store", &pos, end) &&
        (!p->reply.disposition ||
         !add_header(wsi, "content-disposition:", p->reply.disposition, &pos, end)))
        rc = lws_serve_http_file(wsi, p->reply.file,
                                 p->reply.content_type ? p->reply.content_type
                                                       : "application/octet-stream",
                                 (const char *)hbuf, (int)(pos - hbuf));
    /* lws has the file open now (or failed): a temporary can go */
    if (p->reply.unlink_file)
        unlink(p->reply.file);
    con_reply_clear(&p->reply);
    if (rc < 0)
        return -1;
    return rc > 0 && lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int respond(struct lws *wsi, struct con_pss *p)
{
    if (p->reply.file)
        return serve_file(wsi, p);
    if (!p->reply.body)
        p->reply.body = strdup("{}");
    if (!p->reply.status)
        p->reply.status = 500;
    p->stage = STAGE_HEADERS;
    lws_callback_on_writable(wsi);
    return 0;
}

static int write_response(struct lws *wsi, struct con_pss *p)
{
    struct con_reply *r = &p->reply;
    size_t len = r->body ? strlen(r->body) : 0;
    if (p->stage == STAGE_HEADERS) {
        unsigned char buf[LWS_PRE + 2048];
        unsigned char *start = buf + LWS_PRE, *pos = start, *end = buf + sizeof buf - 1;
        char retry[16];
        snprintf(retry, sizeof retry, "%d", r->retry_after_s);
        if (lws_add_http_common_headers(wsi, (unsigned)r->status,
                                        r->content_type ? r->content_type : "application/json",
                                        len, &pos, end) ||
            add_header(wsi, "cache-control:", "no-store", &pos, end) ||
            security_headers(wsi, &pos, end) ||
            (r->set_cookie && add_header(wsi, "set-cookie:", r->set_cookie, &pos, end)) ||
            (r->retry_after_s > 0 && add_header(wsi, "retry-after:", retry, &pos, end)) ||
            lws_finalize_write_http_header(wsi, start, &pos, end))
            return -1;
        p->stage = STAGE_BODY;
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (p->stage != STAGE_BODY)
        return 0;
    p->stage = STAGE_DONE;
    if (len) {
        unsigned char *out = malloc(LWS_PRE + len);
        if (!out)
            return -1;
        memcpy(out + LWS_PRE, r->body, len);
        int w = lws_write(wsi, out + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
        free(out);
        if (w < 0)
            return -1;
    }
    con_reply_clear(r);
    if (p->refused) /* body bytes left unread: never reuse this connection */
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static void read_cookie(struct lws *wsi, struct con_pss *p)
{
    char cookies[2048];
    p->token[0] = '\0';
    if (lws_hdr_copy(wsi, cookies, sizeof cookies, WSI_TOKEN_HTTP_COOKIE) <= 0)
        return;
    const char *key = CON_COOKIE "=";
    for (char *c = cookies; c && *c;) {
        while (*c == ' ')
            c++;
        if (strncmp(c, key, strlen(key)) == 0) {
            c += strlen(key);
            size_t n = strcspn(c, ";");
            if (n < sizeof p->token)
                snprintf(p->token, sizeof p->token, "%.*s", (int)n, c);
            return;
        }
        c = strchr(c, ';');
        if (c)
            c++;
    }
}

/* A request a cross-site page could have made is refused for state changes:
 * it needs our header (a form or a simple fetch cannot add it without a CORS
 * preflight, which we never allow), and an Origin, when sent, must be ours. */
static bool csrf_ok(struct lws *wsi)
{
    char v[128], origin[300], host[256], site[32];
    if (lws_hdr_custom_copy(wsi, v, sizeof v, CON_CSRF_HEADER ":",
                            (int)strlen(CON_CSRF_HEADER ":")) <= 0 ||
        strcmp(v, CON_CSRF_VALUE) != 0)
        return false;
    if (lws_hdr_custom_copy(wsi, site, sizeof site, "sec-fetch-site:", 15) > 0 &&
        strcmp(site, "cross-site") == 0)
        return false;
    if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) > 0) {
        if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0)
            return false;
        char want[300];
        snprintf(want, sizeof want, "https://%s", host);
        if (strcmp(origin, want) != 0)
            return false;
    }
    return true;
}

static void make_req(struct con_pss *p, struct con_req *r)
{
    *r = (struct con_req){.method = p->method, .path = p->path, .query = p->query,
                          .body = p->body, .body_len = p->body_len,
                          .upload = p->upload_fd > 0 ? p->upload_tmp : NULL, .token = p->token,
                          .csrf_ok = p->csrf_ok, .peer = p->peer, .user_agent = p->ua,
                          .now = wall_ms()};
}

static int dispatch(struct console *c, struct lws *wsi, struct con_pss *p)
{
    struct con_req r;
    make_req(p, &r);
    con_handle(c, &r, &p->reply);
    free(p->body);
    p->body = NULL;
    p->body_len = 0;
    if (p->upload_fd > 0) {
        close(p->upload_fd);
        unlink(p->upload_tmp);
        p->upload_fd = 0;
    }
    return respond(wsi, p);
}

static int refuse(struct lws *wsi, struct con_pss *p, int status, const char *code,
                  const char *msg)
{
    p->refused = true;
    con_error(&p->reply, status, code, "%s", msg);
    return respond(wsi, p);
}

/* Everything about an upload that the headers decide is checked before a
 * byte of the body is stored. */
static int upload_start(struct console *c, struct lws *wsi, struct con_pss *p,
                        const struct con_upload_plan *plan)
{
    struct con_admin who;
    struct con_req r;
    make_req(p, &r);
    if (!p->csrf_ok)
        return refuse(wsi, p, 403, "csrf", "this request must come from the console's own pages");
    if (con_auth_check(c, &r, &who) != 0)
        return refuse(wsi, p, 401, "unauthorized", "sign in first");
    char clen[32];
    if (lws_hdr_copy(wsi, clen, sizeof clen, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
        strtoull(clen, NULL, 10) > plan->max)
        return refuse(wsi, p, 413, "too_large", "the upload is too large");
    if (con_upload_refused(c, &r, &who, &p->reply)) {
        p->refused = true;
        return respond(wsi, p);
    }
    con_reply_clear(&p->reply);
    p->upload_max = plan->max;
    snprintf(p->upload_tmp, sizeof p->upload_tmp, "%s/%sXXXXXX%s", plan->dir, plan->prefix,
             plan->suffix);
    int fd = mkostemps(p->upload_tmp, (int)strlen(plan->suffix), O_CLOEXEC);
    if (fd < 0) {
        lt_log(LT_LOG_ERROR, "console", "upload_tmp", "err=\"%s\"", strerror(errno));
        return refuse(wsi, p, 500, "internal", "cannot store uploads right now");
    }
    p->upload_fd = fd;
    return 0;
}

static int upload_chunk(struct lws *wsi, struct con_pss *p, const void *in, size_t len)
{
    if (p->upload_fd <= 0)
        return 0;
    if (p->upload_bytes + len > p->upload_max) {
        close(p->upload_fd);
        unlink(p->upload_tmp);
        p->upload_fd = 0;
        return refuse(wsi, p, 413, "too_large", "the upload is too large");
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = write(p->upload_fd, (const char *)in + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            lt_log(LT_LOG_ERROR, "console", "upload_write", "err=\"%s\"", strerror(errno));
            close(p->upload_fd);
            unlink(p->upload_tmp);
            p->upload_fd = 0;
            return refuse(wsi, p, 507, "no_space", "the upload could not be stored (disk full?)");
        }
        off += (size_t)w;
    }
    p->upload_bytes += len;
    return 0;
}

static int on_http(struct console *c, struct lws *wsi, struct con_pss *p)
{
    cleanup(p);
    p->refused = false;
    p->stage = STAGE_NONE;
    p->upload_bytes = 0;
    p->upload_max = 0;
    bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    bool get = !post && lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    if (!post && !get)
        return refuse(wsi, p, 405, "bad_request", "only GET and POST");
    char uri[512];
    if (lws_hdr_copy(wsi, uri, sizeof uri, post ? WSI_TOKEN_POST_URI : WSI_TOKEN_GET_URI) < 0 ||
        strlen(uri) >= sizeof p->path)
        return refuse(wsi, p, 414, "bad_request", "URI too long");
    snprintf(p->method, sizeof p->method, "%s", post ? "POST" : "GET");
    uri[strcspn(uri, "?")] = '\0';
    memcpy(p->path, uri, strlen(uri) + 1); /* fits: checked above */
    p->query[0] = '\0';
    if (lws_hdr_copy(wsi, p->query, sizeof p->query, WSI_TOKEN_HTTP_URI_ARGS) < 0)
        p->query[0] = '\0';
    read_cookie(wsi, p);
    p->csrf_ok = csrf_ok(wsi);
    lws_get_peer_simple(wsi, p->peer, sizeof p->peer);
    p->ua[0] = '\0';
    lws_hdr_copy(wsi, p->ua, sizeof p->ua, WSI_TOKEN_HTTP_USER_AGENT);
    if (get)
        return dispatch(c, wsi, p);
    struct con_upload_plan plan;
    if (con_route_upload(c, p->path, &plan))
        return upload_start(c, wsi, p, &plan);
    char clen[32];
    if (lws_hdr_copy(wsi, clen, sizeof clen, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 ||
        strtoull(clen, NULL, 10) == 0)
        return dispatch(c, wsi, p); /* no body is coming */
    return 0; /* wait for the body */
}

int con_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                      size_t len)
{
    struct console *c = lws_context_user(lws_get_context(wsi));
    struct con_pss *p = user;
    if (reason == LWS_CALLBACK_ADD_HEADERS) { /* the UI's static files */
        struct lws_process_html_args *a = in;
        unsigned char *pos = (unsigned char *)a->p, *end = pos + a->max_len;
        if (security_headers(wsi, &pos, end) ||
            add_header(wsi, "content-security-policy:",
                       "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                       "frame-ancestors 'none'; form-action 'self'",
                       &pos, end))
            return 1;
        a->max_len -= (int)((char *)pos - a->p);
        a->p = (char *)pos;
        return 0;
    }
    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) { /* c->wake: an install finished */
        con_update_poll(c);
        return 0;
    }
    if (!p)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_http(c, wsi, p);
    case LWS_CALLBACK_HTTP_BODY:
        if (p->refused || p->stage != STAGE_NONE)
            return 0;
        if (p->upload_max)
            return upload_chunk(wsi, p, in, len);
        if (p->body_len + len > CON_BODY_MAX) {
            free(p->body);
            p->body = NULL;
            p->body_len = 0;
            return refuse(wsi, p, 413, "too_large", "the request body is too large");
        }
        {
            char *grown = realloc(p->body, p->body_len + len + 1);
            if (!grown)
                return -1;
            p->body = grown;
            memcpy(p->body + p->body_len, in, len);
            p->body_len += len;
            p->body[p->body_len] = '\0';
        }
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (p->refused || p->stage != STAGE_NONE)
            return 0;
        return dispatch(c, wsi, p);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return p->stage == STAGE_HEADERS || p->stage == STAGE_BODY ? write_response(wsi, p) : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        cleanup(p);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}
