/* SPDX-License-Identifier: Apache-2.0 */
/* The scaling decision against KEDA/HPA semantics: activation, ceil(depth / queueLength),
 * clamping, scale-up at once, scale-down stabilisation, cooldown to zero. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "edw/scaler.h"

static struct edw_scaler make(unsigned min, unsigned max, uint64_t ql, uint64_t act,
                              double cooldown, double window)
{
    struct edw_scaler s;
    struct edw_scaler_config c = {min, max, ql, act, cooldown, window};
    edw_scaler_init(&s, &c, 0);
    return s;
}

static void proportional_and_clamped(void **state)
{
    (void)state;
    struct edw_scaler s = make(0, 8, 200, 0, 300, 0);
    assert_int_equal(edw_scaler_decide(&s, 1, 0), 0);     /* idle: stays at zero */
    assert_int_equal(edw_scaler_decide(&s, 2, 1), 1);     /* 0 -> 1 on the first message */
    assert_int_equal(edw_scaler_decide(&s, 3, 200), 1);   /* exactly one replica's worth */
    assert_int_equal(edw_scaler_decide(&s, 4, 201), 2);   /* ceil */
    assert_int_equal(edw_scaler_decide(&s, 5, 450), 3);
    assert_int_equal(edw_scaler_decide(&s, 6, 100000), 8); /* maxReplicaCount */
}

static void activation_threshold(void **state)
{
    (void)state;
    struct edw_scaler s = make(0, 8, 5, 10, 300, 0);
    assert_int_equal(edw_scaler_decide(&s, 1, 10), 0); /* not above the threshold */
    assert_int_equal(edw_scaler_decide(&s, 2, 11), 3); /* active: ceil(11 / 5) */
    /* once running, a depth under the threshold is "inactive": replicas kept until cooldown */
    assert_int_equal(edw_scaler_decide(&s, 3, 4), 3);
}

static void scale_down_is_stabilised(void **state)
{
    (void)state;
    struct edw_scaler s = make(0, 10, 100, 0, 300, 3);
    assert_int_equal(edw_scaler_decide(&s, 0, 1000), 10);
    assert_int_equal(edw_scaler_decide(&s, 1, 100), 10); /* 10 still inside the window */
    assert_int_equal(edw_scaler_decide(&s, 2, 100), 10);
    assert_int_equal(edw_scaler_decide(&s, 3, 100), 10); /* t=0 is exactly 3 s old: kept */
    assert_int_equal(edw_scaler_decide(&s, 3.5, 100), 1); /* window is now 1 s..3.5 s */
    assert_int_equal(edw_scaler_decide(&s, 4, 900), 9);  /* scale-up is never delayed */
}

static void cooldown_then_zero(void **state)
{
    (void)state;
    struct edw_scaler s = make(0, 8, 100, 0, 5, 0);
    assert_int_equal(edw_scaler_decide(&s, 10, 300), 3);
    assert_int_equal(edw_scaler_decide(&s, 11, 0), 3); /* drained: cooldown starts at 10 */
    assert_int_equal(edw_scaler_decide(&s, 14.9, 0), 3);
    assert_int_equal(edw_scaler_decide(&s, 15, 0), 0); /* 5 s since the last active poll */
    assert_int_equal(edw_scaler_decide(&s, 16, 0), 0);
    assert_int_equal(edw_scaler_decide(&s, 17, 1), 1); /* and back from zero */
}

static void min_replicas_respected(void **state)
{
    (void)state;
    struct edw_scaler s = make(2, 4, 100, 0, 1, 0);
    assert_int_equal(edw_scaler_decide(&s, 0, 0), 2);
    assert_int_equal(edw_scaler_decide(&s, 1, 50), 2); /* ceil(50/100) = 1, floor is 2 */
    assert_int_equal(edw_scaler_decide(&s, 2, 1000), 4);
    assert_int_equal(edw_scaler_decide(&s, 10, 0), 2); /* after cooldown: min, not zero */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(proportional_and_clamped), cmocka_unit_test(activation_threshold),
        cmocka_unit_test(scale_down_is_stabilised), cmocka_unit_test(cooldown_then_zero),
        cmocka_unit_test(min_replicas_respected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
