/* SPDX-License-Identifier: Apache-2.0 */
/* The result-store interface: one row per logical message, written with an idempotent
 * upsert keyed by the message key, plus the run records `edw verify` reads. */
#ifndef EDW_STORE_H
#define EDW_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "edw/err.h"
#include "edw/queue.h"

/* A result row. In `upsert` the strings are borrowed; from `get`/`scan` they are borrowed
 * from the backend and valid only during the call or callback. */
struct edw_row {
    const char *key;        /* message key: the body's `id`, else the queue's message id */
    const char *data;       /* the message text (or the exec handler's output) */
    const char *src_stamp;  /* producer time, "%Y-%m-%d %H:%M:%S.%f" UTC */
    const char *dest_stamp; /* consumer time, same format ("dateStamp" on Azure) */
    double processing_s;    /* dest - src, seconds ("messageProcessingTime") */
    uint32_t dequeue_count; /* deliveries before this row was written */
};

/* A producer run, recorded so verify finds the last run without arguments. */
struct edw_run {
    char id[64];
    int64_t started_us;  /* Unix microseconds */
    int64_t finished_us; /* 0 while the producer is still running */
    uint64_t sent;       /* messages the queue has accepted so far */
};

/* Called once per row; return false to stop the scan early. */
typedef bool edw_row_fn(void *ctx, const struct edw_row *row);

struct edw_store_ops {
    const char *name;
    size_t max_upsert_batch; /* most rows one `upsert` call writes atomically */

    enum edw_err (*open)(const struct edw_config *cfg, const struct edw_backend_deps *deps,
                         void **state_out, struct edw_error *err);
    enum edw_err (*create)(void *state, struct edw_error *err); /* idempotent */
    /* Insert or replace rows by key. Durable when it returns EDW_OK. */
    enum edw_err (*upsert)(void *state, const struct edw_row *rows, size_t n,
                           struct edw_error *err);
    /* EDW_ERR_NOT_FOUND when absent. */
    enum edw_err (*get)(void *state, const char *key, edw_row_fn *fn, void *ctx,
                        struct edw_error *err);
    /* Every row whose key starts with `prefix`, in key order. */
    enum edw_err (*scan)(void *state, const char *prefix, edw_row_fn *fn, void *ctx,
                         struct edw_error *err);
    enum edw_err (*count)(void *state, uint64_t *out, struct edw_error *err);
    enum edw_err (*run_save)(void *state, const struct edw_run *run, struct edw_error *err);
    /* Load run `id`, or the most recently started run when `id` is NULL. */
    enum edw_err (*run_load)(void *state, const char *id, struct edw_run *out,
                             struct edw_error *err);
    void (*close)(void *state);
    /* Optional: see edw_queue_ops.txn_domain. */
    const void *(*txn_domain)(void *state);
};

struct edw_store;

EDW_NODISCARD enum edw_err edw_store_open(const struct edw_store_ops *ops,
                                          const struct edw_config *cfg,
                                          const struct edw_backend_deps *deps,
                                          struct edw_store **out, struct edw_error *err);
void edw_store_close(struct edw_store *s);
const struct edw_store_ops *edw_store_ops_of(const struct edw_store *s);

/* Wrappers that log failures; `upsert` splits into backend-sized batches. Not thread-safe:
 * one handle per thread. All may block on I/O. */
/* The store's transaction domain, or NULL (see edw_queue_ops.txn_domain). */
const void *edw_store_txn_domain(const struct edw_store *s);

EDW_NODISCARD enum edw_err edw_store_create(struct edw_store *s, struct edw_error *err);
EDW_NODISCARD enum edw_err edw_store_upsert(struct edw_store *s, const struct edw_row *rows,
                                            size_t n, struct edw_error *err);
EDW_NODISCARD enum edw_err edw_store_get(struct edw_store *s, const char *key, edw_row_fn *fn,
                                         void *ctx, struct edw_error *err);
EDW_NODISCARD enum edw_err edw_store_scan(struct edw_store *s, const char *prefix,
                                          edw_row_fn *fn, void *ctx, struct edw_error *err);
EDW_NODISCARD enum edw_err edw_store_count(struct edw_store *s, uint64_t *out,
                                           struct edw_error *err);
EDW_NODISCARD enum edw_err edw_store_run_save(struct edw_store *s, const struct edw_run *run,
                                              struct edw_error *err);
EDW_NODISCARD enum edw_err edw_store_run_load(struct edw_store *s, const char *id,
                                              struct edw_run *out, struct edw_error *err);

#endif
