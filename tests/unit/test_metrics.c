/* SPDX-License-Identifier: Apache-2.0 */
/* The Prometheus text rendering (escaping, number formats, histogram buckets, sum and
 * count), the process-wide registry (which series appear, backend slots, readiness inputs,
 * concurrent updates), and what the worker pipeline records, against the fake queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"
#include "edw/buf.h"
#include "edw/config.h"
#include "edw/handler.h"
#include "edw/metrics.h"
#include "edw/payload.h"
#include "edw/worker.h"
#include "fake_clock.h"
#include "fake_queue.h"
#include "worker_fixture.h"

/* Render the registry into a fresh string (caller frees). */
static char *render(void)
{
    struct edw_buf b;
    edw_buf_init(&b, 1 << 22);
    assert_int_equal(edw_metrics_render(&b), EDW_OK);
    return edw_buf_steal(&b);
}

/* The value of the sample line that starts with `series` (name plus labels), or NAN. */
static double sample(const char *text, const char *series)
{
    size_t len = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, series, len) == 0 && p[len] == ' ')
            return strtod(p + len + 1, NULL);
    }
    return NAN;
}

static int reset(void **state)
{
    (void)state;
    edw_metrics_reset();
    return 0;
}

/* ---- building blocks ------------------------------------------------------------------ */

static void family_escapes_help(void **state)
{
    (void)state;
    struct edw_buf b;
    edw_buf_init(&b, 4096);
    assert_int_equal(edw_prom_family(&b, "x_total", "counter", "a\\b\nc \"q\""), EDW_OK);
    assert_string_equal(b.ptr, "# HELP x_total a\\\\b\\nc \"q\"\n# TYPE x_total counter\n");
    edw_buf_cleanup(&b);
}

static void labels_are_escaped(void **state)
{
    (void)state;
    struct edw_buf b;
    edw_buf_init(&b, 4096);
    struct edw_label l[] = {{"backend", "sq\"li\\te\nx"}, {"operation", ""}};
    assert_int_equal(edw_prom_sample_u64(&b, "m_total", l, 2, 18446744073709551615ull), EDW_OK);
    assert_int_equal(edw_prom_sample_u64(&b, "plain", NULL, 0, 0), EDW_OK);
    assert_string_equal(b.ptr, "m_total{backend=\"sq\\\"li\\\\te\\nx\",operation=\"\"} "
                               "18446744073709551615\nplain 0\n");
    edw_buf_cleanup(&b);
}

static void doubles_round_trip(void **state)
{
    (void)state;
    struct edw_buf b;
    edw_buf_init(&b, 4096);
    assert_int_equal(edw_prom_sample_f64(&b, "a", NULL, 0, 0.1), EDW_OK);
    assert_int_equal(edw_prom_sample_f64(&b, "b", NULL, 0, -3), EDW_OK);
    assert_int_equal(edw_prom_sample_f64(&b, "c", NULL, 0, INFINITY), EDW_OK);
    assert_int_equal(edw_prom_sample_f64(&b, "d", NULL, 0, NAN), EDW_OK);
    assert_int_equal(edw_prom_sample_f64(&b, "e", NULL, 0, 1.0 / 3), EDW_OK);
    assert_string_equal(b.ptr, "a 0.1\nb -3\nc +Inf\nd NaN\ne 0.33333333333333331\n");
    assert_true(strtod("0.33333333333333331", NULL) == 1.0 / 3);
    edw_buf_cleanup(&b);
}

static void histogram_buckets_sum_count(void **state)
{
    (void)state;
    static const double bounds[] = {0.1, 1, 10};
    struct edw_histogram h = {.bounds = bounds, .nbounds = 3};
    /* le is inclusive; negatives count as 0; above every bound lands in +Inf only */
    const double values[] = {0.05, 0.1, -1, 0.5, 5, 50};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        edw_histogram_observe(&h, values[i]);
    struct edw_buf b;
    edw_buf_init(&b, 4096);
    struct edw_label l = {"operation", "receive"};
    assert_int_equal(edw_prom_histogram(&b, "d_seconds", &l, 1, &h), EDW_OK);
    assert_string_equal(b.ptr, "d_seconds_bucket{operation=\"receive\",le=\"0.1\"} 3\n"
                               "d_seconds_bucket{operation=\"receive\",le=\"1\"} 4\n"
                               "d_seconds_bucket{operation=\"receive\",le=\"10\"} 5\n"
                               "d_seconds_bucket{operation=\"receive\",le=\"+Inf\"} 6\n"
                               "d_seconds_sum{operation=\"receive\"} 55.65\n"
                               "d_seconds_count{operation=\"receive\"} 6\n");
    edw_buf_cleanup(&b);
}

static void render_fails_cleanly_when_full(void **state)
{
    (void)state;
    struct edw_buf b;
    edw_buf_init(&b, 100);
    assert_int_equal(edw_metrics_render(&b), EDW_ERR_INVALID);
    assert_int_equal(b.len, 0);
    edw_buf_cleanup(&b);
}

/* ---- the registry --------------------------------------------------------------------- */

static void message_counters_always_present(void **state)
{
    (void)state;
    char *t = render();
    assert_true(sample(t, "edw_messages_received_total") == 0);
    assert_true(sample(t, "edw_messages_processed_total{outcome=\"stored\"}") == 0);
    assert_true(sample(t, "edw_messages_poisoned_total{reason=\"max_dequeue\"}") == 0);
    assert_true(sample(t, "edw_message_processing_seconds_count") == 0);
    assert_true(sample(t, "edw_producer_sent_total") == 0);
    const char *info = strstr(t, "\nedw_build_info{version=\"");
    assert_non_null(info);
    assert_non_null(strstr(info, "\"} 1\n"));
    /* backend families are announced, but have no series until calls happen */
    assert_non_null(strstr(t, "# TYPE edw_backend_requests_total counter\n"));
    assert_non_null(strstr(t, "# TYPE edw_backend_retries_total counter\n"));
    assert_non_null(strstr(t, "# TYPE edw_backend_request_duration_seconds histogram\n"));
    assert_null(strstr(t, "\nedw_backend_"));
    /* the depth gauge has series only once a worker has looked */
    assert_non_null(strstr(t, "# TYPE edw_queue_depth gauge\n"));
    assert_null(strstr(t, "\nedw_queue_depth{"));
    free(t);
}

static void records_show_up(void **state)
{
    (void)state;
    edw_metrics_received(3);
    edw_metrics_stored(0.002, 1.5);
    edw_metrics_stored(0.2, -4); /* clock skew: counts as 0 */
    edw_metrics_poisoned(EDW_POISON_TOO_LARGE);
    edw_metrics_handler_failed();
    edw_metrics_in_flight_add(5);
    edw_metrics_in_flight_add(-2);
    edw_metrics_lease_extended(2);
    edw_metrics_lease_lost(1);
    edw_metrics_lease_released(4);
    edw_metrics_token_refresh(true);
    edw_metrics_token_refresh(false);
    edw_metrics_producer_sent(32);
    edw_metrics_queue_depth("q\"1", 10, 2, 1);
    edw_metrics_backend_call("sqlite", EDW_OP_RECEIVE, EDW_OK, 300, 1000);
    edw_metrics_backend_call("sqlite", EDW_OP_RECEIVE, EDW_ERR_TRANSIENT, 2000000, 2000);
    edw_metrics_backend_call("azure_queue", EDW_OP_ACK, EDW_ERR_CONFLICT, 20000, 3000);
    edw_metrics_backend_retry("sqlite", EDW_OP_UPSERT, EDW_ERR_THROTTLED);
    char *t = render();
    assert_true(sample(t, "edw_messages_received_total") == 3);
    assert_true(sample(t, "edw_messages_processed_total{outcome=\"stored\"}") == 2);
    assert_true(sample(t, "edw_messages_processed_total{outcome=\"poisoned\"}") == 1);
    assert_true(sample(t, "edw_messages_processed_total{outcome=\"failed\"}") == 1);
    assert_true(sample(t, "edw_messages_poisoned_total{reason=\"too_large\"}") == 1);
    assert_true(sample(t, "edw_messages_poisoned_total{reason=\"invalid_body\"}") == 0);
    assert_true(sample(t, "edw_messages_in_flight") == 3);
    assert_true(sample(t, "edw_message_processing_seconds_bucket{le=\"0.0025\"}") == 1);
    assert_true(sample(t, "edw_message_processing_seconds_bucket{le=\"0.25\"}") == 2);
    assert_true(fabs(sample(t, "edw_message_processing_seconds_sum") - 0.202) < 1e-9);
    assert_true(sample(t, "edw_message_latency_seconds_bucket{le=\"0.01\"}") == 1);
    assert_true(sample(t, "edw_message_latency_seconds_sum") == 1.5);
    assert_true(sample(t, "edw_lease_extensions_total") == 2);
    assert_true(sample(t, "edw_leases_lost_total") == 1);
    assert_true(sample(t, "edw_leases_released_total") == 4);
    assert_true(sample(t, "edw_token_refreshes_total{result=\"ok\"}") == 1);
    assert_true(sample(t, "edw_token_refreshes_total{result=\"error\"}") == 1);
    assert_true(sample(t, "edw_producer_sent_total") == 32);
    assert_true(sample(t, "edw_queue_depth{queue=\"q\\\"1\",state=\"visible\"}") == 10);
    assert_true(sample(t, "edw_queue_depth{queue=\"q\\\"1\",state=\"in_flight\"}") == 2);
    assert_true(sample(t, "edw_queue_depth{queue=\"q\\\"1\",state=\"poison\"}") == 1);
    assert_true(sample(t, "edw_backend_requests_total{backend=\"sqlite\",operation=\"receive\","
                          "result=\"ok\"}") == 1);
    assert_true(sample(t, "edw_backend_requests_total{backend=\"sqlite\",operation=\"receive\","
                          "result=\"transient\"}") == 1);
    assert_true(sample(t, "edw_backend_requests_total{backend=\"azure_queue\",operation=\"ack\","
                          "result=\"conflict\"}") == 1);
    assert_true(sample(t, "edw_backend_retries_total{backend=\"sqlite\",operation=\"upsert\","
                          "reason=\"throttled\"}") == 1);
    assert_true(sample(t, "edw_backend_request_duration_seconds_bucket{backend=\"sqlite\","
                          "operation=\"receive\",le=\"0.0005\"}") == 1);
    assert_true(sample(t, "edw_backend_request_duration_seconds_bucket{backend=\"sqlite\","
                          "operation=\"receive\",le=\"2.5\"}") == 2);
    assert_true(sample(t, "edw_backend_request_duration_seconds_sum{backend=\"sqlite\","
                          "operation=\"receive\"}") == 2.0003);
    /* unused operations print nothing */
    assert_null(strstr(t, "operation=\"peek\""));
    free(t);
}

/* Every sample belongs to the family announced just before it, and each family is announced
 * once: what Prometheus' parser insists on. */
static void families_are_grouped(void **state)
{
    (void)state;
    edw_metrics_backend_call("sqlite", EDW_OP_SEND, EDW_OK, 1, 1);
    edw_metrics_backend_call("other_db", EDW_OP_UPSERT, EDW_OK, 1, 1);
    edw_metrics_backend_retry("sqlite", EDW_OP_SEND, EDW_ERR_TRANSIENT);
    edw_metrics_queue_depth("q", 1, 2, 3);
    char *t = render();
    char family[128] = "";
    char seen[64][128];
    size_t nseen = 0;
    for (char *line = t, *end; *line; line = end + 1) {
        end = strchr(line, '\n');
        assert_non_null(end); /* every line ends with a newline */
        *end = '\0';
        if (strncmp(line, "# TYPE ", 7) == 0) {
            sscanf(line + 7, "%127s", family);
            for (size_t i = 0; i < nseen; i++)
                assert_string_not_equal(seen[i], family);
            assert_true(nseen < 64);
            snprintf(seen[nseen++], sizeof(seen[0]), "%s", family);
            continue;
        }
        if (line[0] == '#')
            continue;
        size_t flen = strlen(family);
        assert_true(flen > 0);
        assert_int_equal(strncmp(line, family, flen), 0);
        const char *rest = line + flen;
        assert_true(*rest == ' ' || *rest == '{' || strncmp(rest, "_bucket", 7) == 0 ||
                    strncmp(rest, "_sum", 4) == 0 || strncmp(rest, "_count", 6) == 0);
    }
    assert_true(nseen >= 16);
    free(t);
}

static void backends_beyond_eight_are_other(void **state)
{
    (void)state;
    static const char *const names[] = {"b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9"};
    for (size_t i = 0; i < 10; i++)
        edw_metrics_backend_call(names[i], EDW_OP_GET, EDW_OK, 1, 1);
    char *t = render();
    assert_true(sample(t, "edw_backend_requests_total{backend=\"b7\",operation=\"get\","
                          "result=\"ok\"}") == 1);
    assert_null(strstr(t, "backend=\"b8\""));
    assert_true(sample(t, "edw_backend_requests_total{backend=\"other\",operation=\"get\","
                          "result=\"ok\"}") == 2);
    free(t);
}

static void backend_status_for_readiness(void **state)
{
    (void)state;
    struct edw_backend_status st;
    const int64_t window = 30000000;
    edw_metrics_backend_status(0, window, &st);
    assert_false(st.any_ok);
    assert_false(st.failing);

    edw_metrics_backend_call("sqlite", EDW_OP_RECEIVE, EDW_OK, 1, 1000000);
    edw_metrics_backend_call("sqlite", EDW_OP_GET, EDW_ERR_NOT_FOUND, 1, 1000000); /* answer */
    edw_metrics_backend_call("sqlite", EDW_OP_ACK, EDW_ERR_CONFLICT, 1, 1000000);  /* answer */
    edw_metrics_backend_status(2000000, window, &st);
    assert_true(st.any_ok);
    assert_false(st.failing);

    /* receive fails while depth (a read) keeps working: still failing */
    edw_metrics_backend_call("sqlite", EDW_OP_RECEIVE, EDW_ERR_TRANSIENT, 1, 3000000);
    edw_metrics_backend_call("sqlite", EDW_OP_DEPTH, EDW_OK, 1, 4000000);
    edw_metrics_backend_status(5000000, window, &st);
    assert_true(st.failing);
    assert_string_equal(st.backend, "sqlite");
    assert_int_equal(st.op, EDW_OP_RECEIVE);
    assert_int_equal(st.err, EDW_ERR_TRANSIENT);
    assert_int_equal(st.failed_ago_us, 2000000);

    /* a later success of the same operation clears it */
    edw_metrics_backend_call("sqlite", EDW_OP_RECEIVE, EDW_OK, 1, 6000000);
    edw_metrics_backend_status(6000001, window, &st);
    assert_false(st.failing);

    /* a one-off failure of an operation not called again stops counting after the window */
    edw_metrics_backend_call("sqlite", EDW_OP_POISON, EDW_ERR_FATAL, 1, 7000000);
    edw_metrics_backend_status(7000000 + window - 1, window, &st);
    assert_true(st.failing);
    edw_metrics_backend_status(7000000 + window, window, &st);
    assert_false(st.failing);
}

static void depth_due_once_per_interval(void **state)
{
    (void)state;
    assert_true(edw_metrics_depth_due(1000, 5000000));
    assert_false(edw_metrics_depth_due(1001, 5000000));
    assert_false(edw_metrics_depth_due(5000999, 5000000));
    assert_true(edw_metrics_depth_due(5001000, 5000000));
    assert_false(edw_metrics_depth_due(5001000, 5000000));
}

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        edw_metrics_received(1);
        edw_metrics_stored(0.001, 0.01);
        edw_metrics_backend_call("sqlite", EDW_OP_RECEIVE, EDW_OK, 10, 1);
        edw_metrics_backend_call(i % 2 ? "azure_queue" : "aws_sqs", EDW_OP_SEND, EDW_OK, 10, 1);
    }
    return NULL;
}

static void concurrent_updates_are_exact(void **state)
{
    (void)state;
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    char *t = render();
    assert_true(sample(t, "edw_messages_received_total") == 80000);
    assert_true(sample(t, "edw_message_processing_seconds_count") == 80000);
    assert_true(sample(t, "edw_backend_requests_total{backend=\"sqlite\",operation=\"receive\","
                          "result=\"ok\"}") == 80000);
    assert_true(sample(t, "edw_backend_requests_total{backend=\"aws_sqs\",operation=\"send\","
                          "result=\"ok\"}") == 40000);
    assert_true(sample(t, "edw_backend_requests_total{backend=\"azure_queue\",operation=\"send\","
                          "result=\"ok\"}") == 40000);
    free(t);
}

/* ---- what the worker records ---------------------------------------------------------- */

static int setup_worker(void **state)
{
    edw_metrics_reset();
    struct worker_fixture *f = worker_fixture_new();
    if (!f)
        return -1;
    f->opts.max_dequeue = 2;
    f->opts.retry_delay_s = 1;
    f->opts.max_body_bytes = 300;
    *state = f;
    return 0;
}

static int teardown_worker(void **state)
{
    worker_fixture_free(*state);
    return 0;
}

static void worker_counts_agree_with_stats(void **state)
{
    struct worker_fixture *f = *state;
    for (unsigned i = 1; i <= 10; i++)
        worker_fixture_put_good(f, "r", i);
    fake_queue_put(g_fake_queue, "not json");
    char big[400];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    fake_queue_put(g_fake_queue, big);
    worker_fixture_put_good(f, "r", 11);
    g_fake_queue->msgs[12].dequeue_count = 2; /* delivered twice already: the third is over */
    g_fake_store->fail_err = EDW_ERR_TRANSIENT;
    g_fake_store->fail_upsert = 1;
    assert_int_equal(edw_worker_run(&f->wdeps, &f->opts, &f->stats, NULL), EDW_OK);

    char *t = render();
    assert_int_equal(f->stats.processed, 10);
    assert_true(sample(t, "edw_messages_received_total") == (double)f->stats.received);
    assert_true(sample(t, "edw_messages_processed_total{outcome=\"stored\"}") == 10);
    assert_true(sample(t, "edw_messages_processed_total{outcome=\"poisoned\"}") == 3);
    assert_true(sample(t, "edw_messages_poisoned_total{reason=\"invalid_body\"}") == 1);
    assert_true(sample(t, "edw_messages_poisoned_total{reason=\"too_large\"}") == 1);
    assert_true(sample(t, "edw_messages_poisoned_total{reason=\"max_dequeue\"}") == 1);
    assert_true(sample(t, "edw_messages_in_flight") == 0);
    assert_true(sample(t, "edw_message_processing_seconds_count") == 10);
    assert_true(sample(t, "edw_backend_retries_total{backend=\"fake\",operation=\"upsert\","
                          "reason=\"transient\"}") == 1);
    assert_true(sample(t, "edw_backend_requests_total{backend=\"fake\",operation=\"upsert\","
                          "result=\"transient\"}") == 1);
    assert_true(sample(t, "edw_backend_requests_total{backend=\"fake\",operation=\"poison\","
                          "result=\"ok\"}") == 3);
    /* refreshed again after the 5 s of idling before exit: the final state */
    assert_true(sample(t, "edw_queue_depth{queue=\"edw-messages\",state=\"visible\"}") == 0);
    assert_true(sample(t, "edw_queue_depth{queue=\"edw-messages\",state=\"in_flight\"}") == 0);
    assert_true(sample(t, "edw_queue_depth{queue=\"edw-messages\",state=\"poison\"}") == 3);
    free(t);
}

static void handler_failures_then_poison(void **state)
{
    struct worker_fixture *f = *state;
    f->wdeps.handler = &worker_fixture_failing;
    worker_fixture_put_good(f, "r", 1);
    assert_int_equal(edw_worker_run(&f->wdeps, &f->opts, &f->stats, NULL), EDW_OK);
    char *t = render();
    assert_true(sample(t, "edw_messages_processed_total{outcome=\"failed\"}") == 2);
    assert_true(sample(t, "edw_messages_poisoned_total{reason=\"handler_failed\"}") == 1);
    assert_true(sample(t, "edw_messages_processed_total{outcome=\"stored\"}") == 0);
    assert_true(sample(t, "edw_messages_in_flight") == 0);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(family_escapes_help),
        cmocka_unit_test(labels_are_escaped),
        cmocka_unit_test(doubles_round_trip),
        cmocka_unit_test(histogram_buckets_sum_count),
        cmocka_unit_test_setup(render_fails_cleanly_when_full, reset),
        cmocka_unit_test_setup(message_counters_always_present, reset),
        cmocka_unit_test_setup(records_show_up, reset),
        cmocka_unit_test_setup(families_are_grouped, reset),
        cmocka_unit_test_setup(backends_beyond_eight_are_other, reset),
        cmocka_unit_test_setup(backend_status_for_readiness, reset),
        cmocka_unit_test_setup(depth_due_once_per_interval, reset),
        cmocka_unit_test_setup(concurrent_updates_are_exact, reset),
        cmocka_unit_test_setup_teardown(worker_counts_agree_with_stats, setup_worker,
                                        teardown_worker),
        cmocka_unit_test_setup_teardown(handler_failures_then_poison, setup_worker,
                                        teardown_worker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
