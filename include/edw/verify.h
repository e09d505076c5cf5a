/* SPDX-License-Identifier: Apache-2.0 */
/* Verification of a run: which of its messages have a row, which were delivered more than
 * once, and the latency distribution (messageProcessingTime). */
#ifndef EDW_VERIFY_H
#define EDW_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "edw/buf.h"
#include "edw/store.h"

#define EDW_VERIFY_MAX_LISTED 100

struct edw_verify_report {
    char run[64];
    uint64_t expected;
    uint64_t stored;      /* rows for ids 1..expected */
    uint64_t missing;     /* expected - stored */
    uint64_t redelivered; /* stored rows whose message was delivered more than once */
    uint64_t unexpected;  /* rows of this run outside 1..expected */
    char *missing_ids[EDW_VERIFY_MAX_LISTED]; /* owned; the first missing ids */
    size_t n_missing_ids;
    double p50, p95, p99, max; /* seconds */
};

/* Verify run `run_id` (NULL: the last run). `expect` 0 means "what the run sent". Caller
 * owns `out`; release with edw_verify_report_cleanup. */
EDW_NODISCARD enum edw_err edw_verify(struct edw_store *store, const char *run_id,
                                      uint64_t expect, struct edw_verify_report *out,
                                      struct edw_error *err);
void edw_verify_report_cleanup(struct edw_verify_report *r);

/* Nearest-rank percentile `p` (0..1) of `sorted` (ascending, n > 0). */
double edw_percentile(const double *sorted, size_t n, double p);

/* The fields of the report as JSON members (no braces), for --json summaries. */
EDW_NODISCARD enum edw_err edw_verify_report_json(const struct edw_verify_report *r,
                                                  struct edw_buf *out);

#endif
