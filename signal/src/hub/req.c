/*
 * req.c - reading a request's fields and failing it with a clear error: the
 * checks every handler shares (types, presence, ranges, room membership) and
 * the mapping of storage errors to protocol error codes.
 */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"

int req_fail(struct req *r, const char *code, const char *fmt, ...)
{
    r->err_code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err_msg, sizeof r->err_msg, fmt, ap);
    va_end(ap);
    return -1;
}

int req_fail_sto(struct req *r, int err, const char *what)
{
    switch (err) {
    case -ENOENT: return req_fail(r, "not_found", "%s: not found", what);
    case -EACCES: return req_fail(r, "forbidden", "%s: not allowed", what);
    case -EEXIST: return req_fail(r, "conflict", "%s: already exists", what);
    case -EINVAL: return req_fail(r, "bad_request", "%s: %s", what, sto_errmsg(r->hub->db));
    case -EMSGSIZE: return req_fail(r, "too_large", "%s: too long", what);
    case -EFBIG: return req_fail(r, "too_large", "%s: too large", what);
    case -EBUSY: return req_fail(r, "unavailable", "%s: the server is busy, try again", what);
    case -ENOSPC:
        lt_log(LT_LOG_ERROR, "signal", "disk_full", "what=\"%s\"", what);
        return req_fail(r, "unavailable", "%s: the server's disk is full; nothing was stored", what);
    default:
        lt_log(LT_LOG_ERROR, "signal", "storage_error", "what=\"%s\" err=%d", what, err);
        return req_fail(r, "internal", "%s failed on the server", what);
    }
}

int req_id_opt(struct req *r, const char *field, int64_t *out)
{
    json_t *v = json_object_get(r->msg, field);
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) <= 0)
        return req_fail(r, "bad_request", "\"%s\" must be a positive integer", field);
    *out = json_integer_value(v);
    return 0;
}

int req_id(struct req *r, const char *field, int64_t *out)
{
    if (req_id_opt(r, field, out) != 0)
        return -1;
    return *out ? 0 : req_fail(r, "bad_request", "\"%s\" is required", field);
}

int req_str_opt(struct req *r, const char *field, const char **out)
{
    json_t *v = json_object_get(r->msg, field);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return req_fail(r, "bad_request", "\"%s\" must be a string", field);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return req_fail(r, "bad_request", "\"%s\" must not contain NUL", field);
    *out = json_string_value(v);
    return 0;
}

int req_str(struct req *r, const char *field, const char **out)
{
    if (req_str_opt(r, field, out) != 0)
        return -1;
    return *out ? 0 : req_fail(r, "bad_request", "\"%s\" is required", field);
}

int req_bool_opt(struct req *r, const char *field, bool *out)
{
    json_t *v = json_object_get(r->msg, field);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return req_fail(r, "bad_request", "\"%s\" must be true or false", field);
    *out = json_is_true(v);
    return 0;
}

int req_limit(struct req *r, int dflt, int max, int *out)
{
    json_t *v = json_object_get(r->msg, "limit");
    *out = dflt;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max)
        return req_fail(r, "bad_request", "\"limit\" must be 1..%d", max);
    *out = (int)json_integer_value(v);
    return 0;
}

int req_member(struct req *r, int64_t room_id, enum sto_role *role)
{
    int err = sto_member_get(r->hub->db, room_id, r->conn->user_id, role);
    if (err == -ENOENT)
        return req_fail(r, "forbidden", "you are not a member of room %" PRId64, room_id);
    return err ? req_fail_sto(r, err, "membership") : 0;
}
