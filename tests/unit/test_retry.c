/* SPDX-License-Identifier: Apache-2.0 */
/* The retry policy both network backends share (edw/retry.h): backoff with jitter and the
 * service's Retry-After, the per-call budget, the shutdown deadline and the request timeout
 * it caps. Pure functions over given times: no clock, no waits. The backends' use of it is
 * tested over their scripted transports (test_{azure,aws}_retry_budget.c, test_shutdown.c,
 * test_aws_shutdown.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "edw/http.h"
#include "edw/retry.h"
#include "edw/shutdown.h"

/* Azure's numbers (edw_azure_client_init) and AWS's (edw_aws_client_init). */
static const struct edw_retry_policy s_azure = {5, 400000, 8000000, 2000000, 0, 0};
static const struct edw_retry_policy s_aws = {5, 50000, 5000000, 2000000, 0, 250000};

static int reset(void **state)
{
    (void)state;
    edw_shutdown_reset();
    return 0;
}

/* Retry n waits uniformly in [c/2, c], c = min(cap, base * 2^n); the draws spread over it. */
static void check_ceilings(const struct edw_retry_policy *p, bool throttled, int64_t base)
{
    uint64_t rng = 42;
    for (unsigned n = 0; n < 12; n++) {
        int64_t ceiling = base << (n < 10 ? n : 10);
        if (ceiling > p->cap_us)
            ceiling = p->cap_us;
        int64_t lo = ceiling, hi = 0;
        for (int i = 0; i < 200; i++) {
            int64_t d = edw_retry_backoff_us(p, n, throttled, 0, &rng);
            assert_in_range(d, ceiling / 2, ceiling);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        assert_true(hi > ceiling * 9 / 10 && lo < ceiling * 6 / 10);
    }
}

static void backoff_is_exponential_with_equal_jitter(void **state)
{
    (void)state;
    check_ceilings(&s_azure, false, 400000);
    check_ceilings(&s_azure, true, 400000); /* no throttle base: the same */
    check_ceilings(&s_aws, false, 50000);
    check_ceilings(&s_aws, true, 250000);
}

/* The service's Retry-After is a floor, capped by max_hint_us (no lease is renewed while a
 * call sleeps). */
static void retry_after_is_a_capped_floor(void **state)
{
    (void)state;
    uint64_t rng = 7;
    assert_int_equal(edw_retry_backoff_us(&s_aws, 0, false, 1500000, &rng), 1500000);
    assert_int_equal(edw_retry_backoff_us(&s_aws, 0, false, 999000000, &rng), 2000000);
    int64_t d = edw_retry_backoff_us(&s_azure, 4, false, 1000, &rng); /* backoff is longer */
    assert_in_range(d, 3200000, 6400000);
}

/* The same seed gives the same waits; another seed others (consumers do not retry in step). */
static void jitter_follows_the_seed(void **state)
{
    (void)state;
    uint64_t a = 1, b = 1, c = 2;
    int same = 0, differ = 0;
    for (int i = 0; i < 50; i++) {
        int64_t x = edw_retry_backoff_us(&s_azure, 3, false, 0, &a);
        same += x == edw_retry_backoff_us(&s_azure, 3, false, 0, &b);
        differ += x != edw_retry_backoff_us(&s_azure, 3, false, 0, &c);
    }
    assert_int_equal(same, 50);
    assert_true(differ > 40);
    uint64_t zero = 0; /* a zero state still moves */
    assert_true(edw_retry_rand(&zero) != edw_retry_rand(&zero));
}

static void budget_bounds_a_call(void **state)
{
    (void)state;
    struct edw_retry_policy p = s_aws;
    p.budget_us = 750000; /* --visibility 3 */
    assert_int_equal(edw_retry_check(&p, 1000000, 1400000, 300000), EDW_RETRY_GO);
    assert_int_equal(edw_retry_check(&p, 1000000, 1400000, 350000), EDW_RETRY_GO); /* = */
    assert_int_equal(edw_retry_check(&p, 1000000, 1400000, 350001), EDW_RETRY_BUDGET);
    p.budget_us = 0; /* no limit */
    assert_int_equal(edw_retry_check(&p, 0, INT64_C(3600000000), 5000000), EDW_RETRY_GO);
}

static void shutdown_deadline_stops_retries(void **state)
{
    (void)state;
    struct edw_retry_policy p = s_azure;
    edw_shutdown_set_deadline(10000000);
    assert_int_equal(edw_retry_check(&p, 0, 5000000, 4999999), EDW_RETRY_GO);
    assert_int_equal(edw_retry_check(&p, 0, 5000000, 5000000), EDW_RETRY_SHUTDOWN);
    assert_int_equal(edw_retry_check(&p, 0, 11000000, 0), EDW_RETRY_SHUTDOWN);
    /* Both limits hit: the budget is named (it applies with or without a shutdown). */
    p.budget_us = 1000000;
    assert_int_equal(edw_retry_check(&p, 0, 11000000, 0), EDW_RETRY_BUDGET);
    edw_shutdown_reset();
    assert_int_equal(edw_retry_check(&s_azure, 0, 11000000, 5000000), EDW_RETRY_GO);
}

static void timeouts_end_with_the_grace(void **state)
{
    (void)state;
    assert_int_equal(edw_retry_timeout_ms(5000000, 0), 0); /* no shutdown: the transport's */
    assert_int_equal(edw_retry_timeout_ms(5000000, 25000), 25000);
    edw_shutdown_set_deadline(9000000);
    /* 4 s left: the default 30 s and a long poll's 25 s are cut to 4 s; a shorter one stays */
    assert_int_equal(edw_retry_timeout_ms(5000000, 0), 4000);
    assert_true(EDW_HTTP_DEFAULT_REQUEST_TIMEOUT_MS > 4000);
    assert_int_equal(edw_retry_timeout_ms(5000000, 25000), 4000);
    assert_int_equal(edw_retry_timeout_ms(5000000, 2500), 2500);
    assert_int_equal(edw_retry_timeout_ms(9500000, 0), EDW_SHUTDOWN_MIN_REQUEST_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backoff_is_exponential_with_equal_jitter),
        cmocka_unit_test(retry_after_is_a_capped_floor),
        cmocka_unit_test(jitter_follows_the_seed),
        cmocka_unit_test_setup_teardown(budget_bounds_a_call, reset, reset),
        cmocka_unit_test_setup_teardown(shutdown_deadline_stops_retries, reset, reset),
        cmocka_unit_test_setup_teardown(timeouts_end_with_the_grace, reset, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
