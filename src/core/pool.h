/* SPDX-License-Identifier: Apache-2.0 */
/* A fixed pool of threads that run blocking handlers (work:MS, exec:CMD). Private to core.
 * The worker submits a job only when a thread is free, so jobs never wait in a backlog. */
#ifndef EDW_POOL_H
#define EDW_POOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "edw/clock.h"
#include "edw/handler.h"

struct edw_job {
    const struct edw_payload *payload; /* borrowed from the worker's slot */
    const char *body;
    size_t body_len;
    struct edw_handler_result result; /* written by the pool thread */
    int64_t finished_wall_us;
    atomic_bool done; /* set last, with release ordering: result is complete */
    struct edw_job *next;
};

struct edw_pool;

/* Start `threads` threads that run `h`. Caller owns the pool; edw_pool_destroy joins. */
struct edw_pool *edw_pool_new(const struct edw_handler *h, const struct edw_clock *clock,
                              size_t threads);

/* Hand `job` (owned by the caller, must outlive completion) to a free thread. */
void edw_pool_submit(struct edw_pool *p, struct edw_job *job);

/* Block until some job completes after the previous call, or `timeout_us` passes. */
void edw_pool_wait(struct edw_pool *p, int64_t timeout_us);

/* Ask running handlers to stop early (shutdown grace expired). */
void edw_pool_cancel(struct edw_pool *p);

/* Stop and join all threads; running jobs finish (or see the cancel flag) first. NULL-safe. */
void edw_pool_destroy(struct edw_pool *p);

#endif
