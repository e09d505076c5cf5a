/* SPDX-License-Identifier: Apache-2.0 */
/* The core's store handle: forwards to the backend class, splits upserts into the sizes the
 * backend writes atomically, counts and times every call (metrics) and logs failures with
 * backend and operation. */
#include "edw/store.h"

#include <stdlib.h>

#include "edw/alloc.h"
#include "edw/clock.h"
#include "edw/metrics.h"
#include "observe.h"

struct edw_store {
    const struct edw_store_ops *ops;
    void *state;
    const struct edw_clock *clock; /* times the calls */
};

static int64_t start(const struct edw_store *s)
{
    return edw_clock_mono_us(s->clock);
}

/* Record the call; a failure (a missing row or run is an answer, not one) is logged once. */
static enum edw_err logged(const struct edw_store *s, enum edw_op op, int64_t t0,
                           enum edw_err rc, const struct edw_error *err)
{
    edw_observe_call("store", s->ops->name, s->clock, op, t0, rc,
                     rc == EDW_OK || rc == EDW_ERR_NOT_FOUND, err);
    return rc;
}

enum edw_err edw_store_open(const struct edw_store_ops *ops, const struct edw_config *cfg,
                            const struct edw_backend_deps *deps, struct edw_store **out,
                            struct edw_error *err)
{
    struct edw_store *s = edw_xcalloc(1, sizeof(*s));
    s->ops = ops;
    s->clock = deps && deps->clock ? deps->clock : edw_clock_system();
    enum edw_err rc = ops->open(cfg, deps, &s->state, err);
    if (rc) {
        free(s);
        *out = NULL;
        return rc;
    }
    *out = s;
    return EDW_OK;
}

void edw_store_close(struct edw_store *s)
{
    if (!s)
        return;
    s->ops->close(s->state);
    free(s);
}

const struct edw_store_ops *edw_store_ops_of(const struct edw_store *s)
{
    return s->ops;
}

const void *edw_store_txn_domain(const struct edw_store *s)
{
    return s->ops->txn_domain ? s->ops->txn_domain(s->state) : NULL;
}

enum edw_err edw_store_create(struct edw_store *s, struct edw_error *err)
{
    int64_t t0 = start(s);
    return logged(s, EDW_OP_CREATE_TABLE, t0, s->ops->create(s->state, err), err);
}

enum edw_err edw_store_upsert(struct edw_store *s, const struct edw_row *rows, size_t n,
                              struct edw_error *err)
{
    int64_t t0 = start(s);
    enum edw_err rc = EDW_OK;
    size_t step = s->ops->max_upsert_batch;
    for (size_t i = 0; i < n && !rc; i += step)
        rc = s->ops->upsert(s->state, rows + i, n - i < step ? n - i : step, err);
    return logged(s, EDW_OP_UPSERT, t0, rc, err);
}

enum edw_err edw_store_get(struct edw_store *s, const char *key, edw_row_fn *fn, void *ctx,
                           struct edw_error *err)
{
    int64_t t0 = start(s);
    return logged(s, EDW_OP_GET, t0, s->ops->get(s->state, key, fn, ctx, err), err);
}

enum edw_err edw_store_scan(struct edw_store *s, const char *prefix, edw_row_fn *fn, void *ctx,
                            struct edw_error *err)
{
    int64_t t0 = start(s);
    return logged(s, EDW_OP_SCAN, t0, s->ops->scan(s->state, prefix, fn, ctx, err), err);
}

enum edw_err edw_store_count(struct edw_store *s, uint64_t *out, struct edw_error *err)
{
    int64_t t0 = start(s);
    return logged(s, EDW_OP_COUNT, t0, s->ops->count(s->state, out, err), err);
}

enum edw_err edw_store_run_save(struct edw_store *s, const struct edw_run *run,
                                struct edw_error *err)
{
    int64_t t0 = start(s);
    return logged(s, EDW_OP_RUN_SAVE, t0, s->ops->run_save(s->state, run, err), err);
}

enum edw_err edw_store_run_load(struct edw_store *s, const char *id, struct edw_run *out,
                                struct edw_error *err)
{
    int64_t t0 = start(s);
    return logged(s, EDW_OP_RUN_LOAD, t0, s->ops->run_load(s->state, id, out, err), err);
}
