/* SPDX-License-Identifier: Apache-2.0 */
/* Pieces of `edw demo` shared by its files: the sampled time series, the summary, the load
 * profile, live progress and the HTML report. */
#ifndef EDW_DEMO_H
#define EDW_DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "edw/buf.h"
#include "edw/err.h"
#include "edw/verify.h"

/* One poll of the supervisor. */
struct edw_demo_sample {
    double t;          /* seconds since the demo started */
    uint64_t produced; /* messages the producer has sent */
    uint64_t depth;    /* visible + leased: what KEDA sees */
    uint64_t poison;
    uint64_t stored;   /* rows of this run */
    unsigned replicas; /* running consumers (terminating ones excluded) */
    double rate;       /* rows stored per second since the previous sample */
    double p50, p99;   /* latency of the rows stored so far, seconds */
};

struct edw_demo_series {
    struct edw_demo_sample *items;
    size_t n, cap;
};

void edw_demo_series_add(struct edw_demo_series *s, const struct edw_demo_sample *sample);
void edw_demo_series_cleanup(struct edw_demo_series *s);

struct edw_demo_summary {
    struct edw_verify_report verify;
    unsigned peak_replicas, final_replicas;
    unsigned started, crashed; /* consumer processes started, and died unasked */
    double seconds;     /* whole demo */
    double scale_out_s; /* first message seen -> peak replicas */
    double drain_s;     /* producer finished -> queue empty */
    double scale_in_s;  /* queue empty -> back at min replicas */
};

/* The default load profile: a ramp from a tenth to half of `peak_rate` over `ramp_s`, then a
 * burst at `peak_rate` until the message count is reached; the pause after it lets KEDA's
 * cooldown take the consumers back to zero. */
struct edw_demo_profile {
    double peak_rate;
    double ramp_s;
};

double edw_demo_profile_rate(void *ctx, double elapsed_s);
const char *edw_demo_profile_phase(const struct edw_demo_profile *p, double elapsed_s,
                                   bool producing);

/* Live progress: an updating block on a terminal, one plain line per call otherwise. */
void edw_demo_progress(FILE *out, bool tty, const char *run, const char *phase,
                       uint64_t total, const struct edw_demo_sample *s, unsigned peak,
                       bool first);

/* The summary as readable text, and as JSON members (no braces). */
void edw_demo_print_summary(FILE *out, const struct edw_demo_summary *sum);
EDW_NODISCARD enum edw_err edw_demo_summary_json(const struct edw_demo_summary *sum,
                                                 struct edw_buf *out);

/* A self-contained HTML page (inline SVG, no scripts, fonts or network) with the series as
 * charts and the summary as a table. It is also well-formed XML, so tools can check it. */
EDW_NODISCARD enum edw_err edw_demo_report_write(const char *path,
                                                 const struct edw_demo_series *series,
                                                 const struct edw_demo_summary *sum,
                                                 const char *backend, struct edw_error *err);

#endif
