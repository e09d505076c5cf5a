/* SPDX-License-Identifier: Apache-2.0 */
/* The demo's HTML report: charts drawn as inline SVG polylines, the summary as a table. No
 * scripts, fonts or external references, so it renders offline; written as well-formed XML
 * (XHTML) so it can be checked with an XML parser. Each chart carries its series name in a
 * data-series attribute, and the raw samples are repeated in a table for readers and tests. */
#include <stdio.h>
#include <stdlib.h>

#include "demo.h"
#include "edw/alloc.h"

#define W 760
#define H 180
#define PAD 40

typedef double value_fn(const struct edw_demo_sample *s);

static double v_depth(const struct edw_demo_sample *s)
{
    return (double)s->depth;
}
static double v_replicas(const struct edw_demo_sample *s)
{
    return s->replicas;
}
static double v_rate(const struct edw_demo_sample *s)
{
    return s->rate;
}
static double v_produced(const struct edw_demo_sample *s)
{
    return (double)s->produced;
}
static double v_stored(const struct edw_demo_sample *s)
{
    return (double)s->stored;
}

struct line {
    const char *name;
    const char *color;
    value_fn *value;
};

static enum edw_err chart(struct edw_buf *b, const struct edw_demo_series *s, const char *title,
                          const struct line *lines, size_t nlines)
{
    double tmax = s->n ? s->items[s->n - 1].t : 1, vmax = 1;
    for (size_t k = 0; k < nlines; k++)
        for (size_t i = 0; i < s->n; i++)
            vmax = lines[k].value(&s->items[i]) > vmax ? lines[k].value(&s->items[i]) : vmax;
    if (tmax <= 0)
        tmax = 1;
    enum edw_err err = edw_buf_appendf(
        b,
        "<h2>%s</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
        "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">\n"
        "<rect x=\"%d\" y=\"10\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n"
        "<text x=\"%d\" y=\"20\" font-size=\"11\" text-anchor=\"end\">%.0f</text>\n"
        "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">0</text>\n"
        "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%.0f s</text>\n",
        title, W, H + 30, W, H + 30, title, PAD, W - PAD - 10, H - 10, PAD - 4, vmax, PAD - 4,
        H, W - 50, H + 18, tmax);
    for (size_t k = 0; k < nlines && !err; k++) {
        err = edw_buf_appendf(b,
                              "<polyline data-series=\"%s\" fill=\"none\" stroke=\"%s\" "
                              "stroke-width=\"2\" points=\"",
                              lines[k].name, lines[k].color);
        for (size_t i = 0; i < s->n && !err; i++) {
            double x = PAD + (W - PAD - 10) * s->items[i].t / tmax;
            double y = H - (H - 20) * lines[k].value(&s->items[i]) / vmax;
            err = edw_buf_appendf(b, "%s%.1f,%.1f", i ? " " : "", x, y);
        }
        if (!err)
            err = edw_buf_appendf(b,
                                  "\"/>\n<text x=\"%zu\" y=\"%d\" font-size=\"12\" "
                                  "fill=\"%s\">%s</text>\n",
                                  (size_t)PAD + 10 + k * 160, H + 18, lines[k].color,
                                  lines[k].name);
    }
    return err ? err : edw_buf_append_str(b, "</svg>\n");
}

static enum edw_err summary_table(struct edw_buf *b, const struct edw_demo_summary *sum,
                                  const char *backend)
{
    const struct edw_verify_report *v = &sum->verify;
    return edw_buf_appendf(
        b,
        "<table class=\"summary\">\n"
        "<tr><th>backend</th><td>%s</td></tr>\n<tr><th>run</th><td>%s</td></tr>\n"
        "<tr><th>sent</th><td>%llu</td></tr>\n<tr><th>stored</th><td>%llu</td></tr>\n"
        "<tr><th>missing</th><td>%llu</td></tr>\n<tr><th>redelivered</th><td>%llu</td></tr>\n"
        "<tr><th>latency p50 / p95 / p99 / max</th><td>%.3f / %.3f / %.3f / %.3f s</td></tr>\n"
        "<tr><th>peak replicas</th><td>%u</td></tr>\n<tr><th>final replicas</th><td>%u</td></tr>\n"
        "<tr><th>consumers started / crashed</th><td>%u / %u</td></tr>\n"
        "<tr><th>scale-out / drain / scale-in</th><td>%.1f / %.1f / %.1f s</td></tr>\n"
        "<tr><th>total</th><td>%.1f s</td></tr>\n</table>\n",
        backend, v->run, (unsigned long long)v->expected, (unsigned long long)v->stored,
        (unsigned long long)v->missing, (unsigned long long)v->redelivered, v->p50, v->p95,
        v->p99, v->max, sum->peak_replicas, sum->final_replicas, sum->started, sum->crashed,
        sum->scale_out_s, sum->drain_s, sum->scale_in_s, sum->seconds);
}

static enum edw_err samples_table(struct edw_buf *b, const struct edw_demo_series *s)
{
    enum edw_err err = edw_buf_append_str(
        b, "<details><summary>samples</summary>\n<table class=\"samples\">\n"
           "<tr><th>t (s)</th><th>produced</th><th>depth</th><th>replicas</th><th>stored</th>"
           "<th>msg/s</th></tr>\n");
    for (size_t i = 0; i < s->n && !err; i++) {
        const struct edw_demo_sample *x = &s->items[i];
        err = edw_buf_appendf(b,
                              "<tr><td>%.1f</td><td>%llu</td><td>%llu</td><td>%u</td>"
                              "<td>%llu</td><td>%.0f</td></tr>\n",
                              x->t, (unsigned long long)x->produced,
                              (unsigned long long)x->depth, x->replicas,
                              (unsigned long long)x->stored, x->rate);
    }
    return err ? err : edw_buf_append_str(b, "</table></details>\n");
}

enum edw_err edw_demo_report_write(const char *path, const struct edw_demo_series *series,
                                   const struct edw_demo_summary *sum, const char *backend,
                                   struct edw_error *err)
{
    static const struct line depth[] = {{"depth", "#c0392b", v_depth}};
    static const struct line replicas[] = {{"replicas", "#2c7be5", v_replicas}};
    static const struct line rate[] = {{"throughput", "#27ae60", v_rate}};
    static const struct line totals[] = {{"produced", "#8e44ad", v_produced},
                                         {"stored", "#16a085", v_stored}};
    struct edw_buf b;
    edw_buf_init(&b, 256u << 20);
    enum edw_err rc = edw_buf_appendf(
        &b,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n"
        "<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
        "<meta charset=\"UTF-8\"/>\n<title>edw demo %s</title>\n<style>\n"
        "body{font-family:sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;"
        "text-align:left}\n</style>\n</head>\n<body>\n<h1>edw demo: run %s</h1>\n"
        "<p>Event-driven workflow on the %s backend, consumers scaled with KEDA's rules. %s</p>\n",
        sum->verify.run, sum->verify.run, backend,
        sum->verify.missing ? "Some messages are missing." : "Every message was stored once.");
    if (!rc)
        rc = summary_table(&b, sum, backend);
    if (!rc)
        rc = chart(&b, series, "Queue depth (KEDA's signal)", depth, 1);
    if (!rc)
        rc = chart(&b, series, "Consumer replicas", replicas, 1);
    if (!rc)
        rc = chart(&b, series, "Throughput (rows stored per second)", rate, 1);
    if (!rc)
        rc = chart(&b, series, "Messages produced and stored", totals, 2);
    if (!rc)
        rc = samples_table(&b, series);
    if (!rc)
        rc = edw_buf_append_str(&b, "</body>\n</html>\n");
    if (rc) {
        edw_buf_cleanup(&b);
        return edw_error_set(err, rc, "report too large");
    }
    FILE *fp = fopen(path, "w");
    if (!fp || fwrite(b.ptr, 1, b.len, fp) != b.len) {
        if (fp)
            fclose(fp);
        edw_buf_cleanup(&b);
        return edw_error_set(err, EDW_ERR_INVALID, "cannot write report %s", path);
    }
    rc = fclose(fp) == 0 ? EDW_OK : edw_error_set(err, EDW_ERR_INVALID, "cannot write %s", path);
    edw_buf_cleanup(&b);
    return rc;
}

void edw_demo_series_add(struct edw_demo_series *s, const struct edw_demo_sample *sample)
{
    s->items = edw_xgrow(s->items, &s->cap, s->n + 1, sizeof(*s->items));
    s->items[s->n++] = *sample;
}

void edw_demo_series_cleanup(struct edw_demo_series *s)
{
    free(s->items);
    s->items = NULL;
    s->n = s->cap = 0;
}
