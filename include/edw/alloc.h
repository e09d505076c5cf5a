/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation that aborts on out-of-memory. A pod that runs out of memory is restarted by
 * Kubernetes and the queue redelivers its leased messages, so propagating OOM through every
 * call would buy nothing but untested branches (docs/internals/architecture.md). */
#ifndef EDW_ALLOC_H
#define EDW_ALLOC_H

#include <stddef.h>

#include "edw/err.h"

/* Each returns memory the caller owns (free with free()); none returns NULL. */
void *edw_xmalloc(size_t size);
void *edw_xcalloc(size_t count, size_t size);
void *edw_xrealloc(void *ptr, size_t size);
char *edw_xstrdup(const char *s);
char *edw_xstrndup(const char *s, size_t n);
char *edw_xasprintf(const char *fmt, ...) EDW_PRINTF(1, 2);

/* Grow an array of `elem` bytes each so it holds at least `need` items. */
void *edw_xgrow(void *ptr, size_t *cap, size_t need, size_t elem);

#endif
