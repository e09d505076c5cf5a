/* SPDX-License-Identifier: Apache-2.0 */
/* Transactions over the fake queue and store when they share "one database"
 * (fake_txn_share): BEGIN takes a deep copy of both, COMMIT drops it, and ROLLBACK or a
 * scripted failed COMMIT puts it back, so leases, acks, poisonings and rows written inside
 * the transaction are undone together, as SQLite undoes a failed commit. Call counters are
 * not rolled back (they count calls, not state). */
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"
#include "fake_queue.h"

struct fake_txn_snapshot {
    struct fake_msg *msgs;
    size_t nmsgs;
    struct fake_row *rows;
    size_t nrows;
};

void fake_txn_share(struct fake_queue *q, struct fake_store *s)
{
    q->txn_store = s;
    s->txn_domain = q;
}

const void *fake_txn_domain(void *queue_state)
{
    struct fake_queue *q = queue_state;
    return q->txn_store ? (const void *)q : NULL;
}

static struct fake_txn_snapshot *take_snapshot(const struct fake_queue *q,
                                               const struct fake_store *s)
{
    struct fake_txn_snapshot *t = edw_xcalloc(1, sizeof(*t));
    t->nmsgs = q->n;
    t->msgs = edw_xcalloc(q->n ? q->n : 1, sizeof(*t->msgs));
    for (size_t i = 0; i < q->n; i++) {
        t->msgs[i] = q->msgs[i];
        t->msgs[i].body = edw_xstrndup(q->msgs[i].body, q->msgs[i].len);
        t->msgs[i].poison_reason =
            q->msgs[i].poison_reason ? edw_xstrdup(q->msgs[i].poison_reason) : NULL;
    }
    t->nrows = s->n;
    t->rows = edw_xcalloc(s->n ? s->n : 1, sizeof(*t->rows));
    for (size_t i = 0; i < s->n; i++) {
        t->rows[i] = s->rows[i];
        t->rows[i].key = edw_xstrdup(s->rows[i].key);
        t->rows[i].data = edw_xstrdup(s->rows[i].data);
    }
    return t;
}

static void free_msgs(struct fake_msg *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].body);
        free(m[i].poison_reason);
    }
    free(m);
}

static void free_rows(struct fake_row *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].key);
        free(r[i].data);
    }
    free(r);
}

/* Put the snapshot back in place of the current state (which is freed). */
static void restore(struct fake_queue *q, struct fake_store *s, struct fake_txn_snapshot *t)
{
    free_msgs(q->msgs, q->n);
    q->msgs = t->msgs;
    q->n = q->cap = t->nmsgs;
    free_rows(s->rows, s->n);
    s->rows = t->rows;
    s->n = s->cap = t->nrows;
    free(t);
}

static void discard(struct fake_txn_snapshot *t)
{
    free_msgs(t->msgs, t->nmsgs);
    free_rows(t->rows, t->nrows);
    free(t);
}

enum edw_err fake_txn(void *queue_state, enum edw_txn_op op, struct edw_error *err)
{
    struct fake_queue *q = queue_state;
    if (!q->txn_store)
        return edw_error_set(err, EDW_ERR_FATAL, "fake queue: no shared store");
    struct fake_txn_snapshot *t = q->snapshot;
    switch (op) {
    case EDW_TXN_BEGIN:
        if (t)
            return edw_error_set(err, EDW_ERR_FATAL, "fake queue: nested transaction");
        q->begins++;
        q->snapshot = take_snapshot(q, q->txn_store);
        return EDW_OK;
    case EDW_TXN_COMMIT:
        if (!t)
            return edw_error_set(err, EDW_ERR_FATAL, "fake queue: commit without begin");
        q->snapshot = NULL;
        if (q->fail_commit) {
            q->fail_commit--;
            q->failed_commits++;
            restore(q, q->txn_store, t);
            return edw_error_set(err, q->fail_err, "scripted commit failure");
        }
        q->commits++;
        discard(t);
        return EDW_OK;
    case EDW_TXN_ROLLBACK:
        if (t) {
            q->snapshot = NULL;
            restore(q, q->txn_store, t);
        }
        return EDW_OK;
    }
    return edw_error_set(err, EDW_ERR_FATAL, "fake queue: unknown transaction op");
}
