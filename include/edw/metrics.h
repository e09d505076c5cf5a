/* SPDX-License-Identifier: Apache-2.0 */
/* Process-wide Prometheus metrics: counters, gauges and histograms held in `_Atomic` fields,
 * rendered to the text exposition format (version 0.0.4) for GET /metrics.
 *
 * Every recording function is thread-safe and lock-free (relaxed atomics), cheap enough to
 * call once per message or backend call, and never fails. Label values come only from fixed
 * sets (operations, outcomes, reasons) and from backend names (`edw_queue_ops.name`): never
 * from message contents, so the number of series stays bounded. */
#ifndef EDW_METRICS_H
#define EDW_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edw/buf.h"
#include "edw/err.h"

/* Backend calls made through the core wrappers: the `operation` label. Queue and store
 * operations share one list; `create` is split because both have one. */
enum edw_op {
    EDW_OP_CREATE_QUEUE,
    EDW_OP_SEND,
    EDW_OP_RECEIVE,
    EDW_OP_ACK,
    EDW_OP_EXTEND,
    EDW_OP_POISON,
    EDW_OP_DEPTH,
    EDW_OP_PEEK,
    EDW_OP_CLEAR,
    EDW_OP_TRANSACTION,
    EDW_OP_CREATE_TABLE,
    EDW_OP_UPSERT,
    EDW_OP_GET,
    EDW_OP_SCAN,
    EDW_OP_COUNT,
    EDW_OP_RUN_SAVE,
    EDW_OP_RUN_LOAD,
    EDW_OP_TOKEN, /* credential exchanges (workload identity, STS) */
    EDW_OP_N,
};

/* Label value of `op` ("receive", "upsert", ...). Never NULL. */
const char *edw_op_name(enum edw_op op);

/* Why a message went to the poison queue: the `reason` label (a bounded set). */
enum edw_poison_reason {
    EDW_POISON_MAX_DEQUEUE,  /* delivered more often than max-dequeue */
    EDW_POISON_TOO_LARGE,    /* body above max-body-bytes */
    EDW_POISON_INVALID_BODY, /* not the message envelope (JSON, fields) */
    EDW_POISON_HANDLER,      /* the handler failed max-dequeue times */
    EDW_POISON_STORE_REJECTED, /* the store refuses its row for good (invalid key, too large) */
    EDW_POISON_N,
};

/* ---- recording (thread-safe, never blocks, never fails) ------------------------------- */

/* Messages leased from the queue, redeliveries included. */
void edw_metrics_received(uint64_t n);
/* A message's row is durable and the message acked: outcome="stored". `processing_s` is the
 * time from receive to ack in this process; `latency_s` from the producer's srcStamp to the
 * row (negative values from clock skew count as 0). */
void edw_metrics_stored(double processing_s, double latency_s);
/* A message moved to the poison queue: outcome="poisoned" and the reason counter. */
void edw_metrics_poisoned(enum edw_poison_reason reason);
/* A handler attempt failed (the message is retried later or poisoned): outcome="failed". */
void edw_metrics_handler_failed(void);
/* Messages this process holds leases on; +n on receive, -n when done with them. */
void edw_metrics_in_flight_add(int64_t delta);
void edw_metrics_lease_extended(uint64_t n);
void edw_metrics_lease_lost(uint64_t n);
/* Leases handed back unstarted at shutdown. */
void edw_metrics_lease_released(uint64_t n);
/* A credential (token) fetch or refresh finished. */
void edw_metrics_token_refresh(bool ok);
/* Messages the producer has had accepted by the queue. */
void edw_metrics_producer_sent(uint64_t n);

/* One backend call finished with `rc` after `duration_us`; `now_us` is the monotonic time it
 * ended (kept per backend and operation for readiness). `backend` must be a string that
 * lives for the whole process (the ops `name`); at most 8 distinct backends get their own
 * series, later ones are counted as "other". */
void edw_metrics_backend_call(const char *backend, enum edw_op op, enum edw_err rc,
                              int64_t duration_us, int64_t now_us);
/* The caller will retry a failed backend call (after a backoff); `reason` is the error. */
void edw_metrics_backend_retry(const char *backend, enum edw_op op, enum edw_err reason);

/* Queue depth as seen by this worker, the signal KEDA scales on. `queue` is copied. */
void edw_metrics_queue_depth(const char *queue, uint64_t visible, uint64_t in_flight,
                             uint64_t poison);
/* True for exactly one caller per `interval_us` (process-wide): whoever gets true refreshes
 * the queue depth, so several pipelines do not all poll it. */
bool edw_metrics_depth_due(int64_t now_us, int64_t interval_us);

/* ---- reading --------------------------------------------------------------------------- */

/* What the backend calls say about reachability, for readiness. */
struct edw_backend_status {
    bool any_ok;         /* at least one call has succeeded since start */
    bool failing;        /* some operation's latest call failed within the window */
    const char *backend; /* the failing one, when `failing` */
    enum edw_op op;
    enum edw_err err;
    int64_t failed_ago_us;
};

/* An operation counts as failing when its most recent call failed (anything but OK,
 * NOT_FOUND and CONFLICT, which are answers, not outages) less than `window_us` ago; a
 * later success of the same operation clears it. Thread-safe. */
void edw_metrics_backend_status(int64_t now_us, int64_t window_us, struct edw_backend_status *out);

/* Append every metric in the Prometheus text format. Thread-safe (a scrape sees each value
 * atomically, not all of them at one instant). EDW_ERR_INVALID if `out` hits its maximum. */
EDW_NODISCARD enum edw_err edw_metrics_render(struct edw_buf *out);

/* Zero everything (unit tests only; not safe while other threads record). */
void edw_metrics_reset(void);

/* ---- exposition-format building blocks (public for unit tests) ------------------------- */

struct edw_label {
    const char *name;  /* a valid label name, from code */
    const char *value; /* escaped on output */
};

#define EDW_HIST_MAX_BOUNDS 20

/* A histogram with fixed upper bounds (ascending, without +Inf). Zero-initialise the counts;
 * observe from any thread. */
struct edw_histogram {
    const double *bounds;
    size_t nbounds;                                   /* <= EDW_HIST_MAX_BOUNDS */
    _Atomic uint64_t counts[EDW_HIST_MAX_BOUNDS + 1]; /* per bucket, last = above all bounds */
    _Atomic uint64_t sum_ns;                          /* sum of observations, in 1e-9 units */
};

/* Count `value` (negative counts as 0) in the first bucket whose bound is >= value. */
void edw_histogram_observe(struct edw_histogram *h, double value);

/* "# HELP name help\n# TYPE name type\n" (help escaped). */
EDW_NODISCARD enum edw_err edw_prom_family(struct edw_buf *out, const char *name, const char *type,
                                           const char *help);
/* One sample line: name{labels} value. An integer value is printed exactly. */
EDW_NODISCARD enum edw_err edw_prom_sample_u64(struct edw_buf *out, const char *name,
                                               const struct edw_label *labels, size_t nlabels,
                                               uint64_t value);
EDW_NODISCARD enum edw_err edw_prom_sample_f64(struct edw_buf *out, const char *name,
                                               const struct edw_label *labels, size_t nlabels,
                                               double value);
/* The _bucket (cumulative, with le="+Inf"), _sum and _count lines of one histogram series.
 * _count equals the +Inf bucket even while other threads observe. */
EDW_NODISCARD enum edw_err edw_prom_histogram(struct edw_buf *out, const char *name,
                                              const struct edw_label *labels, size_t nlabels,
                                              const struct edw_histogram *h);

#endif
