/*
 * snippet.c - the excerpt a search result shows: a window of the message
 * around the first match, with every match of a query term wrapped in markers.
 *
 * Done here rather than with FTS5's snippet() because the short-term (LIKE)
 * path has no FTS5 row to ask, and both paths should look the same. Matching
 * folds ASCII case only; a match the index found through Unicode case folding
 * is still returned by sto_search, just shown without a marker.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Length in bytes of the longest term matching at body + i, 0 if none. */
static size_t match_at(const char *body, size_t len, size_t i, const struct sto_terms *q)
{
    size_t best = 0;
    for (size_t k = 0; k < q->n; k++) {
        const struct sto_term *t = &q->t[k];
        if (t->len > len - i || t->len <= best) continue;
        size_t j = 0;
        while (j < t->len && fold((unsigned char)body[i + j]) == fold((unsigned char)t->p[j]))
            j++;
        if (j == t->len) best = t->len;
    }
    return best;
}

struct out {
    char *buf;
    size_t len, cap;
    int err;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->err) return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = (o->len + n + 1) * 2;
        char *b = realloc(o->buf, cap);
        if (!b) {
            o->err = -ENOMEM;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void put_text(struct out *o, const char *s, size_t n, bool html)
{
    if (!html) {
        put(o, s, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            put(o, "&amp;", 5);
            break;
        case '<':
            put(o, "&lt;", 4);
            break;
        case '>':
            put(o, "&gt;", 4);
            break;
        case '"':
            put(o, "&quot;", 6);
            break;
        case '\'':
            put(o, "&#39;", 5);
            break;
        default:
            put(o, &s[i], 1);
            break;
        }
    }
}

static bool char_start(const char *s, size_t i)
{
    return ((unsigned char)s[i] & 0xc0) != 0x80;
}

/* Byte offset of the character n characters before (n < 0) or after i. */
static size_t step_chars(const char *s, size_t len, size_t i, long n)
{
    for (; n < 0 && i > 0; n++)
        do
            i--;
        while (i > 0 && !char_start(s, i));
    for (; n > 0 && i < len; n--)
        do
            i++;
        while (i < len && !char_start(s, i));
    return i;
}

int sto_snippet(const char *body, const char *query, const char *open, const char *close,
                size_t max_chars, unsigned flags, char **out)
{
    struct sto_terms q;
    *out = NULL;
    if (!body || !open || !close || !sto_utf8_valid(body, 0)) return -EINVAL;
    if (sto_query_terms(query, &q) < 0) q.n = 0; /* nothing to mark: still a useful excerpt */
    size_t len = strlen(body), first = len, first_len = 0;
    for (size_t i = 0; i < len && q.n; i++)
        if (char_start(body, i) && (first_len = match_at(body, len, i, &q))) {
            first = i;
            break;
        }

    /* The window: the whole body if it fits, else max_chars characters with
     * about a third of the room before the first match. */
    size_t start = 0, end = len, total = sto_utf8_chars(body, len);
    if (max_chars && total > max_chars) {
        size_t at = first < len ? first : 0;
        size_t match_chars = sto_utf8_chars(body + at, first_len);
        long before = match_chars >= max_chars ? 0 : (long)(max_chars - match_chars) / 3;
        start = step_chars(body, len, at, -before);
        end = step_chars(body, len, start, (long)max_chars);
        if (end == len) /* near the end: use the whole window */
            start = step_chars(body, len, len, -(long)max_chars);
    }

    bool html = flags & STO_SNIPPET_HTML;
    struct out o = {0};
    put(&o, "", 0);
    if (start > 0) put(&o, "\u2026", strlen("\u2026"));
    size_t plain = start;
    for (size_t i = start; i < end;) {
        size_t m = q.n && char_start(body, i) ? match_at(body, len, i, &q) : 0;
        if (!m) {
            i++;
            continue;
        }
        if (i + m > end) m = end - i; /* a match cut by the window end: mark the part shown */
        put_text(&o, body + plain, i - plain, html);
        put(&o, open, strlen(open));
        put_text(&o, body + i, m, html);
        put(&o, close, strlen(close));
        i += m;
        plain = i;
    }
    put_text(&o, body + plain, end - plain, html);
    if (end < len) put(&o, "\u2026", strlen("\u2026"));
    if (o.err) {
        free(o.buf);
        return o.err;
    }
    *out = o.buf;
    return 0;
}
