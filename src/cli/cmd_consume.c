/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"

#include "cli.h"
#include "edw/batch.h"
#include "edw/handler.h"
#include "edw/health.h"
#include "edw/log.h"
#include "edw/module.h"
#include "edw/worker.h"

/* How often a consumer that serves metrics refreshes the queue-depth gauge. */
#define DEPTH_INTERVAL_US 5000000

static struct edw_worker_opts opts_from(const struct edw_cli *cli, const struct edw_handler *h,
                                        bool metrics)
{
    const struct edw_config *c = &cli->cfg;
    struct edw_worker_opts o = {
        .concurrency = (size_t)c->concurrency,
        .batch = edw_batch_receive(cli->backend->queue, c->batch, h->blocking,
                                   (size_t)c->concurrency),
        .visibility_s = (unsigned)c->visibility_s,
        .max_dequeue = (unsigned)c->max_dequeue,
        .retry_delay_s = (unsigned)c->retry_delay_s,
        .max_body_bytes = (size_t)c->max_body_bytes,
        .exit_when_idle_us = (int64_t)(c->exit_when_idle_s * 1e6),
        .shutdown_grace_us = (int64_t)(c->shutdown_grace_s * 1e6),
        .poll_max_us = (int64_t)c->poll_max_ms * 1000,
        .queue_name = c->queue_name,
        .depth_interval_us = metrics ? DEPTH_INTERVAL_US : 0,
    };
    return o;
}

static void report(const struct edw_cli *cli, const struct edw_worker_stats *st, size_t batch)
{
    double rate = st->seconds > 0 ? (double)st->processed / st->seconds : 0;
    printf("processed %llu, poisoned %llu, failed %llu in %.2f s (%.0f msg/s)\n",
           (unsigned long long)st->processed, (unsigned long long)st->poisoned,
           (unsigned long long)st->failed, st->seconds, rate);
    struct edw_buf j;
    edw_buf_init(&j, 4096);
    if (edw_buf_appendf(&j,
                        "{\"processed\":%llu,\"poisoned\":%llu,\"failed\":%llu,\"seconds\":%.3f,"
                        "\"rate\":%.1f,\"received\":%llu,\"lost_leases\":%llu,\"extended\":%llu,"
                        "\"released\":%llu,\"backend_errors\":%llu,\"batch\":%zu}",
                        (unsigned long long)st->processed, (unsigned long long)st->poisoned,
                        (unsigned long long)st->failed, st->seconds, rate,
                        (unsigned long long)st->received, (unsigned long long)st->lost_leases,
                        (unsigned long long)st->extended, (unsigned long long)st->released,
                        (unsigned long long)st->backend_errors, batch) == EDW_OK)
        edw_cli_json(cli, &j);
    edw_buf_cleanup(&j);
}

/* One receive/handle/store loop with its own backend handles (they are per-thread). */
struct pipeline {
    struct edw_cli *cli;
    const struct edw_handler *handler;
    struct edw_worker_opts opts;
    struct edw_worker_stats stats;
    struct edw_error err;
    enum edw_err rc;
    pthread_t thread;
};

static void *pipeline_main(void *arg)
{
    struct pipeline *p = arg;
    struct edw_queue *q = NULL;
    struct edw_store *s = NULL;
    const struct edw_backend *b = p->cli->backend;
    p->rc = edw_queue_open(b->queue, &p->cli->cfg, &p->cli->deps, &q, &p->err);
    if (!p->rc)
        p->rc = edw_store_open(b->store, &p->cli->cfg, &p->cli->deps, &s, &p->err);
    if (!p->rc) {
        struct edw_worker_deps deps = {q, s, p->handler, p->cli->deps.clock,
                                       edw_cli_stop_requested, NULL};
        p->rc = edw_worker_run(&deps, &p->opts, &p->stats, &p->err);
    }
    edw_queue_close(q);
    edw_store_close(s);
    return NULL;
}

static void add_stats(struct edw_worker_stats *sum, const struct edw_worker_stats *s)
{
    sum->received += s->received;
    sum->processed += s->processed;
    sum->poisoned += s->poisoned;
    sum->failed += s->failed;
    sum->lost_leases += s->lost_leases;
    sum->extended += s->extended;
    sum->released += s->released;
    sum->backend_errors += s->backend_errors;
    sum->seconds = s->seconds > sum->seconds ? s->seconds : sum->seconds;
}

/* --pipelines 0 (the default) picks per backend (edw_queue_ops.pref_pipelines). SQLite: one,
 * as its writers take turns on one file lock and a second loop only waits for it. Network
 * backends: two, so one loop's round trips (receive, upsert, delete) overlap the other's; one
 * loop leaves the service idle while it waits for each answer in turn (Azurite: 89 % of its
 * ceiling with one, above 100 % with two; docs/BENCHMARKS.md). Each pipeline runs up to
 * --concurrency handlers, so the second loop is only chosen for handlers that run in the
 * loop itself (record), where it hides latency: a blocking handler (work, exec) already
 * overlaps its round trips with its own thread pool, and a second pipeline would double the
 * jobs a pod sized for --concurrency runs at once. With --concurrency 1 (one message at a
 * time: the ScaledJob pod of docs/deploy-aks.md) a second loop would take a second message,
 * so that stays one loop too. Dividing the handlers between pipelines
 * was tried: a pipeline with one handler holds its other leased messages three times as
 * long, and with receives answered 1 s late under a 2 s lease
 * (tests/integration/aws_lease_renewal.sh) leases ran out on a loaded machine. Two loops
 * never take each other's lapsed leases (a backend that answers nothing for longer than a
 * lease): no loop receives while a lease of the process has run out (edw/lease_guard.h). */
static long long default_pipelines(const struct edw_backend *b, const struct edw_handler *h,
                                   long long concurrency)
{
    if (h->blocking || concurrency < 2 || b->queue->pref_pipelines < 2)
        return 1;
    return (long long)b->queue->pref_pipelines;
}

/* Run the pipelines; the first one runs on this thread. Returns the first failure. */
static enum edw_err run_pipelines(struct edw_cli *cli, const struct edw_handler *h,
                                  bool metrics, struct edw_worker_stats *sum,
                                  struct edw_error *err)
{
    size_t n = (size_t)cli->cfg.pipelines;
    struct pipeline *ps = edw_xcalloc(n, sizeof(*ps));
    for (size_t i = 0; i < n; i++) {
        ps[i] = (struct pipeline){
            .cli = cli, .handler = h, .opts = opts_from(cli, h, metrics)};
        if (i > 0 && pthread_create(&ps[i].thread, NULL, pipeline_main, &ps[i]) != 0)
            ps[i].rc = edw_error_set(&ps[i].err, EDW_ERR_FATAL, "cannot start pipeline %zu", i);
    }
    pipeline_main(&ps[0]);
    enum edw_err rc = EDW_OK;
    memset(sum, 0, sizeof(*sum));
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && ps[i].thread)
            pthread_join(ps[i].thread, NULL);
        add_stats(sum, &ps[i].stats);
        if (ps[i].rc && !rc) {
            rc = ps[i].rc;
            *err = ps[i].err;
        }
    }
    free(ps);
    return rc;
}

int edw_cmd_consume(int argc, char **argv)
{
    struct edw_cli cli;
    struct edw_handler *h = NULL;
    struct edw_obs_server *srv = NULL;
    int code = edw_cli_init(&cli, EDW_CMD_CONSUME, "consume", argc, argv);
    if (code >= 0)
        goto out;
    struct edw_error err = {0};
    code = EDW_EXIT_FAIL;
    enum edw_err rc = edw_handler_new(cli.cfg.handler, &h, &err);
    if (rc) {
        edw_cli_fail(&cli, rc, &err);
        code = EDW_EXIT_USAGE;
        goto out;
    }
    if (!edw_cli_obs_start(&cli, &srv)) {
        code = EDW_EXIT_USAGE;
        goto out;
    }
    if (cli.cfg.pipelines == 0)
        cli.cfg.pipelines = default_pipelines(cli.backend, h, cli.cfg.concurrency);
    struct edw_worker_stats st;
    size_t batch = opts_from(&cli, h, false).batch;
    edw_cli_set_shutdown_grace(cli.cfg.shutdown_grace_s);
    /* The network backends name their libcurl build (system or lean), so a log tells which
     * one a deployment runs; the module is loaded already (the backend lives in it). */
    struct edw_error lib_err = {0};
    const char *lib = strcmp(cli.backend->name, "sqlite") != 0
                          ? edw_net_http_library(false, &lib_err) : NULL;
    edw_info("consume",
             "consuming queue %s with handler %s (%lld pipeline(s), concurrency %lld, batch "
             "%zu%s)%s%s",
             cli.cfg.queue_name, h->name, cli.cfg.pipelines, cli.cfg.concurrency, batch,
             cli.cfg.batch == EDW_BATCH_AUTO ? ", auto" : "", lib ? "; HTTP: " : "",
             lib ? lib : "");
    rc = run_pipelines(&cli, h, srv != NULL, &st, &err);
    if (rc)
        edw_cli_fail(&cli, rc, &err);
    else
        code = EDW_EXIT_OK;
    report(&cli, &st, batch);
out:
    /* Served until the pipelines have drained, so scrapes during shutdown see the counters
     * of the work finished in the grace period. */
    edw_obs_server_stop(srv);
    edw_handler_destroy(h);
    edw_cli_cleanup(&cli);
    return code;
}
