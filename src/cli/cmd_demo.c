/* SPDX-License-Identifier: Apache-2.0 */
/* `edw demo`: the whole workflow on one machine. A producer thread follows a load profile;
 * a supervisor polls the queue depth like KEDA and scales a pool of `edw consume` processes
 * with the same rules (edw_scaler); at the end the run is verified and summarised. Only the
 * queue and store interfaces are used, so every backend can be demonstrated. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "../demo/demo.h"
#include "../demo/replicas.h"
#include "cli.h"
#include "edw/batch.h"
#include "edw/alloc.h"
#include "edw/log.h"
#include "edw/producer.h"
#include "edw/scaler.h"

struct demo {
    struct edw_cli *cli;
    struct edw_queue *q;
    struct edw_store *s;
    char run[64];
    struct edw_demo_profile profile;
    pthread_t producer;
    bool producer_started;
    _Atomic uint64_t sent;
    atomic_bool stop_producer, producer_done;
    enum edw_err producer_rc;
    struct edw_replicas replicas;
    struct edw_demo_series series;
    struct edw_demo_summary sum;
    double *times;
    size_t ntimes, cap;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool producer_should_stop(void *ctx)
{
    return atomic_load(&((struct demo *)ctx)->stop_producer);
}

/* The producer thread has its own queue and store handles (backends are per-thread). */
static void *producer_main(void *arg)
{
    struct demo *d = arg;
    struct edw_queue *q = NULL;
    struct edw_store *s = NULL;
    struct edw_error err = {0};
    const struct edw_config *c = &d->cli->cfg;
    enum edw_err rc = edw_queue_open(d->cli->backend->queue, c, &d->cli->deps, &q, &err);
    if (!rc)
        rc = edw_store_open(d->cli->backend->store, c, &d->cli->deps, &s, &err);
    if (!rc) {
        struct edw_producer_opts opts = {
            .count = (uint64_t)c->messages,
            .batch = edw_batch_send(d->cli->backend->queue, c->batch),
            .run_id = d->run,
            .rate_fn = edw_demo_profile_rate,
            .rate_ctx = &d->profile,
            .sent_counter = &d->sent,
        };
        struct edw_producer_deps deps = {q, s, d->cli->deps.clock, producer_should_stop, d};
        struct edw_producer_stats st;
        rc = edw_producer_run(&deps, &opts, &st, &err);
    }
    if (rc)
        edw_error("demo", "producer failed: %s", err.message[0] ? err.message : edw_err_str(rc));
    edw_queue_close(q);
    edw_store_close(s);
    d->producer_rc = rc;
    atomic_store(&d->producer_done, true);
    return NULL;
}

static bool collect_time(void *ctx, const struct edw_row *row)
{
    struct demo *d = ctx;
    d->times = edw_xgrow(d->times, &d->cap, d->ntimes + 1, sizeof(double));
    d->times[d->ntimes++] = row->processing_s;
    return true;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Rows of this run so far, and their latency percentiles. */
static void measure_rows(struct demo *d, struct edw_demo_sample *s)
{
    char prefix[80];
    snprintf(prefix, sizeof(prefix), "%s-", d->run);
    d->ntimes = 0;
    if (edw_store_scan(d->s, prefix, collect_time, d, NULL) != EDW_OK)
        return;
    s->stored = d->ntimes;
    if (d->ntimes) {
        qsort(d->times, d->ntimes, sizeof(double), cmp_double);
        s->p50 = edw_percentile(d->times, d->ntimes, 0.5);
        s->p99 = edw_percentile(d->times, d->ntimes, 0.99);
    }
}

static char **consumer_argv(const struct edw_config *c)
{
    static char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    bool default_handler = edw_config_is_default(c, "handler");
    bool default_conc = edw_config_is_default(c, "concurrency");
    char **argv = edw_xcalloc(32, sizeof(char *));
    size_t i = 0;
    argv[i++] = edw_xstrdup(exe);
    argv[i++] = edw_xstrdup("consume");
#define ARG(flag, ...)                                                                             \
    do {                                                                                           \
        argv[i++] = edw_xstrdup(flag);                                                             \
        argv[i++] = edw_xasprintf(__VA_ARGS__);                                                    \
    } while (0)
    ARG("--backend", "%s", c->backend);
    ARG("--sqlite-path", "%s", c->sqlite_path);
    ARG("--queue", "%s", c->queue_name);
    ARG("--table", "%s", c->table_name);
    ARG("--handler", "%s", default_handler ? "work:20" : c->handler);
    ARG("--concurrency", "%lld", default_conc ? 4LL : c->concurrency);
    if (c->batch == EDW_BATCH_AUTO) /* each replica decides with its own handler */
        ARG("--batch", "%s", "auto");
    else
        ARG("--batch", "%lld", c->batch);
    ARG("--visibility", "%lld", c->visibility_s);
    ARG("--max-dequeue", "%lld", c->max_dequeue);
    ARG("--shutdown-grace", "%g", c->shutdown_grace_s);
    ARG("--log-level", "%s", c->log_level);
    /* Replicas share this machine: an inherited EDW_HTTP_PORT could be bound by one only. */
    ARG("--http-port", "%d", 0);
#undef ARG
    return argv;
}

static void free_argv(char **argv)
{
    for (char **a = argv; a && *a; a++)
        free(*a);
    free(argv);
}

/* Timestamps for the summary, taken as the samples come in. */
struct milestones {
    double first_work, peak, producer_done, empty, back_to_min;
};

static void track(struct demo *d, struct milestones *m, const struct edw_demo_sample *s,
                  unsigned min_replicas)
{
    if (m->first_work < 0 && s->depth > 0)
        m->first_work = s->t;
    if (s->replicas > d->sum.peak_replicas) {
        d->sum.peak_replicas = s->replicas;
        m->peak = s->t;
    }
    if (m->producer_done < 0 && atomic_load(&d->producer_done))
        m->producer_done = s->t;
    if (m->producer_done >= 0 && m->empty < 0 && s->depth == 0)
        m->empty = s->t;
    if (m->empty >= 0 && m->back_to_min < 0 && s->replicas <= min_replicas)
        m->back_to_min = s->t;
}

static void sleep_until(double t, unsigned stop_count)
{
    while (mono_s() < t && edw_cli_stop_count() == stop_count) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Poll, decide, scale, show; until the run is stored and the consumers are back at min. */
static void supervise(struct demo *d, double t0)
{
    const struct edw_config *c = &d->cli->cfg;
    struct edw_scaler_config sc = {
        (unsigned)c->min_replicas,         (unsigned)c->max_replicas,
        (uint64_t)c->queue_length,         (uint64_t)c->activation_queue_length,
        c->cooldown_period_s,              c->stabilization_window_s,
    };
    struct edw_scaler scaler;
    edw_scaler_init(&scaler, &sc, 0);
    edw_replicas_scale(&d->replicas, scaler.replicas);
    struct milestones m = {-1, 0, -1, -1, -1};
    bool tty = isatty(STDOUT_FILENO), first = true;
    uint64_t prev_stored = 0, total = (uint64_t)c->messages;
    double prev_t = 0, next = t0, stalled_since = -1;
    for (;;) {
        unsigned stops = edw_cli_stop_count();
        if (stops >= 1)
            atomic_store(&d->stop_producer, true);
        if (stops >= 2)
            break; /* second Ctrl-C: stop the consumers now (they still drain gracefully) */
        edw_replicas_reap(&d->replicas);
        struct edw_demo_sample s = {.t = mono_s() - t0, .produced = atomic_load(&d->sent)};
        struct edw_queue_depth depth = {0};
        if (edw_queue_depth(d->q, &depth, NULL) == EDW_OK) {
            s.depth = depth.visible + depth.in_flight;
            s.poison = depth.poison;
            edw_replicas_scale(&d->replicas, edw_scaler_decide(&scaler, s.t, s.depth));
        }
        s.replicas = edw_replicas_running(&d->replicas);
        measure_rows(d, &s);
        s.rate = s.t > prev_t ? (double)(s.stored - prev_stored) / (s.t - prev_t) : 0;
        if (s.stored != prev_stored || s.depth > 0)
            stalled_since = -1;
        else if (stalled_since < 0)
            stalled_since = s.t;
        prev_stored = s.stored;
        prev_t = s.t;
        edw_demo_series_add(&d->series, &s);
        track(d, &m, &s, sc.min_replicas);
        bool producing = !atomic_load(&d->producer_done);
        edw_demo_progress(stdout, tty, d->run,
                          edw_demo_profile_phase(&d->profile, s.t, producing), total, &s,
                          d->sum.peak_replicas, first);
        first = false;
        bool all_in = s.depth == 0 && s.stored + s.poison >= s.produced;
        if (!producing && all_in && s.replicas <= sc.min_replicas &&
            edw_replicas_alive(&d->replicas) == s.replicas)
            break;
        if (!producing && stalled_since >= 0 && s.t - stalled_since > 120) {
            edw_warn("demo", "no progress for 120 s; ending the demo");
            break;
        }
        next += c->polling_interval_s;
        sleep_until(next, stops);
    }
    d->sum.scale_out_s = m.first_work >= 0 && m.peak >= m.first_work ? m.peak - m.first_work : 0;
    d->sum.drain_s = m.empty >= 0 && m.producer_done >= 0 ? m.empty - m.producer_done : 0;
    d->sum.scale_in_s = m.back_to_min >= 0 && m.empty >= 0 ? m.back_to_min - m.empty : 0;
}

static int finish(struct demo *d, double t0)
{
    struct edw_cli *cli = d->cli;
    edw_replicas_stop_all(&d->replicas, cli->cfg.shutdown_grace_s + 5);
    atomic_store(&d->stop_producer, true);
    if (d->producer_started)
        pthread_join(d->producer, NULL);
    d->sum.final_replicas = edw_replicas_running(&d->replicas);
    d->sum.started = d->replicas.started;
    d->sum.crashed = d->replicas.crashed;
    d->sum.seconds = mono_s() - t0;
    struct edw_error err = {0};
    enum edw_err rc = edw_verify(d->s, d->run, 0, &d->sum.verify, &err);
    if (rc) {
        edw_cli_fail(cli, rc, &err);
        return EDW_EXIT_FAIL;
    }
    edw_demo_print_summary(stdout, &d->sum);
    if (cli->cfg.report) {
        if (edw_demo_report_write(cli->cfg.report, &d->series, &d->sum, cli->cfg.backend, &err))
            edw_cli_fail(cli, EDW_ERR_INVALID, &err);
        else
            printf("report written to %s\n", cli->cfg.report);
    }
    struct edw_buf j;
    edw_buf_init(&j, 1 << 20);
    if (edw_buf_append_str(&j, "{") == EDW_OK && edw_demo_summary_json(&d->sum, &j) == EDW_OK &&
        edw_buf_append_str(&j, "}") == EDW_OK)
        edw_cli_json(cli, &j);
    edw_buf_cleanup(&j);
    int code = d->sum.verify.missing || d->producer_rc ? EDW_EXIT_FAIL : EDW_EXIT_OK;
    edw_verify_report_cleanup(&d->sum.verify);
    return code;
}

static int open_log(const struct edw_config *c)
{
    const char *name = "edw-demo.log";
    char *path = edw_xstrdup(name);
    if (strcmp(c->backend, "sqlite") == 0) {
        const char *slash = strrchr(c->sqlite_path, '/');
        if (slash) {
            free(path);
            path = edw_xasprintf("%.*s/%s", (int)(slash - c->sqlite_path), c->sqlite_path, name);
        }
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0)
        fprintf(stderr, "consumer logs: %s\n", path);
    free(path);
    return fd;
}

int edw_cmd_demo(int argc, char **argv)
{
    struct edw_cli cli;
    int code = edw_cli_init(&cli, EDW_CMD_DEMO, "demo", argc, argv);
    if (code >= 0)
        goto out;
    edw_cli_set_hard_exit_after(3); /* 1: stop producing, 2: stop consumers, 3: quit */
    struct demo d = {.cli = &cli};
    d.profile.peak_rate = cli.cfg.rate > 0 ? cli.cfg.rate : 1000;
    d.profile.ramp_s = 8;
    code = EDW_EXIT_FAIL;
    struct edw_error err = {0};
    if (!edw_cli_open_queue(&cli, &d.q) || !edw_cli_open_store(&cli, &d.s))
        goto close;
    enum edw_err rc = edw_queue_create(d.q, &err);
    if (!rc)
        rc = edw_store_create(d.s, &err);
    if (rc) {
        edw_cli_fail(&cli, rc, &err);
        goto close;
    }
    char **cargv = consumer_argv(&cli.cfg);
    int log_fd = open_log(&cli.cfg);
    edw_replicas_init(&d.replicas, cargv, log_fd);
    edw_run_id_make(edw_clock_wall_us(cli.deps.clock), d.run);
    double t0 = mono_s();
    d.producer_started = pthread_create(&d.producer, NULL, producer_main, &d) == 0;
    if (d.producer_started)
        supervise(&d, t0);
    code = finish(&d, t0);
    if (log_fd >= 0)
        close(log_fd);
    free_argv(cargv);
close:
    edw_demo_series_cleanup(&d.series);
    free(d.times);
    edw_queue_close(d.q);
    edw_store_close(d.s);
out:
    edw_cli_cleanup(&cli);
    return code;
}
