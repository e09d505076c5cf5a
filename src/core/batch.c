/* SPDX-License-Identifier: Apache-2.0 */
/* The batch size of send and receive calls (see edw/batch.h for why it is per backend). */
#include "edw/batch.h"

#include <stdio.h>

#include "edw/queue.h"

static size_t preferred(size_t pref, size_t max)
{
    size_t n = pref ? pref : EDW_BATCH_FALLBACK;
    return max && n > max ? max : n;
}

size_t edw_batch_send(const struct edw_queue_ops *ops, long long requested)
{
    if (requested > 0)
        return (size_t)requested;
    return preferred(ops->pref_send_batch, ops->max_send_batch);
}

size_t edw_batch_receive(const struct edw_queue_ops *ops, long long requested, bool blocking,
                         size_t concurrency)
{
    if (requested > 0)
        return (size_t)requested;
    size_t n = preferred(ops->pref_recv_batch, ops->max_recv_batch);
    if (blocking) {
        size_t cap = concurrency > EDW_BATCH_BLOCKING_MAX ? concurrency : EDW_BATCH_BLOCKING_MAX;
        n = n < cap ? n : cap;
    }
    return n;
}

enum edw_err edw_batch_check(const struct edw_queue_ops *ops, long long requested, bool send,
                             bool receive, char *why, size_t why_size)
{
    if (requested <= 0)
        return EDW_OK;
    /* A producer's send is split into calls of max_send_batch by edw_queue_send, but a batch
     * the backend cannot take in one call is not what the user asked for: say so. */
    if (send && ops->max_send_batch && (size_t)requested > ops->max_send_batch) {
        snprintf(why, why_size,
                 "--batch %lld is more than the %s backend sends in one call (%zu); use "
                 "--batch auto (%zu) or at most %zu",
                 requested, ops->name, ops->max_send_batch, edw_batch_send(ops, EDW_BATCH_AUTO),
                 ops->max_send_batch);
        return EDW_ERR_INVALID;
    }
    if (receive && ops->max_recv_batch && (size_t)requested > ops->max_recv_batch) {
        snprintf(why, why_size,
                 "--batch %lld is more than the %s backend receives in one call (%zu); use "
                 "--batch auto (%zu) or at most %zu",
                 requested, ops->name, ops->max_recv_batch,
                 preferred(ops->pref_recv_batch, ops->max_recv_batch), ops->max_recv_batch);
        return EDW_ERR_INVALID;
    }
    return EDW_OK;
}
