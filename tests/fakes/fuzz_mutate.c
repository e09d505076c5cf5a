/* SPDX-License-Identifier: Apache-2.0 */
#include "fuzz_mutate.h"

#include <string.h>

#include "edw/alloc.h"

uint64_t fuzz_next(struct fuzz_mutator *m)
{
    return m->next(&m->state);
}

char *fuzz_mutate(struct fuzz_mutator *m, const char *seed, size_t *len)
{
    size_t n = strlen(seed), room = 2 * n + 64;
    char *b = edw_xmalloc(room + 1);
    memcpy(b, seed, n);
    int edits = 1 + (int)(fuzz_next(m) % 4);
    for (int e = 0; e < edits; e++) {
        size_t pos = n ? fuzz_next(m) % n : 0;
        switch (fuzz_next(m) % 5) {
        case 0: /* flip a bit */
            if (n)
                b[pos] = (char)(b[pos] ^ (1 << (fuzz_next(m) % 8)));
            break;
        case 1: /* truncate */
            n = pos;
            break;
        case 2: /* insert a structural or odd byte */
            if (n + 1 <= room) {
                memmove(b + pos + 1, b + pos, n - pos);
                b[pos] = m->odd[fuzz_next(m) % m->odd_len];
                n++;
            }
            break;
        case 3: /* duplicate a span */
        {
            size_t span = n - pos < m->max_span ? n - pos : m->max_span;
            if (n + span <= room) {
                memmove(b + pos + span, b + pos, n - pos);
                n += span;
            }
            break;
        }
        default: /* a digit in an odd place (numbers where none belong) */
            if (n)
                b[pos] = (char)('0' + fuzz_next(m) % 10);
        }
    }
    b[n] = '\0';
    *len = n;
    return b;
}
