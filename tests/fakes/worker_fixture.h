/* SPDX-License-Identifier: Apache-2.0 */
/* A worker wired to the fake queue, fake store, record handler and fake clock, shared by the
 * unit tests of the pipeline and of what it records. */
#ifndef EDW_WORKER_FIXTURE_H
#define EDW_WORKER_FIXTURE_H

#include "edw/handler.h"
#include "edw/worker.h"
#include "fake_clock.h"
#include "fake_queue.h"

struct worker_fixture {
    struct fake_clock clock;
    struct edw_backend_deps deps;
    struct edw_queue *q;
    struct edw_store *s;
    struct edw_handler *h;
    struct edw_worker_opts opts; /* defaults below; tests adjust before running */
    struct edw_worker_deps wdeps;
    struct edw_worker_stats stats;
};

/* Concurrency 4, batch 8, visibility 30 s, max-dequeue 3, retry delay 2 s, exit after 5 s
 * idle. NULL if the fakes cannot be opened. Release with worker_fixture_free. */
struct worker_fixture *worker_fixture_new(void);
void worker_fixture_free(struct worker_fixture *f);

/* cmocka setup/teardown: a new fixture in *state, freed after the test. */
int worker_fixture_setup(void **state);
int worker_fixture_teardown(void **state);

/* A handler that fails every message with the error "downstream said no". */
extern const struct edw_handler worker_fixture_failing;

/* Run the worker to its end with stderr (the log) captured; *rc gets its result. Returns the
 * log text (caller frees), NULL if stderr could not be captured. */
char *worker_fixture_run_logged(struct worker_fixture *f, enum edw_err *rc);

/* Put a producer-format message (`run`-`seq`, stamped now) on the fake queue. */
void worker_fixture_put_good(struct worker_fixture *f, const char *run, unsigned seq);

#endif
