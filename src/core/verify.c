/* SPDX-License-Identifier: Apache-2.0 */
#include "edw/verify.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"

struct scan {
    size_t prefix_len;
    uint64_t expected;
    unsigned char *seen; /* bitmap over seqs 1..expected */
    double *times;
    size_t ntimes, cap;
    struct edw_verify_report *out;
};

/* Keys are "<run>-<seq>" with seq a decimal number without leading zeros. */
static bool parse_seq(const char *s, uint64_t *seq)
{
    if (*s < '1' || *s > '9')
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *seq = v;
    return true;
}

static bool on_row(void *ctx, const struct edw_row *row)
{
    struct scan *sc = ctx;
    uint64_t seq;
    if (!parse_seq(row->key + sc->prefix_len, &seq) || seq > sc->expected ||
        (sc->seen[(seq - 1) / 8] & (1u << ((seq - 1) % 8)))) {
        sc->out->unexpected++;
        return true;
    }
    sc->seen[(seq - 1) / 8] |= (unsigned char)(1u << ((seq - 1) % 8));
    sc->out->stored++;
    if (row->dequeue_count > 1)
        sc->out->redelivered++;
    sc->times = edw_xgrow(sc->times, &sc->cap, sc->ntimes + 1, sizeof(double));
    sc->times[sc->ntimes++] = row->processing_s;
    return true;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double edw_percentile(const double *sorted, size_t n, double p)
{
    size_t rank = (size_t)ceil(p * (double)n);
    return sorted[rank > 0 ? rank - 1 : 0];
}

static void summarise(struct scan *sc)
{
    struct edw_verify_report *r = sc->out;
    r->missing = sc->expected - r->stored;
    for (uint64_t seq = 1; seq <= sc->expected && r->n_missing_ids < EDW_VERIFY_MAX_LISTED;
         seq++) {
        if (!(sc->seen[(seq - 1) / 8] & (1u << ((seq - 1) % 8))))
            r->missing_ids[r->n_missing_ids++] =
                edw_xasprintf("%s-%llu", r->run, (unsigned long long)seq);
    }
    if (sc->ntimes) {
        qsort(sc->times, sc->ntimes, sizeof(double), cmp_double);
        r->p50 = edw_percentile(sc->times, sc->ntimes, 0.50);
        r->p95 = edw_percentile(sc->times, sc->ntimes, 0.95);
        r->p99 = edw_percentile(sc->times, sc->ntimes, 0.99);
        r->max = sc->times[sc->ntimes - 1];
    }
}

enum edw_err edw_verify(struct edw_store *store, const char *run_id, uint64_t expect,
                        struct edw_verify_report *out, struct edw_error *err)
{
    memset(out, 0, sizeof(*out));
    struct edw_run run;
    enum edw_err rc = edw_store_run_load(store, run_id, &run, err);
    if (rc)
        return rc;
    snprintf(out->run, sizeof(out->run), "%s", run.id);
    out->expected = expect ? expect : run.sent;
    char prefix[80];
    snprintf(prefix, sizeof(prefix), "%s-", run.id);
    struct scan sc = {.prefix_len = strlen(prefix), .expected = out->expected, .out = out};
    sc.seen = edw_xcalloc((size_t)(out->expected / 8 + 1), 1);
    rc = edw_store_scan(store, prefix, on_row, &sc, err);
    if (!rc)
        summarise(&sc);
    free(sc.seen);
    free(sc.times);
    return rc;
}

void edw_verify_report_cleanup(struct edw_verify_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_missing_ids; i++)
        free(r->missing_ids[i]);
    r->n_missing_ids = 0;
}

enum edw_err edw_verify_report_json(const struct edw_verify_report *r, struct edw_buf *out)
{
    enum edw_err err = edw_buf_appendf(
        out,
        "\"run\":\"%s\",\"expected\":%llu,\"stored\":%llu,\"missing\":%llu,"
        "\"redelivered\":%llu,\"unexpected\":%llu,\"missing_ids\":[",
        r->run, (unsigned long long)r->expected, (unsigned long long)r->stored,
        (unsigned long long)r->missing, (unsigned long long)r->redelivered,
        (unsigned long long)r->unexpected);
    for (size_t i = 0; i < r->n_missing_ids && !err; i++)
        err = edw_buf_appendf(out, "%s\"%s\"", i ? "," : "", r->missing_ids[i]);
    if (!err)
        err = edw_buf_appendf(out,
                              "],\"latency_s\":{\"p50\":%.6f,\"p95\":%.6f,\"p99\":%.6f,"
                              "\"max\":%.6f}",
                              r->p50, r->p95, r->p99, r->max);
    return err;
}
