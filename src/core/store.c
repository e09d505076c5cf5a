/* SPDX-License-Identifier: Apache-2.0 */
/* The core's store handle: forwards to the backend class, splits upserts into the sizes the
 * backend writes atomically, and logs failures with backend and operation. */
#include "edw/store.h"

#include <stdlib.h>

#include "edw/alloc.h"
#include "edw/log.h"

struct edw_store {
    const struct edw_store_ops *ops;
    void *state;
};

static enum edw_err logged(const struct edw_store *s, const char *op, enum edw_err rc,
                           const struct edw_error *err)
{
    if (rc == EDW_OK || rc == EDW_ERR_NOT_FOUND)
        return rc;
    struct edw_log_field f[] = {{"backend", s->ops->name, 0}, {"operation", op, 0},
                                {"error", edw_err_name(rc), 0}};
    EDW_LOG_FIELDS(edw_err_retryable(rc) ? EDW_LOG_WARN : EDW_LOG_ERROR, "store", f, 3,
                   "store %s failed: %s", op, err && err->message[0] ? err->message
                                                                      : edw_err_str(rc));
    return rc;
}

enum edw_err edw_store_open(const struct edw_store_ops *ops, const struct edw_config *cfg,
                            const struct edw_backend_deps *deps, struct edw_store **out,
                            struct edw_error *err)
{
    struct edw_store *s = edw_xcalloc(1, sizeof(*s));
    s->ops = ops;
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
    return logged(s, "create", s->ops->create(s->state, err), err);
}

enum edw_err edw_store_upsert(struct edw_store *s, const struct edw_row *rows, size_t n,
                              struct edw_error *err)
{
    enum edw_err rc = EDW_OK;
    size_t step = s->ops->max_upsert_batch;
    for (size_t i = 0; i < n && !rc; i += step)
        rc = s->ops->upsert(s->state, rows + i, n - i < step ? n - i : step, err);
    return logged(s, "upsert", rc, err);
}

enum edw_err edw_store_get(struct edw_store *s, const char *key, edw_row_fn *fn, void *ctx,
                           struct edw_error *err)
{
    return logged(s, "get", s->ops->get(s->state, key, fn, ctx, err), err);
}

enum edw_err edw_store_scan(struct edw_store *s, const char *prefix, edw_row_fn *fn, void *ctx,
                            struct edw_error *err)
{
    return logged(s, "scan", s->ops->scan(s->state, prefix, fn, ctx, err), err);
}

enum edw_err edw_store_count(struct edw_store *s, uint64_t *out, struct edw_error *err)
{
    return logged(s, "count", s->ops->count(s->state, out, err), err);
}

enum edw_err edw_store_run_save(struct edw_store *s, const struct edw_run *run,
                                struct edw_error *err)
{
    return logged(s, "run_save", s->ops->run_save(s->state, run, err), err);
}

enum edw_err edw_store_run_load(struct edw_store *s, const char *id, struct edw_run *out,
                                struct edw_error *err)
{
    return logged(s, "run_load", s->ops->run_load(s->state, id, out, err), err);
}
