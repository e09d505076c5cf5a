/* SPDX-License-Identifier: Apache-2.0 */
#include "fake_queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"
#include "edw/clock.h"

struct fake_queue *g_fake_queue;

static enum edw_err fq_open(const struct edw_config *cfg, const struct edw_backend_deps *deps,
                            void **state_out, struct edw_error *err)
{
    (void)cfg;
    (void)err;
    struct fake_queue *q = edw_xcalloc(1, sizeof(*q));
    q->clock = deps->clock;
    q->next_lease = 1;
    g_fake_queue = q;
    *state_out = q;
    return EDW_OK;
}

static void fq_close(void *state)
{
    struct fake_queue *q = state;
    if (!q)
        return;
    if (q->snapshot) { /* closed inside a transaction: it never committed */
        struct edw_error e = {0};
        (void)fake_txn(q, EDW_TXN_ROLLBACK, &e);
    }
    for (size_t i = 0; i < q->n; i++) {
        free(q->msgs[i].body);
        free(q->msgs[i].poison_reason);
    }
    free(q->msgs);
    if (g_fake_queue == q)
        g_fake_queue = NULL;
    free(q);
}

void fake_queue_put(struct fake_queue *q, const char *body)
{
    q->msgs = edw_xgrow(q->msgs, &q->cap, q->n + 1, sizeof(*q->msgs));
    struct fake_msg *m = &q->msgs[q->n++];
    memset(m, 0, sizeof(*m));
    m->body = edw_xstrdup(body);
    m->len = strlen(body);
    m->visible_at_us = edw_clock_wall_us(q->clock);
}

static bool live(const struct fake_msg *m)
{
    return !m->deleted && !m->poison_reason;
}

size_t fake_queue_live(const struct fake_queue *q)
{
    size_t n = 0;
    for (size_t i = 0; i < q->n; i++)
        n += live(&q->msgs[i]);
    return n;
}

size_t fake_queue_poisoned(const struct fake_queue *q)
{
    size_t n = 0;
    for (size_t i = 0; i < q->n; i++)
        n += q->msgs[i].poison_reason != NULL;
    return n;
}

static enum edw_err fq_create(void *state, struct edw_error *err)
{
    (void)state;
    (void)err;
    return EDW_OK;
}

static enum edw_err fq_send(void *state, const struct edw_str *bodies, size_t n,
                            struct edw_error *err)
{
    (void)err;
    for (size_t i = 0; i < n; i++) {
        char *b = edw_xstrndup(bodies[i].ptr, bodies[i].len);
        fake_queue_put(state, b);
        free(b);
    }
    return EDW_OK;
}

static bool scripted_failure(struct fake_queue *q, unsigned *counter)
{
    if (*counter == 0)
        return false;
    (*counter)--;
    return true;
}

/* Find message `m`'s index when its receipt matches the current lease. */
static struct fake_msg *owned(struct fake_queue *q, const struct edw_msg *m)
{
    size_t idx = (size_t)strtoul(m->id, NULL, 10);
    if (idx >= q->n)
        return NULL;
    struct fake_msg *f = &q->msgs[idx];
    unsigned lease = (unsigned)strtoul(m->receipt, NULL, 10);
    if (q->strict_leases && f->visible_at_us <= edw_clock_wall_us(q->clock))
        return NULL;
    return live(f) && f->lease == lease ? f : NULL;
}

static enum edw_err fq_receive(void *state, size_t max, unsigned visibility_s,
                               struct edw_msg_batch *out, struct edw_error *err)
{
    struct fake_queue *q = state;
    q->receives++;
    if (scripted_failure(q, &q->fail_receive))
        return edw_error_set(err, q->fail_err, "scripted receive failure");
    int64_t now = edw_clock_wall_us(q->clock);
    for (size_t i = 0; i < q->n && out->n < max; i++) {
        struct fake_msg *f = &q->msgs[i];
        if (!live(f) || f->visible_at_us > now)
            continue;
        f->dequeue_count++;
        f->lease = q->next_lease++;
        f->visible_at_us = now + (int64_t)visibility_s * 1000000;
        struct edw_msg *m = edw_msg_batch_add(out);
        m->id = edw_xasprintf("%zu", i);
        m->receipt = edw_xasprintf("%u", f->lease);
        m->body = edw_xstrndup(f->body, f->len);
        m->body_len = f->len;
        m->dequeue_count = f->dequeue_count;
    }
    if (q->slow_clock && q->receive_delay_us && (out->n > 0 || q->delay_every_receive))
        fake_clock_advance(q->slow_clock, q->receive_delay_us);
    return EDW_OK;
}

static enum edw_err fq_ack(void *state, struct edw_msg *const *msgs, size_t n,
                           enum edw_err *results, struct edw_error *err)
{
    struct fake_queue *q = state;
    q->acks++;
    if (scripted_failure(q, &q->fail_ack))
        return edw_error_set(err, q->fail_err, "scripted ack failure");
    for (size_t i = 0; i < n; i++) {
        struct fake_msg *f = owned(q, msgs[i]);
        results[i] = f ? EDW_OK : EDW_ERR_CONFLICT;
        if (f) {
            f->deleted = true;
            f->acked_at_us = edw_clock_wall_us(q->clock);
        }
    }
    return EDW_OK;
}

static enum edw_err fq_extend(void *state, struct edw_msg *const *msgs, size_t n,
                              unsigned visibility_s, enum edw_err *results,
                              struct edw_error *err)
{
    struct fake_queue *q = state;
    q->extends++;
    if (visibility_s == 0)
        q->extend_zero += (unsigned)n;
    if (scripted_failure(q, &q->fail_extend))
        return edw_error_set(err, q->fail_err, "scripted extend failure");
    int64_t now = edw_clock_wall_us(q->clock);
    for (size_t i = 0; i < n; i++) {
        struct fake_msg *f = owned(q, msgs[i]);
        results[i] = f ? EDW_OK : EDW_ERR_CONFLICT;
        if (!f)
            continue;
        f->visible_at_us = now + (int64_t)visibility_s * 1000000;
        f->lease = q->next_lease++;
        free(msgs[i]->receipt);
        msgs[i]->receipt = edw_xasprintf("%u", f->lease);
    }
    return EDW_OK;
}

static enum edw_err fq_poison(void *state, const struct edw_msg *m, const char *reason,
                              struct edw_error *err)
{
    (void)err;
    struct fake_msg *f = owned(state, m);
    if (!f)
        return EDW_ERR_CONFLICT;
    f->poison_reason = edw_xstrdup(reason);
    return EDW_OK;
}

static enum edw_err fq_depth(void *state, struct edw_queue_depth *out, struct edw_error *err)
{
    (void)err;
    struct fake_queue *q = state;
    int64_t now = edw_clock_wall_us(q->clock);
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < q->n; i++) {
        const struct fake_msg *f = &q->msgs[i];
        if (f->poison_reason)
            out->poison++;
        else if (!f->deleted && f->visible_at_us <= now)
            out->visible++;
        else if (!f->deleted)
            out->in_flight++;
    }
    return EDW_OK;
}

static enum edw_err fq_peek(void *state, bool poison, size_t max, struct edw_msg_batch *out,
                            struct edw_error *err)
{
    (void)state;
    (void)poison;
    (void)max;
    (void)out;
    (void)err;
    return EDW_OK;
}

static enum edw_err fq_clear(void *state, bool poison, struct edw_error *err)
{
    (void)poison;
    (void)err;
    struct fake_queue *q = state;
    for (size_t i = 0; i < q->n; i++)
        q->msgs[i].deleted = true;
    return EDW_OK;
}

const struct edw_queue_ops fake_queue_ops = {
    .name = "fake",
    .caps = EDW_QCAP_EXTEND | EDW_QCAP_DEQUEUE_COUNT | EDW_QCAP_DEPTH,
    .max_send_batch = 32,
    .max_recv_batch = 32,
    .max_body_bytes = 65536,
    .open = fq_open,
    .create = fq_create,
    .send = fq_send,
    .receive = fq_receive,
    .ack = fq_ack,
    .extend = fq_extend,
    .poison = fq_poison,
    .depth = fq_depth,
    .peek = fq_peek,
    .clear = fq_clear,
    .close = fq_close,
    .txn_domain = fake_txn_domain,
    .txn = fake_txn,
};
