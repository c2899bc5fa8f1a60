/*
 * logbuf.h - the services' recent log lines (prefix app_log_), kept in a
 * bounded ring so the console and `appliancectl logs` can show them without
 * journald. Lines are split from each service's output stream as it arrives.
 */
#ifndef APP_LOGBUF_H
#define APP_LOGBUF_H

#include <stddef.h>
#include <stdint.h>

#define APP_LOG_LINES 4000
#define APP_LOG_LINE_MAX 512

struct app_log_line {
    int64_t at; /* wall-clock ms */
    char service[16];
    char text[APP_LOG_LINE_MAX];
};

struct app_log_stream { /* one service's partial line */
    char partial[APP_LOG_LINE_MAX];
    size_t len;
};

struct app_logbuf {
    struct app_log_line *lines; /* APP_LOG_LINES of them */
    uint64_t total;             /* lines ever added; the ring holds the last ones */
};

int app_logbuf_init(struct app_logbuf *b);
void app_logbuf_free(struct app_logbuf *b);
/* Appends bytes read from a service; each complete line goes into the ring and,
 * through emit (may be NULL), to applianced's own stderr. */
void app_logbuf_feed(struct app_logbuf *b, struct app_log_stream *s, const char *service,
                     const char *data, size_t len, int64_t now,
                     void (*emit)(const char *line, size_t len));
/* Calls fn for the newest lines (oldest first) that match: service (NULL:
 * any), minimum level ("error" < "warn" < "info" < "debug"; NULL: any) and a
 * substring (NULL: any), at most limit of them. */
void app_logbuf_query(const struct app_logbuf *b, const char *service, const char *level,
                      const char *contains, size_t limit,
                      void (*fn)(void *ctx, const struct app_log_line *l), void *ctx);

#endif
