/* SPDX-License-Identifier: Apache-2.0 */
/* JSON lines on stderr, one object per line, written with a single write(2) so lines from
 * concurrent processes never interleave. Macros test the level before evaluating arguments.
 * There is no way to log a secret: secrets are never passed to these functions. */
#ifndef EDW_LOG_H
#define EDW_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "edw/err.h"

enum edw_log_level {
    EDW_LOG_DEBUG = 0,
    EDW_LOG_INFO,
    EDW_LOG_WARN,
    EDW_LOG_ERROR,
    EDW_LOG_OFF,
};

/* Extra structured fields: a string when `str` is set, otherwise the integer `num`. */
struct edw_log_field {
    const char *key;
    const char *str;
    long long num;
};

extern enum edw_log_level g_edw_log_level;

/* Parse "debug|info|warn|error|off". Returns false on anything else. */
bool edw_log_parse_level(const char *text, enum edw_log_level *out);

/* Write one line. Thread-safe. Use the macros below instead of calling this directly. */
void edw_log_write(enum edw_log_level level, const char *tag, const struct edw_log_field *fields,
                   size_t nfields, const char *fmt, ...) EDW_PRINTF(5, 6);

#define EDW_LOG(level, tag, ...)                                                                   \
    do {                                                                                           \
        if ((level) >= g_edw_log_level)                                                            \
            edw_log_write((level), (tag), NULL, 0, __VA_ARGS__);                                   \
    } while (0)

#define EDW_LOG_FIELDS(level, tag, fields, n, ...)                                                 \
    do {                                                                                           \
        if ((level) >= g_edw_log_level)                                                            \
            edw_log_write((level), (tag), (fields), (n), __VA_ARGS__);                             \
    } while (0)

#define edw_debug(tag, ...) EDW_LOG(EDW_LOG_DEBUG, tag, __VA_ARGS__)
#define edw_info(tag, ...) EDW_LOG(EDW_LOG_INFO, tag, __VA_ARGS__)
#define edw_warn(tag, ...) EDW_LOG(EDW_LOG_WARN, tag, __VA_ARGS__)
#define edw_error(tag, ...) EDW_LOG(EDW_LOG_ERROR, tag, __VA_ARGS__)

#endif
