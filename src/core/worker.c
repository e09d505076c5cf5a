/* SPDX-License-Identifier: Apache-2.0 */
/* The consumer pipeline. Each leased message lives in a slot that moves through
 *   QUEUED (leased, not started) -> RUNNING (handler) -> DONE (result) -> STORED (row durable)
 * and is freed after the ack (inside a shared transaction it waits as ACKED until the commit
 * tells whether the row and the ack happened). Rows and acks are written in batches. The loop is
 * the only thread that talks to the backends; handler threads only touch their own job. */
#include "edw/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"
#include "edw/health.h"
#include "edw/idle_turns.h"
#include "edw/lease_guard.h"
#include "edw/log.h"
#include "edw/metrics.h"
#include "edw/payload.h"
#include "edw/shutdown.h"
#include "edw/timefmt.h"
#include "pool.h"

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_RUNNING, SLOT_DONE, SLOT_STORED, SLOT_ACKED };

struct slot {
    enum slot_state state;
    struct edw_msg msg;
    struct edw_payload payload;
    struct edw_job job;
    int64_t lease_until_us; /* monotonic */
    int64_t received_us;    /* monotonic */
    bool held;              /* counted in edw_messages_in_flight */
    bool ack_conflict;      /* ACKED: the lease had moved on (our row is written) */
    char src_stamp[EDW_STAMP_LEN + 1];
    char dest_stamp[EDW_STAMP_LEN + 1];
};

struct worker {
    const struct edw_worker_deps *deps;
    const struct edw_worker_opts *opts;
    struct edw_worker_stats *stats;
    struct slot *slots;
    size_t nslots;
    struct edw_pool *pool;
    bool cancelled;
    bool shared_txn;          /* queue and store commit together (same database) */
    bool store_proven;        /* the store has taken a row in this run (see row_refused) */
    int64_t backoff_until_us; /* monotonic; no backend writes before it */
    /* Consecutive failures, for the backoff: of writes (upsert, ack, transaction) and of
     * receives, counted apart so a queue that answers does not reset the backoff of a store
     * that keeps failing (the worker would then retry it every few milliseconds). */
    unsigned failures;
    unsigned recv_failures;
    int health_id; /* heartbeat slot (edw/health.h) */
    int guard_id;  /* place in the process's lease view (edw/lease_guard.h) */
    /* Lease renewal looks ahead by the longest recent loop turn (see renew_leases): the
     * longest gap between two renewal checks in the current and the previous window of one
     * visibility timeout. */
    int64_t last_check_us, gap_window_us, gap_max_cur_us, gap_max_prev_us;
    /* scratch arrays sized nslots, reused every iteration */
    struct edw_msg **msgs;
    struct slot **picked;
    enum edw_err *results;
    struct edw_row *rows;
};

static int64_t now_us(const struct worker *w)
{
    return edw_clock_mono_us(w->deps->clock);
}

static void slot_free(struct slot *s)
{
    if (s->held)
        edw_metrics_in_flight_add(-1);
    edw_msg_cleanup(&s->msg);
    edw_payload_cleanup(&s->payload);
    edw_handler_result_cleanup(&s->job.result);
    memset(s, 0, sizeof(*s));
}

static size_t live_slots(const struct worker *w, enum slot_state only)
{
    size_t n = 0;
    for (size_t i = 0; i < w->nslots; i++)
        if (only == SLOT_FREE ? w->slots[i].state != SLOT_FREE : w->slots[i].state == only)
            n++;
    return n;
}

/* A backend write or receive failed with `rc`: back off, then the loop tries again. */
static void backend_failed(struct worker *w, enum edw_op op, enum edw_err rc)
{
    w->stats->backend_errors++;
    edw_metrics_backend_retry(edw_queue_ops_of(w->deps->queue)->name, op, rc);
    unsigned *count = op == EDW_OP_RECEIVE ? &w->recv_failures : &w->failures;
    unsigned shift = *count < 6 ? *count : 6;
    int64_t delay = (int64_t)50000 << shift; /* 50 ms .. 3.2 s */
    delay += rand() % (delay / 2 + 1);       /* jitter, so consumers do not retry in step */
    w->backoff_until_us = now_us(w) + delay;
    (*count)++;
}

static void log_msg(const struct worker *w, enum edw_log_level level, const struct slot *s,
                    const char *reason, const char *fmt)
{
    struct edw_log_field f[] = {{"backend", edw_queue_ops_of(w->deps->queue)->name, 0},
                                {"message_id", s->msg.id, 0},
                                {"dequeue_count", NULL, (long long)s->msg.dequeue_count},
                                {"reason", reason, 0}};
    EDW_LOG_FIELDS(level, "worker", f, reason ? 4 : 3, "%s", fmt);
}

/* A lease found lost: by the renewal (`op` "renew"), the ack ("ack") or the poison move
 * ("poison"). Always a warning: the message may be processed again elsewhere, and on a
 * healthy system this should not happen (renewals come well before the lease ends). */
static void log_lost(const struct worker *w, const struct slot *s, const char *op)
{
    long long left_ms = (s->lease_until_us - now_us(w)) / 1000;
    const char *why =
        s->lease_until_us <= now_us(w)
            ? "the lease had run out (no renewal reached the queue in time: was the queue or "
              "this process stalled?) and the message was received again"
            : "the queue no longer knows this lease: the message was received again (by another "
              "consumer) or deleted";
    struct edw_log_field f[] = {{"backend", edw_queue_ops_of(w->deps->queue)->name, 0},
                                {"message_id", s->msg.id, 0},
                                {"dequeue_count", NULL, (long long)s->msg.dequeue_count},
                                {"operation", op, 0},
                                {"lease_left_ms", NULL, left_ms},
                                {"reason", why, 0}};
    EDW_LOG_FIELDS(EDW_LOG_WARN, "worker", f, 6, "lease lost (%s refused): %s", op, why);
}

/* Quarantine a message with its reason. A lost lease or a failed move just drops our copy:
 * the message stays in the queue and whoever holds it next decides again. */
static void poison(struct worker *w, struct slot *s, enum edw_poison_reason why, const char *reason)
{
    struct edw_error err = {0};
    enum edw_err rc = edw_queue_poison(w->deps->queue, &s->msg, reason, &err);
    if (rc == EDW_OK) {
        w->stats->poisoned++;
        edw_metrics_poisoned(why);
        log_msg(w, EDW_LOG_WARN, s, reason, "message moved to the poison queue");
    } else if (rc == EDW_ERR_CONFLICT) {
        w->stats->lost_leases++;
        edw_metrics_lease_lost(1);
        log_lost(w, s, "poison");
    } else {
        w->stats->backend_errors++;
    }
    slot_free(s);
}

/* Decide at delivery whether a message can be worked on at all. `asked_us` is when the
 * receive was sent: the service may have started the lease any time after that, so the lease
 * is counted from then, not from when the answer arrived (after a slow answer we would renew
 * only once the lease had run out, and another consumer could have the message too). */
static void admit(struct worker *w, struct slot *s, int64_t asked_us)
{
    char reason[256];
    const struct edw_worker_opts *o = w->opts;
    w->stats->received++;
    edw_metrics_received(1);
    s->received_us = now_us(w);
    s->lease_until_us = asked_us + (int64_t)o->visibility_s * 1000000;
    if (s->msg.dequeue_count > o->max_dequeue) {
        snprintf(reason, sizeof(reason),
                 "delivered %u times, more than max-dequeue %u (a consumer probably died or "
                 "timed out on it)",
                 s->msg.dequeue_count, o->max_dequeue);
        poison(w, s, EDW_POISON_MAX_DEQUEUE, reason);
        return;
    }
    if (edw_payload_parse(s->msg.body, s->msg.body_len, o->max_body_bytes, &s->payload, reason,
                          sizeof(reason)) != EDW_OK) {
        poison(w, s,
               s->msg.body_len > o->max_body_bytes ? EDW_POISON_TOO_LARGE : EDW_POISON_INVALID_BODY,
               reason);
        return;
    }
    s->state = SLOT_QUEUED;
}

static void start_queued(struct worker *w)
{
    size_t running = live_slots(w, SLOT_RUNNING);
    const struct edw_handler *h = w->deps->handler;
    for (size_t i = 0; i < w->nslots; i++) {
        struct slot *s = &w->slots[i];
        if (s->state != SLOT_QUEUED)
            continue;
        s->job.payload = &s->payload;
        s->job.body = s->msg.body;
        s->job.body_len = s->msg.body_len;
        if (!w->pool) {
            static const atomic_bool never = false;
            h->run(h, &s->payload, s->msg.body, s->msg.body_len, &never, &s->job.result);
            s->job.finished_wall_us = edw_clock_wall_us(w->deps->clock);
            s->state = SLOT_DONE;
        } else if (running < w->opts->concurrency) {
            s->state = SLOT_RUNNING;
            edw_pool_submit(w->pool, &s->job);
            running++;
        }
    }
}

static void collect_finished(struct worker *w)
{
    for (size_t i = 0; i < w->nslots; i++) {
        struct slot *s = &w->slots[i];
        if (s->state == SLOT_RUNNING && atomic_load_explicit(&s->job.done, memory_order_acquire))
            s->state = SLOT_DONE;
    }
}

/* Give leases back: visible again after `visibility_s` (0: at once). */
static void release(struct worker *w, struct slot **picked, size_t n, unsigned visibility_s)
{
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        w->msgs[i] = &picked[i]->msg;
    struct edw_error e = {0}; /* filled for the wrapper's log line */
    enum edw_err rc = edw_queue_extend(w->deps->queue, w->msgs, n, visibility_s, w->results, &e);
    if (rc != EDW_OK) {
        w->stats->backend_errors++; /* the leases simply run out instead */
        if (visibility_s == 0)
            edw_warn("worker",
                     "%zu lease(s) not handed back (%s): they return to the queue when they run "
                     "out (visibility %u s)",
                     n, e.message[0] ? e.message : edw_err_str(rc), w->opts->visibility_s);
    }
    for (size_t i = 0; i < n; i++)
        slot_free(picked[i]);
}

/* A handler failed: retry later with a doubling delay, or poison after max-dequeue tries. */
static void handle_failure(struct worker *w, struct slot *s)
{
    if (w->cancelled) { /* not the message's fault: hand it back untouched */
        struct slot *one[] = {s};
        w->stats->released++;
        edw_metrics_lease_released(1);
        release(w, one, 1, 0);
        return;
    }
    w->stats->failed++;
    edw_metrics_handler_failed();
    char reason[400];
    if (s->msg.dequeue_count >= w->opts->max_dequeue) {
        snprintf(reason, sizeof(reason), "handler failed %u times; last error: %s",
                 s->msg.dequeue_count, s->job.result.error);
        poison(w, s, EDW_POISON_HANDLER, reason);
        return;
    }
    log_msg(w, EDW_LOG_WARN, s, s->job.result.error, "handler failed; will retry");
    unsigned shift = s->msg.dequeue_count > 1 ? s->msg.dequeue_count - 1 : 0;
    unsigned delay = w->opts->retry_delay_s << (shift < 12 ? shift : 12);
    struct slot *one[] = {s};
    release(w, one, 1, delay < 3600 ? delay : 3600);
}

static void fill_row(struct slot *s, struct edw_row *r)
{
    const struct edw_payload *p = &s->payload;
    edw_stamp_format(s->job.finished_wall_us, s->dest_stamp);
    r->key = p->id ? p->id : s->msg.id;
    r->data = s->job.result.data ? s->job.result.data : p->msg;
    r->src_stamp = p->src_stamp;
    r->dest_stamp = s->dest_stamp;
    r->processing_s = (double)(s->job.finished_wall_us - p->src_us) / 1e6;
    r->dequeue_count = s->msg.dequeue_count;
}

/* The store refused row `r` of message `s` on its own, as invalid. Once the store has taken
 * other rows in this run the row itself is at fault: poison the message now, with the
 * store's words as the reason. Before that, the refusal might be a misconfigured table that
 * would refuse every row, so the message is only released to come back later, like a failed
 * handler, and poisoned after max-dequeue deliveries: never a loop, never a mass poisoning
 * on the first misstep. */
static void row_refused(struct worker *w, struct slot *s, const struct edw_row *r,
                        const struct edw_error *e)
{
    char reason[400];
    int len = snprintf(reason, sizeof(reason), "the store refused the row for key '%s': %s", r->key,
                       e->message[0] ? e->message : edw_err_str(EDW_ERR_INVALID));
    if (e->code[0] && !strstr(e->message, e->code) && len > 0 && (size_t)len < sizeof(reason))
        snprintf(reason + len, sizeof(reason) - (size_t)len, " (%s)", e->code);
    if (w->store_proven || s->msg.dequeue_count >= w->opts->max_dequeue) {
        poison(w, s, EDW_POISON_STORE_REJECTED, reason);
        return;
    }
    log_msg(w, EDW_LOG_WARN, s, reason,
            "row refused before the store took any row; will retry (is the table set up "
            "right?)");
    unsigned shift = s->msg.dequeue_count > 1 ? s->msg.dequeue_count - 1 : 0;
    unsigned delay = w->opts->retry_delay_s << (shift < 12 ? shift : 12);
    struct slot *one[] = {s};
    release(w, one, 1, delay < 3600 ? delay : 3600);
}

/* The batch write of picked[0..n) failed for good (not a retryable error): one row the store
 * can never take (a key Azure Table refuses, an item DynamoDB rejects as invalid, a value too
 * large) fails a whole atomic batch, and retrying the batch would hold every message in it
 * forever. Write the rows one by one instead: the good ones are stored, the refused ones go
 * to row_refused. Other failures of a single row (credentials, a missing table, a timeout)
 * are not the row's fault: back off and retry the rest later, as for any outage. */
static void store_one_by_one(struct worker *w, size_t n)
{
    size_t nrefused = 0;
    struct slot **refused = edw_xcalloc(n, sizeof(*refused));
    struct edw_error *errs = edw_xcalloc(n, sizeof(*errs));
    bool outage = false;
    for (size_t i = 0; i < n && !outage; i++) {
        edw_error_clear(&errs[nrefused]); /* may hold an earlier row's answer */
        enum edw_err rc = edw_store_upsert(w->deps->store, &w->rows[i], 1, &errs[nrefused]);
        if (rc == EDW_OK) {
            w->picked[i]->state = SLOT_STORED;
            w->store_proven = true;
        } else if (rc == EDW_ERR_INVALID) {
            w->rows[nrefused] = w->rows[i]; /* i >= nrefused: row i is not needed again */
            refused[nrefused++] = w->picked[i];
        } else {
            backend_failed(w, EDW_OP_UPSERT, rc);
            outage = true;
        }
    }
    for (size_t i = 0; i < nrefused; i++)
        row_refused(w, refused[i], &w->rows[i], &errs[i]);
    if (!outage)
        w->failures = 0;
    free(refused);
    free(errs);
}

/* DONE -> rows upserted (STORED), failures handled. */
static void store_done(struct worker *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->nslots; i++) {
        struct slot *s = &w->slots[i];
        if (s->state != SLOT_DONE)
            continue;
        if (!s->job.result.ok) {
            handle_failure(w, s);
            continue;
        }
        fill_row(s, &w->rows[n]);
        w->picked[n++] = s;
    }
    if (n == 0 || now_us(w) < w->backoff_until_us)
        return;
    struct edw_error e = {0};
    enum edw_err rc = edw_store_upsert(w->deps->store, w->rows, n, &e);
    if (rc && !edw_err_retryable(rc)) {
        store_one_by_one(w, n);
        return;
    }
    if (rc) {
        backend_failed(w, EDW_OP_UPSERT, rc);
        return;
    }
    w->failures = 0;
    w->store_proven = true;
    for (size_t i = 0; i < n; i++)
        w->picked[i]->state = SLOT_STORED;
}

/* STORED -> acked and freed. Only now may the message leave the queue. */
/* The row and the ack of `s` are durable: count it and free the slot. */
static void settle_acked(struct worker *w, struct slot *s, bool conflict)
{
    w->stats->processed++;
    edw_metrics_stored((double)(now_us(w) - s->received_us) / 1e6,
                       (double)(s->job.finished_wall_us - s->payload.src_us) / 1e6);
    if (conflict) {
        /* Our row is written; the new owner will write the same key again. */
        w->stats->lost_leases++;
        edw_metrics_lease_lost(1);
        log_lost(w, s, "ack"); /* the row is kept: the new holder writes the same key */
    } else {
        log_msg(w, EDW_LOG_DEBUG, s, NULL, "row written, message acked");
    }
    slot_free(s);
}

/* Ack the stored rows. Inside a shared transaction (`in_txn`) nothing is durable until the
 * commit, so the slots wait as ACKED for settle_txn() rather than being counted now. */
static void ack_stored(struct worker *w, bool in_txn)
{
    size_t n = 0;
    for (size_t i = 0; i < w->nslots; i++) {
        if (w->slots[i].state == SLOT_STORED) {
            w->picked[n] = &w->slots[i];
            w->msgs[n++] = &w->slots[i].msg;
        }
    }
    if (n == 0 || now_us(w) < w->backoff_until_us)
        return;
    struct edw_error e = {0};
    enum edw_err rc = edw_queue_ack(w->deps->queue, w->msgs, n, w->results, &e);
    if (rc) {
        backend_failed(w, EDW_OP_ACK, rc);
        return;
    }
    w->failures = 0;
    for (size_t i = 0; i < n; i++) {
        struct slot *s = w->picked[i];
        bool conflict = w->results[i] == EDW_ERR_CONFLICT;
        if (in_txn) {
            s->state = SLOT_ACKED;
            s->ack_conflict = conflict;
        } else {
            settle_acked(w, s, conflict);
        }
    }
}

/* A shared transaction ended: its acked messages are processed if it committed. If it did
 * not, neither their rows nor their acks happened; the messages stay leased in the queue and
 * come back when the lease ends (at-least-once), so only our copy is dropped. */
static void settle_txn(struct worker *w, bool committed)
{
    for (size_t i = 0; i < w->nslots; i++) {
        struct slot *s = &w->slots[i];
        if (s->state != SLOT_ACKED)
            continue;
        if (committed) {
            settle_acked(w, s, s->ack_conflict);
        } else {
            log_msg(w, EDW_LOG_DEBUG, s, NULL,
                    "commit failed; the message returns after its lease");
            slot_free(s);
        }
    }
}

/* Write finished rows and ack them. When queue and store share a database this is one
 * transaction: the row and the ack commit together or not at all. A failed commit leaves the
 * messages leased in the queue; they come back when the lease ends (at-least-once). */
static void flush(struct worker *w)
{
    bool atomic = w->shared_txn && live_slots(w, SLOT_DONE) > 0 && now_us(w) >= w->backoff_until_us;
    struct edw_error e = {0};
    enum edw_err rc = atomic ? edw_queue_txn(w->deps->queue, EDW_TXN_BEGIN, &e) : EDW_OK;
    if (rc) {
        backend_failed(w, EDW_OP_TRANSACTION, rc);
        return;
    }
    store_done(w);
    ack_stored(w, atomic);
    rc = atomic ? edw_queue_txn(w->deps->queue, EDW_TXN_COMMIT, &e) : EDW_OK;
    if (rc)
        backend_failed(w, EDW_OP_TRANSACTION, rc);
    settle_txn(w, rc == EDW_OK);
}

/* The longest gap between two renewal checks lately (the current and the previous window of
 * one visibility timeout), each gap capped at half the timeout. Records this check. */
static int64_t recent_turn_us(struct worker *w, int64_t now, int64_t vis)
{
    int64_t gap = now - w->last_check_us;
    gap = gap < vis / 2 ? gap : vis / 2;
    if (now - w->gap_window_us >= vis) {
        w->gap_max_prev_us = w->gap_max_cur_us;
        w->gap_max_cur_us = 0;
        w->gap_window_us = now;
    }
    w->gap_max_cur_us = gap > w->gap_max_cur_us ? gap : w->gap_max_cur_us;
    w->last_check_us = now;
    return w->gap_max_cur_us > w->gap_max_prev_us ? w->gap_max_cur_us : w->gap_max_prev_us;
}

/* Renew leases that would have less than a third of the visibility timeout left by the next
 * check. Checks come once per loop turn, and a turn can block for a long time in one backend
 * call (a receive whose answer is slow, a slow upsert): renewing only at "a third left" would
 * then renew after the lease ran out, and another consumer would get the message too. So look
 * ahead by the longest recent turn. Its cap (half the timeout) bounds the cost: a lease is
 * renewed at most every sixth of the timeout, however slow the backend. */
static void renew_leases(struct worker *w)
{
    int64_t now = now_us(w);
    int64_t vis = (int64_t)w->opts->visibility_s * 1000000;
    int64_t horizon = vis / 3 + recent_turn_us(w, now, vis);
    size_t n = 0;
    for (size_t i = 0; i < w->nslots; i++) {
        struct slot *s = &w->slots[i];
        if (s->state != SLOT_FREE && s->lease_until_us - now < horizon) {
            w->picked[n] = s;
            w->msgs[n++] = &s->msg;
        }
    }
    if (n == 0)
        return;
    struct edw_error e = {0};
    if (edw_queue_extend(w->deps->queue, w->msgs, n, w->opts->visibility_s, w->results, &e) !=
        EDW_OK) {
        w->stats->backend_errors++;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (w->results[i] == EDW_OK) {
            w->picked[i]->lease_until_us = now + vis;
            w->stats->extended++;
            edw_metrics_lease_extended(1);
        } else {
            w->stats->lost_leases++;
            edw_metrics_lease_lost(1);
            log_lost(w, w->picked[i], "renew");
            w->picked[i]->lease_until_us = now + vis; /* do not ask again every loop */
        }
    }
}

/* Tell the other pipelines when this one's earliest lease ends (edw/lease_guard.h). */
static void publish_leases(const struct worker *w)
{
    int64_t earliest = INT64_MAX;
    if (!(edw_queue_ops_of(w->deps->queue)->caps & EDW_QCAP_EXTEND)) {
        edw_lease_guard_publish(w->guard_id, earliest); /* leases we cannot renew: no wait */
        return;
    }
    for (size_t i = 0; i < w->nslots; i++)
        if (w->slots[i].state != SLOT_FREE && w->slots[i].lease_until_us < earliest)
            earliest = w->slots[i].lease_until_us;
    edw_lease_guard_publish(w->guard_id, earliest);
}

/* Renew what is due, then publish the earliest lease end. */
static void keep_leases(struct worker *w)
{
    renew_leases(w);
    publish_leases(w);
}

/* How many messages to lease now: 0 when there is too little room (or a backoff runs). */
static size_t receive_want(const struct worker *w)
{
    /* No receive while a lease of this process is over or nearly (edw/lease_guard.h): it
     * could hand out a message a pipeline here still holds. Its holder renews it first. The
     * margin (a sixth of the lease) covers the receive's own way to the queue; in normal
     * running leases are renewed with a third left, so this does not hold receives back. */
    int64_t now = now_us(w);
    if (!edw_lease_guard_clear(now + (int64_t)w->opts->visibility_s * 1000000 / 6))
        return 0;
    size_t live = live_slots(w, SLOT_FREE);
    size_t room = w->nslots - live;
    size_t want = room < w->opts->batch ? room : w->opts->batch;
    if (want == 0 || (live > 0 && room < (w->opts->batch + 1) / 2) ||
        now_us(w) < w->backoff_until_us)
        return 0;
    return want;
}

/* Ask the queue for up to `want` messages into `batch`. False after a failure (counted;
 * *fatal set when retrying cannot help). */
static bool fetch(struct worker *w, size_t want, struct edw_msg_batch *batch, enum edw_err *fatal,
                  struct edw_error *err)
{
    enum edw_err rc = edw_queue_receive(w->deps->queue, want, w->opts->visibility_s, batch, err);
    if (rc) {
        if (edw_err_retryable(rc))
            backend_failed(w, EDW_OP_RECEIVE, rc);
        else
            *fatal = rc;
        edw_msg_batch_cleanup(batch);
        return false;
    }
    w->recv_failures = 0;
    return true;
}

/* Move leased messages into free slots (room was checked before the receive). */
static size_t take(struct worker *w, struct edw_msg_batch *batch, int64_t asked)
{
    size_t k = 0;
    for (size_t i = 0; i < w->nslots && k < batch->n; i++) {
        if (w->slots[i].state != SLOT_FREE)
            continue;
        edw_msg_move(&w->slots[i].msg, &batch->msgs[k++]);
        w->slots[i].held = true;
        edw_metrics_in_flight_add(1);
        admit(w, &w->slots[i], asked);
    }
    publish_leases(w);
    size_t got = batch->n;
    edw_msg_batch_cleanup(batch);
    return got;
}

/* Lease a batch if there is room. Returns the number received, or sets *fatal. */
static size_t receive(struct worker *w, enum edw_err *fatal, struct edw_error *err)
{
    size_t want = receive_want(w);
    if (want == 0)
        return 0;
    struct edw_msg_batch batch = {0};
    int64_t asked = now_us(w);
    return fetch(w, want, &batch, fatal, err) ? take(w, &batch, asked) : 0;
}

/* Queue and store in one database: one write transaction stores and acks what finished and
 * leases the next batch, so each batch costs one commit (one lock round trip, one set of WAL
 * frames; the leaf pages the acks delete from are mostly the ones the next claim updates)
 * instead of two. The new leases are acted on only once that commit is durable; if it fails,
 * nothing of it happened: the rows are retried and the batch was never leased. */
static size_t flush_and_receive(struct worker *w, enum edw_err *fatal, struct edw_error *err)
{
    if (live_slots(w, SLOT_DONE) == 0 || now_us(w) < w->backoff_until_us)
        return receive(w, fatal, err);
    struct edw_error e = {0};
    enum edw_err rc = edw_queue_txn(w->deps->queue, EDW_TXN_BEGIN, &e);
    if (rc) {
        backend_failed(w, EDW_OP_TRANSACTION, rc);
        return 0;
    }
    store_done(w);
    ack_stored(w, true);
    struct edw_msg_batch batch = {0};
    int64_t asked = now_us(w);
    size_t want = receive_want(w);
    if (want > 0)
        fetch(w, want, &batch, fatal, err);
    rc = edw_queue_txn(w->deps->queue, EDW_TXN_COMMIT, &e);
    settle_txn(w, rc == EDW_OK);
    if (rc) {
        backend_failed(w, EDW_OP_TRANSACTION, rc);
        edw_msg_batch_cleanup(&batch);
        return 0;
    }
    return take(w, &batch, asked);
}

/* Stop requested: hand back every lease not yet started, so other consumers get them now. */
static void release_queued(struct worker *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->nslots; i++)
        if (w->slots[i].state == SLOT_QUEUED)
            w->picked[n++] = &w->slots[i];
    w->stats->released += n;
    edw_metrics_lease_released(n);
    release(w, w->picked, n, 0);
}

/* Grace period over: cancel handlers, keep what finished, release the rest. */
static void abandon(struct worker *w)
{
    if (w->pool) {
        w->cancelled = true;
        edw_pool_cancel(w->pool);
        while (live_slots(w, SLOT_RUNNING) > 0) {
            edw_pool_wait(w->pool, 20000);
            collect_finished(w);
        }
    }
    flush(w);
    size_t n = 0;
    for (size_t i = 0; i < w->nslots; i++)
        if (w->slots[i].state != SLOT_FREE)
            w->picked[n++] = &w->slots[i];
    w->stats->released += n;
    edw_metrics_lease_released(n);
    release(w, w->picked, n, 0);
}

/* Refresh the queue-depth gauge every `depth_interval_us`, one pipeline at a time. A failure
 * is counted and logged by the wrapper; the gauge keeps its last value. */
static void sample_depth(struct worker *w)
{
    const struct edw_worker_opts *o = w->opts;
    if (o->depth_interval_us <= 0 || !o->queue_name ||
        !(edw_queue_ops_of(w->deps->queue)->caps & EDW_QCAP_DEPTH) ||
        !edw_metrics_depth_due(now_us(w), o->depth_interval_us))
        return;
    struct edw_queue_depth d = {0};
    struct edw_error e = {0};
    if (edw_queue_depth(w->deps->queue, &d, &e) == EDW_OK)
        edw_metrics_queue_depth(o->queue_name, d.visible, d.in_flight, d.poison);
}

static void pause_briefly(struct worker *w, int64_t us)
{
    if (w->pool && live_slots(w, SLOT_RUNNING) > 0)
        edw_pool_wait(w->pool, us);
    else
        edw_clock_sleep_us(w->deps->clock, us);
}

/* Longest nap of a pipeline waiting for the one that polls the empty queue: how late it may
 * join in once messages come (the poller alone receives meanwhile). */
#define IDLE_NAP_US 100000

static bool stop_asked(const struct worker *w)
{
    return w->deps->should_stop && w->deps->should_stop(w->deps->stop_ctx);
}

/* Another pipeline of the process polls the empty queue (edw/idle_turns.h): nap until it
 * finds messages or leaves, or a stop is asked (true: receive again), or this pipeline's idle
 * time is up (false: exit-when-idle). Sends nothing. */
static bool nap_until_news(struct worker *w, int64_t idle_since)
{
    const struct edw_worker_opts *o = w->opts;
    uint64_t seen = edw_idle_turns_news();
    for (;;) {
        int64_t now = now_us(w);
        int64_t nap = o->poll_max_us > 0 && o->poll_max_us < IDLE_NAP_US ? o->poll_max_us
                                                                         : IDLE_NAP_US;
        if (o->exit_when_idle_us > 0) {
            int64_t left = idle_since + o->exit_when_idle_us - now;
            if (left <= 0)
                return false;
            if (left < nap)
                nap = left;
        }
        edw_health_pipeline_beat(w->health_id, EDW_PIPE_IDLE, now, nap);
        edw_clock_sleep_us(w->deps->clock, nap);
        if (edw_idle_turns_news() != seen || stop_asked(w))
            return true;
    }
}

static enum edw_err loop(struct worker *w, struct edw_error *err)
{
    const struct edw_worker_opts *o = w->opts;
    int64_t idle_since = now_us(w), poll_us = 1000, deadline = 0;
    bool stopping = false;
    enum edw_err fatal = EDW_OK;
    for (;;) {
        edw_health_pipeline_beat(w->health_id, stopping ? EDW_PIPE_DRAINING : EDW_PIPE_BUSY,
                                 now_us(w), 0);
        if (!stopping && stop_asked(w)) {
            stopping = true;
            edw_health_pipeline_beat(w->health_id, EDW_PIPE_DRAINING, now_us(w), 0);
            deadline = now_us(w) + o->shutdown_grace_us;
            /* The grace may have started earlier, at the signal (edw/shutdown.h). Backend
             * calls retry inside; from now on they must not outlast it. */
            int64_t signalled = edw_shutdown_deadline_us();
            if (signalled > 0 && signalled < deadline)
                deadline = signalled;
            edw_shutdown_set_deadline(deadline);
            release_queued(w);
            edw_info("worker", "stopping: %zu messages in flight, grace %.1f s",
                     live_slots(w, SLOT_FREE), (double)o->shutdown_grace_us / 1e6);
        }
        /* Leases first: after a long call (a backend that stalled), some may be due or over,
         * and receiving or acking before renewing them would widen the time another
         * consumer can take them. */
        keep_leases(w);
        bool combined = w->shared_txn && !stopping;
        size_t got = stopping   ? 0
                     : combined ? flush_and_receive(w, &fatal, err)
                                : receive(w, &fatal, err);
        if (fatal)
            break;
        start_queued(w);
        if (w->pool)
            collect_finished(w);
        if (!combined)
            flush(w);
        keep_leases(w);
        if (!stopping)
            sample_depth(w);
        size_t live = live_slots(w, SLOT_FREE);
        int64_t now = now_us(w);
        if (stopping && (live == 0 || now >= deadline)) {
            if (live)
                abandon(w);
            break;
        }
        if (got > 0 || live > 0)
            idle_since = now;
        if (got > 0)
            edw_idle_turns_give((uintptr_t)w);
        if (got > 0 || (combined && live_slots(w, SLOT_DONE) > 0)) {
            poll_us = 1000;
            continue;
        }
        if (live > 0) {
            pause_briefly(w, 20000);
            continue;
        }
        if (o->exit_when_idle_us > 0 && now - idle_since >= o->exit_when_idle_us)
            break;
        if (!edw_idle_turns_take((uintptr_t)w)) {
            if (!nap_until_news(w, idle_since))
                break;
            continue;
        }
        edw_health_pipeline_beat(w->health_id, EDW_PIPE_IDLE, now, poll_us);
        edw_clock_sleep_us(w->deps->clock, poll_us);
        poll_us = poll_us * 2 < o->poll_max_us ? poll_us * 2 : o->poll_max_us;
    }
    if (fatal) {
        abandon(w);
        return fatal;
    }
    return EDW_OK;
}

enum edw_err edw_worker_run(const struct edw_worker_deps *deps, const struct edw_worker_opts *opts,
                            struct edw_worker_stats *stats, struct edw_error *err)
{
    struct worker w = {.deps = deps, .opts = opts, .stats = stats};
    memset(stats, 0, sizeof(*stats));
    w.nslots = opts->concurrency + opts->batch;
    w.slots = edw_xcalloc(w.nslots, sizeof(*w.slots));
    w.msgs = edw_xcalloc(w.nslots, sizeof(*w.msgs));
    w.picked = edw_xcalloc(w.nslots, sizeof(*w.picked));
    w.results = edw_xcalloc(w.nslots, sizeof(*w.results));
    w.rows = edw_xcalloc(w.nslots, sizeof(*w.rows));
    const void *domain = edw_queue_txn_domain(deps->queue);
    w.shared_txn = domain && domain == edw_store_txn_domain(deps->store);
    if (deps->handler->blocking)
        w.pool = edw_pool_new(deps->handler, deps->clock, opts->concurrency);
    int64_t start = edw_clock_mono_us(deps->clock);
    w.last_check_us = w.gap_window_us = start;
    w.health_id = edw_health_pipeline_add(start);
    w.guard_id = edw_lease_guard_join();
    enum edw_err rc = loop(&w, err);
    edw_idle_turns_give((uintptr_t)&w);
    edw_lease_guard_leave(w.guard_id);
    edw_health_pipeline_remove(w.health_id);
    stats->seconds = (double)(edw_clock_mono_us(deps->clock) - start) / 1e6;
    edw_pool_destroy(w.pool);
    for (size_t i = 0; i < w.nslots; i++)
        slot_free(&w.slots[i]);
    free(w.slots);
    free(w.msgs);
    free(w.picked);
    free(w.results);
    free(w.rows);
    return rc;
}
