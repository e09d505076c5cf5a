/* SPDX-License-Identifier: Apache-2.0 */
/* The process-wide lease view (edw/lease_guard.h) and the worker's use of it: no pipeline
 * receives while a lease held elsewhere in the process has run out, as after a backend that
 * answered nothing for longer than a lease (azure_faults with two pipelines lost 4 leases in
 * CI that way: the other pipeline received the lapsed messages before their holder renewed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four above first */
#include <cmocka.h>

#include "edw/lease_guard.h"
#include "edw/worker.h"
#include "fake_clock.h"
#include "fake_queue.h"
#include "worker_fixture.h"

static int setup(void **state)
{
    *state = worker_fixture_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    worker_fixture_free(*state);
    return 0;
}

static void guard_sees_every_place_until_it_leaves(void **state)
{
    (void)state;
    assert_true(edw_lease_guard_clear(INT64_MAX));
    int a = edw_lease_guard_join();
    int b = edw_lease_guard_join();
    assert_true(a >= 0 && b >= 0 && a != b);
    assert_true(edw_lease_guard_clear(INT64_MAX)); /* nothing held yet */
    edw_lease_guard_publish(a, 5000);
    edw_lease_guard_publish(b, 9000);
    assert_true(edw_lease_guard_clear(5000));
    assert_false(edw_lease_guard_clear(5001));
    edw_lease_guard_leave(a);
    assert_true(edw_lease_guard_clear(9000));
    assert_false(edw_lease_guard_clear(9001));
    edw_lease_guard_publish(b, INT64_MAX); /* b let go of its leases */
    assert_true(edw_lease_guard_clear(INT64_MAX - 1));
    edw_lease_guard_leave(b);
    edw_lease_guard_publish(-1, 0); /* no place: ignored */
    edw_lease_guard_leave(-1);
    assert_true(edw_lease_guard_clear(INT64_MAX));
}

/* Another pipeline holds a lease that ran out a second ago (it is blocked in a call to a
 * stalled backend). This worker must not receive: the queue could hand it that very message.
 * Once the holder has renewed (its earliest lease is in the future again), it receives. */
static void no_receive_while_a_lease_in_the_process_ran_out(void **state)
{
    struct worker_fixture *f = *state;
    for (unsigned i = 1; i <= 5; i++)
        worker_fixture_put_good(f, "r", i);
    int sibling = edw_lease_guard_join();
    assert_true(sibling >= 0);
    edw_lease_guard_publish(sibling, f->clock.mono_us - 1000000);
    f->opts.exit_when_idle_us = 2000000;
    assert_int_equal(edw_worker_run(&f->wdeps, &f->opts, &f->stats, NULL), EDW_OK);
    assert_int_equal(f->stats.received, 0);
    assert_int_equal(g_fake_queue->receives, 0);
    assert_int_equal(fake_queue_live(g_fake_queue), 5);

    /* The holder renewed: its earliest lease now ends a full lease from now. */
    edw_lease_guard_publish(sibling, f->clock.mono_us + 30000000);
    assert_int_equal(edw_worker_run(&f->wdeps, &f->opts, &f->stats, NULL), EDW_OK);
    assert_int_equal(f->stats.received, 5);
    assert_int_equal(f->stats.processed, 5);
    assert_int_equal(fake_queue_live(g_fake_queue), 0);
    edw_lease_guard_leave(sibling);
}

/* A worker publishes its own leases while it holds them and withdraws them when it ends: a
 * store that keeps failing holds the message, and meanwhile the guard sees its lease (the
 * stop function looks from outside, between the worker's steps). */
struct watch {
    struct worker_fixture *f;
    int64_t stop_at;
    unsigned held_and_seen;
};

static bool watch_guard(void *arg)
{
    struct watch *w = arg;
    int64_t now = w->f->clock.mono_us;
    /* A lease of 30 s is published: nothing ends before now, something within 30 s. */
    if (edw_lease_guard_clear(now) && !edw_lease_guard_clear(now + 30000001))
        w->held_and_seen++;
    return now >= w->stop_at;
}

static void worker_publishes_its_leases_and_withdraws_them(void **state)
{
    struct worker_fixture *f = *state;
    worker_fixture_put_good(f, "r", 1);
    g_fake_store->fail_err = EDW_ERR_TRANSIENT;
    g_fake_store->fail_upsert = 1000000; /* never stored in this run */
    struct watch w = {f, f->clock.mono_us + 10000000, 0};
    f->wdeps.should_stop = watch_guard;
    f->wdeps.stop_ctx = &w;
    assert_int_equal(edw_worker_run(&f->wdeps, &f->opts, &f->stats, NULL), EDW_OK);
    assert_int_equal(f->stats.received, 1);
    assert_true(w.held_and_seen > 10);
    assert_true(edw_lease_guard_clear(INT64_MAX)); /* withdrawn at the end */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(guard_sees_every_place_until_it_leaves),
        cmocka_unit_test_setup_teardown(no_receive_while_a_lease_in_the_process_ran_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(worker_publishes_its_leases_and_withdraws_them, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
