/*
 * logbuf.c - recent log lines (see logbuf.h).
 */
#include "logbuf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int app_logbuf_init(struct app_logbuf *b)
{
    b->total = 0;
    b->lines = calloc(APP_LOG_LINES, sizeof *b->lines);
    return b->lines ? 0 : -1;
}

void app_logbuf_free(struct app_logbuf *b)
{
    free(b->lines);
    b->lines = NULL;
}

static void add_line(struct app_logbuf *b, const char *service, const char *text, size_t len,
                     int64_t now)
{
    struct app_log_line *l = &b->lines[b->total % APP_LOG_LINES];
    l->at = now;
    strncpy(l->service, service, sizeof l->service - 1);
    l->service[sizeof l->service - 1] = '\0';
    if (len >= sizeof l->text)
        len = sizeof l->text - 1;
    memcpy(l->text, text, len);
    l->text[len] = '\0';
    b->total++;
}

void app_logbuf_feed(struct app_logbuf *b, struct app_log_stream *s, const char *service,
                     const char *data, size_t len, int64_t now,
                     void (*emit)(const char *line, size_t len))
{
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (c != '\n') {
            if (s->len < sizeof s->partial - 1) /* longer lines are cut, not split */
                s->partial[s->len++] = c;
            continue;
        }
        add_line(b, service, s->partial, s->len, now);
        if (emit) {
            s->partial[s->len] = '\n';
            emit(s->partial, s->len + 1);
        }
        s->len = 0;
    }
}

static int level_rank(const char *level)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strncmp(level, names[i], strlen(names[i])) == 0)
            return i;
    return 2; /* lines without a level count as info */
}

static bool matches(const struct app_log_line *l, const char *service, int max_rank,
                    const char *contains)
{
    if (service && strcmp(l->service, service) != 0)
        return false;
    if (max_rank >= 0) {
        const char *lv = strstr(l->text, "level=");
        if (level_rank(lv ? lv + 6 : "info") > max_rank)
            return false;
    }
    return !contains || strstr(l->text, contains);
}

void app_logbuf_query(const struct app_logbuf *b, const char *service, const char *level,
                      const char *contains, size_t limit,
                      void (*fn)(void *ctx, const struct app_log_line *l), void *ctx)
{
    uint64_t held = b->total < APP_LOG_LINES ? b->total : APP_LOG_LINES;
    uint64_t first = b->total - held;
    int max_rank = level ? level_rank(level) : -1;
    /* walk back to find where the last `limit` matches start, then forward */
    uint64_t start = b->total;
    size_t found = 0;
    while (start > first && found < limit) {
        start--;
        if (matches(&b->lines[start % APP_LOG_LINES], service, max_rank, contains))
            found++;
    }
    for (uint64_t i = start; i < b->total; i++) {
        const struct app_log_line *l = &b->lines[i % APP_LOG_LINES];
        if (matches(l, service, max_rank, contains))
            fn(ctx, l);
    }
}
