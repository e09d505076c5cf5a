/* SPDX-License-Identifier: Apache-2.0 */
/* One pipeline at a time polls an empty queue (edw/idle_turns.h): the turn itself, and the
 * worker's use of it (a pipeline without the turn sends no receive until the poller finds
 * messages or leaves). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four above first */
#include <cmocka.h>
#include <stdbool.h>

#include "edw/idle_turns.h"
#include "edw/worker.h"
#include "fake_clock.h"
#include "fake_queue.h"
#include "worker_fixture.h"

#define OTHER ((uintptr_t)0x5eed) /* a sibling pipeline, played by the test */

static void the_turn_goes_to_one_pipeline_at_a_time(void **state)
{
    (void)state;
    uint64_t news = edw_idle_turns_news();
    assert_true(edw_idle_turns_take(1));
    assert_true(edw_idle_turns_take(1)); /* still its turn */
    assert_false(edw_idle_turns_take(2));
    edw_idle_turns_give(2); /* not its turn: nothing changes */
    assert_int_equal(edw_idle_turns_news(), news);
    assert_false(edw_idle_turns_take(2));
    edw_idle_turns_give(1); /* found messages: the others wake */
    assert_int_equal(edw_idle_turns_news(), news + 1);
    assert_true(edw_idle_turns_take(2));
    assert_false(edw_idle_turns_take(1));
    edw_idle_turns_give(2);
    assert_int_equal(edw_idle_turns_news(), news + 2);
}

/* The test's sibling gives the turn back whatever happened. */
static int teardown(void **state)
{
    edw_idle_turns_give(OTHER);
    return worker_fixture_teardown(state);
}

static void run_worker(struct worker_fixture *f)
{
    assert_int_equal(edw_worker_run(&f->wdeps, &f->opts, &f->stats, NULL), EDW_OK);
}

/* Alone, an idle pipeline polls with its backoff; while a sibling has the turn it sends
 * nothing after its first empty receive, and still ends when its idle time is up. */
static void a_pipeline_without_the_turn_does_not_poll(void **state)
{
    struct worker_fixture *f = *state;
    run_worker(f);
    unsigned alone = g_fake_queue->receives;
    assert_true(alone >= 8); /* 1, 2, 4 ... 500 ms, then every 500 ms, for 5 s */
    assert_true(edw_idle_turns_take(OTHER));
    unsigned before = g_fake_queue->receives;
    int64_t t0 = f->clock.mono_us;
    run_worker(f);
    assert_int_equal(g_fake_queue->receives - before, 1);
    assert_true(f->clock.mono_us - t0 >= f->opts.exit_when_idle_us);
    /* It never took the turn from its sibling. */
    assert_false(edw_idle_turns_take(1));
}

/* The sibling finds messages 2 s into the nap (it gives the turn back): the napping pipeline
 * receives again within a nap, and processes what is there. */
struct handover {
    struct worker_fixture *f;
    int64_t at_us;
    bool done;
};

static bool hand_over(void *ctx)
{
    struct handover *h = ctx;
    if (!h->done && h->f->clock.mono_us >= h->at_us) {
        worker_fixture_put_good(h->f, "r", 1);
        edw_idle_turns_give(OTHER);
        h->done = true;
    }
    return false;
}

static void a_napping_pipeline_joins_when_the_poller_finds_messages(void **state)
{
    struct worker_fixture *f = *state;
    assert_true(edw_idle_turns_take(OTHER));
    struct handover h = {f, f->clock.mono_us + 2000000, false};
    f->wdeps.should_stop = hand_over;
    f->wdeps.stop_ctx = &h;
    run_worker(f);
    assert_true(h.done);
    assert_int_equal(f->stats.processed, 1);
    assert_non_null(fake_store_find(g_fake_store, "r-1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_turn_goes_to_one_pipeline_at_a_time),
        cmocka_unit_test_setup_teardown(a_pipeline_without_the_turn_does_not_poll,
                                        worker_fixture_setup, teardown),
        cmocka_unit_test_setup_teardown(a_napping_pipeline_joins_when_the_poller_finds_messages,
                                        worker_fixture_setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
