/* SPDX-License-Identifier: Apache-2.0 */
/* The embedded queue: rows in edw_queue with a visibility deadline and a lease token.
 * Receiving moves the deadline forward and draws a new token; ack, extend and poison only
 * touch a row whose token still matches, so a consumer whose lease expired (and was taken
 * over) can never delete or extend someone else's lease. Times are wall-clock microseconds
 * because several processes share them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"
#include "edw/clock.h"
#include "edw/config.h"
#include "edw/queue.h"
#include "sqlite_db.h"
#include "sqlite_sql.h"

enum {
    ST_IDS,
    ST_SEND,
    ST_CLAIM,
    ST_ACK,
    ST_EXTEND,
    ST_POISON,
    ST_READY,
    ST_LEASED,
    ST_NPOISON,
    ST_PEEK,
    ST_PEEK_POISON,
    ST_CLEAR,
    ST_CLEAR_POISON,
    ST_COUNT
};

static const char *const s_sql[ST_COUNT] = {
    SQL_Q_IDS,   SQL_Q_SEND,  SQL_Q_CLAIM,         SQL_Q_ACK,       SQL_Q_EXTEND,
    SQL_Q_POISON, SQL_Q_COUNT_READY,  SQL_Q_COUNT_LEASED, SQL_Q_COUNT_POISON,
    SQL_Q_PEEK,  SQL_Q_PEEK_POISON,   SQL_Q_CLEAR,     SQL_Q_CLEAR_POISON,
};

struct sq {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    char *queue;
    const struct edw_clock *clock;
};

static void sq_close(void *state)
{
    struct sq *q = state;
    if (!q)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(q->st[i]);
    edw_sqlite_close(q->db);
    free(q->queue);
    free(q);
}

static enum edw_err sq_open(const struct edw_config *cfg, const struct edw_backend_deps *deps,
                            void **state_out, struct edw_error *err)
{
    struct sq *q = edw_xcalloc(1, sizeof(*q));
    q->queue = edw_xstrdup(cfg->queue_name);
    q->clock = deps->clock;
    enum edw_err rc = edw_sqlite_open(cfg, &q->db, err);
    for (int i = 0; i < ST_COUNT && !rc; i++)
        rc = edw_sqlite_prepare(q->db, s_sql[i], &q->st[i], err);
    if (rc) {
        sq_close(q);
        q = NULL;
    }
    *state_out = q;
    return rc;
}

static enum edw_err sq_create(void *state, struct edw_error *err)
{
    (void)state;
    (void)err;
    return EDW_OK; /* the schema holds every queue; nothing to create per name */
}

/* Run a statement that returns no rows; leaves it reset. */
static enum edw_err step_done(struct sq *q, sqlite3_stmt *st, const char *what,
                              struct edw_error *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? EDW_OK : edw_sqlite_fail(q->db, rc, what, err);
}

static enum edw_err sq_send(void *state, const struct edw_str *bodies, size_t n,
                            struct edw_error *err)
{
    struct sq *q = state;
    sqlite3_stmt *st = q->st[ST_SEND];
    enum edw_err rc = edw_sqlite_begin(q->db, err);
    int64_t now = edw_clock_wall_us(q->clock);
    sqlite3_int64 id = 0;
    if (!rc) { /* ids for the whole batch in one step */
        sqlite3_stmt *ids = q->st[ST_IDS];
        sqlite3_bind_int64(ids, 1, (sqlite3_int64)n);
        int sr = sqlite3_step(ids);
        id = sr == SQLITE_ROW ? sqlite3_column_int64(ids, 0) - (sqlite3_int64)n : 0;
        sr = sr == SQLITE_ROW ? sqlite3_step(ids) : sr;
        sqlite3_reset(ids);
        if (sr != SQLITE_DONE)
            rc = edw_sqlite_fail(q->db, sr, "send", err);
    }
    for (size_t i = 0; i < n && !rc; i++) {
        sqlite3_bind_text(st, 1, q->queue, -1, SQLITE_STATIC);
        sqlite3_bind_blob64(st, 2, bodies[i].ptr, bodies[i].len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_int64(st, 4, ++id);
        rc = step_done(q, st, "send", err);
    }
    rc = rc ? rc : edw_sqlite_commit(q->db, err);
    if (rc)
        edw_sqlite_rollback(q->db);
    return rc;
}

/* `v` in decimal into `buf` (at least 21 bytes); returns the text's start within `buf`.
 * Ids and receipts are formatted for every message, where snprintf showed in profiles. */
static const char *decimal(sqlite3_int64 v, char buf[21])
{
    char *p = buf + 20;
    unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
    *p = '\0';
    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--p = '-';
    return p;
}

/* Copy the current row (id, body, dequeue_count, enqueued_us[, reason]) into a message. */
static void take_row(sqlite3_stmt *st, bool id_is_text, struct edw_msg *m)
{
    char num[21];
    if (id_is_text)
        m->id = edw_xstrdup((const char *)sqlite3_column_text(st, 0));
    else
        m->id = edw_xstrdup(decimal(sqlite3_column_int64(st, 0), num));
    const void *body = sqlite3_column_blob(st, 1);
    size_t len = (size_t)sqlite3_column_bytes(st, 1);
    m->body = edw_xstrndup(body ? body : "", len);
    m->body_len = len;
    m->dequeue_count = (uint32_t)sqlite3_column_int64(st, 2);
    m->enqueued_us = sqlite3_column_int64(st, 3);
}

static enum edw_err sq_receive(void *state, size_t max, unsigned visibility_s,
                               struct edw_msg_batch *out, struct edw_error *err)
{
    struct sq *q = state;
    sqlite3_stmt *st = q->st[ST_CLAIM];
    int64_t now = edw_clock_wall_us(q->clock);
    sqlite3_int64 lease = edw_sqlite_lease_token();
    char num[21];
    const char *receipt = decimal(lease, num);
    size_t first = out->n;
    enum edw_err rc = edw_sqlite_begin(q->db, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, now + (int64_t)visibility_s * 1000000);
    sqlite3_bind_int64(st, 2, lease);
    sqlite3_bind_text(st, 3, q->queue, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)max);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct edw_msg *m = edw_msg_batch_add(out);
        take_row(st, false, m);
        m->receipt = edw_xstrdup(receipt);
    }
    sqlite3_reset(st);
    rc = s == SQLITE_DONE ? edw_sqlite_commit(q->db, err) : edw_sqlite_fail(q->db, s, "receive", err);
    if (rc) {
        edw_sqlite_rollback(q->db);
        while (out->n > first) /* nothing was leased: hand nothing out */
            edw_msg_cleanup(&out->msgs[--out->n]);
    }
    return rc;
}

static bool parse_ids(const struct edw_msg *m, sqlite3_int64 *id, sqlite3_int64 *lease)
{
    char *end = NULL;
    if (!m->id || !m->receipt)
        return false;
    *id = strtoll(m->id, &end, 10);
    if (*end)
        return false;
    *lease = strtoll(m->receipt, &end, 10);
    return *end == '\0';
}

/* Step `st` once per message with its (id, lease) bound as ?1 and ?2 (other parameters keep
 * their bindings), all in one transaction. results[i] is EDW_OK when the lease still held. */
static enum edw_err per_lease(struct sq *q, sqlite3_stmt *st, const char *what,
                              struct edw_msg *const *msgs, size_t n, enum edw_err *results,
                              struct edw_error *err)
{
    enum edw_err rc = edw_sqlite_begin(q->db, err);
    for (size_t i = 0; i < n && !rc; i++) {
        sqlite3_int64 id, lease;
        results[i] = EDW_ERR_CONFLICT;
        if (!parse_ids(msgs[i], &id, &lease))
            continue;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, lease);
        rc = step_done(q, st, what, err);
        if (!rc && sqlite3_changes(q->db) == 1)
            results[i] = EDW_OK;
    }
    rc = rc ? rc : edw_sqlite_commit(q->db, err);
    if (rc)
        edw_sqlite_rollback(q->db);
    return rc;
}

static enum edw_err sq_ack(void *state, struct edw_msg *const *msgs, size_t n,
                           enum edw_err *results, struct edw_error *err)
{
    struct sq *q = state;
    return per_lease(q, q->st[ST_ACK], "ack", msgs, n, results, err);
}

static enum edw_err sq_extend(void *state, struct edw_msg *const *msgs, size_t n,
                              unsigned visibility_s, enum edw_err *results,
                              struct edw_error *err)
{
    struct sq *q = state;
    sqlite3_stmt *st = q->st[ST_EXTEND];
    sqlite3_int64 fresh = edw_sqlite_lease_token();
    sqlite3_bind_int64(st, 3, edw_clock_wall_us(q->clock) + (int64_t)visibility_s * 1000000);
    sqlite3_bind_int64(st, 4, fresh);
    enum edw_err rc = per_lease(q, st, "extend", msgs, n, results, err);
    if (rc)
        return rc;
    /* Only now that the new token is durable do the receipts change. */
    for (size_t i = 0; i < n; i++) {
        if (results[i] == EDW_OK) {
            free(msgs[i]->receipt);
            msgs[i]->receipt = edw_xasprintf("%lld", (long long)fresh);
        }
    }
    return EDW_OK;
}

static enum edw_err sq_poison(void *state, const struct edw_msg *m, const char *reason,
                              struct edw_error *err)
{
    struct sq *q = state;
    sqlite3_int64 id, lease;
    if (!parse_ids(m, &id, &lease))
        return EDW_ERR_CONFLICT;
    enum edw_err rc = edw_sqlite_begin(q->db, err);
    if (rc)
        return rc;
    sqlite3_stmt *del = q->st[ST_ACK];
    sqlite3_bind_int64(del, 1, id);
    sqlite3_bind_int64(del, 2, lease);
    rc = step_done(q, del, "poison", err);
    if (!rc && sqlite3_changes(q->db) != 1)
        rc = EDW_ERR_CONFLICT; /* lease lost: the current owner decides its fate */
    if (!rc) {
        sqlite3_stmt *st = q->st[ST_POISON];
        sqlite3_bind_text(st, 1, q->queue, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->id, -1, SQLITE_STATIC);
        sqlite3_bind_blob64(st, 3, m->body ? m->body : "", m->body_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, m->dequeue_count);
        sqlite3_bind_int64(st, 6, m->enqueued_us);
        sqlite3_bind_int64(st, 7, edw_clock_wall_us(q->clock));
        rc = step_done(q, st, "poison", err);
    }
    rc = rc ? rc : edw_sqlite_commit(q->db, err);
    if (rc)
        edw_sqlite_rollback(q->db);
    return rc;
}

static enum edw_err count(struct sq *q, int which, int64_t now, uint64_t *out,
                          struct edw_error *err)
{
    sqlite3_stmt *st = q->st[which];
    sqlite3_bind_text(st, 1, q->queue, -1, SQLITE_STATIC);
    if (which != ST_NPOISON)
        sqlite3_bind_int64(st, 2, now);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? EDW_OK : edw_sqlite_fail(q->db, rc, "depth", err);
}

static enum edw_err sq_depth(void *state, struct edw_queue_depth *out, struct edw_error *err)
{
    struct sq *q = state;
    int64_t now = edw_clock_wall_us(q->clock);
    /* One read transaction so the three counts come from the same snapshot. */
    enum edw_err rc = sqlite3_exec(q->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK
                          ? EDW_OK
                          : edw_sqlite_fail(q->db, sqlite3_errcode(q->db), "depth", err);
    if (!rc)
        rc = count(q, ST_READY, now, &out->visible, err);
    if (!rc)
        rc = count(q, ST_LEASED, now, &out->in_flight, err);
    if (!rc)
        rc = count(q, ST_NPOISON, now, &out->poison, err);
    edw_sqlite_rollback(q->db);
    return rc;
}

static enum edw_err sq_peek(void *state, bool poison, size_t max, struct edw_msg_batch *out,
                            struct edw_error *err)
{
    struct sq *q = state;
    sqlite3_stmt *st = q->st[poison ? ST_PEEK_POISON : ST_PEEK];
    sqlite3_bind_text(st, 1, q->queue, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, edw_clock_wall_us(q->clock));
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct edw_msg *m = edw_msg_batch_add(out);
        take_row(st, poison, m);
        if (poison)
            m->reason = edw_xstrdup((const char *)sqlite3_column_text(st, 4));
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? EDW_OK : edw_sqlite_fail(q->db, rc, "peek", err);
}

static enum edw_err sq_clear(void *state, bool poison, struct edw_error *err)
{
    struct sq *q = state;
    sqlite3_stmt *st = q->st[poison ? ST_CLEAR_POISON : ST_CLEAR];
    enum edw_err rc = edw_sqlite_begin(q->db, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, q->queue, -1, SQLITE_STATIC);
    rc = step_done(q, st, "clear", err);
    rc = rc ? rc : edw_sqlite_commit(q->db, err);
    if (rc)
        edw_sqlite_rollback(q->db);
    return rc;
}

static const void *sq_txn_domain(void *state)
{
    return ((struct sq *)state)->db;
}

static enum edw_err sq_txn(void *state, enum edw_txn_op op, struct edw_error *err)
{
    return edw_sqlite_txn(((struct sq *)state)->db, op, err);
}

const struct edw_queue_ops edw_sqlite_queue_ops = {
    .name = "sqlite",
    .caps = EDW_QCAP_EXTEND | EDW_QCAP_DEQUEUE_COUNT | EDW_QCAP_DEPTH,
    .max_send_batch = 1000,
    .max_recv_batch = 1000,
    /* One write transaction per call, shared by every process on the file: see
     * docs/BENCHMARKS.md (SQLite) for the figures behind 256. */
    .pref_send_batch = 256,
    .pref_recv_batch = 256,
    .max_body_bytes = 16 * 1024 * 1024,
    .open = sq_open,
    .create = sq_create,
    .send = sq_send,
    .receive = sq_receive,
    .ack = sq_ack,
    .extend = sq_extend,
    .poison = sq_poison,
    .depth = sq_depth,
    .peek = sq_peek,
    .clear = sq_clear,
    .close = sq_close,
    .txn_domain = sq_txn_domain,
    .txn = sq_txn,
};
