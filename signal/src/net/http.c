/*
 * http.c - the HTTPS side: the JSON API (routed to api/api.c), file uploads
 * streamed to a temporary file and then into the content-addressed store,
 * and downloads checked against room membership. Static files of the browser
 * client are served by libwebsockets' file mount (server.c).
 *
 * A response is written in two HTTP_WRITEABLE turns, headers then body, so
 * that no turn writes twice.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../api/api.h"
#include "../cfg.h"
#include "../hub/hub.h"
#include "lanturn/storage.h"
#include "util/log.h"

/* After refusing an upload from its headers, how much of its body is read
 * and dropped (so the client gets the answer, not a reset) before closing. */
#define DRAIN_BYTES_MAX (16u << 20)
#define DRAIN_TIMEOUT_S 10

enum { STAGE_NONE, STAGE_HEADERS, STAGE_BODY, STAGE_DONE };

static void respond(struct lws *wsi, struct pss *p, struct sig_http_reply *r)
{
    const char *body = r->body ? r->body : "{}";
    size_t len = strlen(body);
    free(p->resp);
    p->resp = malloc(LWS_PRE + len);
    if (p->resp)
        memcpy(p->resp + LWS_PRE, body, len);
    p->resp_len = p->resp ? len : 0;
    p->status = r->status ? r->status : 500;
    free(p->set_cookie);
    p->set_cookie = r->set_cookie;
    r->set_cookie = NULL;
    p->retry_after = r->retry_after_s;
    p->resp_ready = true;
    p->resp_stage = STAGE_HEADERS;
    sig_http_reply_clear(r);
    lws_callback_on_writable(wsi);
}

static void respond_error(struct lws *wsi, struct pss *p, int status, const char *code,
                          const char *msg)
{
    struct sig_http_reply r = {0};
    sig_api_error(&r, status, code, msg);
    respond(wsi, p, &r);
}

static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **pp,
                      unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), pp, end);
}

static int write_response(struct lws *wsi, struct pss *p)
{
    if (p->resp_stage == STAGE_HEADERS) {
        unsigned char buf[LWS_PRE + 2048];
        unsigned char *start = buf + LWS_PRE, *pos = start, *end = buf + sizeof buf - 1;
        char retry[16];
        snprintf(retry, sizeof retry, "%d", p->retry_after);
        if (lws_add_http_common_headers(wsi, (unsigned)p->status, "application/json",
                                        p->resp_len, &pos, end) ||
            add_header(wsi, "cache-control:", "no-store", &pos, end) ||
            add_header(wsi, "x-content-type-options:", "nosniff", &pos, end) ||
            (p->set_cookie && add_header(wsi, "set-cookie:", p->set_cookie, &pos, end)) ||
            (p->retry_after > 0 && add_header(wsi, "retry-after:", retry, &pos, end)) ||
            lws_finalize_write_http_header(wsi, start, &pos, end))
            return -1;
        p->resp_stage = STAGE_BODY;
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (p->resp_stage != STAGE_BODY)
        return 0;
    p->resp_stage = STAGE_DONE;
    if (p->resp_len &&
        lws_write(wsi, (unsigned char *)p->resp + LWS_PRE, p->resp_len, LWS_WRITE_HTTP_FINAL) < 0)
        return -1;
    free(p->resp);
    p->resp = NULL;
    p->resp_ready = false;
    /* A refused upload leaves body bytes unread: never reuse that connection.
     * Closing with them unread would reset it under a client still sending,
     * which may then never read this answer: drop the rest first (bounded in
     * bytes and time), then close. */
    if (p->too_large) {
        if (!p->drain_body || p->body_done)
            return -1;
        p->draining = true;
        lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, DRAIN_TIMEOUT_S);
        return 0;
    }
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static void read_token(struct lws *wsi, struct pss *p, bool allow_cookie)
{
    char auth[128];
    p->token[0] = '\0';
    if (lws_hdr_copy(wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION) > 0 &&
        strncmp(auth, "Bearer ", 7) == 0) {
        size_t n = strlen(auth + 7);
        if (n < sizeof p->token) /* longer is no token of ours: stays empty */
            memcpy(p->token, auth + 7, n + 1);
        return;
    }
    char cookies[1024];
    if (!allow_cookie || lws_hdr_copy(wsi, cookies, sizeof cookies, WSI_TOKEN_HTTP_COOKIE) <= 0)
        return;
    const char *key = SIG_SESSION_COOKIE "=";
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

/* ---- downloads ---- */

static bool hex_id(const char *s)
{
    if (strlen(s) != STO_FILE_ID_LEN)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

/* RFC 6266 / 5987: an ASCII fallback and the UTF-8 name percent-encoded. */
static void content_disposition(const char *name, bool inline_, char *out, size_t cap)
{
    char ascii[256], enc[800];
    size_t a = 0, e = 0;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        if (a + 1 < sizeof ascii)
            ascii[a++] = (*c >= 0x20 && *c < 0x7F && *c != '"' && *c != '\\') ? (char)*c : '_';
        if (e + 4 < sizeof enc) {
            if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                strchr("-._~", *c))
                enc[e++] = (char)*c;
            else
                e += (size_t)snprintf(enc + e, 4, "%%%02X", *c);
        }
    }
    ascii[a] = enc[e] = '\0';
    snprintf(out, cap, "%s; filename=\"%s\"; filename*=UTF-8''%s",
             inline_ ? "inline" : "attachment", ascii, enc);
}

static int download(struct sig_server *s, struct lws *wsi, struct pss *p, const char *id)
{
    int64_t uid, sid;
    if (sig_api_authenticate(s->api, p->token, &uid, &sid) != 0) {
        respond_error(wsi, p, 401, "unauthorized", "log in first");
        return 0;
    }
    /* Unknown and forbidden look the same, so ids cannot be probed. */
    struct sto_file f = {0};
    char path[512];
    if (!hex_id(id) || sto_file_can_read(s->db, uid, id) != 0 || sto_file_get(s->db, id, &f) != 0 ||
        sto_file_path(s->db, id, path, sizeof path) != 0) {
        sto_file_clear(&f);
        respond_error(wsi, p, 404, "not_found", "no such file");
        return 0;
    }
    bool image = strncmp(f.mime, "image/", 6) == 0;
    char disp[1200];
    content_disposition(f.name, image, disp, sizeof disp);
    unsigned char hbuf[2048], *pos = hbuf, *end = hbuf + sizeof hbuf;
    int rc = -1;
    if (!add_header(wsi, "content-disposition:", disp, &pos, end) &&
        !add_header(wsi, "x-content-type-options:", "nosniff", &pos, end) &&
        !add_header(wsi, "content-security-policy:", "default-src 'none'; sandbox", &pos, end) &&
        !add_header(wsi, "cache-control:", "private, max-age=86400, immutable", &pos, end))
        rc = lws_serve_http_file(wsi, path, image ? f.mime : "application/octet-stream",
                                 (const char *)hbuf, (int)(pos - hbuf));
    sto_file_clear(&f);
    if (rc < 0)
        return -1;
    return rc > 0 && lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- uploads ---- */

/* An upload refused from its headers: answered at once, its body dropped. */
static int refuse_upload(struct lws *wsi, struct pss *p, int status, const char *code,
                         const char *message)
{
    p->too_large = true;
    p->drain_body = true;
    respond_error(wsi, p, status, code, message);
    return 0;
}

static int upload_start(struct sig_server *s, struct lws *wsi, struct pss *p)
{
    int64_t sid;
    if (sig_api_authenticate(s->api, p->token, &p->user_id, &sid) != 0)
        return refuse_upload(wsi, p, 401, "unauthorized", "log in first");
    char buf[300];
    const char *room = lws_get_urlarg_by_name(wsi, "room=", buf, sizeof buf);
    p->upload_room = room ? strtoll(room, NULL, 10) : 0;
    if (room && p->upload_room <= 0)
        return refuse_upload(wsi, p, 400, "bad_request", "room must be a room id");
    const char *name = lws_get_urlarg_by_name(wsi, "name=", buf, sizeof buf);
    sig_api_clean_file_name(name ? name : "file", p->upload_name, sizeof p->upload_name);
    if (p->upload_room && sto_member_get(s->db, p->upload_room, p->user_id, NULL) != 0)
        return refuse_upload(wsi, p, 403, "forbidden", "you are not a member of that room");
    char clen[32];
    if (lws_hdr_copy(wsi, clen, sizeof clen, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
        strtoull(clen, NULL, 10) > s->cfg->file_max_bytes)
        return refuse_upload(wsi, p, 413, "too_large", "the file is larger than this server accepts");
    snprintf(p->upload_tmp, sizeof p->upload_tmp, "%s/upload-XXXXXX", s->tmp_dir);
    p->upload_fd = mkostemp(p->upload_tmp, O_CLOEXEC);
    if (p->upload_fd < 0) {
        p->upload_fd = 0;
        lt_log(LT_LOG_ERROR, "signal", "upload_tmp", "err=\"%s\"", strerror(errno));
        return refuse_upload(wsi, p, 500, "internal", "cannot store uploads right now");
    }
    return 0;
}

static void upload_discard(struct pss *p)
{
    if (p->upload_fd > 0) {
        close(p->upload_fd);
        unlink(p->upload_tmp);
    }
    p->upload_fd = 0;
}

static int upload_chunk(struct sig_server *s, struct pss *p, const void *in, size_t len)
{
    if (p->upload_fd <= 0 || p->too_large)
        return 0;
    if (p->upload_bytes + len > s->cfg->file_max_bytes) {
        p->too_large = true;
        upload_discard(p);
        return 0;
    }
    if (p->head_len < sizeof p->head) {
        size_t n = sizeof p->head - p->head_len < len ? sizeof p->head - p->head_len : len;
        memcpy(p->head + p->head_len, in, n);
        p->head_len += n;
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = write(p->upload_fd, (const char *)in + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            lt_log(LT_LOG_ERROR, "signal", "upload_write", "err=\"%s\"", strerror(errno));
            upload_discard(p);
            return -1;
        }
        off += (size_t)w;
    }
    p->upload_bytes += len;
    return 0;
}

static ssize_t read_fd(void *ctx, void *buf, size_t len)
{
    ssize_t n;
    do
        n = read(*(int *)ctx, buf, len);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

static void upload_finish(struct sig_server *s, struct lws *wsi, struct pss *p)
{
    if (p->too_large) {
        upload_discard(p);
        respond_error(wsi, p, 413, "too_large", "the file is larger than this server accepts");
        return;
    }
    if (p->upload_fd <= 0) {
        respond_error(wsi, p, 500, "internal", "the upload failed");
        return;
    }
    const char *mime = sig_api_sniff_mime(p->head, p->head_len);
    if (!mime)
        mime = "application/octet-stream";
    p->head_len = 0;
    char id[STO_FILE_ID_LEN + 1];
    int fd = p->upload_fd;
    struct sto_reader reader = {read_fd, &fd};
    sig_hub_flush(s->hub); /* the file is its own transaction, not part of the chat's batch */
    int err = lseek(fd, 0, SEEK_SET) == 0
                  ? sto_file_put(s->db, p->user_id, p->upload_room, p->upload_name, mime, &reader, id)
                  : -EIO;
    upload_discard(p);
    if (err) {
        respond_error(wsi, p, err == -EFBIG ? 413 : err == -EACCES ? 403 : 500,
                      err == -EFBIG ? "too_large" : err == -EACCES ? "forbidden" : "internal",
                      "the file could not be stored");
        return;
    }
    lt_log(LT_LOG_INFO, "signal", "upload", "user=%" PRId64 " room=%" PRId64 " bytes=%" PRIu64
           " mime=%s", p->user_id, p->upload_room, p->upload_bytes, mime);
    struct sig_http_reply r = {.status = 201};
    char url[96];
    snprintf(url, sizeof url, "/api/files/%s", id);
    json_t *j = json_pack("{s{ss sI ss ss ss}}", "file", "id", id, "size",
                          (json_int_t)p->upload_bytes, "mime", mime, "name", p->upload_name,
                          "url", url);
    r.body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    respond(wsi, p, &r);
}

/* ---- JSON routes ---- */

/* A password check finished in the worker pool (from sig_api_drain). */
static void api_reply_later(struct sig_api_waiter *w, struct sig_http_reply *r)
{
    struct pss *p = lws_container_of(w, struct pss, waiter);
    respond(p->wsi, p, r);
}

static void api_call(struct sig_server *s, struct lws *wsi, struct pss *p)
{
    char peer[PEER_MAX], ua[256] = "";
    net_peer(wsi, peer, sizeof peer);
    lws_hdr_copy(wsi, ua, sizeof ua, WSI_TOKEN_HTTP_USER_AGENT);
    struct sig_http_reply r;
    p->wsi = wsi;
    p->waiter.reply = api_reply_later;
    int rc = sig_api_handle_async(s->api, p->method, p->path, p->token[0] ? p->token : NULL,
                                  p->body, p->body_len, peer, ua, net_wall_ms(), &p->waiter, &r);
    free(p->body);
    p->body = NULL;
    p->body_len = 0;
    if (rc != SIG_API_PENDING)
        respond(wsi, p, &r);
}

static int on_http(struct sig_server *s, struct lws *wsi, struct pss *p)
{
    char uri[512];
    bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    bool get = !post && lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    if (!post && !get) {
        p->too_large = true;
        respond_error(wsi, p, 405, "bad_request", "only GET and POST");
        return 0;
    }
    if (lws_hdr_copy(wsi, uri, sizeof uri, post ? WSI_TOKEN_POST_URI : WSI_TOKEN_GET_URI) < 0 ||
        strlen(uri) >= sizeof p->path) {
        p->too_large = true;
        respond_error(wsi, p, 414, "bad_request", "URI too long");
        return 0;
    }
    snprintf(p->method, sizeof p->method, "%s", post ? "POST" : "GET");
    memcpy(p->path, uri, strlen(uri) + 1); /* fits: checked above */
    p->path[strcspn(p->path, "?")] = '\0';
    p->too_large = false;
    p->body_done = p->drain_body = p->draining = false;
    p->drained = 0;
    p->head_len = 0;
    p->resp_stage = STAGE_NONE;
    p->upload_bytes = 0;
    read_token(wsi, p, get);
    if (get && strncmp(p->path, "/api/files/", 11) == 0)
        return download(s, wsi, p, p->path + 11);
    if (post && strcmp(p->path, "/api/files") == 0)
        return upload_start(s, wsi, p);
    if (get) {
        api_call(s, wsi, p);
        return 0;
    }
    return 0; /* POST: wait for the body */
}

int http_callback(struct sig_server *s, struct lws *wsi, enum lws_callback_reasons reason,
                  struct pss *p, void *in, size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_http(s, wsi, p);
    case LWS_CALLBACK_HTTP_BODY:
        if (p->draining) { /* answered and refused: drop it, up to a bound */
            p->drained += len;
            return p->drained > DRAIN_BYTES_MAX ? -1 : 0;
        }
        if (p->resp_ready) /* already answered (refused) */
            return 0;
        if (strcmp(p->path, "/api/files") == 0)
            return upload_chunk(s, p, in, len);
        if (p->body_len + len > SIG_API_BODY_MAX) {
            p->too_large = true;
            return 0;
        }
        {
            char *grown = realloc(p->body, p->body_len + len + 1);
            if (!grown)
                return -1;
            p->body = grown;
            memcpy(p->body + p->body_len, in, len);
            p->body_len += len;
        }
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        p->body_done = true;
        if (p->draining) /* the refused body is all read: now close */
            return -1;
        if (p->resp_ready)
            return 0;
        if (strcmp(p->path, "/api/files") == 0) {
            upload_finish(s, wsi, p);
        } else if (p->too_large) {
            free(p->body);
            p->body = NULL;
            p->body_len = 0;
            respond_error(wsi, p, 413, "too_large", "the request body is too large");
        } else {
            api_call(s, wsi, p);
        }
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return p->resp_ready ? write_response(wsi, p) : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        sig_api_forget(s->api, &p->waiter);
        upload_discard(p);
        free(p->body);
        free(p->resp);
        free(p->set_cookie);
        p->body = p->resp = p->set_cookie = NULL;
        p->resp_ready = false;
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, p, in, len);
    }
}
