/* SPDX-License-Identifier: Apache-2.0 */
/* The shutdown deadline (edw/shutdown.h) and the Azure client's use of it: after SIGTERM no
 * backend call may retry or wait past the grace, however unreachable the service is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edw/alloc.h"
#include "edw/config.h"
#include "edw/queue.h"
#include "edw/shutdown.h"
#include "fake_azure_http.h"
#include "fake_clock.h"

extern const struct edw_queue_ops edw_azure_queue_ops;

#define CONN FAKE_AZURE_CONN

static int reset(void **state)
{
    (void)state;
    edw_shutdown_reset();
    return 0;
}

static void no_deadline_changes_nothing(void **state)
{
    (void)state;
    assert_int_equal(edw_shutdown_deadline_us(), 0);
    assert_true(edw_shutdown_may_retry(1000, INT64_C(3600000000)));
    assert_int_equal(edw_shutdown_timeout_ms(1000, 0, 30000), 0);
    assert_int_equal(edw_shutdown_timeout_ms(1000, 45000, 30000), 45000);
}

static void earliest_deadline_stands(void **state)
{
    (void)state;
    edw_shutdown_set_deadline(50000000);
    edw_shutdown_set_deadline(60000000); /* a later pipeline's own grace */
    assert_int_equal(edw_shutdown_deadline_us(), 50000000);
    edw_shutdown_set_deadline(40000000);
    assert_int_equal(edw_shutdown_deadline_us(), 40000000);
}

static void retries_and_timeouts_fit_the_deadline(void **state)
{
    (void)state;
    edw_shutdown_set_deadline(10000000); /* 10 s */
    assert_true(edw_shutdown_may_retry(5000000, 4000000));
    assert_false(edw_shutdown_may_retry(5000000, 5000000)); /* would start at the deadline */
    assert_false(edw_shutdown_may_retry(11000000, 0));      /* past it: no retry at all */
    /* 5 s left: a request may take 5 s, not the transport's 30 s; one of its own 2 s stays. */
    assert_int_equal(edw_shutdown_timeout_ms(5000000, 0, 30000), 5000);
    assert_int_equal(edw_shutdown_timeout_ms(5000000, 2000, 30000), 2000);
    /* At or past the deadline a request still gets the short floor (one try to hand back). */
    assert_int_equal(edw_shutdown_timeout_ms(9900000, 0, 30000), EDW_SHUTDOWN_MIN_REQUEST_MS);
    assert_int_equal(edw_shutdown_timeout_ms(20000000, 0, 30000), EDW_SHUTDOWN_MIN_REQUEST_MS);
}

struct azure_env {
    struct fake_clock fc;
    struct fake_azure_http fh;
    struct edw_config cfg;
    struct edw_backend_deps deps;
    void *q;
    long timeouts[16]; /* timeout_ms of each request, as the transport saw it */
    size_t ntimeouts;
};

/* Every request fails as against a killed service (connection refused); records its timeout. */
static void refuse(void *ctx, const struct edw_http_request *req, struct edw_http_response *resp)
{
    struct azure_env *e = ctx;
    if (e->ntimeouts < sizeof(e->timeouts) / sizeof(e->timeouts[0]))
        e->timeouts[e->ntimeouts++] = req->timeout_ms;
    resp->status = 0;
    resp->transport_err = EDW_ERR_TRANSIENT;
    snprintf(resp->error, sizeof(resp->error), "Couldn't connect to server");
}

static int azure_setup(void **state)
{
    edw_shutdown_reset();
    struct azure_env *e = edw_xcalloc(1, sizeof(*e));
    fake_clock_init(&e->fc, 1795802120000000LL);
    fake_azure_http_init(&e->fh);
    e->fh.handler = refuse;
    e->fh.handler_ctx = e;
    edw_config_init(&e->cfg);
    e->cfg.azure_connection_string = edw_xstrdup(CONN);
    e->deps = (struct edw_backend_deps){.clock = &e->fc.clock, .http = &e->fh.transport};
    assert_int_equal(edw_azure_queue_ops.open(&e->cfg, &e->deps, &e->q, NULL), EDW_OK);
    *state = e;
    return 0;
}

static int azure_teardown(void **state)
{
    struct azure_env *e = *state;
    edw_azure_queue_ops.close(e->q);
    edw_config_cleanup(&e->cfg);
    fake_azure_http_cleanup(&e->fh);
    free(e);
    edw_shutdown_reset();
    return 0;
}

static enum edw_err send_one(struct azure_env *e, struct edw_error *err)
{
    struct edw_str body = {"{\"msg\":\"x\"}", 11};
    return edw_azure_queue_ops.send(e->q, &body, 1, err);
}

/* Outside a shutdown a refused connection is retried the full five times (about 3-6 s of
 * backoff) with the transport's own timeout: the deadline changes nothing then. */
static void azure_retries_fully_without_shutdown(void **state)
{
    struct azure_env *e = *state;
    struct edw_error err = {0};
    assert_int_equal(send_one(e, &err), EDW_ERR_TRANSIENT);
    assert_int_equal(e->fh.nsent, 5);
    assert_true(e->fc.slept_us >= (400000 + 800000 + 1600000 + 3200000) / 2);
    for (size_t i = 0; i < e->ntimeouts; i++)
        assert_int_equal(e->timeouts[i], 0);
}

/* During a shutdown with 1.5 s left: retries only while they start before the deadline, each
 * request capped to the time left, and the call fails with the service's error in time. */
static void azure_stops_retrying_at_the_deadline(void **state)
{
    struct azure_env *e = *state;
    int64_t t0 = edw_clock_mono_us(&e->fc.clock);
    edw_shutdown_set_deadline(t0 + 1500000);
    struct edw_error err = {0};
    assert_int_equal(send_one(e, &err), EDW_ERR_TRANSIENT);
    assert_in_range(e->fh.nsent, 1, 4);
    assert_true(edw_clock_mono_us(&e->fc.clock) - t0 < 1500000); /* never slept past it */
    assert_non_null(strstr(err.message, "Couldn't connect to server"));
    assert_true(e->timeouts[0] > 0 && e->timeouts[0] <= 1500);
}

/* Past the deadline (the grace is over, the worker hands back its leases): one try each,
 * no sleep, a short timeout. */
static void azure_one_try_after_the_deadline(void **state)
{
    struct azure_env *e = *state;
    edw_shutdown_set_deadline(edw_clock_mono_us(&e->fc.clock) - 1);
    struct edw_error err = {0};
    assert_int_equal(send_one(e, &err), EDW_ERR_TRANSIENT);
    assert_int_equal(e->fh.nsent, 1);
    assert_int_equal(e->fc.slept_us, 0);
    assert_int_equal(e->timeouts[0], EDW_SHUTDOWN_MIN_REQUEST_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(no_deadline_changes_nothing, reset, reset),
        cmocka_unit_test_setup_teardown(earliest_deadline_stands, reset, reset),
        cmocka_unit_test_setup_teardown(retries_and_timeouts_fit_the_deadline, reset, reset),
        cmocka_unit_test_setup_teardown(azure_retries_fully_without_shutdown, azure_setup,
                                        azure_teardown),
        cmocka_unit_test_setup_teardown(azure_stops_retrying_at_the_deadline, azure_setup,
                                        azure_teardown),
        cmocka_unit_test_setup_teardown(azure_one_try_after_the_deadline, azure_setup,
                                        azure_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
