/* SPDX-License-Identifier: Apache-2.0 */
/* Owned, growable, always NUL-terminated byte buffer with a maximum size set at init
 * (curl's dynbuf idea), and a borrowed string view. */
#ifndef EDW_BUF_H
#define EDW_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "edw/err.h"

/* Borrowed view: never freed, valid only as long as what it points into. */
struct edw_str {
    const char *ptr;
    size_t len;
};

#define EDW_STR_LIT(s) ((struct edw_str){(s), sizeof(s) - 1})

struct edw_buf {
    char *ptr;  /* NULL until the first append; always NUL-terminated after it */
    size_t len; /* bytes used, excluding the terminator */
    size_t cap;
    size_t max; /* appends that would exceed this fail with EDW_ERR_INVALID */
};

/* Prepare an empty buffer that may grow to `max` bytes. Cannot fail. */
void edw_buf_init(struct edw_buf *b, size_t max);

/* Free the storage; leaves `b` empty and reusable. NULL-safe, idempotent. */
void edw_buf_cleanup(struct edw_buf *b);

/* Forget the contents but keep the storage. */
void edw_buf_reset(struct edw_buf *b);

/* Append bytes. Past `max` the buffer is freed (left empty) and EDW_ERR_INVALID returned. */
EDW_NODISCARD enum edw_err edw_buf_append(struct edw_buf *b, const void *data, size_t len);
EDW_NODISCARD enum edw_err edw_buf_append_str(struct edw_buf *b, const char *s);
EDW_NODISCARD enum edw_err edw_buf_appendf(struct edw_buf *b, const char *fmt, ...)
    EDW_PRINTF(2, 3);
EDW_NODISCARD enum edw_err edw_buf_vappendf(struct edw_buf *b, const char *fmt, va_list ap)
    EDW_PRINTF(2, 0);

/* Append `s` as the inside of a JSON string literal (escapes quotes, controls, bytes that
 * are not valid UTF-8 become U+FFFD). */
EDW_NODISCARD enum edw_err edw_buf_append_json_str(struct edw_buf *b, const char *s, size_t len);

/* The contents as a C string ("" when empty). Borrowed: invalid after the next append. */
const char *edw_buf_cstr(const struct edw_buf *b);

/* Hand the storage to the caller (free with free()) and leave `b` empty. Never NULL. */
char *edw_buf_steal(struct edw_buf *b);

#endif
