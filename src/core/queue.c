/* SPDX-License-Identifier: Apache-2.0 */
/* The core's queue handle: forwards to the backend class, counts and times every call
 * (metrics) and logs failures with the backend and operation, so backends only translate
 * protocol. */
#include "edw/queue.h"

#include <stdlib.h>

#include "edw/alloc.h"
#include "edw/clock.h"
#include "edw/metrics.h"
#include "observe.h"

struct edw_queue {
    const struct edw_queue_ops *ops;
    void *state;
    const struct edw_clock *clock; /* times the calls */
};

static int64_t start(const struct edw_queue *q)
{
    return edw_clock_mono_us(q->clock);
}

/* Record the call; a failure (a lost lease is an answer, not one) is logged once. */
static enum edw_err logged(const struct edw_queue *q, enum edw_op op, int64_t t0,
                           enum edw_err rc, const struct edw_error *err)
{
    edw_observe_call("queue", q->ops->name, q->clock, op, t0, rc,
                     rc == EDW_OK || rc == EDW_ERR_CONFLICT, err);
    return rc;
}

enum edw_err edw_queue_open(const struct edw_queue_ops *ops, const struct edw_config *cfg,
                            const struct edw_backend_deps *deps, struct edw_queue **out,
                            struct edw_error *err)
{
    struct edw_queue *q = edw_xcalloc(1, sizeof(*q));
    q->ops = ops;
    q->clock = deps && deps->clock ? deps->clock : edw_clock_system();
    enum edw_err rc = ops->open(cfg, deps, &q->state, err);
    if (rc) {
        free(q);
        *out = NULL;
        return rc;
    }
    *out = q;
    return EDW_OK;
}

void edw_queue_close(struct edw_queue *q)
{
    if (!q)
        return;
    q->ops->close(q->state);
    free(q);
}

const struct edw_queue_ops *edw_queue_ops_of(const struct edw_queue *q)
{
    return q->ops;
}

enum edw_err edw_queue_create(struct edw_queue *q, struct edw_error *err)
{
    int64_t t0 = start(q);
    return logged(q, EDW_OP_CREATE_QUEUE, t0, q->ops->create(q->state, err), err);
}

enum edw_err edw_queue_send(struct edw_queue *q, const struct edw_str *bodies, size_t n,
                            struct edw_error *err)
{
    int64_t t0 = start(q);
    enum edw_err rc = EDW_OK;
    size_t step = q->ops->max_send_batch;
    for (size_t i = 0; i < n && !rc; i += step)
        rc = q->ops->send(q->state, bodies + i, n - i < step ? n - i : step, err);
    return logged(q, EDW_OP_SEND, t0, rc, err);
}

enum edw_err edw_queue_receive(struct edw_queue *q, size_t max, unsigned visibility_s,
                               struct edw_msg_batch *out, struct edw_error *err)
{
    if (max > q->ops->max_recv_batch)
        max = q->ops->max_recv_batch;
    int64_t t0 = start(q);
    enum edw_err rc = q->ops->receive(q->state, max, visibility_s, out, err);
    return logged(q, EDW_OP_RECEIVE, t0, rc, err);
}

enum edw_err edw_queue_ack(struct edw_queue *q, struct edw_msg *const *msgs, size_t n,
                           enum edw_err *results, struct edw_error *err)
{
    int64_t t0 = start(q);
    return logged(q, EDW_OP_ACK, t0, q->ops->ack(q->state, msgs, n, results, err), err);
}

enum edw_err edw_queue_extend(struct edw_queue *q, struct edw_msg *const *msgs, size_t n,
                              unsigned visibility_s, enum edw_err *results,
                              struct edw_error *err)
{
    if (!(q->ops->caps & EDW_QCAP_EXTEND))
        return EDW_ERR_INVALID;
    int64_t t0 = start(q);
    enum edw_err rc = q->ops->extend(q->state, msgs, n, visibility_s, results, err);
    return logged(q, EDW_OP_EXTEND, t0, rc, err);
}

enum edw_err edw_queue_poison(struct edw_queue *q, const struct edw_msg *m, const char *reason,
                              struct edw_error *err)
{
    int64_t t0 = start(q);
    return logged(q, EDW_OP_POISON, t0, q->ops->poison(q->state, m, reason, err), err);
}

enum edw_err edw_queue_depth(struct edw_queue *q, struct edw_queue_depth *out,
                             struct edw_error *err)
{
    int64_t t0 = start(q);
    return logged(q, EDW_OP_DEPTH, t0, q->ops->depth(q->state, out, err), err);
}

enum edw_err edw_queue_peek(struct edw_queue *q, bool poison, size_t max,
                            struct edw_msg_batch *out, struct edw_error *err)
{
    int64_t t0 = start(q);
    return logged(q, EDW_OP_PEEK, t0, q->ops->peek(q->state, poison, max, out, err), err);
}

enum edw_err edw_queue_txn(struct edw_queue *q, enum edw_txn_op op, struct edw_error *err)
{
    if (!q->ops->txn)
        return EDW_ERR_INVALID;
    int64_t t0 = start(q);
    return logged(q, EDW_OP_TRANSACTION, t0, q->ops->txn(q->state, op, err), err);
}

const void *edw_queue_txn_domain(const struct edw_queue *q)
{
    return q->ops->txn_domain ? q->ops->txn_domain(q->state) : NULL;
}

enum edw_err edw_queue_clear(struct edw_queue *q, bool poison, struct edw_error *err)
{
    int64_t t0 = start(q);
    return logged(q, EDW_OP_CLEAR, t0, q->ops->clear(q->state, poison, err), err);
}
