/* SPDX-License-Identifier: Apache-2.0 */
/* The batch choice (edw/batch.h): auto takes the backend's preference within its maximum,
 * explicit values win, blocking handlers do not lease far ahead with auto, and an explicit
 * value a backend cannot take is refused with a message that says what would work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "edw/batch.h"
#include "edw/queue.h"

extern const struct edw_queue_ops edw_sqlite_queue_ops;

/* Backends described only by the fields the choice reads. */
static const struct edw_queue_ops s_plain = {.name = "plain", .max_send_batch = 100,
                                             .max_recv_batch = 100};
static const struct edw_queue_ops s_pref = {.name = "pref", .max_send_batch = 1000,
                                            .max_recv_batch = 1000, .pref_send_batch = 500,
                                            .pref_recv_batch = 256};
static const struct edw_queue_ops s_small = {.name = "small", .max_send_batch = 10,
                                             .max_recv_batch = 10};

static void auto_uses_preference(void **state)
{
    (void)state;
    assert_int_equal(edw_batch_send(&s_pref, EDW_BATCH_AUTO), 500);
    assert_int_equal(edw_batch_receive(&s_pref, EDW_BATCH_AUTO, false, 16), 256);
    /* No preference stated: the old default. */
    assert_int_equal(edw_batch_send(&s_plain, EDW_BATCH_AUTO), EDW_BATCH_FALLBACK);
    assert_int_equal(edw_batch_receive(&s_plain, EDW_BATCH_AUTO, false, 16), EDW_BATCH_FALLBACK);
    /* ... but never above what the backend takes in one call. */
    assert_int_equal(edw_batch_send(&s_small, EDW_BATCH_AUTO), 10);
    assert_int_equal(edw_batch_receive(&s_small, EDW_BATCH_AUTO, false, 16), 10);
}

static void explicit_wins(void **state)
{
    (void)state;
    assert_int_equal(edw_batch_send(&s_pref, 7), 7);
    assert_int_equal(edw_batch_receive(&s_pref, 7, false, 16), 7);
    /* An explicit batch is what the user asked for, even with a blocking handler. */
    assert_int_equal(edw_batch_receive(&s_pref, 600, true, 4), 600);
}

/* With a blocking handler, auto leases at most max(EDW_BATCH_BLOCKING_MAX, concurrency). */
static void blocking_caps_lease_ahead(void **state)
{
    (void)state;
    assert_int_equal(edw_batch_receive(&s_pref, EDW_BATCH_AUTO, true, 4),
                     EDW_BATCH_BLOCKING_MAX);
    assert_int_equal(edw_batch_receive(&s_pref, EDW_BATCH_AUTO, true, 16),
                     EDW_BATCH_BLOCKING_MAX);
    assert_int_equal(edw_batch_receive(&s_pref, EDW_BATCH_AUTO, true, 100), 100);
    assert_int_equal(edw_batch_receive(&s_pref, EDW_BATCH_AUTO, true, 1000), 256);
    /* The cap never raises a small preference. */
    assert_int_equal(edw_batch_receive(&s_small, EDW_BATCH_AUTO, true, 100), 10);
    /* Sends are not leases: no cap. */
    assert_int_equal(edw_batch_send(&s_pref, EDW_BATCH_AUTO), 500);
}

static void check_against_maximum(void **state)
{
    (void)state;
    char why[256] = "";
    assert_int_equal(edw_batch_check(&s_plain, EDW_BATCH_AUTO, true, true, why, sizeof(why)),
                     EDW_OK);
    assert_int_equal(edw_batch_check(&s_plain, 100, true, true, why, sizeof(why)), EDW_OK);
    assert_int_equal(edw_batch_check(&s_plain, 101, false, true, why, sizeof(why)),
                     EDW_ERR_INVALID);
    assert_string_equal(why, "--batch 101 is more than the plain backend receives in one call "
                             "(100); use --batch auto (32) or at most 100");
    assert_int_equal(edw_batch_check(&s_small, 11, true, false, why, sizeof(why)),
                     EDW_ERR_INVALID);
    assert_string_equal(why, "--batch 11 is more than the small backend sends in one call (10); "
                             "use --batch auto (10) or at most 10");
    /* Only the calls the command makes are checked. */
    static const struct edw_queue_ops lopsided = {.name = "l", .max_send_batch = 10,
                                                  .max_recv_batch = 50};
    assert_int_equal(edw_batch_check(&lopsided, 20, false, true, why, sizeof(why)), EDW_OK);
    assert_int_equal(edw_batch_check(&lopsided, 20, true, false, why, sizeof(why)),
                     EDW_ERR_INVALID);
}

/* The embedded backend's statement: 256 per transaction (docs/BENCHMARKS.md, SQLite). */
static void sqlite_prefers_256(void **state)
{
    (void)state;
    assert_int_equal(edw_batch_send(&edw_sqlite_queue_ops, EDW_BATCH_AUTO), 256);
    assert_int_equal(edw_batch_receive(&edw_sqlite_queue_ops, EDW_BATCH_AUTO, false, 16), 256);
    assert_int_equal(edw_batch_receive(&edw_sqlite_queue_ops, EDW_BATCH_AUTO, true, 16), 32);
    char why[256];
    assert_int_equal(edw_batch_check(&edw_sqlite_queue_ops, 1000, true, true, why, sizeof(why)),
                     EDW_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(auto_uses_preference),
        cmocka_unit_test(explicit_wins),
        cmocka_unit_test(blocking_caps_lease_ahead),
        cmocka_unit_test(check_against_maximum),
        cmocka_unit_test(sqlite_prefers_256),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
