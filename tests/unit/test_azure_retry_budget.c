/* SPDX-License-Identifier: Apache-2.0 */
/* One Azure call, retries included, ends within a quarter of the lease (--visibility). The
 * worker renews no lease while a backend call runs; before this limit an upsert during a
 * table outage retried for 3 to 6 s (four waits of 0.4, 0.8, 1.6, 3.2 s, half of each
 * random), so with --visibility 3 the leases it held ran out meanwhile and another pipeline
 * or consumer received those messages too (tests/integration/azure_faults.sh, store outage
 * with two pipelines). Over a scripted transport and a fake clock: no real waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "azure_common.h"
#include "edw/alloc.h"
#include "edw/config.h"
#include "edw/queue.h"
#include "edw/store.h"
#include "fake_azure_http.h"
#include "fake_clock.h"

extern const struct edw_queue_ops edw_azure_queue_ops;
extern const struct edw_store_ops edw_azure_table_ops;

#define CONN FAKE_AZURE_CONN

struct env {
    struct fake_clock fc;
    struct fake_azure_http fh;
    struct edw_config cfg;
    struct edw_backend_deps deps;
    void *q;
    void *t;
};

static struct env *open_env(long long visibility_s)
{
    struct env *e = edw_xcalloc(1, sizeof(*e));
    fake_clock_init(&e->fc, 1795802120000000LL);
    fake_azure_http_init(&e->fh);
    edw_config_init(&e->cfg);
    free(e->cfg.azure_connection_string);
    e->cfg.azure_connection_string = edw_xstrdup(CONN);
    e->cfg.visibility_s = visibility_s;
    e->deps = (struct edw_backend_deps){.clock = &e->fc.clock, .http = &e->fh.transport};
    struct edw_error err = {0};
    assert_int_equal(edw_azure_queue_ops.open(&e->cfg, &e->deps, &e->q, &err), EDW_OK);
    assert_int_equal(edw_azure_table_ops.open(&e->cfg, &e->deps, &e->t, &err), EDW_OK);
    return e;
}

static void close_env(struct env *e)
{
    edw_azure_queue_ops.close(e->q);
    edw_azure_table_ops.close(e->t);
    edw_config_cleanup(&e->cfg);
    fake_azure_http_cleanup(&e->fh);
    free(e);
}

static void outage(struct env *e, size_t replies)
{
    for (size_t i = 0; i < replies; i++)
        fake_azure_http_reply(&e->fh, NULL, 500, "x-ms-error-code: InternalError", NULL);
}

static enum edw_err upsert_one(struct env *e, struct edw_error *err)
{
    struct edw_row row = {"run-1", "{\"msg\":\"x\"}", "2026-11-28 01:00:00.000000",
                          "2026-11-28 01:00:01.000000", 1.0, 1};
    return edw_azure_table_ops.upsert(e->t, &row, 1, err);
}

/* The store outage of azure_faults.sh: every $batch answers 500, leases of 3 s. */
static void test_upsert_ends_within_a_quarter_lease(void **state)
{
    (void)state;
    for (int run = 0; run < 50; run++) { /* the waits are random: many draws */
        struct env *e = open_env(3);
        outage(e, 8);
        int64_t t0 = e->fc.mono_us;
        struct edw_error err = {0};
        assert_int_equal(upsert_one(e, &err), EDW_ERR_TRANSIENT); /* the worker retries */
        assert_true(e->fc.mono_us - t0 <= 750000);
        assert_true(e->fh.nsent >= 2); /* a short blip is still ridden out inside the call */
        assert_true(e->fh.nsent < 5);
        assert_string_equal(err.code, "InternalError");
        close_env(e);
    }
}

/* The same for the queue: a receive (or a renewal) stuck in retries holds every lease too. */
static void test_receive_ends_within_a_quarter_lease(void **state)
{
    (void)state;
    for (int run = 0; run < 50; run++) {
        struct env *e = open_env(4);
        outage(e, 8);
        int64_t t0 = e->fc.mono_us;
        struct edw_msg_batch batch = {0};
        struct edw_error err = {0};
        assert_int_equal(edw_azure_queue_ops.receive(e->q, 32, 4, &batch, &err),
                         EDW_ERR_TRANSIENT);
        assert_true(e->fc.mono_us - t0 <= 1000000);
        assert_true(e->fh.nsent >= 2);
        edw_msg_batch_cleanup(&batch);
        close_env(e);
    }
}

/* Long leases keep the whole retry policy (five attempts, up to 6 s of waits). */
static void test_long_lease_keeps_all_attempts(void **state)
{
    (void)state;
    for (int run = 0; run < 20; run++) {
        struct env *e = open_env(30);
        outage(e, 6);
        struct edw_error err = {0};
        assert_int_equal(upsert_one(e, &err), EDW_ERR_TRANSIENT);
        assert_int_equal(e->fh.nsent, 5);
        assert_true(e->fc.slept_us >= (400000 + 800000 + 1600000 + 3200000) / 2);
        close_env(e);
    }
}

/* A call that recovers inside its budget succeeds without the worker noticing. */
static void test_blip_inside_budget_succeeds(void **state)
{
    (void)state;
    struct env *e = open_env(3);
    fake_azure_http_reply(&e->fh, NULL, 503, "x-ms-error-code: ServerBusy", NULL);
    fake_azure_http_reply(&e->fh, NULL, 200, NULL,
                          "<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessagesList>"
                          "</QueueMessagesList>");
    struct edw_msg_batch batch = {0};
    struct edw_error err = {0};
    assert_int_equal(edw_azure_queue_ops.receive(e->q, 32, 3, &batch, &err), EDW_OK);
    assert_int_equal(e->fh.nsent, 2);
    edw_msg_batch_cleanup(&batch);
    close_env(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upsert_ends_within_a_quarter_lease),
        cmocka_unit_test(test_receive_ends_within_a_quarter_lease),
        cmocka_unit_test(test_long_lease_keeps_all_attempts),
        cmocka_unit_test(test_blip_inside_budget_succeeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
