/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "cli.h"
#include "edw/batch.h"
#include "edw/health.h"
#include "edw/producer.h"

int edw_cmd_produce(int argc, char **argv)
{
    struct edw_cli cli;
    struct edw_obs_server *srv = NULL;
    int code = edw_cli_init(&cli, EDW_CMD_PRODUCE, "produce", argc, argv);
    if (code >= 0)
        goto out;
    struct edw_queue *q = NULL;
    struct edw_store *s = NULL;
    code = EDW_EXIT_FAIL;
    if (!edw_cli_obs_start(&cli, &srv)) {
        code = EDW_EXIT_USAGE;
        goto close;
    }
    if (!edw_cli_open_queue(&cli, &q) || !edw_cli_open_store(&cli, &s))
        goto close;
    const struct edw_config *c = &cli.cfg;
    struct edw_producer_opts opts = {
        .count = (uint64_t)c->count,
        .duration_us = (int64_t)(c->duration_s * 1e6),
        .rate = c->rate,
        .batch = edw_batch_send(cli.backend->queue, c->batch),
        .body_bytes = (size_t)c->body_bytes,
    };
    struct edw_producer_deps deps = {q, s, cli.deps.clock, edw_cli_stop_requested, NULL};
    struct edw_producer_stats st;
    struct edw_error err = {0};
    enum edw_err rc = edw_producer_run(&deps, &opts, &st, &err);
    double rate = st.seconds > 0 ? (double)st.sent / st.seconds : 0;
    if (rc)
        edw_cli_fail(&cli, rc, &err);
    else
        code = EDW_EXIT_OK;
    printf("run %s: sent %llu messages in %.2f s (%.0f msg/s)\n", st.run,
           (unsigned long long)st.sent, st.seconds, rate);
    struct edw_buf j;
    edw_buf_init(&j, 4096);
    if (edw_buf_appendf(&j,
                        "{\"run\":\"%s\",\"sent\":%llu,\"seconds\":%.3f,\"rate\":%.1f,"
                        "\"batch\":%zu}",
                        st.run, (unsigned long long)st.sent, st.seconds, rate,
                        opts.batch) == EDW_OK)
        edw_cli_json(&cli, &j);
    edw_buf_cleanup(&j);
close:
    edw_queue_close(q);
    edw_store_close(s);
out:
    edw_obs_server_stop(srv);
    edw_cli_cleanup(&cli);
    return code;
}
