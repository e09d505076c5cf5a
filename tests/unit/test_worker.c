/* SPDX-License-Identifier: Apache-2.0 */
/* The consumer pipeline against the in-memory fake queue and store and a fake clock: the
 * ordering guarantees (row before ack), poison decisions, retries, lease renewal and
 * shutdown, without a database and without sleeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "edw/alloc.h"
#include "edw/buf.h"
#include "edw/config.h"
#include "edw/handler.h"
#include "edw/payload.h"
#include "edw/worker.h"
#include "fake_clock.h"
#include "fake_queue.h"
#include "worker_fixture.h"

static void run_worker(struct worker_fixture *f)
{
    assert_int_equal(edw_worker_run(&f->wdeps, &f->opts, &f->stats, NULL), EDW_OK);
}

static void stores_then_acks_everything(void **state)
{
    struct worker_fixture *f = *state;
    for (unsigned i = 1; i <= 20; i++)
        worker_fixture_put_good(f, "r", i);
    run_worker(f);
    assert_int_equal(f->stats.processed, 20);
    assert_int_equal(g_fake_store->n, 20);
    assert_int_equal(fake_queue_live(g_fake_queue), 0);
    const struct fake_row *r = fake_store_find(g_fake_store, "r-7");
    assert_non_null(r);
    assert_string_equal(r->data, "Scale Test Message : COUNT 7");
    assert_int_equal(r->dequeue_count, 1);
    assert_int_equal(r->writes, 1);
    /* 20 messages at batch 8: rows and acks written in batches, not one by one */
    assert_in_range(g_fake_store->upserts, 3, 4);
    assert_true(f->clock.slept_us >= 5000000); /* idled until exit_when_idle */
}

static void malformed_goes_to_poison(void **state)
{
    struct worker_fixture *f = *state;
    worker_fixture_put_good(f, "r", 1);
    fake_queue_put(g_fake_queue, "not json at all");
    fake_queue_put(g_fake_queue, "{\"msg\": 1, \"srcStamp\": \"2026-11-27 18:00:00\"}");
    worker_fixture_put_good(f, "r", 2);
    run_worker(f);
    assert_int_equal(f->stats.processed, 2);
    assert_int_equal(f->stats.poisoned, 2);
    assert_int_equal(fake_queue_poisoned(g_fake_queue), 2);
    assert_non_null(strstr(g_fake_queue->msgs[1].poison_reason, "not valid JSON"));
    assert_non_null(strstr(g_fake_queue->msgs[2].poison_reason, "'msg' is not a string"));
    assert_int_equal(g_fake_queue->msgs[1].dequeue_count, 1); /* never retried */
    assert_int_equal(fake_queue_live(g_fake_queue), 0);
}

static void too_many_deliveries_poisoned_unrun(void **state)
{
    struct worker_fixture *f = *state;
    worker_fixture_put_good(f, "r", 1);
    g_fake_queue->msgs[0].dequeue_count = 3; /* a consumer died on it three times */
    run_worker(f);
    assert_int_equal(f->stats.poisoned, 1);
    assert_int_equal(g_fake_store->n, 0);
    assert_non_null(strstr(g_fake_queue->msgs[0].poison_reason, "delivered 4 times"));
}

static void failing_handler_retries_then_poisons(void **state)
{
    struct worker_fixture *f = *state;
    f->wdeps.handler = &worker_fixture_failing;
    worker_fixture_put_good(f, "r", 1);
    run_worker(f);
    assert_int_equal(f->stats.failed, 3);
    assert_int_equal(f->stats.poisoned, 1);
    assert_int_equal(g_fake_queue->msgs[0].dequeue_count, 3);
    assert_non_null(strstr(g_fake_queue->msgs[0].poison_reason,
                           "handler failed 3 times; last error: downstream said no"));
    /* retries waited 2 s then 4 s (retry_delay doubling) before coming back */
    assert_true(f->clock.slept_us >= 6000000);
}

static void store_outage_delays_ack(void **state)
{
    struct worker_fixture *f = *state;
    for (unsigned i = 1; i <= 5; i++)
        worker_fixture_put_good(f, "r", i);
    g_fake_store->fail_err = EDW_ERR_TRANSIENT;
    g_fake_store->fail_upsert = 3;
    g_fake_queue->fail_err = EDW_ERR_TRANSIENT;
    g_fake_queue->fail_ack = 2;
    run_worker(f);
    assert_int_equal(f->stats.processed, 5);
    assert_int_equal(f->stats.backend_errors, 5);
    assert_int_equal(g_fake_store->n, 5);
    for (size_t i = 0; i < g_fake_store->n; i++)
        assert_int_equal(g_fake_store->rows[i].writes, 1); /* an ack retry does not rewrite */
    assert_int_equal(fake_queue_live(g_fake_queue), 0);
    assert_int_equal(f->stats.poisoned, 0);
}

/* A store that keeps failing while the queue answers fine: the write backoff still doubles
 * (50 ms, 100 ms, ... 1.6 s: at least 3.15 s for six failures) instead of being reset by every
 * successful receive and retried every 50 ms. */
static void store_backoff_grows_while_queue_answers(void **state)
{
    struct worker_fixture *f = *state;
    f->opts.batch = 1;
    worker_fixture_put_good(f, "r", 1);
    int64_t t0 = edw_clock_wall_us(&f->clock.clock);
    g_fake_store->fail_err = EDW_ERR_TRANSIENT;
    g_fake_store->fail_upsert = 6;
    run_worker(f);
    assert_int_equal(f->stats.processed, 1);
    assert_int_equal(g_fake_store->upserts, 7);
    assert_true(g_fake_queue->receives > 7); /* the queue was polled meanwhile */
    assert_true(g_fake_queue->msgs[0].acked_at_us - t0 >= 3150000);
}

/* The worker's log of a run that must succeed (caller frees). */
static char *run_worker_logged(struct worker_fixture *f)
{
    enum edw_err rc = EDW_ERR_INVALID;
    char *log = worker_fixture_run_logged(f, &rc);
    assert_non_null(log);
    assert_int_equal(rc, EDW_OK);
    return log;
}

/* A failed row write or ack is logged with the backend's own words (code, status, message),
 * not only its category: an operator must see why. */
static void write_failures_are_logged_with_their_cause(void **state)
{
    struct worker_fixture *f = *state;
    worker_fixture_put_good(f, "r", 1);
    g_fake_store->fail_err = EDW_ERR_TRANSIENT;
    g_fake_store->fail_upsert = 1;
    g_fake_queue->fail_err = EDW_ERR_TRANSIENT;
    g_fake_queue->fail_ack = 1;
    char *log = run_worker_logged(f);
    assert_int_equal(f->stats.processed, 1);
    assert_non_null(strstr(log, "store upsert failed: scripted upsert failure"));
    assert_non_null(strstr(log, "queue ack failed: scripted ack failure"));
    free(log);
}

/* One row the store can never take fails its whole (atomic) batch with a non-retryable error.
 * The worker writes the rows one by one: the good ones are stored, the bad message is
 * poisoned with the store's reason after one delivery, and nothing loops. */
static void refused_row_poisoned_others_stored(void **state)
{
    struct worker_fixture *f = *state;
    worker_fixture_put_good(f, "r", 1);
    worker_fixture_put_good(f, "r", 2);
    worker_fixture_put_good(f, "bad", 3);
    worker_fixture_put_good(f, "r", 4);
    worker_fixture_put_good(f, "r", 5);
    g_fake_store->reject_key = "bad";
    run_worker(f);
    assert_int_equal(f->stats.processed, 4);
    assert_int_equal(f->stats.poisoned, 1);
    assert_int_equal(g_fake_store->n, 4);
    assert_null(fake_store_find(g_fake_store, "bad-3"));
    assert_int_equal(fake_queue_poisoned(g_fake_queue), 1);
    assert_int_equal(fake_queue_live(g_fake_queue), 0);
    const struct fake_msg *m = &g_fake_queue->msgs[2];
    assert_non_null(m->poison_reason);
    assert_non_null(strstr(m->poison_reason, "the store refused the row for key 'bad-3': "
                                             "scripted: operation 0 refused (InvalidKey)"));
    assert_int_equal(m->dequeue_count, 1);
    assert_true(g_fake_store->upserts <= 6); /* the batch, then 5 rows: no retry loop */
    for (size_t i = 0; i < g_fake_store->n; i++)
        assert_int_equal(g_fake_store->rows[i].writes, 1);
}

/* The store refuses the only row it was ever offered: that could be a misconfigured table
 * rather than a bad row, so the message is not poisoned at once but released to come back
 * later, and poisoned after max-dequeue (3) deliveries with the store's reason. */
static void refused_row_before_any_success_retried_then_poisoned(void **state)
{
    struct worker_fixture *f = *state;
    worker_fixture_put_good(f, "bad", 1);
    g_fake_store->reject_key = "bad";
    run_worker(f);
    assert_int_equal(f->stats.processed, 0);
    assert_int_equal(f->stats.poisoned, 1);
    assert_int_equal(g_fake_queue->msgs[0].dequeue_count, 3);
    assert_non_null(strstr(g_fake_queue->msgs[0].poison_reason, "the store refused the row"));
    assert_int_equal(fake_queue_live(g_fake_queue), 0);
}

/* A non-retryable failure that is not the row's fault (credentials) poisons nothing: after
 * the one-by-one attempt fails the same way, the worker backs off and stores everything. */
static void non_row_failure_poisons_nothing(void **state)
{
    struct worker_fixture *f = *state;
    for (unsigned i = 1; i <= 4; i++)
        worker_fixture_put_good(f, "r", i);
    g_fake_store->fail_err = EDW_ERR_AUTH;
    g_fake_store->fail_upsert = 4;
    run_worker(f);
    assert_int_equal(f->stats.poisoned, 0);
    assert_int_equal(f->stats.processed, 4);
    assert_int_equal(g_fake_store->n, 4);
    assert_int_equal(fake_queue_poisoned(g_fake_queue), 0);
}

static void duplicate_delivery_overwrites_row(void **state)
{
    struct worker_fixture *f = *state;
    worker_fixture_put_good(f, "r", 1);
    worker_fixture_put_good(f, "r", 1); /* the producer retried a send */
    run_worker(f);
    assert_int_equal(g_fake_store->n, 1);
    assert_int_equal(fake_store_find(g_fake_store, "r-1")->writes, 2);
}

static struct fake_clock *s_clock;

/* Inline handler that takes 25 s of (fake) time: the lease must be renewed. */
static void slow_run(const struct edw_handler *h, const struct edw_payload *p, const char *body,
                     size_t len, const atomic_bool *cancel, struct edw_handler_result *out)
{
    (void)h;
    (void)p;
    (void)body;
    (void)len;
    (void)cancel;
    fake_clock_advance(s_clock, 25 * 1000000LL);
    out->ok = true;
}

/* A message held for a long time while its lease must be renewed in time: one message, batch
 * 1, the store failing `fail_upsert` times so the worker keeps the message after its work. */
struct lease_case {
    bool slow_handler;          /* the handler takes 25 s (slow_run) */
    unsigned visibility_s;      /* 0: the fixture's 30 s */
    int64_t receive_delay_us;   /* a slow receive (fake_queue.receive_delay_us) */
    bool delay_every_receive;   /* empty receives are slow too */
    bool strict_leases;         /* a lease that ran out is lost */
    unsigned fail_upsert;
    uint64_t min_extended;
};

static void run_lease_case(struct worker_fixture *f, const struct lease_case *c)
{
    struct edw_handler slow = {.name = "slow", .run = slow_run};
    s_clock = &f->clock;
    if (c->slow_handler)
        f->wdeps.handler = &slow;
    f->opts.batch = 1;
    if (c->visibility_s)
        f->opts.visibility_s = c->visibility_s;
    if (c->receive_delay_us) {
        g_fake_queue->slow_clock = &f->clock;
        g_fake_queue->receive_delay_us = c->receive_delay_us;
    }
    g_fake_queue->delay_every_receive = c->delay_every_receive;
    g_fake_queue->strict_leases = c->strict_leases;
    g_fake_store->fail_err = EDW_ERR_TRANSIENT;
    g_fake_store->fail_upsert = c->fail_upsert;
    worker_fixture_put_good(f, "r", 1);
    run_worker(f);
    assert_int_equal(f->stats.lost_leases, 0);
    assert_true(f->stats.extended >= c->min_extended);
    assert_int_equal(f->stats.processed, 1);
    assert_int_equal(f->stats.received, 1);
    assert_int_equal(g_fake_queue->msgs[0].dequeue_count, 1); /* never redelivered */
    assert_true(g_fake_queue->msgs[0].deleted);
}

/* A handler working 25 s under a 30 s lease: the lease must be renewed. */
static void long_work_renews_lease(void **state)
{
    run_lease_case(*state, &(struct lease_case){
                               .slow_handler = true, .fail_upsert = 1, .min_extended = 1});
}

/* The answer to a receive arrives 15 s after the service started the 30 s lease. Counted
 * from the answer, the lease would first be renewed 35 s in, after it had run out (lost to
 * another consumer); counted from the request, it is renewed in time, again and again while
 * the store is down (14 failures hold the message for at least 28 s more). */
static void slow_receive_lease_counted_from_request(void **state)
{
    run_lease_case(*state, &(struct lease_case){.receive_delay_us = 15 * 1000000LL,
                                                .strict_leases = true,
                                                .fail_upsert = 14,
                                                .min_extended = 2});
}

/* Every receive takes 1 s to answer (a slow link, empty answers included) under a 2 s
 * visibility timeout, and the store fails a few times so the message is held for seconds.
 * Renewing only when less than a third of the timeout is left (0.67 s) would be too late: the
 * check comes once per loop turn, and a turn blocked in a 1 s receive outlasts what is left.
 * Renewal must look ahead by the longest recent turn. */
static void renewal_not_blocked_behind_slow_receive(void **state)
{
    run_lease_case(*state, &(struct lease_case){.visibility_s = 2,
                                                .receive_delay_us = 1000000,
                                                .delay_every_receive = true,
                                                .strict_leases = true,
                                                .fail_upsert = 6,
                                                .min_extended = 2});
}

/* Blocking handler that holds its thread until the test lets go. */
static atomic_bool s_let_go;

static void held_run(const struct edw_handler *h, const struct edw_payload *p, const char *body,
                     size_t len, const atomic_bool *cancel, struct edw_handler_result *out)
{
    (void)h;
    (void)p;
    (void)body;
    (void)len;
    while (!atomic_load(&s_let_go) && !atomic_load(cancel)) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    out->ok = !atomic_load(cancel);
}

static int s_stop_calls;

static bool stop_after_first(void *ctx)
{
    (void)ctx;
    if (++s_stop_calls < 2)
        return false;
    atomic_store(&s_let_go, true);
    return true;
}

/* Four messages, one handler thread holding its message until let go (or cancelled); the
 * worker is asked to stop by `should_stop` with a grace of `grace_us`. Afterwards: how many
 * leases were released (with visibility 0, so all of them visible again at once). */
static void run_held_until_stop(struct worker_fixture *f, bool (*should_stop)(void *),
                                int64_t grace_us, unsigned released)
{
    static const struct edw_handler held = {.name = "held", .blocking = true, .run = held_run};
    atomic_store(&s_let_go, false);
    s_stop_calls = 0;
    f->wdeps.handler = &held;
    f->wdeps.should_stop = should_stop;
    f->opts.concurrency = 1;
    f->opts.batch = 4;
    f->opts.shutdown_grace_us = grace_us;
    for (unsigned i = 1; i <= 4; i++)
        worker_fixture_put_good(f, "r", i);
    run_worker(f);
    assert_int_equal(f->stats.released, released);
    assert_int_equal(g_fake_queue->extend_zero, released); /* handed back with visibility 0 */
    struct edw_queue_depth d;
    assert_int_equal(edw_queue_depth(f->q, &d, NULL), EDW_OK);
    assert_int_equal(d.visible, released); /* visible again at once */
}

static void stop_releases_unstarted_leases(void **state)
{
    struct worker_fixture *f = *state;
    run_held_until_stop(f, stop_after_first, f->opts.shutdown_grace_us, 3);
    assert_int_equal(f->stats.processed, 1); /* the started one was finished */
    assert_int_equal(g_fake_store->n, 1);
}

static bool stop_on_second_call(void *ctx)
{
    (void)ctx;
    return ++s_stop_calls >= 2;
}

/* The grace ends (here at once) while a handler still runs: it is cancelled and its lease
 * handed back with visibility 0, and counted as released like the unstarted ones. */
static void grace_over_cancels_and_releases(void **state)
{
    struct worker_fixture *f = *state;
    run_held_until_stop(f, stop_on_second_call, 0, 4);
    assert_int_equal(f->stats.processed, 0);
    assert_int_equal(f->stats.failed, 0); /* a cancel is not the message's failure */
    assert_int_equal(g_fake_store->n, 0);
}

/* Queue and store in one database (SQLite): flush_and_receive writes the finished batch's
 * rows, acks it and claims the next batch in one transaction. When that COMMIT fails, nothing
 * of it happened: no row of the first batch is kept, its messages are not acked (they come
 * back when their lease ends and are stored then), and the second batch was never leased (its
 * messages are delivered once, later). Nothing is lost, no row is written twice. */
static void failed_combined_commit_undoes_rows_acks_and_claim(void **state)
{
    struct worker_fixture *f = *state;
    fake_txn_share(g_fake_queue, g_fake_store);
    g_fake_queue->fail_err = EDW_ERR_TRANSIENT;
    g_fake_queue->fail_commit = 1;
    f->opts.batch = 4;
    f->opts.visibility_s = 2; /* the unacked first batch comes back soon */
    for (unsigned i = 1; i <= 8; i++)
        worker_fixture_put_good(f, "r", i);
    char *log = run_worker_logged(f);
    /* The commit that failed carried rows + acks of 1-4 and the claim of 5-8. */
    assert_int_equal(g_fake_queue->failed_commits, 1);
    assert_true(g_fake_queue->commits >= 2);
    assert_null(g_fake_queue->snapshot); /* no transaction left open */
    assert_non_null(strstr(log, "scripted commit failure"));
    free(log);
    /* Everything stored exactly once, every message acked, nothing poisoned. */
    assert_int_equal(g_fake_store->n, 8);
    for (unsigned i = 1; i <= 8; i++) {
        char key[16];
        snprintf(key, sizeof(key), "r-%u", i);
        const struct fake_row *r = fake_store_find(g_fake_store, key);
        assert_non_null(r);
        assert_int_equal(r->writes, 1); /* the rolled-back write is not there to count */
    }
    assert_int_equal(fake_queue_live(g_fake_queue), 0);
    assert_int_equal(fake_queue_poisoned(g_fake_queue), 0);
    assert_int_equal(f->stats.poisoned, 0);
    for (size_t i = 0; i < 4; i++) { /* not acked by the failed commit: delivered again */
        char key[16];
        snprintf(key, sizeof(key), "r-%zu", i + 1);
        assert_true(g_fake_queue->msgs[i].deleted);
        assert_int_equal(g_fake_queue->msgs[i].dequeue_count, 2);
        assert_int_equal(fake_store_find(g_fake_store, key)->dequeue_count, 2);
    }
    for (size_t i = 4; i < 8; i++) { /* the claim was undone: delivered once, after it */
        assert_true(g_fake_queue->msgs[i].deleted);
        assert_int_equal(g_fake_queue->msgs[i].dequeue_count, 1);
    }
    assert_int_equal(f->stats.received, 12); /* 1-4 twice, 5-8 once */
    /* Counted once each: the acks of the batch whose commit failed never happened. */
    assert_int_equal(f->stats.processed, 8);
    assert_true(f->stats.backend_errors >= 1);
}

static void fatal_receive_ends_run(void **state)
{
    struct worker_fixture *f = *state;
    g_fake_queue->fail_err = EDW_ERR_AUTH;
    g_fake_queue->fail_receive = 1;
    struct edw_error err = {0};
    assert_int_equal(edw_worker_run(&f->wdeps, &f->opts, &f->stats, &err), EDW_ERR_AUTH);
    assert_non_null(strstr(err.message, "scripted receive failure"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(stores_then_acks_everything, worker_fixture_setup,
                                        worker_fixture_teardown),
        cmocka_unit_test_setup_teardown(malformed_goes_to_poison, worker_fixture_setup,
                                        worker_fixture_teardown),
        cmocka_unit_test_setup_teardown(too_many_deliveries_poisoned_unrun, worker_fixture_setup,
                                        worker_fixture_teardown),
        cmocka_unit_test_setup_teardown(failing_handler_retries_then_poisons, worker_fixture_setup,
                                        worker_fixture_teardown),
        cmocka_unit_test_setup_teardown(store_outage_delays_ack, worker_fixture_setup,
                                        worker_fixture_teardown),
        cmocka_unit_test_setup_teardown(store_backoff_grows_while_queue_answers,
                                        worker_fixture_setup, worker_fixture_teardown),
        cmocka_unit_test_setup_teardown(write_failures_are_logged_with_their_cause,
                                        worker_fixture_setup, worker_fixture_teardown),
        cmocka_unit_test_setup_teardown(refused_row_poisoned_others_stored, worker_fixture_setup,
                                        worker_fixture_teardown),
        cmocka_unit_test_setup_teardown(refused_row_before_any_success_retried_then_poisoned,
                                        worker_fixture_setup, worker_fixture_teardown),
        cmocka_unit_test_setup_teardown(non_row_failure_poisons_nothing, worker_fixture_setup,
                                        worker_fixture_teardown),
        cmocka_unit_test_setup_teardown(duplicate_delivery_overwrites_row, worker_fixture_setup,
                                        worker_fixture_teardown),
        cmocka_unit_test_setup_teardown(long_work_renews_lease, worker_fixture_setup,
                                        worker_fixture_teardown),
        cmocka_unit_test_setup_teardown(slow_receive_lease_counted_from_request,
                                        worker_fixture_setup, worker_fixture_teardown),
        cmocka_unit_test_setup_teardown(renewal_not_blocked_behind_slow_receive,
                                        worker_fixture_setup, worker_fixture_teardown),
        cmocka_unit_test_setup_teardown(stop_releases_unstarted_leases, worker_fixture_setup,
                                        worker_fixture_teardown),
        cmocka_unit_test_setup_teardown(grace_over_cancels_and_releases, worker_fixture_setup,
                                        worker_fixture_teardown),
        cmocka_unit_test_setup_teardown(failed_combined_commit_undoes_rows_acks_and_claim,
                                        worker_fixture_setup, worker_fixture_teardown),
        cmocka_unit_test_setup_teardown(fatal_receive_ends_run, worker_fixture_setup,
                                        worker_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
