/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the libFuzzer targets (tests/fuzz/fuzz_*.c). Each target feeds one
 * parser with the bytes libFuzzer gives it, checks the parser's contract (complete output or
 * a clean error, no secret in a message) and frees everything: the targets run under ASan,
 * LeakSanitizer and UBSan, which turn any memory error, leak or undefined behaviour into a
 * crash. Targets never print and keep no state between inputs, so every run is reproducible
 * from its input alone. */
#ifndef EDW_FUZZ_COMMON_H
#define EDW_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"
#include "edw/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stop if a contract check fails: abort() makes libFuzzer save the input as a crash. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

/* A NUL-terminated copy of `data` (parsers that take C strings). Caller frees. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = edw_xmalloc(size + 1);
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Silence logging once: targets must not print (a log line could quote the input). */
static inline void fuzz_quiet(void)
{
    g_edw_log_level = EDW_LOG_OFF;
}

/* Split off the next piece of `*data` up to (not including) byte `sep`; advances past the
 * separator. Returns a NUL-terminated copy (caller frees), NULL when nothing is left. */
static inline char *fuzz_take(const uint8_t **data, size_t *size, uint8_t sep)
{
    if (*size == 0)
        return NULL;
    const uint8_t *end = memchr(*data, sep, *size);
    size_t n = end ? (size_t)(end - *data) : *size;
    char *piece = fuzz_cstr(*data, n);
    size_t used = end ? n + 1 : n;
    *data += used;
    *size -= used;
    return piece;
}

/* Whether `needle` (at least `min` bytes long) occurs in `hay`. */
static inline bool fuzz_leaks(const char *hay, const char *needle, size_t min)
{
    return hay && needle && strlen(needle) >= min && strstr(hay, needle) != NULL;
}

/* Whether the `size` bytes at `data` contain `needle` (memmem is a GNU extension). */
static inline bool fuzz_contains(const uint8_t *data, size_t size, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= size && i <= size - n; i++)
        if (memcmp(data + i, needle, n) == 0)
            return true;
    return false;
}

#endif
