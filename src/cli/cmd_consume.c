/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "cli.h"
#include "edw/handler.h"
#include "edw/log.h"
#include "edw/worker.h"

static struct edw_worker_opts opts_from(const struct edw_config *c)
{
    struct edw_worker_opts o = {
        .concurrency = (size_t)c->concurrency,
        .batch = (size_t)c->batch,
        .visibility_s = (unsigned)c->visibility_s,
        .max_dequeue = (unsigned)c->max_dequeue,
        .retry_delay_s = (unsigned)c->retry_delay_s,
        .max_body_bytes = (size_t)c->max_body_bytes,
        .exit_when_idle_us = (int64_t)(c->exit_when_idle_s * 1e6),
        .shutdown_grace_us = (int64_t)(c->shutdown_grace_s * 1e6),
        .poll_max_us = (int64_t)c->poll_max_ms * 1000,
    };
    return o;
}

static void report(const struct edw_cli *cli, const struct edw_worker_stats *st)
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
                        "\"released\":%llu,\"backend_errors\":%llu}",
                        (unsigned long long)st->processed, (unsigned long long)st->poisoned,
                        (unsigned long long)st->failed, st->seconds, rate,
                        (unsigned long long)st->received, (unsigned long long)st->lost_leases,
                        (unsigned long long)st->extended, (unsigned long long)st->released,
                        (unsigned long long)st->backend_errors) == EDW_OK)
        edw_cli_json(cli, &j);
    edw_buf_cleanup(&j);
}

int edw_cmd_consume(int argc, char **argv)
{
    struct edw_cli cli;
    int code = edw_cli_init(&cli, EDW_CMD_CONSUME, "consume", argc, argv);
    if (code >= 0)
        goto out;
    struct edw_queue *q = NULL;
    struct edw_store *s = NULL;
    struct edw_handler *h = NULL;
    struct edw_error err = {0};
    code = EDW_EXIT_FAIL;
    enum edw_err rc = edw_handler_new(cli.cfg.handler, &h, &err);
    if (rc) {
        edw_cli_fail(&cli, rc, &err);
        code = EDW_EXIT_USAGE;
        goto close;
    }
    if (!edw_cli_open_queue(&cli, &q) || !edw_cli_open_store(&cli, &s))
        goto close;
    struct edw_worker_opts opts = opts_from(&cli.cfg);
    struct edw_worker_deps deps = {q, s, h, cli.deps.clock, edw_cli_stop_requested, NULL};
    struct edw_worker_stats st;
    edw_info("consume", "consuming queue %s with handler %s (concurrency %zu, batch %zu)",
             cli.cfg.queue_name, h->name, opts.concurrency, opts.batch);
    rc = edw_worker_run(&deps, &opts, &st, &err);
    if (rc)
        edw_cli_fail(&cli, rc, &err);
    else
        code = EDW_EXIT_OK;
    report(&cli, &st);
close:
    edw_handler_destroy(h);
    edw_queue_close(q);
    edw_store_close(s);
out:
    edw_cli_cleanup(&cli);
    return code;
}
