/* SPDX-License-Identifier: Apache-2.0 */
/* The random-input loop of the parse-fuzz smoke tests (tests/unit/test_*_parse_fuzz.c): valid
 * seeds mutated by a fixed-seed generator (bit flips, truncation, odd bytes, duplicated spans,
 * stray digits), so every run feeds the parsers the same inputs. */
#ifndef EDW_FUZZ_MUTATE_H
#define EDW_FUZZ_MUTATE_H

#include <stddef.h>
#include <stdint.h>

struct fuzz_mutator {
    uint64_t (*next)(uint64_t *state); /* the generator: a test keeps its own sequence */
    uint64_t state;
    const char *odd; /* bytes to insert (may hold NULs: odd_len counts them) */
    size_t odd_len;
    size_t max_span; /* longest span duplicated */
};

/* The next number of `m`'s sequence. */
uint64_t fuzz_next(struct fuzz_mutator *m);

/* A mutated copy of `seed` (caller frees), NUL-terminated, at most twice the seed plus 64
 * bytes long; `*len` excludes the NUL. Aborts on OOM. Not thread-safe per mutator. */
char *fuzz_mutate(struct fuzz_mutator *m, const char *seed, size_t *len);

#endif
