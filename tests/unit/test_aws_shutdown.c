/* SPDX-License-Identifier: Apache-2.0 */
/* The AWS client and the shutdown deadline (edw/shutdown.h), as test_shutdown.c checks it
 * for Azure: after SIGTERM no AWS call may retry or wait past the grace, however unreachable
 * SQS or DynamoDB is, and no request (a long poll included) may outlast it. Before the
 * deadline was honoured here a SIGTERM'd consumer with an unreachable service kept every call
 * in its retries (up to 2 s per Retry-After wait, four of them) and each request for its
 * whole timeout. Over the scripted transport and a fake clock: no real waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "aws_common.h"
#include "aws_fixture.h"
#include "edw/shutdown.h"

struct env {
    struct aws_fixture f;
    struct edw_aws_client c;
};

/* Every request fails as against a killed service (connection refused). */
static void refuse(void *ctx, const struct fake_http_call *c, struct edw_http_response *resp)
{
    (void)ctx;
    (void)c;
    resp->status = 0;
    resp->transport_err = EDW_ERR_TRANSIENT;
    snprintf(resp->error, sizeof(resp->error), "Couldn't connect to server");
}

/* Every request is answered 503 with Retry-After: 1 (a service shedding load, or the fault
 * proxy refusing): waits of exactly 1 s, so the counts below are exact. */
static void busy(void *ctx, const struct fake_http_call *c, struct edw_http_response *resp)
{
    (void)ctx;
    (void)c;
    fixture_reply_error(resp, 503, "ServiceUnavailable", "busy");
    edw_http_headers_add(&resp->headers, "Retry-After", "1");
}

static int setup(void **state)
{
    edw_shutdown_reset();
    struct env *e = edw_xcalloc(1, sizeof(*e));
    fixture_init(&e->f);
    struct edw_error err = {0};
    assert_int_equal(edw_aws_client_init(&e->c, &e->f.cfg, &e->f.deps, "sqs", &err), EDW_OK);
    fake_http_set_handler(&e->f.http, refuse, e);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    edw_aws_client_cleanup(&e->c);
    fixture_cleanup(&e->f);
    free(e);
    edw_shutdown_reset();
    return 0;
}

static enum edw_err send_one(struct env *e, long timeout_ms, struct edw_error *err)
{
    return edw_aws_call_one(&e->c, "SendMessage", json_object(), timeout_ms, NULL, err);
}

/* Outside a shutdown a refused connection is retried the full five times with the
 * transport's own timeout, and a busy service is waited for: the deadline changes nothing. */
static void retries_fully_without_shutdown(void **state)
{
    struct env *e = *state;
    struct edw_error err = {0};
    assert_int_equal(send_one(e, 0, &err), EDW_ERR_TRANSIENT);
    assert_int_equal(e->f.http.ncalls, 5);
    for (size_t i = 0; i < e->f.http.ncalls; i++)
        assert_int_equal(e->f.http.calls[i].timeout_ms, 0);
    fake_http_set_handler(&e->f.http, busy, e);
    e->f.clock.slept_us = 0;
    assert_int_equal(send_one(e, 0, &err), EDW_ERR_TRANSIENT);
    assert_int_equal(e->f.http.ncalls, 10);
    assert_int_equal(e->f.clock.slept_us, 4000000);
}

/* With 1.5 s left: one 1 s wait fits, the second would end past the deadline; the call fails
 * with the service's answer in time, and each request was capped to the time left then. */
static void stops_retrying_at_the_deadline(void **state)
{
    struct env *e = *state;
    fake_http_set_handler(&e->f.http, busy, e);
    int64_t t0 = edw_clock_mono_us(&e->f.clock.clock);
    edw_shutdown_set_deadline(t0 + 1500000);
    struct edw_error err = {0};
    assert_int_equal(send_one(e, 0, &err), EDW_ERR_TRANSIENT);
    assert_int_equal(e->f.http.ncalls, 2);
    assert_int_equal(e->f.clock.slept_us, 1000000);
    assert_true(edw_clock_mono_us(&e->f.clock.clock) - t0 < 1500000);
    assert_string_equal(err.code, "ServiceUnavailable");
    assert_int_equal(e->f.http.calls[0].timeout_ms, 1500);
    assert_int_equal(e->f.http.calls[1].timeout_ms, EDW_SHUTDOWN_MIN_REQUEST_MS);
}

/* A refused connection: retries (25-50 ms, 50-100 ms, ...) only while they start before the
 * deadline, never a sleep past it. */
static void refused_connection_stops_at_the_deadline(void **state)
{
    struct env *e = *state;
    for (int run = 0; run < 20; run++) { /* the waits are random: many draws */
        size_t before = e->f.http.ncalls;
        int64_t t0 = edw_clock_mono_us(&e->f.clock.clock);
        edw_shutdown_reset();
        edw_shutdown_set_deadline(t0 + 120000);
        struct edw_error err = {0};
        assert_int_equal(send_one(e, 0, &err), EDW_ERR_TRANSIENT);
        assert_in_range(e->f.http.ncalls - before, 2, 3);
        assert_true(edw_clock_mono_us(&e->f.clock.clock) - t0 < 120000);
        assert_non_null(strstr(err.message, "Couldn't connect to server"));
    }
}

/* A long poll (ReceiveMessage waits up to 20 s) does not hold the process past the grace. */
static void long_poll_is_cut_to_the_grace(void **state)
{
    struct env *e = *state;
    edw_shutdown_set_deadline(edw_clock_mono_us(&e->f.clock.clock) + 4000000);
    struct edw_error err = {0};
    assert_int_equal(edw_aws_call_one(&e->c, "ReceiveMessage", json_object(), 25000, NULL, &err),
                     EDW_ERR_TRANSIENT);
    assert_int_equal(e->f.http.calls[0].timeout_ms, 4000);
}

/* Past the deadline (the grace is over, the worker hands back its leases): one try, no sleep,
 * a short timeout. */
static void one_try_after_the_deadline(void **state)
{
    struct env *e = *state;
    edw_shutdown_set_deadline(edw_clock_mono_us(&e->f.clock.clock) - 1);
    struct edw_error err = {0};
    assert_int_equal(send_one(e, 0, &err), EDW_ERR_TRANSIENT);
    assert_int_equal(e->f.http.ncalls, 1);
    assert_int_equal(e->f.clock.slept_us, 0);
    assert_int_equal(e->f.http.calls[0].timeout_ms, EDW_SHUTDOWN_MIN_REQUEST_MS);
}

/* An IRSA credential refresh (STS AssumeRoleWithWebIdentity, retried three times) stops at
 * the deadline too, with a short timeout. */
static void sts_down(void *ctx, const struct fake_http_call *c, struct edw_http_response *resp)
{
    (void)ctx;
    (void)c;
    fake_http_reply(resp, 503, "<html>down</html>");
}

static void credential_refresh_stops_at_the_deadline(void **state)
{
    struct env *e = *state;
    char path[] = "/tmp/edw-test-irsa-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "jwt", 3), 3);
    close(fd);
    struct edw_aws_cred_options o = {.role_arn = "arn:aws:iam::123456789012:role/edw",
                                     .token_file = path,
                                     .sts_endpoint = "http://127.0.0.1:9999",
                                     .region = "us-east-1",
                                     .http = &e->f.http.transport,
                                     .clock = &e->f.clock.clock};
    struct edw_aws_cred_provider *p = NULL;
    struct edw_error err = {0};
    assert_int_equal(edw_aws_cred_provider_new(&o, &p, &err), EDW_OK);
    fake_http_set_handler(&e->f.http, sts_down, e);
    struct edw_aws_creds creds;
    assert_int_equal(edw_aws_cred_provider_get(p, &creds, &err), EDW_ERR_TRANSIENT);
    assert_int_equal(e->f.http.ncalls, 3); /* outside a shutdown: three attempts */
    assert_int_equal(e->f.http.calls[0].timeout_ms, 0);
    edw_aws_cred_provider_invalidate(p);
    fake_clock_advance(&e->f.clock, 60 * 1000000LL); /* past its 30 s pause after a failure */
    e->f.clock.slept_us = 0;
    edw_shutdown_set_deadline(edw_clock_mono_us(&e->f.clock.clock) + 100000);
    assert_int_equal(edw_aws_cred_provider_get(p, &creds, &err), EDW_ERR_TRANSIENT);
    assert_int_equal(e->f.http.ncalls, 4);
    assert_int_equal(e->f.clock.slept_us, 0);
    assert_int_equal(e->f.http.calls[3].timeout_ms, EDW_SHUTDOWN_MIN_REQUEST_MS);
    edw_aws_cred_provider_destroy(p);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(retries_fully_without_shutdown, setup, teardown),
        cmocka_unit_test_setup_teardown(stops_retrying_at_the_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_connection_stops_at_the_deadline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(long_poll_is_cut_to_the_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(one_try_after_the_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(credential_refresh_stops_at_the_deadline, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
