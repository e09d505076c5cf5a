/* SPDX-License-Identifier: Apache-2.0 */
/* Percent-encoding (RFC 3986) with uppercase hex, as Azure Storage, AWS SigV4 and the form
 * bodies of the token exchanges (application/x-www-form-urlencoded without '+') all expect:
 * the unreserved characters A-Z a-z 0-9 - . _ ~ stay as they are, and so do the characters
 * of `keep` (NULL: none); every other byte, NUL included, becomes %XX. */
#ifndef EDW_URLENCODE_H
#define EDW_URLENCODE_H

#include <stddef.h>

#include "edw/buf.h"

/* Append the encoding of s[0..len) to `out`. Fails only when `out` reaches its limit. */
EDW_NODISCARD enum edw_err edw_url_encode(struct edw_buf *out, const char *s, size_t len,
                                          const char *keep);

#endif
