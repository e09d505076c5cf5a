/* SPDX-License-Identifier: Apache-2.0 */
/* The queue interface every backend implements, and the core's handle around it.
 *
 * Delivery is at-least-once: `receive` leases messages for `visibility_s` seconds; a message
 * not acked before its lease ends is delivered again with a higher dequeue count. A backend
 * only translates protocol: retries, logging and poison policy live in the core. */
#ifndef EDW_QUEUE_H
#define EDW_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "edw/buf.h"
#include "edw/err.h"

struct edw_config;
struct edw_clock;
struct edw_http_transport;

/* Everything external a backend needs, injected so unit tests can use fakes. */
struct edw_backend_deps {
    const struct edw_clock *clock;
    /* HTTP for network backends; NULL: each instance creates its own libcurl transport.
     * Borrowed: it must outlive the instances, and serve one thread at a time. */
    struct edw_http_transport *http;
};

/* One received (leased) message. All strings are owned by the message. */
struct edw_msg {
    char *id;               /* the queue's message id */
    char *receipt;          /* opaque lease handle; `extend` replaces it */
    char *body;             /* decoded body, NUL-terminated (may also contain NULs) */
    size_t body_len;        /* bytes in `body`, excluding the terminator */
    uint32_t dequeue_count; /* deliveries so far, this one included */
    int64_t enqueued_us;    /* Unix microseconds, 0 when the service does not say */
    char *reason;           /* poison entries only: why the message was quarantined */
};

/* Release everything a message owns and zero it. NULL-safe, idempotent. */
void edw_msg_cleanup(struct edw_msg *m);

/* Move `src` into `dst` (dst must be empty); `src` is left empty. */
void edw_msg_move(struct edw_msg *dst, struct edw_msg *src);

/* A caller-owned set of received messages; the backend appends, the caller cleans up. */
struct edw_msg_batch {
    struct edw_msg *msgs;
    size_t n;
    size_t cap;
};

/* Append an empty message and return it for the backend to fill. */
struct edw_msg *edw_msg_batch_add(struct edw_msg_batch *b);
void edw_msg_batch_cleanup(struct edw_msg_batch *b);

/* Depth as seen by the worker: the same signal KEDA scales on. */
struct edw_queue_depth {
    uint64_t visible;   /* ready to be received */
    uint64_t in_flight; /* leased, not yet acked */
    uint64_t poison;    /* quarantined */
};

enum edw_queue_cap {
    EDW_QCAP_EXTEND = 1u << 0,        /* leases can be extended and released */
    EDW_QCAP_DEQUEUE_COUNT = 1u << 1, /* receive reports how often a message was delivered */
    EDW_QCAP_DEPTH = 1u << 2,         /* approximate depth is available */
};

enum edw_txn_op { EDW_TXN_BEGIN, EDW_TXN_COMMIT, EDW_TXN_ROLLBACK };

/* Class descriptor: one static const instance per backend. Every function that takes a
 * `struct edw_error *` accepts NULL. Per-item results (`results`, n entries) are EDW_OK or
 * EDW_ERR_CONFLICT (lease lost: another consumer owns the message now). */
struct edw_queue_ops {
    const char *name;
    unsigned caps;          /* enum edw_queue_cap bits */
    size_t max_send_batch;  /* most bodies one `send` call takes */
    size_t max_recv_batch;  /* most messages one `receive` call returns */
    /* What `--batch auto` uses (edw/batch.h); 0: EDW_BATCH_FALLBACK (32). The best batch
     * is where the per-call cost (a transaction, a round trip) stops dominating without
     * leasing far more than the consumer works on at once. */
    size_t pref_send_batch;
    size_t pref_recv_batch;
    /* Consumer loops per process for `--pipelines 0` with an in-loop handler (0 or 1: one);
     * more hides round trips of a network service (see cmd_consume.c). */
    size_t pref_pipelines;
    size_t max_body_bytes;  /* largest body the service accepts */

    enum edw_err (*open)(const struct edw_config *cfg, const struct edw_backend_deps *deps,
                         void **state_out, struct edw_error *err);
    /* Create the queue and its poison queue if missing. Idempotent. */
    enum edw_err (*create)(void *state, struct edw_error *err);
    enum edw_err (*send)(void *state, const struct edw_str *bodies, size_t n,
                         struct edw_error *err);
    /* Lease up to `max` visible messages; appends them to `out` (possibly none). */
    enum edw_err (*receive)(void *state, size_t max, unsigned visibility_s,
                            struct edw_msg_batch *out, struct edw_error *err);
    /* Delete messages whose work is done. */
    enum edw_err (*ack)(void *state, struct edw_msg *const *msgs, size_t n,
                        enum edw_err *results, struct edw_error *err);
    /* Set the lease to end `visibility_s` from now (0 releases it); updates receipts. */
    enum edw_err (*extend)(void *state, struct edw_msg *const *msgs, size_t n,
                           unsigned visibility_s, enum edw_err *results, struct edw_error *err);
    /* Move one leased message to the poison queue with `reason`, then delete it.
     * EDW_ERR_CONFLICT when the lease was lost (nothing moved). */
    enum edw_err (*poison)(void *state, const struct edw_msg *m, const char *reason,
                           struct edw_error *err);
    enum edw_err (*depth)(void *state, struct edw_queue_depth *out, struct edw_error *err);
    /* Read up to `max` messages without leasing them; `poison` selects the poison queue. */
    enum edw_err (*peek)(void *state, bool poison, size_t max, struct edw_msg_batch *out,
                         struct edw_error *err);
    /* Delete every message (main queue, or the poison queue when `poison`). */
    enum edw_err (*clear)(void *state, bool poison, struct edw_error *err);
    void (*close)(void *state); /* NULL-safe; cannot fail */

    /* Optional (NULL when unsupported). When the queue and the store live in one database,
     * both return the same non-NULL domain, and the worker writes rows and acks in a single
     * transaction opened with `txn` (store and queue calls in between join it). */
    const void *(*txn_domain)(void *state);
    enum edw_err (*txn)(void *state, enum edw_txn_op op, struct edw_error *err);
};

/* Instance handle used by the core (opaque). */
struct edw_queue;

/* Open a queue of backend `ops`. Caller owns `*out`; release with edw_queue_close. */
EDW_NODISCARD enum edw_err edw_queue_open(const struct edw_queue_ops *ops,
                                          const struct edw_config *cfg,
                                          const struct edw_backend_deps *deps,
                                          struct edw_queue **out, struct edw_error *err);
void edw_queue_close(struct edw_queue *q);
const struct edw_queue_ops *edw_queue_ops_of(const struct edw_queue *q);

/* Thin wrappers: forward to the backend, log failures with backend and operation. Not
 * thread-safe: one handle per thread. All may block on I/O. */
EDW_NODISCARD enum edw_err edw_queue_create(struct edw_queue *q, struct edw_error *err);
EDW_NODISCARD enum edw_err edw_queue_send(struct edw_queue *q, const struct edw_str *bodies,
                                          size_t n, struct edw_error *err);
EDW_NODISCARD enum edw_err edw_queue_receive(struct edw_queue *q, size_t max,
                                             unsigned visibility_s, struct edw_msg_batch *out,
                                             struct edw_error *err);
EDW_NODISCARD enum edw_err edw_queue_ack(struct edw_queue *q, struct edw_msg *const *msgs,
                                         size_t n, enum edw_err *results,
                                         struct edw_error *err);
EDW_NODISCARD enum edw_err edw_queue_extend(struct edw_queue *q, struct edw_msg *const *msgs,
                                            size_t n, unsigned visibility_s,
                                            enum edw_err *results, struct edw_error *err);
EDW_NODISCARD enum edw_err edw_queue_poison(struct edw_queue *q, const struct edw_msg *m,
                                            const char *reason, struct edw_error *err);
EDW_NODISCARD enum edw_err edw_queue_depth(struct edw_queue *q, struct edw_queue_depth *out,
                                           struct edw_error *err);
EDW_NODISCARD enum edw_err edw_queue_peek(struct edw_queue *q, bool poison, size_t max,
                                          struct edw_msg_batch *out, struct edw_error *err);
/* Open/close a transaction spanning the queue and `domain`'s store (see `txn_domain`).
 * EDW_ERR_INVALID when the queue cannot do that. */
EDW_NODISCARD enum edw_err edw_queue_txn(struct edw_queue *q, enum edw_txn_op op,
                                         struct edw_error *err);
/* The queue's transaction domain, or NULL. */
const void *edw_queue_txn_domain(const struct edw_queue *q);
EDW_NODISCARD enum edw_err edw_queue_clear(struct edw_queue *q, bool poison,
                                           struct edw_error *err);

#endif
