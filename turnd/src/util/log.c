/* log.c - see log.h. One fprintf per line so lines from one process never interleave. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum lt_log_level current_level = LT_LOG_INFO;
static bool with_timestamps;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void lt_log_set_level(enum lt_log_level level)
{
    current_level = level;
}

enum lt_log_level lt_log_get_level(void)
{
    return current_level;
}

void lt_log_set_timestamps(bool on)
{
    with_timestamps = on;
}

int lt_log_level_parse(const char *s, enum lt_log_level *out)
{
    for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum lt_log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *lt_log_level_name(enum lt_log_level level)
{
    return (unsigned)level < 4 ? level_names[level] : "?";
}

bool lt_log_enabled(enum lt_log_level level)
{
    return level <= current_level;
}

void lt_log(enum lt_log_level level, const char *module, const char *event, const char *fmt, ...)
{
    if (!lt_log_enabled(level))
        return;
    char fields[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fields, sizeof(fields), fmt, ap);
    va_end(ap);

    char stamp[40] = "";
    if (with_timestamps) {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        size_t n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(stamp + n, sizeof(stamp) - n, ".%03ld ", ts.tv_nsec / 1000000);
    }
    fprintf(stderr, "%slevel=%s module=%s event=%s%s%s\n", stamp, lt_log_level_name(level), module,
            event, fields[0] ? " " : "", fields);
}

const char *lt_log_token(const char *s, char *buf, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    size_t o = 0;
    if (cap == 0)
        return buf;
    for (; *s && o + 5 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch > ' ' && ch < 0x7f && ch != '"' && ch != '=' && ch != '\\') {
            buf[o++] = (char)ch;
        } else {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = digits[ch >> 4];
            buf[o++] = digits[ch & 15];
        }
    }
    buf[o] = '\0';
    return buf;
}

bool lt_log_limit_pass(struct lt_log_limit *l, long long now_ms, long long period_ms,
                       unsigned long long *suppressed)
{
    if (l->last_ms && now_ms - l->last_ms < period_ms) {
        l->suppressed++;
        return false;
    }
    *suppressed = l->suppressed;
    l->suppressed = 0;
    l->last_ms = now_ms ? now_ms : 1;
    return true;
}
