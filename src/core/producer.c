/* SPDX-License-Identifier: Apache-2.0 */
#include "edw/producer.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "edw/alloc.h"
#include "edw/health.h"
#include "edw/log.h"
#include "edw/metrics.h"
#include "edw/payload.h"
#include "edw/token_bucket.h"

void edw_run_id_make(int64_t wall_us, char out[64])
{
    time_t t = (time_t)(wall_us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    unsigned short rnd = 0;
    if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
        rnd = (unsigned short)(wall_us ^ (wall_us >> 16));
    snprintf(out, 64, "r%04d%02d%02d-%02d%02d%02d-%04x", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rnd);
}

struct producer {
    const struct edw_producer_deps *deps;
    const struct edw_producer_opts *opts;
    struct edw_run run;
    struct edw_buf *bodies; /* one buffer per batch slot, reused */
    struct edw_str *views;
    int health_id; /* heartbeat slot (edw/health.h) */
};

static bool stop_requested(const struct producer *p)
{
    return p->deps->should_stop && p->deps->should_stop(p->deps->stop_ctx);
}

/* Send seqs [first, first+n) until accepted, backing off on transient failures. */
static enum edw_err send_batch(struct producer *p, uint64_t first, size_t n,
                               struct edw_error *err)
{
    const struct edw_clock *clock = p->deps->clock;
    int64_t now = edw_clock_wall_us(clock);
    for (size_t i = 0; i < n; i++) {
        edw_buf_reset(&p->bodies[i]);
        enum edw_err rc = edw_payload_format(p->run.id, first + i, now, p->opts->body_bytes,
                                             &p->bodies[i]);
        if (rc)
            return edw_error_set(err, rc, "cannot build message %llu", (unsigned long long)first);
        p->views[i] = (struct edw_str){p->bodies[i].ptr, p->bodies[i].len};
    }
    int64_t delay = 50000;
    for (;;) {
        enum edw_err rc = edw_queue_send(p->deps->queue, p->views, n, err);
        if (rc == EDW_OK || !edw_err_retryable(rc))
            return rc;
        if (stop_requested(p))
            return rc;
        edw_metrics_backend_retry(edw_queue_ops_of(p->deps->queue)->name, EDW_OP_SEND, rc);
        int64_t pause = delay + rand() % (delay / 2 + 1);
        edw_health_pipeline_beat(p->health_id, EDW_PIPE_IDLE, edw_clock_mono_us(clock), pause);
        edw_clock_sleep_us(clock, pause);
        delay = delay < 3200000 ? delay * 2 : delay;
    }
}

static bool more(const struct producer *p, uint64_t sent, int64_t start_us, int64_t now_us)
{
    if (p->opts->count && sent >= p->opts->count)
        return false;
    if (p->opts->duration_us && now_us - start_us >= p->opts->duration_us)
        return false;
    return !stop_requested(p);
}

static enum edw_err produce(struct producer *p, struct edw_producer_stats *stats,
                            struct edw_error *err)
{
    const struct edw_clock *clock = p->deps->clock;
    const struct edw_producer_opts *o = p->opts;
    struct edw_token_bucket tb;
    int64_t start = edw_clock_mono_us(clock), last_save = start;
    edw_token_bucket_init(&tb, o->rate, o->rate < (double)o->batch ? o->rate : (double)o->batch,
                          start);
    enum edw_err rc = EDW_OK;
    int64_t now = start;
    while (!rc && more(p, p->run.sent, start, now)) {
        /* Every pause below is at most 100 ms; the retry loop beats on its own. */
        edw_health_pipeline_beat(p->health_id, EDW_PIPE_BUSY, now, 100000);
        size_t want = o->batch;
        if (o->count && o->count - p->run.sent < want)
            want = (size_t)(o->count - p->run.sent);
        if (o->rate_fn) {
            double r = o->rate_fn(o->rate_ctx, (double)(now - start) / 1e6);
            if (r <= 0) { /* a pause in the profile */
                edw_clock_sleep_us(clock, 50000);
                now = edw_clock_mono_us(clock);
                continue;
            }
            tb.rate = r;
            tb.burst = r < (double)o->batch ? (r < 1 ? 1 : r) : (double)o->batch;
        }
        int64_t wait = 0;
        size_t n = edw_token_bucket_take(&tb, want, now, &wait);
        if (n == 0) {
            edw_clock_sleep_us(clock, wait < 100000 ? wait : 100000);
        } else {
            rc = send_batch(p, p->run.sent + 1, n, err);
            if (!rc) {
                p->run.sent += n;
                edw_metrics_producer_sent(n);
            }
            if (!rc && o->sent_counter)
                atomic_store(o->sent_counter, p->run.sent);
        }
        now = edw_clock_mono_us(clock);
        if (!rc && now - last_save >= 1000000) {
            /* Keep the run record current so verify knows what a crashed producer sent. */
            if (edw_store_run_save(p->deps->store, &p->run, NULL) == EDW_OK)
                last_save = now;
        }
    }
    stats->sent = p->run.sent;
    stats->seconds = (double)(edw_clock_mono_us(clock) - start) / 1e6;
    return rc;
}

enum edw_err edw_producer_run(const struct edw_producer_deps *deps,
                              const struct edw_producer_opts *opts,
                              struct edw_producer_stats *stats, struct edw_error *err)
{
    struct producer p = {.deps = deps, .opts = opts};
    memset(stats, 0, sizeof(*stats));
    if (opts->run_id)
        snprintf(p.run.id, sizeof(p.run.id), "%s", opts->run_id);
    else
        edw_run_id_make(edw_clock_wall_us(deps->clock), p.run.id);
    snprintf(stats->run, sizeof(stats->run), "%s", p.run.id);
    p.run.started_us = edw_clock_wall_us(deps->clock);
    enum edw_err rc = edw_store_run_save(deps->store, &p.run, err);
    if (rc)
        return rc;
    p.bodies = edw_xcalloc(opts->batch, sizeof(*p.bodies));
    p.views = edw_xcalloc(opts->batch, sizeof(*p.views));
    for (size_t i = 0; i < opts->batch; i++)
        edw_buf_init(&p.bodies[i], 16 * 1024 * 1024);
    edw_info("producer", "run %s started", p.run.id);
    p.health_id = edw_health_pipeline_add(edw_clock_mono_us(deps->clock));
    rc = produce(&p, stats, err);
    edw_health_pipeline_remove(p.health_id);
    p.run.finished_us = edw_clock_wall_us(deps->clock);
    enum edw_err saved = edw_store_run_save(deps->store, &p.run, rc ? NULL : err);
    for (size_t i = 0; i < opts->batch; i++)
        edw_buf_cleanup(&p.bodies[i]);
    free(p.bodies);
    free(p.views);
    return rc ? rc : saved;
}
