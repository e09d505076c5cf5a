/* SPDX-License-Identifier: Apache-2.0 */
/* The consumer pipeline: receive with a lease, run the handler, upsert the row, ack only
 * after the row is durable; poison what cannot succeed; renew leases of long work; drain on
 * shutdown. Single-threaded over the backends; blocking handlers run on a thread pool. */
#ifndef EDW_WORKER_H
#define EDW_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edw/clock.h"
#include "edw/err.h"
#include "edw/handler.h"
#include "edw/queue.h"
#include "edw/store.h"

struct edw_worker_opts {
    size_t concurrency;         /* handlers running at once */
    size_t batch;               /* messages per receive (also leased ahead of the handlers) */
    unsigned visibility_s;      /* lease length; renewed at one third remaining */
    unsigned max_dequeue;       /* deliveries before a failing message is poisoned */
    unsigned retry_delay_s;     /* first retry delay after a handler failure; doubles */
    size_t max_body_bytes;      /* larger bodies are poisoned unread */
    int64_t exit_when_idle_us;  /* 0: run until stopped */
    int64_t shutdown_grace_us;  /* time to finish started work after a stop request */
    int64_t poll_max_us;        /* longest pause between polls of an empty queue */
    /* Metrics: refresh the edw_queue_depth gauge of `queue_name` this often (0 = never). With
     * several pipelines in a process, only one of them polls each interval. */
    const char *queue_name;
    int64_t depth_interval_us;
};

struct edw_worker_stats {
    uint64_t received;    /* deliveries, redeliveries included */
    uint64_t processed;   /* rows written and acked */
    uint64_t poisoned;    /* moved to the poison queue */
    uint64_t failed;      /* handler failures (each retried or then poisoned) */
    uint64_t lost_leases; /* ack or extend found the lease taken over */
    uint64_t extended;    /* lease renewals */
    uint64_t released;    /* leases handed back unstarted at shutdown */
    uint64_t backend_errors;
    double seconds;
};

/* Called between steps; true ends the loop gracefully (SIGTERM, Ctrl-C, tests). */
typedef bool edw_stop_fn(void *ctx);

struct edw_worker_deps {
    struct edw_queue *queue;
    struct edw_store *store;
    const struct edw_handler *handler;
    const struct edw_clock *clock;
    edw_stop_fn *should_stop;
    void *stop_ctx;
};

/* Run until stopped, or idle for `exit_when_idle_us`. Transient backend failures are retried
 * with backoff; a non-retryable failure of receive ends the run with that error (the
 * messages it held come back when their leases end). Blocks; not reentrant. */
EDW_NODISCARD enum edw_err edw_worker_run(const struct edw_worker_deps *deps,
                                          const struct edw_worker_opts *opts,
                                          struct edw_worker_stats *stats,
                                          struct edw_error *err);

#endif
