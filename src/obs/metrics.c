/* SPDX-License-Identifier: Apache-2.0 */
/* Process-wide metrics in atomic fields, rendered to the Prometheus text format.
 *
 * Recording is a handful of relaxed atomic adds: no locks on the message path. Backends get a
 * slot each, found by name; their series are printed only once used, so a sqlite-only run
 * does not list eighteen operations of zeros. Message counters with small fixed label sets
 * are always printed, so dashboards see zeros rather than gaps. */
#include "edw/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef EDW_VERSION
#define EDW_VERSION "unknown"
#endif

#define MAX_BACKENDS 8
#define NRESULTS 9 /* enum edw_err values, then "other" */
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const s_op_names[EDW_OP_N] = {
    [EDW_OP_CREATE_QUEUE] = "create_queue",
    [EDW_OP_SEND] = "send",
    [EDW_OP_RECEIVE] = "receive",
    [EDW_OP_ACK] = "ack",
    [EDW_OP_EXTEND] = "extend",
    [EDW_OP_POISON] = "poison",
    [EDW_OP_DEPTH] = "depth",
    [EDW_OP_PEEK] = "peek",
    [EDW_OP_CLEAR] = "clear",
    [EDW_OP_TRANSACTION] = "transaction",
    [EDW_OP_CREATE_TABLE] = "create_table",
    [EDW_OP_UPSERT] = "upsert",
    [EDW_OP_GET] = "get",
    [EDW_OP_SCAN] = "scan",
    [EDW_OP_COUNT] = "count",
    [EDW_OP_RUN_SAVE] = "run_save",
    [EDW_OP_RUN_LOAD] = "run_load",
    [EDW_OP_TOKEN] = "token",
};

static const char *const s_results[NRESULTS] = {
    [EDW_OK] = "ok",
    [EDW_ERR_INVALID] = "invalid",
    [EDW_ERR_TRANSIENT] = "transient",
    [EDW_ERR_THROTTLED] = "throttled",
    [EDW_ERR_AUTH] = "auth",
    [EDW_ERR_NOT_FOUND] = "not_found",
    [EDW_ERR_CONFLICT] = "conflict",
    [EDW_ERR_FATAL] = "fatal",
    [NRESULTS - 1] = "other",
};

static const char *const s_outcomes[] = {"stored", "poisoned", "failed"};
enum { OUTCOME_STORED, OUTCOME_POISONED, OUTCOME_FAILED };

static const char *const s_poison_reasons[EDW_POISON_N] = {
    [EDW_POISON_MAX_DEQUEUE] = "max_dequeue",
    [EDW_POISON_TOO_LARGE] = "too_large",
    [EDW_POISON_INVALID_BODY] = "invalid_body",
    [EDW_POISON_HANDLER] = "handler_failed",
    [EDW_POISON_STORE_REJECTED] = "store_rejected",
};

/* Backend calls: 100 us (a local SQLite commit) to 30 s (a slow cloud call with retries). */
static const double s_backend_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                          0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                          1,      2.5,     5,      10,    30};
/* Receive to ack: handlers range from a record (sub-millisecond) to minutes of work. */
static const double s_processing_bounds[] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900};
/* srcStamp to row: includes time spent waiting in the queue, so up to hours of backlog. */
static const double s_latency_bounds[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,    2.5,  5,
                                          10,   30,    60,   120, 300,  600, 1800, 3600, 7200};

struct backend_slot {
    _Atomic(const char *) name; /* NULL until claimed; never changes afterwards */
    _Atomic uint64_t requests[EDW_OP_N][NRESULTS];
    _Atomic uint64_t retries[EDW_OP_N][NRESULTS];
    struct edw_histogram duration[EDW_OP_N];
    _Atomic int64_t last_ok_us[EDW_OP_N];
    _Atomic int64_t last_fail_us[EDW_OP_N];
    _Atomic int last_fail_err[EDW_OP_N];
};

struct registry {
    _Atomic uint64_t received;
    _Atomic uint64_t outcomes[ARRAY_LEN(s_outcomes)];
    _Atomic uint64_t poisoned[EDW_POISON_N];
    _Atomic int64_t in_flight;
    struct edw_histogram processing;
    struct edw_histogram latency;
    _Atomic uint64_t extended, lost, released;
    _Atomic uint64_t tokens[2]; /* ok, error */
    _Atomic uint64_t sent;
    _Atomic int64_t depth_next_us;
    struct backend_slot backends[MAX_BACKENDS + 1]; /* the last one collects overflow */
};

static struct registry s_m;
/* The queue depth is a set of values with a name: written every few seconds, under a lock. */
static pthread_mutex_t s_depth_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    bool known;
    char queue[256];
    uint64_t visible, in_flight, poison;
} s_depth;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void set_bounds(struct edw_histogram *h, const double *bounds, size_t n)
{
    h->bounds = bounds;
    h->nbounds = n;
}

static void init_bounds(void)
{
    set_bounds(&s_m.processing, s_processing_bounds, ARRAY_LEN(s_processing_bounds));
    set_bounds(&s_m.latency, s_latency_bounds, ARRAY_LEN(s_latency_bounds));
    for (size_t b = 0; b <= MAX_BACKENDS; b++)
        for (size_t op = 0; op < EDW_OP_N; op++)
            set_bounds(&s_m.backends[b].duration[op], s_backend_bounds,
                       ARRAY_LEN(s_backend_bounds));
}

static void ensure_init(void)
{
    pthread_once(&s_once, init_bounds);
}

const char *edw_op_name(enum edw_op op)
{
    return (unsigned)op < EDW_OP_N ? s_op_names[op] : "unknown";
}

static size_t result_index(enum edw_err rc)
{
    return (unsigned)rc < NRESULTS - 1 ? (size_t)rc : NRESULTS - 1;
}

static void add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(const _Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

void edw_histogram_observe(struct edw_histogram *h, double value)
{
    if (!(value > 0)) /* negative and NaN: clock skew, count as 0 */
        value = 0;
    size_t i = 0;
    while (i < h->nbounds && value > h->bounds[i])
        i++;
    add(&h->counts[i], 1);
    double ns = value * 1e9 + 0.5;
    add(&h->sum_ns, ns < 1e18 ? (uint64_t)ns : (uint64_t)1e18); /* 31 years per observation */
}

/* ---- recording ----------------------------------------------------------------------- */

void edw_metrics_received(uint64_t n)
{
    add(&s_m.received, n);
}

void edw_metrics_stored(double processing_s, double latency_s)
{
    ensure_init();
    add(&s_m.outcomes[OUTCOME_STORED], 1);
    edw_histogram_observe(&s_m.processing, processing_s);
    edw_histogram_observe(&s_m.latency, latency_s);
}

void edw_metrics_poisoned(enum edw_poison_reason reason)
{
    add(&s_m.outcomes[OUTCOME_POISONED], 1);
    add(&s_m.poisoned[(unsigned)reason < EDW_POISON_N ? reason : EDW_POISON_INVALID_BODY], 1);
}

void edw_metrics_handler_failed(void)
{
    add(&s_m.outcomes[OUTCOME_FAILED], 1);
}

void edw_metrics_in_flight_add(int64_t delta)
{
    atomic_fetch_add_explicit(&s_m.in_flight, delta, memory_order_relaxed);
}

void edw_metrics_lease_extended(uint64_t n)
{
    add(&s_m.extended, n);
}

void edw_metrics_lease_lost(uint64_t n)
{
    add(&s_m.lost, n);
}

void edw_metrics_lease_released(uint64_t n)
{
    add(&s_m.released, n);
}

void edw_metrics_token_refresh(bool ok)
{
    add(&s_m.tokens[ok ? 0 : 1], 1);
}

void edw_metrics_producer_sent(uint64_t n)
{
    add(&s_m.sent, n);
}

/* The slot of backend `name`, claimed on first use. Names are the backends' static strings,
 * so the pointer can be kept; comparing by content also merges equal names. */
static struct backend_slot *slot_for(const char *name)
{
    for (size_t i = 0; i < MAX_BACKENDS; i++) {
        struct backend_slot *s = &s_m.backends[i];
        const char *cur = atomic_load(&s->name);
        if (!cur) {
            const char *expected = NULL;
            if (atomic_compare_exchange_strong(&s->name, &expected, name))
                return s;
            cur = expected; /* another thread claimed it first */
        }
        if (cur == name || strcmp(cur, name) == 0)
            return s;
    }
    return &s_m.backends[MAX_BACKENDS];
}

/* NOT_FOUND and CONFLICT are the service answering: the backend is reachable. */
static bool is_outage(enum edw_err rc)
{
    return rc != EDW_OK && rc != EDW_ERR_NOT_FOUND && rc != EDW_ERR_CONFLICT;
}

void edw_metrics_backend_call(const char *backend, enum edw_op op, enum edw_err rc,
                              int64_t duration_us, int64_t now_us)
{
    if ((unsigned)op >= EDW_OP_N)
        return;
    ensure_init();
    struct backend_slot *s = slot_for(backend ? backend : "unknown");
    add(&s->requests[op][result_index(rc)], 1);
    edw_histogram_observe(&s->duration[op], (double)duration_us / 1e6);
    if (is_outage(rc)) {
        atomic_store(&s->last_fail_err[op], (int)rc);
        atomic_store(&s->last_fail_us[op], now_us);
    } else {
        atomic_store(&s->last_ok_us[op], now_us);
    }
}

void edw_metrics_backend_retry(const char *backend, enum edw_op op, enum edw_err reason)
{
    if ((unsigned)op >= EDW_OP_N)
        return;
    ensure_init();
    add(&slot_for(backend ? backend : "unknown")->retries[op][result_index(reason)], 1);
}

void edw_metrics_queue_depth(const char *queue, uint64_t visible, uint64_t in_flight,
                             uint64_t poison)
{
    pthread_mutex_lock(&s_depth_lock);
    s_depth.known = true;
    snprintf(s_depth.queue, sizeof(s_depth.queue), "%s", queue ? queue : "");
    s_depth.visible = visible;
    s_depth.in_flight = in_flight;
    s_depth.poison = poison;
    pthread_mutex_unlock(&s_depth_lock);
}

bool edw_metrics_depth_due(int64_t now_us, int64_t interval_us)
{
    int64_t next = atomic_load(&s_m.depth_next_us);
    if (next != 0 && now_us < next)
        return false;
    return atomic_compare_exchange_strong(&s_m.depth_next_us, &next, now_us + interval_us);
}

void edw_metrics_backend_status(int64_t now_us, int64_t window_us, struct edw_backend_status *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t b = 0; b <= MAX_BACKENDS; b++) {
        struct backend_slot *s = &s_m.backends[b];
        for (size_t op = 0; op < EDW_OP_N; op++) {
            int64_t ok = atomic_load(&s->last_ok_us[op]);
            int64_t failed = atomic_load(&s->last_fail_us[op]);
            out->any_ok |= ok != 0;
            if (out->failing || failed == 0 || failed < ok || now_us - failed >= window_us)
                continue;
            const char *name = atomic_load(&s->name);
            out->failing = true;
            out->backend = name ? name : "other";
            out->op = (enum edw_op)op;
            out->err = (enum edw_err)atomic_load(&s->last_fail_err[op]);
            out->failed_ago_us = now_us - failed;
        }
    }
}

void edw_metrics_reset(void)
{
    ensure_init();
    memset(&s_m, 0, sizeof(s_m));
    init_bounds();
    pthread_mutex_lock(&s_depth_lock);
    memset(&s_depth, 0, sizeof(s_depth));
    pthread_mutex_unlock(&s_depth_lock);
}

/* ---- exposition format --------------------------------------------------------------- */

/* Shortest of %.15g/%.17g that reads back as the same double; +Inf/-Inf/NaN spelled as
 * Prometheus does. */
static enum edw_err append_double(struct edw_buf *out, double v)
{
    if (isnan(v))
        return edw_buf_append_str(out, "NaN");
    if (isinf(v))
        return edw_buf_append_str(out, v > 0 ? "+Inf" : "-Inf");
    char text[40];
    snprintf(text, sizeof(text), "%.15g", v);
    if (strtod(text, NULL) != v)
        snprintf(text, sizeof(text), "%.17g", v);
    return edw_buf_append_str(out, text);
}

/* Label values escape backslash, double quote and newline; HELP text only the first and
 * last (the exposition format's rules). */
static enum edw_err append_escaped(struct edw_buf *out, const char *s, bool quotes)
{
    enum edw_err err = EDW_OK;
    size_t run = 0;
    for (const char *p = s;; p++) {
        const char *esc = *p == '\\'            ? "\\\\"
                          : *p == '\n'          ? "\\n"
                          : quotes && *p == '"' ? "\\\""
                                                : NULL;
        if (!esc && *p) {
            run++;
            continue;
        }
        err = edw_buf_append(out, p - run, run);
        run = 0;
        if (!err && esc)
            err = edw_buf_append_str(out, esc);
        if (err || !*p)
            return err;
    }
}

enum edw_err edw_prom_family(struct edw_buf *out, const char *name, const char *type,
                             const char *help)
{
    enum edw_err err = edw_buf_appendf(out, "# HELP %s ", name);
    if (!err)
        err = append_escaped(out, help, false);
    if (!err)
        err = edw_buf_appendf(out, "\n# TYPE %s %s\n", name, type);
    return err;
}

/* name{a="x",b="y"} with an optional extra label (the histogram's `le`). */
static enum edw_err append_series(struct edw_buf *out, const char *name, const char *suffix,
                                  const struct edw_label *labels, size_t n,
                                  const struct edw_label *extra)
{
    enum edw_err err = edw_buf_appendf(out, "%s%s", name, suffix);
    size_t total = n + (extra != NULL);
    for (size_t i = 0; i < total && !err; i++) {
        const struct edw_label *l = i < n ? &labels[i] : extra;
        err = edw_buf_appendf(out, "%s%s=\"", i == 0 ? "{" : ",", l->name);
        if (!err)
            err = append_escaped(out, l->value ? l->value : "", true);
        if (!err)
            err = edw_buf_append_str(out, "\"");
    }
    if (!err && total > 0)
        err = edw_buf_append_str(out, "}");
    return err ? err : edw_buf_append_str(out, " ");
}

enum edw_err edw_prom_sample_u64(struct edw_buf *out, const char *name,
                                 const struct edw_label *labels, size_t nlabels, uint64_t value)
{
    enum edw_err err = append_series(out, name, "", labels, nlabels, NULL);
    return err ? err : edw_buf_appendf(out, "%llu\n", (unsigned long long)value);
}

enum edw_err edw_prom_sample_f64(struct edw_buf *out, const char *name,
                                 const struct edw_label *labels, size_t nlabels, double value)
{
    enum edw_err err = append_series(out, name, "", labels, nlabels, NULL);
    if (!err)
        err = append_double(out, value);
    return err ? err : edw_buf_append_str(out, "\n");
}

enum edw_err edw_prom_histogram(struct edw_buf *out, const char *name,
                                const struct edw_label *labels, size_t nlabels,
                                const struct edw_histogram *h)
{
    enum edw_err err = EDW_OK;
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= h->nbounds && !err; i++) {
        char le[40] = "+Inf";
        if (i < h->nbounds)
            snprintf(le, sizeof(le), "%.15g", h->bounds[i]);
        cumulative += get(&h->counts[i]);
        struct edw_label l = {"le", le};
        err = append_series(out, name, "_bucket", labels, nlabels, &l);
        if (!err)
            err = edw_buf_appendf(out, "%llu\n", (unsigned long long)cumulative);
    }
    if (!err)
        err = append_series(out, name, "_sum", labels, nlabels, NULL);
    if (!err)
        err = append_double(out, (double)get(&h->sum_ns) / 1e9);
    if (!err)
        err = edw_buf_append_str(out, "\n");
    if (!err)
        err = append_series(out, name, "_count", labels, nlabels, NULL);
    return err ? err : edw_buf_appendf(out, "%llu\n", (unsigned long long)cumulative);
}

/* ---- the registry as text ------------------------------------------------------------ */

static enum edw_err counter(struct edw_buf *out, const char *name, const char *help,
                            const _Atomic uint64_t *value)
{
    enum edw_err err = edw_prom_family(out, name, "counter", help);
    return err ? err : edw_prom_sample_u64(out, name, NULL, 0, get(value));
}

/* A counter family with one label over a fixed list of values. */
static enum edw_err labelled_counter(struct edw_buf *out, const char *name, const char *help,
                                     const char *label, const char *const *values,
                                     const _Atomic uint64_t *counts, size_t n)
{
    enum edw_err err = edw_prom_family(out, name, "counter", help);
    for (size_t i = 0; i < n && !err; i++) {
        struct edw_label l = {label, values[i]};
        err = edw_prom_sample_u64(out, name, &l, 1, get(&counts[i]));
    }
    return err;
}

static enum edw_err render_messages(struct edw_buf *out)
{
    struct edw_label version = {"version", EDW_VERSION};
    enum edw_err err = edw_prom_family(out, "edw_build_info", "gauge",
                                       "Always 1; the labels say which edw build is running.");
    if (!err)
        err = edw_prom_sample_u64(out, "edw_build_info", &version, 1, 1);
    if (!err)
        err = counter(out, "edw_messages_received_total",
                      "Messages leased from the queue, redeliveries included.", &s_m.received);
    if (!err)
        err = labelled_counter(out, "edw_messages_processed_total",
                               "Processing attempts by outcome: stored (row written, message "
                               "acked), poisoned, or failed (handler error; retried later).",
                               "outcome", s_outcomes, s_m.outcomes, ARRAY_LEN(s_outcomes));
    if (!err)
        err = labelled_counter(out, "edw_messages_poisoned_total",
                               "Messages moved to the poison queue, by reason.", "reason",
                               s_poison_reasons, s_m.poisoned, EDW_POISON_N);
    if (!err)
        err = edw_prom_family(out, "edw_messages_in_flight", "gauge",
                              "Messages this process holds a lease on.");
    if (!err)
        err = edw_prom_sample_f64(out, "edw_messages_in_flight", NULL, 0,
                                  (double)atomic_load(&s_m.in_flight));
    if (!err)
        err = edw_prom_family(out, "edw_message_processing_seconds", "histogram",
                              "Time from receiving a message to acking it after its row "
                              "was written.");
    if (!err)
        err = edw_prom_histogram(out, "edw_message_processing_seconds", NULL, 0, &s_m.processing);
    if (!err)
        err = edw_prom_family(out, "edw_message_latency_seconds", "histogram",
                              "Time from the producer's srcStamp to the row being written "
                              "(queue wait included).");
    if (!err)
        err = edw_prom_histogram(out, "edw_message_latency_seconds", NULL, 0, &s_m.latency);
    return err;
}

static enum edw_err render_leases(struct edw_buf *out)
{
    enum edw_err err = counter(out, "edw_lease_extensions_total",
                               "Leases renewed while a handler was still running.", &s_m.extended);
    if (!err)
        err = counter(out, "edw_leases_lost_total",
                      "Leases found taken over by another consumer at ack or renewal.", &s_m.lost);
    if (!err)
        err = counter(
            out, "edw_leases_released_total",
            "Leases handed back unstarted at shutdown, for other consumers to take at once.",
            &s_m.released);
    return err;
}

/* Announced always; the series exist once a worker has looked at the queue (the consumer,
 * with the endpoint on). */
static enum edw_err render_depth(struct edw_buf *out)
{
    static const char *const states[] = {"visible", "in_flight", "poison"};
    enum edw_err err = edw_prom_family(out, "edw_queue_depth", "gauge",
                                       "Messages in the queue as this worker last saw them (the "
                                       "signal KEDA scales on): visible, leased (in_flight), and "
                                       "poison.");
    pthread_mutex_lock(&s_depth_lock);
    uint64_t values[] = {s_depth.visible, s_depth.in_flight, s_depth.poison};
    for (size_t i = 0; i < ARRAY_LEN(states) && !err && s_depth.known; i++) {
        struct edw_label l[] = {{"queue", s_depth.queue}, {"state", states[i]}};
        err = edw_prom_sample_u64(out, "edw_queue_depth", l, 2, values[i]);
    }
    pthread_mutex_unlock(&s_depth_lock);
    return err;
}

static enum edw_err render_clients(struct edw_buf *out)
{
    static const char *const results[] = {"ok", "error"};
    enum edw_err err = labelled_counter(out, "edw_token_refreshes_total",
                                        "Credential token fetches and refreshes, by result.",
                                        "result", results, s_m.tokens, 2);
    if (!err)
        err = counter(out, "edw_producer_sent_total",
                      "Messages the producer has had accepted by the queue.", &s_m.sent);
    return err;
}

static const char *slot_name(size_t b)
{
    const char *name = atomic_load(&s_m.backends[b].name);
    return name ? name : "other";
}

static uint64_t hist_count(const struct edw_histogram *h)
{
    uint64_t n = 0;
    for (size_t i = 0; i <= h->nbounds; i++)
        n += get(&h->counts[i]);
    return n;
}

/* requests or retries: only the series that have counted something. The family itself is
 * always announced, so every scrape names every metric edw has (dashboards check against it). */
static enum edw_err render_backend_counts(struct edw_buf *out, const char *name, const char *help,
                                          const char *result_label, bool retries)
{
    enum edw_err err = edw_prom_family(out, name, "counter", help);
    for (size_t b = 0; b <= MAX_BACKENDS && !err; b++) {
        struct backend_slot *s = &s_m.backends[b];
        for (size_t op = 0; op < EDW_OP_N && !err; op++) {
            for (size_t r = 0; r < NRESULTS && !err; r++) {
                uint64_t v = get(retries ? &s->retries[op][r] : &s->requests[op][r]);
                if (v == 0)
                    continue;
                struct edw_label l[] = {{"backend", slot_name(b)},
                                        {"operation", s_op_names[op]},
                                        {result_label, s_results[r]}};
                err = edw_prom_sample_u64(out, name, l, 3, v);
            }
        }
    }
    return err;
}

static enum edw_err render_backends(struct edw_buf *out)
{
    static const char *const dname = "edw_backend_request_duration_seconds";
    enum edw_err err = render_backend_counts(
        out, "edw_backend_requests_total",
        "Calls to the queue and table services, by backend, operation and result.", "result",
        false);
    if (!err)
        err = render_backend_counts(out, "edw_backend_retries_total",
                                    "Failed backend calls that will be retried after a "
                                    "backoff, by the error that made them fail.",
                                    "reason", true);
    if (!err)
        err = edw_prom_family(out, dname, "histogram",
                              "Duration of calls to the queue and table services.");
    for (size_t b = 0; b <= MAX_BACKENDS && !err; b++) {
        for (size_t op = 0; op < EDW_OP_N && !err; op++) {
            const struct edw_histogram *h = &s_m.backends[b].duration[op];
            if (hist_count(h) == 0)
                continue;
            struct edw_label l[] = {{"backend", slot_name(b)}, {"operation", s_op_names[op]}};
            err = edw_prom_histogram(out, dname, l, 2, h);
        }
    }
    return err;
}

enum edw_err edw_metrics_render(struct edw_buf *out)
{
    ensure_init();
    enum edw_err err = render_messages(out);
    if (!err)
        err = render_leases(out);
    if (!err)
        err = render_depth(out);
    if (!err)
        err = render_clients(out);
    if (!err)
        err = render_backends(out);
    return err;
}
