/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "edw/token_bucket.h"

static void unlimited(void **state)
{
    (void)state;
    struct edw_token_bucket tb;
    int64_t wait;
    edw_token_bucket_init(&tb, 0, 32, 0);
    assert_int_equal(edw_token_bucket_take(&tb, 1000, 0, &wait), 1000);
    assert_int_equal(wait, 0);
}

static void steady_rate(void **state)
{
    (void)state;
    struct edw_token_bucket tb;
    int64_t wait, now = 0;
    edw_token_bucket_init(&tb, 100, 10, now); /* 100/s, bursts of 10 */
    assert_int_equal(edw_token_bucket_take(&tb, 10, now, &wait), 1); /* starts with one */
    assert_int_equal(edw_token_bucket_take(&tb, 10, now, &wait), 0);
    assert_in_range(wait, 9000, 10001); /* next token in 10 ms */
    /* Simulate one second of a caller that sleeps as told: ~100 granted. */
    size_t granted = 1;
    while (now < 1000000) {
        size_t n = edw_token_bucket_take(&tb, 10, now, &wait);
        granted += n;
        now += n ? 0 : wait;
    }
    assert_in_range(granted, 99, 102);
}

static void burst_is_capped(void **state)
{
    (void)state;
    struct edw_token_bucket tb;
    int64_t wait;
    edw_token_bucket_init(&tb, 100, 10, 0);
    /* an hour idle must not buy an hour of burst */
    assert_int_equal(edw_token_bucket_take(&tb, 1000, 3600LL * 1000000, &wait), 10);
    assert_int_equal(edw_token_bucket_take(&tb, 1000, 3600LL * 1000000, &wait), 0);
}

static void slow_rate(void **state)
{
    (void)state;
    struct edw_token_bucket tb;
    int64_t wait;
    edw_token_bucket_init(&tb, 0.5, 1, 0); /* one every two seconds */
    assert_int_equal(edw_token_bucket_take(&tb, 32, 0, &wait), 1);
    assert_int_equal(edw_token_bucket_take(&tb, 32, 1000000, &wait), 0);
    assert_in_range(wait, 999000, 1000001);
    assert_int_equal(edw_token_bucket_take(&tb, 32, 2000000, &wait), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unlimited),
        cmocka_unit_test(steady_rate),
        cmocka_unit_test(burst_is_capped),
        cmocka_unit_test(slow_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
