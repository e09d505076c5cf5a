/* SPDX-License-Identifier: Apache-2.0 */
/* Lease logic and storage of the embedded backend, on a real SQLite file in a temporary
 * directory, with a fake clock so visibility timeouts pass without sleeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edw/alloc.h"
#include "edw/config.h"
#include "edw/queue.h"
#include "edw/store.h"
#include "fake_clock.h"

extern const struct edw_queue_ops edw_sqlite_queue_ops;
extern const struct edw_store_ops edw_sqlite_store_ops;

struct fixture {
    char dir[64];
    struct edw_config cfg;
    struct fake_clock clock;
    struct edw_backend_deps deps;
    struct edw_queue *q;
};

static int setup(void **state)
{
    struct fixture *f = edw_xcalloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/edw-unit-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    edw_config_init(&f->cfg);
    free(f->cfg.sqlite_path);
    f->cfg.sqlite_path = edw_xasprintf("%s/q.db", f->dir);
    fake_clock_init(&f->clock, 1795802400000000LL);
    f->deps.clock = &f->clock.clock;
    if (edw_queue_open(&edw_sqlite_queue_ops, &f->cfg, &f->deps, &f->q, NULL) != EDW_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    edw_queue_close(f->q);
    char *cmd = edw_xasprintf("rm -rf '%s'", f->dir);
    int ignored = system(cmd);
    (void)ignored;
    free(cmd);
    edw_config_cleanup(&f->cfg);
    free(f);
    return 0;
}

static void send_texts(struct edw_queue *q, size_t n)
{
    struct edw_str bodies[64];
    char texts[64][32];
    for (size_t i = 0; i < n; i++) {
        snprintf(texts[i], sizeof(texts[i]), "body-%zu", i);
        bodies[i] = (struct edw_str){texts[i], strlen(texts[i])};
    }
    assert_int_equal(edw_queue_send(q, bodies, n, NULL), EDW_OK);
}

static void lease_hides_then_redelivers(void **state)
{
    struct fixture *f = *state;
    send_texts(f->q, 3);
    struct edw_msg_batch a = {0}, b = {0}, c = {0};
    assert_int_equal(edw_queue_receive(f->q, 2, 30, &a, NULL), EDW_OK);
    assert_int_equal(a.n, 2);
    assert_string_equal(a.msgs[0].body, "body-0");
    assert_int_equal(a.msgs[0].dequeue_count, 1);
    /* leased messages are invisible: only the third is left */
    assert_int_equal(edw_queue_receive(f->q, 10, 30, &b, NULL), EDW_OK);
    assert_int_equal(b.n, 1);
    assert_string_equal(b.msgs[0].body, "body-2");
    struct edw_queue_depth d;
    assert_int_equal(edw_queue_depth(f->q, &d, NULL), EDW_OK);
    assert_int_equal(d.visible, 0);
    assert_int_equal(d.in_flight, 3);
    /* the lease runs out: delivered again, with a higher dequeue count */
    fake_clock_advance(&f->clock, 31 * 1000000LL);
    assert_int_equal(edw_queue_receive(f->q, 10, 30, &c, NULL), EDW_OK);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.msgs[0].dequeue_count, 2);
    /* the first consumer's receipts are stale now */
    struct edw_msg *stale[] = {&a.msgs[0], &a.msgs[1]};
    enum edw_err res[2];
    assert_int_equal(edw_queue_ack(f->q, stale, 2, res, NULL), EDW_OK);
    assert_int_equal(res[0], EDW_ERR_CONFLICT);
    assert_int_equal(res[1], EDW_ERR_CONFLICT);
    struct edw_msg *fresh[] = {&c.msgs[0], &c.msgs[1], &c.msgs[2]};
    enum edw_err res3[3];
    assert_int_equal(edw_queue_ack(f->q, fresh, 3, res3, NULL), EDW_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(res3[i], EDW_OK);
    assert_int_equal(edw_queue_depth(f->q, &d, NULL), EDW_OK);
    assert_int_equal(d.visible + d.in_flight, 0);
    edw_msg_batch_cleanup(&a);
    edw_msg_batch_cleanup(&b);
    edw_msg_batch_cleanup(&c);
}

static void extend_and_release(void **state)
{
    struct fixture *f = *state;
    send_texts(f->q, 2);
    struct edw_msg_batch a = {0}, b = {0};
    assert_int_equal(edw_queue_receive(f->q, 2, 10, &a, NULL), EDW_OK);
    char *old_receipt = edw_xstrdup(a.msgs[0].receipt);
    fake_clock_advance(&f->clock, 8 * 1000000LL);
    struct edw_msg *first[] = {&a.msgs[0]};
    enum edw_err res[1];
    assert_int_equal(edw_queue_extend(f->q, first, 1, 10, res, NULL), EDW_OK);
    assert_int_equal(res[0], EDW_OK);
    assert_string_not_equal(a.msgs[0].receipt, old_receipt); /* a new lease token */
    /* release the second at once */
    struct edw_msg *second[] = {&a.msgs[1]};
    assert_int_equal(edw_queue_extend(f->q, second, 1, 0, res, NULL), EDW_OK);
    fake_clock_advance(&f->clock, 5 * 1000000LL); /* 13 s: past the original 10 s lease */
    assert_int_equal(edw_queue_receive(f->q, 10, 10, &b, NULL), EDW_OK);
    assert_int_equal(b.n, 1); /* only the released one; the extended one is still leased */
    assert_string_equal(b.msgs[0].body, "body-1");
    assert_int_equal(b.msgs[0].dequeue_count, 2);
    /* the extended lease can be acked with its new receipt */
    assert_int_equal(edw_queue_ack(f->q, first, 1, res, NULL), EDW_OK);
    assert_int_equal(res[0], EDW_OK);
    free(old_receipt);
    edw_msg_batch_cleanup(&a);
    edw_msg_batch_cleanup(&b);
}

static void poison_keeps_body_and_reason(void **state)
{
    struct fixture *f = *state;
    struct edw_str body = EDW_STR_LIT("{broken");
    assert_int_equal(edw_queue_send(f->q, &body, 1, NULL), EDW_OK);
    struct edw_msg_batch a = {0}, p = {0};
    assert_int_equal(edw_queue_receive(f->q, 1, 30, &a, NULL), EDW_OK);
    assert_int_equal(edw_queue_poison(f->q, &a.msgs[0], "body is not valid JSON", NULL), EDW_OK);
    /* a second poison with the same (now deleted) lease is a conflict, not a duplicate */
    assert_int_equal(edw_queue_poison(f->q, &a.msgs[0], "again", NULL), EDW_ERR_CONFLICT);
    struct edw_queue_depth d;
    assert_int_equal(edw_queue_depth(f->q, &d, NULL), EDW_OK);
    assert_int_equal(d.visible + d.in_flight, 0);
    assert_int_equal(d.poison, 1);
    assert_int_equal(edw_queue_peek(f->q, true, 10, &p, NULL), EDW_OK);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.msgs[0].body, "{broken");
    assert_string_equal(p.msgs[0].reason, "body is not valid JSON");
    assert_int_equal(p.msgs[0].dequeue_count, 1);
    edw_msg_batch_cleanup(&a);
    edw_msg_batch_cleanup(&p);
}

static void competing_connections_never_share(void **state)
{
    struct fixture *f = *state;
    struct edw_queue *other = NULL;
    assert_int_equal(edw_queue_open(&edw_sqlite_queue_ops, &f->cfg, &f->deps, &other, NULL),
                     EDW_OK);
    send_texts(f->q, 50);
    struct edw_msg_batch a = {0}, b = {0};
    for (int round = 0; round < 5; round++) {
        assert_int_equal(edw_queue_receive(f->q, 5, 30, &a, NULL), EDW_OK);
        assert_int_equal(edw_queue_receive(other, 5, 30, &b, NULL), EDW_OK);
    }
    assert_int_equal(a.n + b.n, 50);
    for (size_t i = 0; i < a.n; i++)
        for (size_t j = 0; j < b.n; j++)
            assert_string_not_equal(a.msgs[i].id, b.msgs[j].id);
    edw_msg_batch_cleanup(&a);
    edw_msg_batch_cleanup(&b);
    edw_queue_close(other);
}

static bool count_row(void *ctx, const struct edw_row *row)
{
    (*(int *)ctx)++;
    assert_non_null(strstr(row->key, "r1-"));
    return true;
}

static bool copy_data(void *ctx, const struct edw_row *row)
{
    snprintf(ctx, 64, "%s/%u", row->data, row->dequeue_count);
    return true;
}

static void store_upsert_is_idempotent(void **state)
{
    struct fixture *f = *state;
    struct edw_store *s = NULL;
    assert_int_equal(edw_store_open(&edw_sqlite_store_ops, &f->cfg, &f->deps, &s, NULL), EDW_OK);
    struct edw_row rows[3] = {
        {"r1-1", "a", "2026-11-27 18:00:00.000000", "2026-11-27 18:00:01.000000", 1.0, 1},
        {"r1-2", "b", "2026-11-27 18:00:00.000000", "2026-11-27 18:00:01.000000", 1.0, 1},
        {"r10-1", "c", "2026-11-27 18:00:00.000000", "2026-11-27 18:00:01.000000", 1.0, 1},
    };
    assert_int_equal(edw_store_upsert(s, rows, 3, NULL), EDW_OK);
    rows[0].data = "a2";
    rows[0].dequeue_count = 2;
    assert_int_equal(edw_store_upsert(s, rows, 1, NULL), EDW_OK); /* redelivery */
    uint64_t n = 0;
    assert_int_equal(edw_store_count(s, &n, NULL), EDW_OK);
    assert_int_equal(n, 3);
    char data[64];
    assert_int_equal(edw_store_get(s, "r1-1", copy_data, data, NULL), EDW_OK);
    assert_string_equal(data, "a2/2");
    assert_int_equal(edw_store_get(s, "nope", copy_data, data, NULL), EDW_ERR_NOT_FOUND);
    int seen = 0;
    assert_int_equal(edw_store_scan(s, "r1-", count_row, &seen, NULL), EDW_OK);
    assert_int_equal(seen, 2); /* r10-1 does not share the prefix "r1-" */
    struct edw_run run = {.started_us = 5, .sent = 10}, back;
    snprintf(run.id, sizeof(run.id), "older");
    assert_int_equal(edw_store_run_save(s, &run, NULL), EDW_OK);
    snprintf(run.id, sizeof(run.id), "newer");
    run.started_us = 6;
    assert_int_equal(edw_store_run_save(s, &run, NULL), EDW_OK);
    assert_int_equal(edw_store_run_load(s, NULL, &back, NULL), EDW_OK);
    assert_string_equal(back.id, "newer");
    assert_int_equal(edw_store_run_load(s, "older", &back, NULL), EDW_OK);
    assert_int_equal(back.sent, 10);
    assert_int_equal(edw_store_run_load(s, "missing", &back, NULL), EDW_ERR_NOT_FOUND);
    edw_store_close(s);
}

static void rows_and_acks_commit_together(void **state)
{
    struct fixture *f = *state;
    struct edw_store *s = NULL;
    assert_int_equal(edw_store_open(&edw_sqlite_store_ops, &f->cfg, &f->deps, &s, NULL), EDW_OK);
    assert_non_null(edw_queue_txn_domain(f->q));
    assert_ptr_equal(edw_queue_txn_domain(f->q), edw_store_txn_domain(s));
    send_texts(f->q, 1);
    struct edw_msg_batch a = {0};
    assert_int_equal(edw_queue_receive(f->q, 1, 30, &a, NULL), EDW_OK);
    struct edw_row row = {"k1", "d", "2026-11-27 18:00:00", "2026-11-27 18:00:01", 1.0, 1};
    struct edw_msg *m[] = {&a.msgs[0]};
    enum edw_err res[1];
    uint64_t n = 0;
    struct edw_queue_depth d;

    /* rolled back: neither the row nor the ack happened */
    assert_int_equal(edw_queue_txn(f->q, EDW_TXN_BEGIN, NULL), EDW_OK);
    assert_int_equal(edw_store_upsert(s, &row, 1, NULL), EDW_OK);
    assert_int_equal(edw_queue_ack(f->q, m, 1, res, NULL), EDW_OK);
    assert_int_equal(edw_queue_txn(f->q, EDW_TXN_ROLLBACK, NULL), EDW_OK);
    assert_int_equal(edw_store_count(s, &n, NULL), EDW_OK);
    assert_int_equal(n, 0);
    assert_int_equal(edw_queue_depth(f->q, &d, NULL), EDW_OK);
    assert_int_equal(d.in_flight, 1);

    /* committed: both */
    assert_int_equal(edw_queue_txn(f->q, EDW_TXN_BEGIN, NULL), EDW_OK);
    assert_int_equal(edw_store_upsert(s, &row, 1, NULL), EDW_OK);
    assert_int_equal(edw_queue_ack(f->q, m, 1, res, NULL), EDW_OK);
    assert_int_equal(res[0], EDW_OK);
    assert_int_equal(edw_queue_txn(f->q, EDW_TXN_COMMIT, NULL), EDW_OK);
    assert_int_equal(edw_store_count(s, &n, NULL), EDW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(edw_queue_depth(f->q, &d, NULL), EDW_OK);
    assert_int_equal(d.in_flight + d.visible, 0);
    edw_msg_batch_cleanup(&a);
    edw_store_close(s);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = edw_xmalloc(1 << 16);
    *len = fread(buf, 1, 1 << 16, fp);
    fclose(fp);
    return buf;
}

static void refuses_foreign_files(void **state)
{
    struct fixture *f = *state;
    struct edw_config cfg;
    edw_config_init(&cfg);
    free(cfg.sqlite_path);
    struct edw_queue *q = NULL;
    struct edw_error err = {0};

    /* not SQLite at all */
    cfg.sqlite_path = edw_xasprintf("%s/notes.txt", f->dir);
    FILE *fp = fopen(cfg.sqlite_path, "w");
    fputs("these are somebody's notes, not a database, and they are long enough\n", fp);
    fclose(fp);
    size_t before_len, after_len;
    char *before = read_file(cfg.sqlite_path, &before_len);
    assert_int_equal(edw_queue_open(&edw_sqlite_queue_ops, &cfg, &f->deps, &q, &err),
                     EDW_ERR_INVALID);
    assert_non_null(strstr(err.message, "not an edw database"));
    char *after = read_file(cfg.sqlite_path, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    free(before);
    free(after);

    /* SQLite, but someone else's */
    free(cfg.sqlite_path);
    cfg.sqlite_path = edw_xasprintf("%s/other.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(cfg.sqlite_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE invoices(id INTEGER)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(edw_queue_open(&edw_sqlite_queue_ops, &cfg, &f->deps, &q, &err),
                     EDW_ERR_INVALID);
    assert_non_null(strstr(err.message, "did not create"));

    /* ours, but from a newer edw (closed first: a thread reuses its open connection) */
    edw_queue_close(f->q);
    f->q = NULL;
    assert_int_equal(sqlite3_open(f->cfg.sqlite_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(edw_queue_open(&edw_sqlite_queue_ops, &f->cfg, &f->deps, &q, &err),
                     EDW_ERR_INVALID);
    assert_non_null(strstr(err.message, "schema version 99"));

    /* a directory */
    free(cfg.sqlite_path);
    cfg.sqlite_path = edw_xstrdup(f->dir);
    assert_int_not_equal(edw_queue_open(&edw_sqlite_queue_ops, &cfg, &f->deps, &q, &err), EDW_OK);
    assert_null(q);
    edw_config_cleanup(&cfg);
}

/* A file written by edw with schema version 1 (AUTOINCREMENT ids) is upgraded in place: the
 * waiting message survives and can be leased and acked, and new ids continue after the
 * largest ever handed out, even one whose message is gone (ids are result keys). */
static void upgrades_schema_1(void **state)
{
    struct fixture *f = *state;
    edw_queue_close(f->q);
    f->q = NULL;
    char *path = edw_xasprintf("%s/v1.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    const char *v1 =
        "CREATE TABLE edw_queue (id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL,"
        " body BLOB NOT NULL, enqueued_us INTEGER NOT NULL, visible_at_us INTEGER NOT NULL,"
        " leased_until_us INTEGER NOT NULL DEFAULT 0, dequeue_count INTEGER NOT NULL DEFAULT 0,"
        " lease INTEGER NOT NULL DEFAULT 0);"
        "CREATE INDEX edw_queue_ready ON edw_queue(queue, visible_at_us);"
        "CREATE TABLE edw_poison (id INTEGER PRIMARY KEY, queue TEXT NOT NULL,"
        " message_id TEXT NOT NULL, body BLOB NOT NULL, reason TEXT NOT NULL,"
        " dequeue_count INTEGER NOT NULL, enqueued_us INTEGER NOT NULL,"
        " poisoned_us INTEGER NOT NULL);"
        "CREATE INDEX edw_poison_queue ON edw_poison(queue, id);"
        "CREATE TABLE edw_results (tbl TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL,"
        " src_stamp TEXT NOT NULL, dest_stamp TEXT NOT NULL, processing_s REAL NOT NULL,"
        " dequeue_count INTEGER NOT NULL, PRIMARY KEY (tbl, key)) WITHOUT ROWID;"
        "CREATE TABLE edw_runs (tbl TEXT NOT NULL, id TEXT NOT NULL,"
        " started_us INTEGER NOT NULL, finished_us INTEGER NOT NULL, sent INTEGER NOT NULL,"
        " PRIMARY KEY (tbl, id));"
        "INSERT INTO edw_queue(queue, body, enqueued_us, visible_at_us)"
        " VALUES ('edw-messages', 'old-7', 1, 1);"
        "INSERT INTO edw_queue(queue, body, enqueued_us, visible_at_us)"
        " VALUES ('edw-messages', 'gone', 1, 1);"
        "DELETE FROM edw_queue WHERE body = 'gone';"
        "UPDATE edw_queue SET id = 7 WHERE body = 'old-7';"
        "UPDATE sqlite_sequence SET seq = 41 WHERE name = 'edw_queue';"
        "PRAGMA application_id = 1162106657; PRAGMA user_version = 1;";
    assert_int_equal(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    struct edw_config cfg;
    edw_config_init(&cfg);
    free(cfg.sqlite_path);
    cfg.sqlite_path = path;
    struct edw_queue *q = NULL;
    struct edw_error err = {0};
    assert_int_equal(edw_queue_open(&edw_sqlite_queue_ops, &cfg, &f->deps, &q, &err), EDW_OK);
    send_texts(q, 1);
    struct edw_msg_batch b = {0};
    assert_int_equal(edw_queue_receive(q, 10, 30, &b, NULL), EDW_OK);
    assert_int_equal(b.n, 2);
    assert_string_equal(b.msgs[0].id, "7");
    assert_string_equal(b.msgs[0].body, "old-7");
    assert_string_equal(b.msgs[1].id, "42");
    struct edw_msg *msgs[2] = {&b.msgs[0], &b.msgs[1]};
    enum edw_err results[2];
    assert_int_equal(edw_queue_ack(q, msgs, 2, results, NULL), EDW_OK);
    assert_int_equal(results[0], EDW_OK);
    assert_int_equal(results[1], EDW_OK);
    edw_msg_batch_cleanup(&b);
    edw_queue_close(q);

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 2);
    sqlite3_finalize(st);
    sqlite3_close(db);
    edw_config_cleanup(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(lease_hides_then_redelivers, setup, teardown),
        cmocka_unit_test_setup_teardown(extend_and_release, setup, teardown),
        cmocka_unit_test_setup_teardown(poison_keeps_body_and_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(competing_connections_never_share, setup, teardown),
        cmocka_unit_test_setup_teardown(store_upsert_is_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(rows_and_acks_commit_together, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_foreign_files, setup, teardown),
        cmocka_unit_test_setup_teardown(upgrades_schema_1, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
