/* SPDX-License-Identifier: Apache-2.0 */
/* Liveness and readiness rules on explicit times, then the HTTP endpoint itself on a
 * loopback port chosen by the kernel, spoken to with plain sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "edw/buf.h"
#include "edw/clock.h"
#include "edw/health.h"
#include "edw/metrics.h"

#define S 1000000LL /* one second in microseconds */

static int reset(void **state)
{
    (void)state;
    edw_health_reset();
    edw_metrics_reset();
    return 0;
}

static void no_loops_is_live(void **state)
{
    (void)state;
    assert_true(edw_health_live(100 * S, 60 * S, NULL));
}

static void overdue_loop_is_not_live(void **state)
{
    (void)state;
    int a = edw_health_pipeline_add(0);
    int b = edw_health_pipeline_add(0);
    assert_true(a >= 0 && b >= 0 && a != b);
    edw_health_pipeline_beat(a, EDW_PIPE_BUSY, 10 * S, 0);
    edw_health_pipeline_beat(b, EDW_PIPE_BUSY, 50 * S, 0);
    assert_true(edw_health_live(70 * S, 60 * S, NULL));
    struct edw_buf why;
    edw_buf_init(&why, 1024);
    assert_false(edw_health_live(71 * S, 60 * S, &why)); /* a: 61 s since its beat */
    assert_non_null(strstr(edw_buf_cstr(&why), "has not made progress for 61.0 s"));
    assert_non_null(strstr(edw_buf_cstr(&why), "(busy)"));
    /* a loop that ended is not watched any more */
    edw_health_pipeline_remove(a);
    assert_true(edw_health_live(71 * S, 60 * S, NULL));
    edw_buf_cleanup(&why);
}

static void idle_by_choice_stays_live(void **state)
{
    (void)state;
    int a = edw_health_pipeline_add(0);
    /* polls an empty queue with a 5 min pause (a long poll-max): not a stall */
    edw_health_pipeline_beat(a, EDW_PIPE_IDLE, 10 * S, 300 * S);
    assert_true(edw_health_live(300 * S, 60 * S, NULL));
    assert_true(edw_health_live(370 * S, 60 * S, NULL));
    assert_false(edw_health_live(371 * S, 60 * S, NULL));
}

static void loop_table_is_bounded(void **state)
{
    (void)state;
    int ids[EDW_HEALTH_MAX_PIPELINES];
    for (int i = 0; i < EDW_HEALTH_MAX_PIPELINES; i++)
        assert_true((ids[i] = edw_health_pipeline_add(0)) >= 0);
    assert_int_equal(edw_health_pipeline_add(0), -1);
    edw_health_pipeline_beat(-1, EDW_PIPE_BUSY, 0, 0); /* ignored */
    edw_health_pipeline_remove(-1);
    edw_health_pipeline_remove(ids[3]);
    assert_int_equal(edw_health_pipeline_add(0), ids[3]); /* slots are reused */
}

static void expect_not_ready(int64_t now, const char *reason)
{
    struct edw_buf why;
    edw_buf_init(&why, 1024);
    assert_false(edw_health_ready(now, 30 * S, &why));
    if (!strstr(edw_buf_cstr(&why), reason))
        fail_msg("reason '%s' does not contain '%s'", edw_buf_cstr(&why), reason);
    edw_buf_cleanup(&why);
}

static void readiness_inputs(void **state)
{
    (void)state;
    expect_not_ready(S, "configuration not loaded");
    edw_health_set_config_ok(true);
    expect_not_ready(S, "no backend call has succeeded yet");
    edw_metrics_backend_call("sqlite", EDW_OP_RECEIVE, EDW_OK, 100, S);
    assert_true(edw_health_ready(2 * S, 30 * S, NULL));

    edw_health_set_credentials(EDW_CRED_PENDING);
    expect_not_ready(2 * S, "credentials not obtained yet");
    edw_health_set_credentials(EDW_CRED_FAILED);
    expect_not_ready(2 * S, "credentials could not be obtained");
    edw_health_set_credentials(EDW_CRED_OK);
    assert_true(edw_health_ready(2 * S, 30 * S, NULL));

    /* the backend stops answering: not ready, but still live */
    int loop = edw_health_pipeline_add(2 * S);
    edw_metrics_backend_call("sqlite", EDW_OP_RECEIVE, EDW_ERR_TRANSIENT, 100, 3 * S);
    expect_not_ready(4 * S, "backend sqlite: receive failed 1.0 s ago (EDW_ERR_TRANSIENT)");
    edw_health_pipeline_beat(loop, EDW_PIPE_IDLE, 4 * S, S);
    assert_true(edw_health_live(4 * S, 60 * S, NULL));
    /* and recovers with the next successful receive */
    edw_metrics_backend_call("sqlite", EDW_OP_RECEIVE, EDW_OK, 100, 5 * S);
    assert_true(edw_health_ready(5 * S, 30 * S, NULL));

    /* draining after a stop request */
    edw_health_pipeline_beat(loop, EDW_PIPE_DRAINING, 6 * S, 0);
    expect_not_ready(6 * S, "draining");
    assert_true(edw_health_live(6 * S, 60 * S, NULL));
}

/* ---- the endpoint --------------------------------------------------------------------- */

struct response {
    int status;
    char head[1024];
    char *body; /* owned */
};

/* One HTTP/1.0 request to 127.0.0.1:port; the whole response is read until close. */
static void request(unsigned port, const char *method, const char *path, struct response *r)
{
    memset(r, 0, sizeof(*r));
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    char req[256];
    int n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method, path);
    assert_int_equal(write(fd, req, (size_t)n), n);
    struct edw_buf all;
    edw_buf_init(&all, 1 << 22);
    char chunk[4096];
    ssize_t got;
    while ((got = read(fd, chunk, sizeof(chunk))) > 0)
        assert_int_equal(edw_buf_append(&all, chunk, (size_t)got), EDW_OK);
    close(fd);
    const char *text = edw_buf_cstr(&all);
    assert_int_equal(sscanf(text, "HTTP/1.%*d %d", &r->status), 1);
    const char *sep = strstr(text, "\r\n\r\n");
    assert_non_null(sep);
    snprintf(r->head, sizeof(r->head), "%.*s", (int)(sep - text), text);
    r->body = strdup(sep + 4);
    edw_buf_cleanup(&all);
}

static void server_start(struct edw_obs_server **srv)
{
    struct edw_obs_server_opts o = {"127.0.0.1", 0, 60 * S, 30 * S, edw_clock_system()};
    assert_int_equal(edw_obs_server_start(&o, srv, NULL), EDW_OK);
    assert_true(edw_obs_server_port(*srv) > 0);
}

static void serves_metrics_and_probes(void **state)
{
    (void)state;
    struct edw_obs_server *srv = NULL;
    server_start(&srv);
    unsigned port = edw_obs_server_port(srv);
    struct response r;

    edw_metrics_received(7);
    request(port, "GET", "/metrics", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.head, "text/plain; version=0.0.4"));
    assert_non_null(strstr(r.body, "\nedw_messages_received_total 7\n"));
    free(r.body);

    request(port, "GET", "/healthz", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok\n");
    free(r.body);

    request(port, "GET", "/readyz", &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "configuration not loaded\n");
    free(r.body);

    edw_health_set_config_ok(true);
    int64_t now = edw_clock_mono_us(edw_clock_system());
    edw_metrics_backend_call("sqlite", EDW_OP_DEPTH, EDW_OK, 10, now);
    request(port, "GET", "/readyz", &r);
    assert_int_equal(r.status, 200);
    free(r.body);

    int loop = edw_health_pipeline_add(now - 120 * S); /* never beat since: stalled */
    request(port, "GET", "/healthz", &r);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "has not made progress"));
    free(r.body);
    edw_health_pipeline_remove(loop);

    request(port, "HEAD", "/healthz", &r);
    assert_int_equal(r.status, 200);
    free(r.body);
    request(port, "POST", "/metrics", &r);
    assert_int_equal(r.status, 405);
    free(r.body);
    request(port, "GET", "/nothing", &r);
    assert_int_equal(r.status, 404);
    free(r.body);
    edw_obs_server_stop(srv);
}

static void bad_address_or_busy_port(void **state)
{
    (void)state;
    struct edw_obs_server *srv = NULL, *second = NULL;
    struct edw_error err = {0};
    struct edw_obs_server_opts o = {"localhost", 0, S, S, edw_clock_system()};
    assert_int_equal(edw_obs_server_start(&o, &srv, &err), EDW_ERR_INVALID);
    assert_null(srv);
    assert_non_null(strstr(err.message, "not a numeric IPv4 or IPv6 address"));

    server_start(&srv);
    o.addr = "127.0.0.1";
    o.port = edw_obs_server_port(srv);
    assert_int_equal(edw_obs_server_start(&o, &second, &err), EDW_ERR_INVALID);
    assert_null(second);
    assert_non_null(strstr(err.message, "cannot serve http on 127.0.0.1 port"));
    edw_obs_server_stop(srv);
    edw_obs_server_stop(NULL);
}

static void serves_ipv6_loopback(void **state)
{
    (void)state;
    struct edw_obs_server *srv = NULL;
    struct edw_obs_server_opts o = {"::1", 0, S, S, edw_clock_system()};
    if (edw_obs_server_start(&o, &srv, NULL) != EDW_OK)
        skip(); /* no IPv6 on this machine */
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6,
                             .sin6_port = htons((uint16_t)edw_obs_server_port(srv))};
    a.sin6_addr = in6addr_loopback;
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    const char req[] = "GET /healthz HTTP/1.0\r\n\r\n";
    assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
    char buf[512] = {0};
    assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
    assert_non_null(strstr(buf, " 200 "));
    close(fd);
    edw_obs_server_stop(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(no_loops_is_live, reset),
        cmocka_unit_test_setup(overdue_loop_is_not_live, reset),
        cmocka_unit_test_setup(idle_by_choice_stays_live, reset),
        cmocka_unit_test_setup(loop_table_is_bounded, reset),
        cmocka_unit_test_setup(readiness_inputs, reset),
        cmocka_unit_test_setup(serves_metrics_and_probes, reset),
        cmocka_unit_test_setup(bad_address_or_busy_port, reset),
        cmocka_unit_test_setup(serves_ipv6_loopback, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
