/* SPDX-License-Identifier: Apache-2.0 */
/* Live progress of the demo. On a terminal the block is redrawn in place (cursor up, clear
 * line); otherwise each call prints one line, so logs and CI output stay readable. */
#include <string.h>

#include "demo.h"

#define BLOCK_LINES 6

static void bar(FILE *out, unsigned n)
{
    for (unsigned i = 0; i < n && i < 40; i++)
        fputs("#", out);
}

void edw_demo_progress(FILE *out, bool tty, const char *run, const char *phase,
                       uint64_t total, const struct edw_demo_sample *s, unsigned peak,
                       bool first)
{
    if (!tty) {
        fprintf(out,
                "t=%.1fs produced=%llu/%llu depth=%llu replicas=%u stored=%llu rate=%.0f/s "
                "p50=%.3fs p99=%.3fs phase=%s\n",
                s->t, (unsigned long long)s->produced, (unsigned long long)total,
                (unsigned long long)s->depth, s->replicas, (unsigned long long)s->stored,
                s->rate, s->p50, s->p99, phase);
        fflush(out);
        return;
    }
    if (!first)
        fprintf(out, "\033[%dA", BLOCK_LINES);
    fprintf(out, "\033[K edw demo  run %s  elapsed %.1f s  [%s]\n", run, s->t, phase);
    fprintf(out, "\033[K  produced   %llu / %llu\n", (unsigned long long)s->produced,
            (unsigned long long)total);
    fprintf(out, "\033[K  queue      %llu (KEDA's signal), %llu poisoned\n",
            (unsigned long long)s->depth, (unsigned long long)s->poison);
    fprintf(out, "\033[K  replicas   %2u (peak %u)  ", s->replicas, peak);
    bar(out, s->replicas);
    fputs("\n", out);
    fprintf(out, "\033[K  stored     %llu rows, %.0f msg/s\n", (unsigned long long)s->stored,
            s->rate);
    fprintf(out, "\033[K  latency    p50 %.3f s  p99 %.3f s\n", s->p50, s->p99);
    fflush(out);
}

void edw_demo_print_summary(FILE *out, const struct edw_demo_summary *sum)
{
    const struct edw_verify_report *v = &sum->verify;
    fprintf(out, "\nrun %s: sent %llu, stored %llu, missing %llu, redelivered %llu\n", v->run,
            (unsigned long long)v->expected, (unsigned long long)v->stored,
            (unsigned long long)v->missing, (unsigned long long)v->redelivered);
    fprintf(out, "  latency     p50 %.3f s, p95 %.3f s, p99 %.3f s, max %.3f s\n", v->p50,
            v->p95, v->p99, v->max);
    fprintf(out, "  replicas    peak %u, final %u; %u consumer processes started, %u crashed\n",
            sum->peak_replicas, sum->final_replicas, sum->started, sum->crashed);
    fprintf(out, "  timing      total %.1f s; scale-out %.1f s; drain %.1f s; scale-in %.1f s\n",
            sum->seconds, sum->scale_out_s, sum->drain_s, sum->scale_in_s);
    for (size_t i = 0; i < v->n_missing_ids; i++)
        fprintf(out, "  missing: %s\n", v->missing_ids[i]);
    fprintf(out, "%s\n", v->missing ? "RESULT: messages are missing"
                                    : "RESULT: every message stored exactly once");
}

enum edw_err edw_demo_summary_json(const struct edw_demo_summary *sum, struct edw_buf *out)
{
    enum edw_err err = edw_verify_report_json(&sum->verify, out);
    if (!err)
        err = edw_buf_appendf(out,
                              ",\"peak_replicas\":%u,\"final_replicas\":%u,\"seconds\":%.3f,"
                              "\"scale_out_s\":%.3f,\"scale_in_s\":%.3f,\"drain_s\":%.3f,"
                              "\"consumers_started\":%u,\"consumers_crashed\":%u",
                              sum->peak_replicas, sum->final_replicas, sum->seconds,
                              sum->scale_out_s, sum->scale_in_s, sum->drain_s, sum->started,
                              sum->crashed);
    return err;
}
