/* SPDX-License-Identifier: Apache-2.0 */
/* The hold between two wake-ups of the HTTP transport (edw/wake_hold.h): bounded by a share of
 * the elapsed time and by the cap, only taken when answers are due within it, ended before the
 * last outstanding answer is due, never with one request in flight or before the first
 * answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four above first */
#include <cmocka.h>

#include "edw/wake_hold.h"

#define MS 1000

/* 32 requests started at 0; 20 answered by 60 ms (one per 3 ms), last wake-up just now. */
static void holds_a_share_of_the_elapsed_time(void **state)
{
    (void)state;
    /* 60 ms elapsed: half is 30 ms, capped at 8 ms; nothing since the last wake-up. */
    assert_int_equal(edw_wake_hold_us(0, 60 * MS, 60 * MS, 20, 12, 8 * MS), 8 * MS);
    /* A larger cap leaves the half: 30 ms (the last of the 12 is due in 33 ms). */
    assert_int_equal(edw_wake_hold_us(0, 60 * MS, 60 * MS, 20, 12, 50 * MS), 30 * MS);
    /* Time already spent since the last wake-up counts towards the hold. */
    assert_int_equal(edw_wake_hold_us(0, 55 * MS, 60 * MS, 20, 12, 8 * MS), 3 * MS);
    assert_int_equal(edw_wake_hold_us(0, 50 * MS, 60 * MS, 20, 12, 8 * MS), 0);
    /* Starting later changes only the elapsed time: 12 ms elapsed, half is 6 ms. */
    assert_int_equal(edw_wake_hold_us(100 * MS, 112 * MS, 112 * MS, 8, 24, 8 * MS), 6 * MS);
    /* The share bounds a hold below the cap: 8 ms elapsed, 4 answers (one per 2 ms): 4 ms. */
    assert_int_equal(edw_wake_hold_us(0, 8 * MS, 8 * MS, 4, 28, 16 * MS), 4 * MS);
    /* and needs a second answer: with one, the spacing (8 ms) is longer than half (4 ms). */
    assert_int_equal(edw_wake_hold_us(0, 8 * MS, 8 * MS, 1, 31, 16 * MS), 0);
}

static void holds_only_when_answers_are_due(void **state)
{
    (void)state;
    /* 2 answers in 60 ms (one per 30 ms): an 8 ms hold would most likely gather nothing. */
    assert_int_equal(edw_wake_hold_us(0, 60 * MS, 60 * MS, 2, 30, 8 * MS), 0);
    /* 7 answers in 60 ms (one per 8.57 ms): still longer than the hold. */
    assert_int_equal(edw_wake_hold_us(0, 60 * MS, 60 * MS, 7, 25, 8 * MS), 0);
    /* 8 answers (one per 7.5 ms): the hold gathers about one. */
    assert_int_equal(edw_wake_hold_us(0, 60 * MS, 60 * MS, 8, 24, 8 * MS), 8 * MS);
    /* Before the first answer nothing is known, and requests are still being sent. */
    assert_int_equal(edw_wake_hold_us(0, 60 * MS, 60 * MS, 0, 32, 8 * MS), 0);
}

static void ends_before_the_last_answer_is_due(void **state)
{
    (void)state;
    /* 20 answers in 60 ms (one per 3 ms), 3 outstanding: the last is due in about 6 ms, so
     * the 8 ms cap shrinks to 6 ms. */
    assert_int_equal(edw_wake_hold_us(0, 60 * MS, 60 * MS, 20, 3, 8 * MS), 6 * MS);
    /* 2 outstanding: a hold of one spacing gathers the next and may still catch the last. */
    assert_int_equal(edw_wake_hold_us(0, 60 * MS, 60 * MS, 20, 2, 8 * MS), 3 * MS);
    /* Many outstanding: the cap decides again. */
    assert_int_equal(edw_wake_hold_us(0, 60 * MS, 60 * MS, 20, 12, 8 * MS), 8 * MS);
}

static void never_holds_one_request_or_when_off(void **state)
{
    (void)state;
    assert_int_equal(edw_wake_hold_us(0, 60 * MS, 60 * MS, 31, 1, 8 * MS), 0);
    assert_int_equal(edw_wake_hold_us(0, 60 * MS, 60 * MS, 31, 0, 8 * MS), 0);
    assert_int_equal(edw_wake_hold_us(0, 60 * MS, 60 * MS, 20, 12, 0), 0);
    assert_int_equal(edw_wake_hold_us(0, 60 * MS, 60 * MS, 20, 12, -1), 0);
    /* A clock that did not move (or went back) gives no elapsed time to take a share of. */
    assert_int_equal(edw_wake_hold_us(60 * MS, 60 * MS, 60 * MS, 20, 12, 8 * MS), 0);
    assert_int_equal(edw_wake_hold_us(60 * MS, 50 * MS, 50 * MS, 20, 12, 8 * MS), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(holds_a_share_of_the_elapsed_time),
        cmocka_unit_test(holds_only_when_answers_are_due),
        cmocka_unit_test(ends_before_the_last_answer_is_due),
        cmocka_unit_test(never_holds_one_request_or_when_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
