/* SPDX-License-Identifier: Apache-2.0 */
/* In-memory queue and store for unit tests of the core: lease semantics on the injected
 * clock, plus scripted failures. The state of the last opened instance is exposed. */
#ifndef EDW_FAKE_QUEUE_H
#define EDW_FAKE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edw/queue.h"
#include "edw/store.h"
#include "fake_clock.h"

struct fake_msg {
    char *body;
    size_t len;
    int64_t visible_at_us; /* wall clock */
    uint32_t dequeue_count;
    unsigned lease;
    bool deleted;
    char *poison_reason; /* set when moved to poison */
    int64_t acked_at_us; /* wall clock of the ack that deleted it */
};

struct fake_queue {
    const struct edw_clock *clock;
    struct fake_msg *msgs;
    size_t n, cap;
    unsigned next_lease;
    /* scripted failures: the next N calls of each kind fail with `fail_err` */
    enum edw_err fail_err;
    unsigned fail_receive, fail_ack, fail_extend;
    /* call counters */
    unsigned receives, acks, extends, extend_zero;
    /* a slow receive: the clock moves this much after leases start (receives that return
     * messages only; needs `slow_clock`) */
    int64_t receive_delay_us;
    struct fake_clock *slow_clock;
    bool delay_every_receive; /* empty receives are slow too (a slow network, not a long poll) */
    /* a lease that ran out is lost (as when another consumer took the message): ack and extend
     * of it answer EDW_ERR_CONFLICT */
    bool strict_leases;
    /* One database with `txn_store` (set by fake_txn_share; NULL: no transactions, the
     * default): txn_domain answers, BEGIN snapshots queue and store, ROLLBACK and a failed
     * COMMIT restore the snapshot, so nothing done in between happened. */
    struct fake_store *txn_store;
    unsigned fail_commit; /* the next N commits fail with `fail_err` (and roll back) */
    unsigned begins, commits, failed_commits;
    struct fake_txn_snapshot *snapshot; /* while a transaction is open */
};

extern const struct edw_queue_ops fake_queue_ops;
extern struct fake_queue *g_fake_queue; /* the last opened instance */

/* Append a message directly (as if sent). */
void fake_queue_put(struct fake_queue *q, const char *body);
size_t fake_queue_live(const struct fake_queue *q);    /* not deleted, not poisoned */
size_t fake_queue_poisoned(const struct fake_queue *q);

struct fake_row {
    char *key;
    char *data;
    double processing_s;
    uint32_t dequeue_count;
    unsigned writes;
};

struct fake_store {
    struct fake_row *rows;
    size_t n, cap;
    struct edw_run run;
    bool has_run;
    enum edw_err fail_err;
    unsigned fail_upsert;
    unsigned upserts;
    /* a row whose key contains this is refused as invalid, and so is any batch holding it
     * (nothing of it written, like an atomic Azure $batch); NULL: none */
    const char *reject_key;
    const void *txn_domain; /* set by fake_txn_share */
};

extern const struct edw_store_ops fake_store_ops;
extern struct fake_store *g_fake_store;

const struct fake_row *fake_store_find(const struct fake_store *s, const char *key);

/* Make queue `q` and store `s` one database (as SQLite's are): the worker then writes rows,
 * acks and the next claim in one transaction (fake_txn.c). */
void fake_txn_share(struct fake_queue *q, struct fake_store *s);

/* fake_txn.c's BEGIN/COMMIT/ROLLBACK and domain, for fake_queue_ops. */
const void *fake_txn_domain(void *queue_state);
enum edw_err fake_txn(void *queue_state, enum edw_txn_op op, struct edw_error *err);

#endif
