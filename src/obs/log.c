/* SPDX-License-Identifier: Apache-2.0 */
#include "edw/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "edw/buf.h"
#include "edw/timefmt.h"

enum edw_log_level g_edw_log_level = EDW_LOG_INFO;

static const char *const s_names[] = {"debug", "info", "warn", "error", "off"};

bool edw_log_parse_level(const char *text, enum edw_log_level *out)
{
    for (size_t i = 0; i < sizeof(s_names) / sizeof(s_names[0]); i++) {
        if (strcmp(text, s_names[i]) == 0) {
            *out = (enum edw_log_level)i;
            return true;
        }
    }
    return false;
}

static enum edw_err append_field(struct edw_buf *b, const struct edw_log_field *f)
{
    enum edw_err err = edw_buf_append_str(b, ",\"");
    if (!err)
        err = edw_buf_append_json_str(b, f->key, strlen(f->key));
    if (!err && f->str) {
        err = edw_buf_append_str(b, "\":\"");
        if (!err)
            err = edw_buf_append_json_str(b, f->str, strlen(f->str));
        if (!err)
            err = edw_buf_append_str(b, "\"");
    } else if (!err) {
        err = edw_buf_appendf(b, "\":%lld", f->num);
    }
    return err;
}

void edw_log_write(enum edw_log_level level, const char *tag, const struct edw_log_field *fields,
                   size_t nfields, const char *fmt, ...)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[25];
    edw_iso8601_ms((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, when);

    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t msg_len = n < 0 ? 0 : ((size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);

    struct edw_buf b;
    edw_buf_init(&b, 16384);
    enum edw_err err = edw_buf_appendf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"pid\":%ld,\"tag\":\"",
                                       when, s_names[level < EDW_LOG_OFF ? level : EDW_LOG_ERROR],
                                       (long)getpid());
    if (!err)
        err = edw_buf_append_json_str(&b, tag, strlen(tag));
    if (!err)
        err = edw_buf_append_str(&b, "\",\"msg\":\"");
    if (!err)
        err = edw_buf_append_json_str(&b, msg, msg_len);
    if (!err)
        err = edw_buf_append_str(&b, "\"");
    for (size_t i = 0; i < nfields && !err; i++)
        err = append_field(&b, &fields[i]);
    if (!err)
        err = edw_buf_append_str(&b, "}\n");
    if (!err) {
        ssize_t ignored = write(STDERR_FILENO, b.ptr, b.len);
        (void)ignored;
    }
    edw_buf_cleanup(&b);
}
