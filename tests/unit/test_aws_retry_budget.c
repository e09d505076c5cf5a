/* SPDX-License-Identifier: Apache-2.0 */
/* One AWS call, retries included, ends within a quarter of the lease (--visibility), as for
 * Azure (test_azure_retry_budget.c): the worker renews no lease while a backend call runs, and
 * throttled retries alone (waits of 0.25-0.5, 0.5-1, 1-2, 2-4 s) could outlast a 3 s lease.
 * Over a scripted transport and a fake clock: no real waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "aws_common.h"
#include "aws_fixture.h"

/* Every request is throttled and takes 10 ms. */
static void throttled(void *ctx, const struct fake_http_call *c, struct edw_http_response *resp)
{
    (void)c;
    struct aws_fixture *f = ctx;
    fake_clock_advance(&f->clock, 10000);
    fixture_reply_error(resp, 400, "com.amazonaws.sqs#RequestThrottled", "slow down");
}

static void run(long long visibility_s, int64_t *took_us, size_t *requests)
{
    struct aws_fixture f;
    struct edw_aws_client c;
    fixture_init(&f);
    f.cfg.visibility_s = visibility_s;
    struct edw_error e = {0};
    assert_int_equal(edw_aws_client_init(&c, &f.cfg, &f.deps, "sqs", &e), EDW_OK);
    fake_http_set_handler(&f.http, throttled, &f);
    int64_t t0 = f.clock.mono_us;
    assert_int_equal(edw_aws_call_one(&c, "ReceiveMessage", json_object(), 0, NULL, &e),
                     EDW_ERR_THROTTLED); /* the worker backs off and renews meanwhile */
    *took_us = f.clock.mono_us - t0;
    *requests = f.http.ncalls;
    edw_aws_client_cleanup(&c);
    fixture_cleanup(&f);
}

static void test_short_lease_bounds_the_call(void **state)
{
    (void)state;
    for (int i = 0; i < 50; i++) { /* the waits are random: many draws */
        int64_t took;
        size_t requests;
        run(3, &took, &requests);
        assert_true(took <= 750000 + 10000); /* a retry starts within it, then takes 10 ms */
        assert_true(requests >= 2); /* a short blip is still ridden out inside the call */
        assert_true(requests < 5);
    }
}

static void test_long_lease_keeps_all_attempts(void **state)
{
    (void)state;
    for (int i = 0; i < 20; i++) {
        int64_t took;
        size_t requests;
        run(30, &took, &requests);
        assert_int_equal(requests, 5);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_lease_bounds_the_call),
        cmocka_unit_test(test_long_lease_keeps_all_attempts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
