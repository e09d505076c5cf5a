/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "cli.h"
#include "edw/verify.h"

void edw_cli_print_report(const struct edw_verify_report *r)
{
    printf("run %s: expected %llu, stored %llu, missing %llu, redelivered %llu\n", r->run,
           (unsigned long long)r->expected, (unsigned long long)r->stored,
           (unsigned long long)r->missing, (unsigned long long)r->redelivered);
    if (r->unexpected)
        printf("  %llu rows beyond the expected ids (producer record behind?)\n",
               (unsigned long long)r->unexpected);
    printf("  latency (messageProcessingTime): p50 %.3f s, p95 %.3f s, p99 %.3f s, max %.3f s\n",
           r->p50, r->p95, r->p99, r->max);
    for (size_t i = 0; i < r->n_missing_ids; i++)
        printf("  missing: %s\n", r->missing_ids[i]);
    if (r->missing > r->n_missing_ids)
        printf("  ... and %llu more\n", (unsigned long long)(r->missing - r->n_missing_ids));
}

int edw_cmd_verify(int argc, char **argv)
{
    struct edw_cli cli;
    int code = edw_cli_init(&cli, EDW_CMD_VERIFY, "verify", argc, argv);
    if (code >= 0)
        goto out;
    struct edw_store *s = NULL;
    code = EDW_EXIT_FAIL;
    if (!edw_cli_open_store(&cli, &s))
        goto close;
    struct edw_verify_report r;
    struct edw_error err = {0};
    enum edw_err rc = edw_verify(s, cli.cfg.run, (uint64_t)cli.cfg.expect, &r, &err);
    if (rc) {
        edw_cli_fail(&cli, rc, &err);
        goto close;
    }
    edw_cli_print_report(&r);
    code = r.missing ? EDW_EXIT_FAIL : EDW_EXIT_OK;
    struct edw_buf j;
    edw_buf_init(&j, 1 << 20);
    if (edw_buf_append_str(&j, "{") == EDW_OK && edw_verify_report_json(&r, &j) == EDW_OK &&
        edw_buf_append_str(&j, "}") == EDW_OK)
        edw_cli_json(&cli, &j);
    edw_buf_cleanup(&j);
    edw_verify_report_cleanup(&r);
close:
    edw_store_close(s);
out:
    edw_cli_cleanup(&cli);
    return code;
}
