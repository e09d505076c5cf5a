/* SPDX-License-Identifier: Apache-2.0 */
/* The producer: sample-compatible messages at a target rate, recorded as a run. */
#ifndef EDW_PRODUCER_H
#define EDW_PRODUCER_H

#include <stddef.h>
#include <stdint.h>

#include "edw/clock.h"
#include "edw/queue.h"
#include "edw/store.h"
#include "edw/worker.h"

struct edw_producer_opts {
    uint64_t count;       /* 0: no limit (then duration_us must be set) */
    int64_t duration_us;  /* 0: no limit */
    double rate;          /* messages per second; 0: as fast as the queue takes them */
    size_t batch;         /* bodies per send call */
    size_t body_bytes;    /* pad bodies to this size; 0: no padding */
    const char *run_id;   /* NULL: generate one */
    /* Optional load profile: the target rate at `elapsed_s` seconds into the run (overrides
     * `rate`; 0 pauses). Called from the producer's thread. */
    double (*rate_fn)(void *ctx, double elapsed_s);
    void *rate_ctx;
    /* Optional: kept equal to the number sent so far, for another thread to watch. */
    _Atomic uint64_t *sent_counter;
};

struct edw_producer_stats {
    char run[64];
    uint64_t sent;
    double seconds;
};

struct edw_producer_deps {
    struct edw_queue *queue;
    struct edw_store *store; /* where the run record goes */
    const struct edw_clock *clock;
    edw_stop_fn *should_stop;
    void *stop_ctx;
};

/* Make a run id like "r20261127-180000-3fa2" from the wall clock and 16 random bits. */
void edw_run_id_make(int64_t wall_us, char out[64]);

/* Send until count/duration or stop. Transient send failures are retried with backoff (the
 * same ids, so a duplicate send only rewrites the same row). Blocks. */
EDW_NODISCARD enum edw_err edw_producer_run(const struct edw_producer_deps *deps,
                                            const struct edw_producer_opts *opts,
                                            struct edw_producer_stats *stats,
                                            struct edw_error *err);

#endif
