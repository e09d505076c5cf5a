/* SPDX-License-Identifier: Apache-2.0 */
#include "edw/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"

void edw_buf_init(struct edw_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void edw_buf_cleanup(struct edw_buf *b)
{
    if (!b)
        return;
    free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void edw_buf_reset(struct edw_buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

enum edw_err edw_buf_append(struct edw_buf *b, const void *data, size_t len)
{
    if (len > b->max || b->len > b->max - len) {
        edw_buf_cleanup(b);
        return EDW_ERR_INVALID;
    }
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + len + 1)
            cap *= 2;
        b->ptr = edw_xrealloc(b->ptr, cap);
        b->cap = cap;
    }
    if (len)
        memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
    return EDW_OK;
}

enum edw_err edw_buf_append_str(struct edw_buf *b, const char *s)
{
    return edw_buf_append(b, s, strlen(s));
}

enum edw_err edw_buf_vappendf(struct edw_buf *b, const char *fmt, va_list ap)
{
    char small[256];
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(small, sizeof(small), fmt, copy);
    va_end(copy);
    if (n < 0)
        return EDW_ERR_INVALID;
    if ((size_t)n < sizeof(small))
        return edw_buf_append(b, small, (size_t)n);
    char *big = edw_xmalloc((size_t)n + 1);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    enum edw_err err = edw_buf_append(b, big, (size_t)n);
    free(big);
    return err;
}

enum edw_err edw_buf_appendf(struct edw_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum edw_err err = edw_buf_vappendf(b, fmt, ap);
    va_end(ap);
    return err;
}

/* Length of the valid UTF-8 sequence at `s` (at most `len` bytes), 0 if invalid. Rejects
 * overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    size_t n;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (n > len)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

enum edw_err edw_buf_append_json_str(struct edw_buf *b, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    enum edw_err err = EDW_OK;
    while (i < len && !err) {
        size_t run = i;
        while (run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            err = edw_buf_append(b, s + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            err = edw_buf_append(b, esc, 2);
            i++;
        } else if (c < 0x20) {
            err = edw_buf_appendf(b, "\\u%04x", c);
            i++;
        } else {
            size_t n = utf8_seq(p + i, len - i);
            err = n ? edw_buf_append(b, s + i, n) : edw_buf_append_str(b, "\\ufffd");
            i += n ? n : 1;
        }
    }
    return err;
}

const char *edw_buf_cstr(const struct edw_buf *b)
{
    return b->ptr ? b->ptr : "";
}

char *edw_buf_steal(struct edw_buf *b)
{
    char *p = b->ptr ? b->ptr : edw_xstrdup("");
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
