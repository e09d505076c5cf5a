/* SPDX-License-Identifier: Apache-2.0 */
#include "worker_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "edw/alloc.h"
#include "edw/buf.h"
#include "edw/config.h"
#include "edw/payload.h"
#include "edw/shutdown.h"

struct worker_fixture *worker_fixture_new(void)
{
    struct worker_fixture *f = edw_xcalloc(1, sizeof(*f));
    /* A stopped worker leaves its deadline, in this fixture's fake time, process-wide. */
    edw_shutdown_reset();
    fake_clock_init(&f->clock, 1795802400000000LL);
    f->deps.clock = &f->clock.clock;
    struct edw_config cfg;
    edw_config_init(&cfg);
    enum edw_err rc = edw_queue_open(&fake_queue_ops, &cfg, &f->deps, &f->q, NULL);
    if (!rc)
        rc = edw_store_open(&fake_store_ops, &cfg, &f->deps, &f->s, NULL);
    edw_config_cleanup(&cfg);
    if (rc) {
        worker_fixture_free(f);
        return NULL;
    }
    f->h = edw_handler_record_new();
    f->opts = (struct edw_worker_opts){
        .concurrency = 4,
        .batch = 8,
        .visibility_s = 30,
        .max_dequeue = 3,
        .retry_delay_s = 2,
        .max_body_bytes = 65536,
        .exit_when_idle_us = 5000000,
        .shutdown_grace_us = 10000000,
        .poll_max_us = 1000000,
        .queue_name = "edw-messages",
        .depth_interval_us = 5000000,
    };
    f->wdeps = (struct edw_worker_deps){f->q, f->s, f->h, &f->clock.clock, NULL, NULL};
    return f;
}

void worker_fixture_free(struct worker_fixture *f)
{
    if (!f)
        return;
    edw_handler_destroy(f->h);
    edw_queue_close(f->q);
    edw_store_close(f->s);
    free(f);
}

int worker_fixture_setup(void **state)
{
    *state = worker_fixture_new();
    return *state ? 0 : -1;
}

int worker_fixture_teardown(void **state)
{
    worker_fixture_free(*state);
    return 0;
}

void worker_fixture_put_good(struct worker_fixture *f, const char *run, unsigned seq)
{
    struct edw_buf b;
    edw_buf_init(&b, 4096);
    if (edw_payload_format(run, seq, edw_clock_wall_us(&f->clock.clock), 0, &b) != EDW_OK)
        abort();
    fake_queue_put(g_fake_queue, b.ptr);
    edw_buf_cleanup(&b);
}

static void failing_run(const struct edw_handler *h, const struct edw_payload *p, const char *body,
                        size_t len, const atomic_bool *cancel, struct edw_handler_result *out)
{
    (void)h;
    (void)p;
    (void)body;
    (void)len;
    (void)cancel;
    out->ok = false;
    snprintf(out->error, sizeof(out->error), "downstream said no");
}

const struct edw_handler worker_fixture_failing = {.name = "failing", .run = failing_run};

char *worker_fixture_run_logged(struct worker_fixture *f, enum edw_err *rc)
{
    char path[] = "/tmp/edw-test-worker-log.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    if (saved < 0 || dup2(fd, 2) != 2) {
        close(fd);
        if (saved >= 0)
            close(saved);
        return NULL;
    }
    *rc = edw_worker_run(&f->wdeps, &f->opts, &f->stats, NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t len = lseek(fd, 0, SEEK_END);
    char *text = NULL;
    if (len >= 0) {
        text = edw_xcalloc(1, (size_t)len + 1);
        if (pread(fd, text, (size_t)len, 0) != len) {
            free(text);
            text = NULL;
        }
    }
    close(fd);
    return text;
}
