/* SPDX-License-Identifier: Apache-2.0 */
#include "edw/urlencode.h"

#include <stdbool.h>
#include <string.h>

/* Locale-independent on purpose: isalnum() would follow the C library's locale. */
static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

enum edw_err edw_url_encode(struct edw_buf *out, const char *s, size_t len, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    enum edw_err err = EDW_OK;
    size_t i = 0;
    while (i < len && !err) {
        /* Runs of characters that stay as they are go in one append: ids, pop receipts, keys
         * and paths are mostly such runs, and some of them are encoded for every request. */
        size_t run = i;
        while (run < len && (unreserved((unsigned char)s[run]) ||
                             (s[run] && keep && strchr(keep, s[run]))))
            run++;
        if (run > i) {
            err = edw_buf_append(out, s + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = (unsigned char)s[i++];
        char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
        err = edw_buf_append(out, enc, 3);
    }
    return err;
}
