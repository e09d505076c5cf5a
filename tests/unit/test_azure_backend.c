/* SPDX-License-Identifier: Apache-2.0 */
/* The Azure Queue and Table backends over a scripted transport and a fake clock: retries and
 * backoff (never sleeping for real), re-signing, fan-out of multi-message operations into
 * one concurrent perform, lost leases, poison, $batch grouping and continuation tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "azure_common.h"
#include "edw/alloc.h"
#include "edw/config.h"
#include "edw/lease_guard.h"
#include "edw/metrics.h"
#include "edw/store.h"
#include "fake_clock.h"
#include "fake_azure_http.h"

extern const struct edw_queue_ops edw_azure_queue_ops;
extern const struct edw_store_ops edw_azure_table_ops;

#define KEY FAKE_AZURITE_KEY
#define CONN FAKE_AZURE_CONN
#define MSG_XML(id, receipt, count, text)                                                          \
    "<QueueMessage><MessageId>" id "</MessageId><InsertionTime>Fri, 27 Nov 2026 17:55:20 GMT"      \
    "</InsertionTime><PopReceipt>" receipt "</PopReceipt><DequeueCount>" count                     \
    "</DequeueCount><MessageText>" text "</MessageText></QueueMessage>"
#define LIST(items) "<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessagesList>" items "</QueueMessagesList>"

struct env {
    struct fake_clock fc;
    struct fake_azure_http fh;
    struct edw_config cfg;
    struct edw_backend_deps deps;
    void *q; /* queue state */
    void *t; /* table state */
};

static void set(char **field, const char *value)
{
    free(*field);
    *field = value ? edw_xstrdup(value) : NULL;
}

static int setup_with(void **state, const char *conn, const char *send_encoding)
{
    struct env *e = edw_xcalloc(1, sizeof(*e));
    fake_clock_init(&e->fc, 1795802120000000LL);
    fake_azure_http_init(&e->fh);
    edw_config_init(&e->cfg);
    set(&e->cfg.azure_connection_string, conn);
    if (send_encoding)
        set(&e->cfg.azure_send_encoding, send_encoding);
    e->deps = (struct edw_backend_deps){.clock = &e->fc.clock, .http = &e->fh.transport};
    struct edw_error err = {0};
    assert_int_equal(edw_azure_queue_ops.open(&e->cfg, &e->deps, &e->q, &err), EDW_OK);
    assert_int_equal(edw_azure_table_ops.open(&e->cfg, &e->deps, &e->t, &err), EDW_OK);
    *state = e;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, CONN, NULL);
}

static int teardown(void **state)
{
    struct env *e = *state;
    edw_azure_queue_ops.close(e->q);
    edw_azure_table_ops.close(e->t);
    edw_config_cleanup(&e->cfg);
    fake_azure_http_cleanup(&e->fh);
    free(e);
    return 0;
}

static const char *hdr(const struct env *e, size_t i, const char *name)
{
    return edw_http_headers_get(&e->fh.sent[i].headers, name);
}

static enum edw_err send_one(struct env *e, const char *text, struct edw_error *err)
{
    struct edw_str body = {text, strlen(text)};
    return edw_azure_queue_ops.send(e->q, &body, 1, err);
}

/* --- retries --- */

static void test_retry_resigns_after_retry_after(void **state)
{
    struct env *e = *state;
    edw_metrics_reset();
    fake_azure_http_reply(&e->fh, "POST", 503, "x-ms-error-code: ServerBusy\nRetry-After: 2", NULL);
    fake_azure_http_reply(&e->fh, "POST", 201, NULL, LIST(MSG_XML("m1", "r1", "0", "")));
    struct edw_error err = {0};
    assert_int_equal(send_one(e, "{\"msg\":\"x\"}", &err), EDW_OK);
    assert_int_equal(e->fh.nsent, 2);
    assert_true(e->fc.slept_us >= 2000000); /* Retry-After is a floor */
    assert_true(e->fc.slept_us <= 30000000);
    /* A fresh date and signature on the retry. */
    assert_string_not_equal(hdr(e, 0, "x-ms-date"), hdr(e, 1, "x-ms-date"));
    assert_string_not_equal(hdr(e, 0, "Authorization"), hdr(e, 1, "Authorization"));
    assert_int_equal(strncmp(hdr(e, 1, "Authorization"), "SharedKey devstoreaccount1:", 27), 0);
    assert_string_equal(hdr(e, 1, "x-ms-version"), EDW_AZURE_VERSION);
    assert_string_equal(e->fh.sent[1].url,
                        "http://fakeq/devstoreaccount1/edw-messages/messages?messagettl=-1");
    assert_string_equal(e->fh.sent[1].body,
                        "<QueueMessage><MessageText>{\"msg\":\"x\"}</MessageText></QueueMessage>");
    /* The retry is counted for operators (edw_backend_retries_total; ServerBusy is throttling). */
    struct edw_buf m;
    edw_buf_init(&m, 1 << 20);
    assert_int_equal(edw_metrics_render(&m), EDW_OK);
    assert_non_null(strstr(edw_buf_cstr(&m), "edw_backend_retries_total{backend=\"azure\","
                                             "operation=\"send\",reason=\"throttled\"} 1\n"));
    edw_buf_cleanup(&m);
}

static void test_no_retry_on_auth_failure(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, NULL, 403, "x-ms-error-code: AuthenticationFailed",
                    "<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code><Message>"
                    "Server failed to authenticate the request.\nRequestId:1</Message></Error>");
    struct edw_error err = {0};
    assert_int_equal(send_one(e, "x", &err), EDW_ERR_AUTH);
    assert_int_equal(e->fh.nsent, 1);
    assert_int_equal(e->fc.slept_us, 0);
    assert_int_equal(err.http_status, 403);
    assert_string_equal(err.code, "AuthenticationFailed");
    assert_non_null(strstr(err.message, "HTTP 403 AuthenticationFailed: Server failed"));
    assert_null(strstr(err.message, "RequestId")); /* one line */
    assert_null(strstr(err.message, KEY));
}

static void test_gives_up_after_max_attempts(void **state)
{
    struct env *e = *state;
    for (int i = 0; i < 6; i++)
        fake_azure_http_reply(&e->fh, NULL, 500, "x-ms-error-code: InternalError", NULL);
    struct edw_error err = {0};
    assert_int_equal(send_one(e, "x", &err), EDW_ERR_TRANSIENT);
    assert_int_equal(e->fh.nsent, 5);
    assert_int_equal(fake_azure_http_unused(&e->fh), 1);
    assert_true(e->fc.slept_us >= (400000 + 800000 + 1600000 + 3200000) / 2);
    assert_true(e->fc.slept_us <= 400000 + 800000 + 1600000 + 3200000);
    assert_string_equal(err.code, "InternalError");
}

static void test_connection_error_retried(void **state)
{
    struct env *e = *state;
    fake_azure_http_drop(&e->fh, NULL);
    fake_azure_http_reply(&e->fh, NULL, 201, NULL, LIST(""));
    assert_int_equal(send_one(e, "x", NULL), EDW_OK);
    assert_int_equal(e->fh.nsent, 2);
}

/* --- queue --- */

static void test_receive_fans_out(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, "numofmessages=32", 200, NULL,
                    LIST(MSG_XML("a", "ra", "1", "{}") MSG_XML("b", "rb", "2", "{}")));
    fake_azure_http_reply(&e->fh, "numofmessages=32", 200, NULL, LIST(MSG_XML("c", "rc", "1", "{}")));
    fake_azure_http_reply(&e->fh, "numofmessages=6", 200, NULL, "<QueueMessagesList/>");
    struct edw_msg_batch b = {0};
    assert_int_equal(edw_azure_queue_ops.receive(e->q, 70, 45, &b, NULL), EDW_OK);
    assert_int_equal(b.n, 3);
    assert_int_equal(e->fh.performs, 1); /* three GETs at once, not one after another */
    assert_int_equal(e->fh.max_batch, 3);
    assert_int_equal(fake_azure_http_count(&e->fh, "visibilitytimeout=45"), 3);
    assert_string_equal(b.msgs[1].id, "b");
    assert_string_equal(b.msgs[1].receipt, "rb");
    assert_int_equal(b.msgs[1].dequeue_count, 2);
    assert_int_equal(b.msgs[1].enqueued_us, 1795802120000000LL);
    edw_msg_batch_cleanup(&b);
}

static void test_receive_keeps_partial_success(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, "numofmessages=32", 200, NULL, LIST(MSG_XML("a", "ra", "1", "{}")));
    fake_azure_http_reply(&e->fh, "numofmessages=8", 403, "x-ms-error-code: AuthorizationFailure", NULL);
    struct edw_msg_batch b = {0};
    assert_int_equal(edw_azure_queue_ops.receive(e->q, 40, 30, &b, NULL), EDW_OK);
    assert_int_equal(b.n, 1); /* leased now: dropping it would only delay it */
    edw_msg_batch_cleanup(&b);
    fake_azure_http_reply(&e->fh, NULL, 403, "x-ms-error-code: AuthorizationFailure", NULL);
    struct edw_error err = {0};
    assert_int_equal(edw_azure_queue_ops.receive(e->q, 1, 30, &b, &err), EDW_ERR_AUTH);
    assert_int_equal(b.n, 0);
}

static void test_receive_decodes(void **state)
{
    struct env *e = *state;
    /* raw JSON | base64(JSON) | base64 of bytes that are not UTF-8 | plain text */
    fake_azure_http_reply(&e->fh, NULL, 200, NULL,
                    LIST(MSG_XML("1", "r", "1", "{&quot;a&quot;:1}")
                             MSG_XML("2", "r", "1", "eyJhIjoxfQ==") MSG_XML("3", "r", "1", "//79")
                                 MSG_XML("4", "r", "1", "hello world")));
    struct edw_msg_batch b = {0};
    assert_int_equal(edw_azure_queue_ops.receive(e->q, 4, 30, &b, NULL), EDW_OK);
    assert_int_equal(b.n, 4);
    assert_string_equal(b.msgs[0].body, "{\"a\":1}");
    assert_string_equal(b.msgs[1].body, "{\"a\":1}");
    assert_int_equal(b.msgs[1].body_len, 7);
    assert_string_equal(b.msgs[2].body, "//79");
    assert_string_equal(b.msgs[3].body, "hello world");
    edw_msg_batch_cleanup(&b);
}

static void test_ack_results(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, "/messages/m1?", 204, NULL, NULL);
    fake_azure_http_reply(&e->fh, "/messages/m2?", 404, "x-ms-error-code: MessageNotFound", NULL);
    fake_azure_http_reply(&e->fh, "/messages/m3?", 400, "x-ms-error-code: PopReceiptMismatch", NULL);
    struct edw_msg m[3] = {{.id = "m1", .receipt = "AgA+/="}, {.id = "m2", .receipt = "r"},
                           {.id = "m3", .receipt = "r"}};
    struct edw_msg *p[3] = {&m[0], &m[1], &m[2]};
    enum edw_err res[3];
    assert_int_equal(edw_azure_queue_ops.ack(e->q, p, 3, res, NULL), EDW_OK);
    assert_int_equal(res[0], EDW_OK);
    assert_int_equal(res[1], EDW_ERR_CONFLICT);
    assert_int_equal(res[2], EDW_ERR_CONFLICT);
    assert_int_equal(e->fh.performs, 1);
    assert_string_equal(e->fh.sent[0].method, "DELETE");
    assert_string_equal(e->fh.sent[0].url,
                        "http://fakeq/devstoreaccount1/edw-messages/messages/m1?popreceipt=AgA%2B%2F%3D");
}

static void test_ack_after_ambiguous_attempt(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, NULL, 500, "x-ms-error-code: OperationTimedOut", NULL);
    fake_azure_http_reply(&e->fh, NULL, 404, "x-ms-error-code: MessageNotFound", NULL);
    struct edw_msg m = {.id = "m1", .receipt = "r"};
    struct edw_msg *p[1] = {&m};
    enum edw_err res[1];
    assert_int_equal(edw_azure_queue_ops.ack(e->q, p, 1, res, NULL), EDW_OK);
    assert_int_equal(res[0], EDW_OK); /* the first attempt deleted it */
    assert_int_equal(e->fh.nsent, 2);
}

static void test_ack_persistent_throttling(void **state)
{
    struct env *e = *state;
    for (int i = 0; i < 5; i++)
        fake_azure_http_reply(&e->fh, NULL, 503, "x-ms-error-code: ServerBusy", NULL);
    struct edw_msg m = {.id = "m1", .receipt = "r"};
    struct edw_msg *p[1] = {&m};
    enum edw_err res[1];
    struct edw_error err = {0};
    assert_int_equal(edw_azure_queue_ops.ack(e->q, p, 1, res, &err), EDW_ERR_THROTTLED);
    assert_string_equal(err.code, "ServerBusy");
}

/* A full receive makes the next ack fetch the following batch in the same round trip; the
 * next receive then needs no request at all. */
static void test_receive_ahead(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, "GET", 200, NULL,
                    LIST(MSG_XML("a", "ra", "1", "{}") MSG_XML("b", "rb", "1", "{}")));
    struct edw_msg_batch b = {0};
    assert_int_equal(edw_azure_queue_ops.receive(e->q, 2, 30, &b, NULL), EDW_OK);
    assert_int_equal(b.n, 2);
    fake_azure_http_reply(&e->fh, "DELETE", 204, NULL, NULL);
    fake_azure_http_reply(&e->fh, "DELETE", 204, NULL, NULL);
    fake_azure_http_reply(&e->fh, "GET", 200, NULL,
                    LIST(MSG_XML("c", "rc", "1", "{}") MSG_XML("d", "rd", "1", "{}")));
    struct edw_msg *p[2] = {&b.msgs[0], &b.msgs[1]};
    enum edw_err res[2];
    assert_int_equal(edw_azure_queue_ops.ack(e->q, p, 2, res, NULL), EDW_OK);
    assert_int_equal(e->fh.performs, 2);
    assert_int_equal(e->fh.max_batch, 3); /* two deletes and the next get, together */
    assert_non_null(strstr(e->fh.sent[3].url, "numofmessages=2&visibilitytimeout=30"));
    edw_msg_batch_cleanup(&b);

    assert_int_equal(edw_azure_queue_ops.receive(e->q, 2, 30, &b, NULL), EDW_OK);
    assert_int_equal(e->fh.performs, 2); /* served from what was fetched ahead */
    assert_int_equal(b.n, 2);
    assert_string_equal(b.msgs[0].id, "c");
    assert_string_equal(b.msgs[1].receipt, "rd");
    edw_msg_batch_cleanup(&b);

    /* A receive that comes back short stops fetching ahead. */
    fake_azure_http_reply(&e->fh, "GET", 200, NULL, LIST(MSG_XML("e", "re", "1", "{}")));
    assert_int_equal(edw_azure_queue_ops.receive(e->q, 2, 30, &b, NULL), EDW_OK);
    assert_int_equal(b.n, 1);
    fake_azure_http_reply(&e->fh, "DELETE", 204, NULL, NULL);
    p[0] = &b.msgs[0];
    assert_int_equal(edw_azure_queue_ops.ack(e->q, p, 1, res, NULL), EDW_OK);
    assert_int_equal(fake_azure_http_count(&e->fh, "GET"), 3);
    assert_int_equal(fake_azure_http_unused(&e->fh), 0);
    edw_msg_batch_cleanup(&b);
}

/* No fetching ahead while a lease held in this process has run out (edw/lease_guard.h): the
 * Get could be answered before the deletes and hand out a message still held here. Here
 * another pipeline's lease ended a second ago: the ack deletes and fetches nothing. */
static void test_no_receive_ahead_while_a_lease_ran_out(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, "GET", 200, NULL,
                    LIST(MSG_XML("a", "ra", "1", "{}") MSG_XML("b", "rb", "1", "{}")));
    struct edw_msg_batch b = {0};
    assert_int_equal(edw_azure_queue_ops.receive(e->q, 2, 30, &b, NULL), EDW_OK);
    int sibling = edw_lease_guard_join();
    assert_true(sibling >= 0);
    edw_lease_guard_publish(sibling, e->fc.mono_us - 1000000);
    fake_azure_http_reply(&e->fh, "DELETE", 204, NULL, NULL);
    fake_azure_http_reply(&e->fh, "DELETE", 204, NULL, NULL);
    struct edw_msg *p[2] = {&b.msgs[0], &b.msgs[1]};
    enum edw_err res[2];
    assert_int_equal(edw_azure_queue_ops.ack(e->q, p, 2, res, NULL), EDW_OK);
    assert_int_equal(fake_azure_http_count(&e->fh, "GET"), 1); /* only the first receive */
    assert_int_equal(e->fh.max_batch, 2);
    edw_lease_guard_leave(sibling);
    assert_int_equal(fake_azure_http_unused(&e->fh), 0);
    edw_msg_batch_cleanup(&b);
}

/* Messages that waited ahead get their lease renewed before the worker sees them (one that
 * is gone by then is dropped), and whatever is left at close goes back to the queue. */
static void test_receive_ahead_aged_and_released(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, "GET", 200, NULL, LIST(MSG_XML("a", "ra", "1", "{}")));
    struct edw_msg_batch b = {0};
    assert_int_equal(edw_azure_queue_ops.receive(e->q, 1, 30, &b, NULL), EDW_OK);
    fake_azure_http_reply(&e->fh, "DELETE", 204, NULL, NULL);
    fake_azure_http_reply(&e->fh, "GET", 200, NULL,
                    LIST(MSG_XML("c", "rc", "1", "{}") MSG_XML("d", "rd", "1", "{}")));
    struct edw_msg *p[1] = {&b.msgs[0]};
    enum edw_err res[1];
    assert_int_equal(edw_azure_queue_ops.ack(e->q, p, 1, res, NULL), EDW_OK);
    edw_msg_batch_cleanup(&b);

    fake_clock_advance(&e->fc, 5000000); /* the worker took its time */
    fake_azure_http_reply(&e->fh, "/messages/c?popreceipt=rc&visibilitytimeout=30", 404,
                    "x-ms-error-code: MessageNotFound", NULL);
    assert_int_equal(edw_azure_queue_ops.receive(e->q, 1, 30, &b, NULL), EDW_OK);
    assert_int_equal(b.n, 0); /* c was gone */
    fake_azure_http_reply(&e->fh, "/messages/d?popreceipt=rd&visibilitytimeout=30", 204,
                    "x-ms-popreceipt: rd2", NULL);
    assert_int_equal(edw_azure_queue_ops.receive(e->q, 1, 30, &b, NULL), EDW_OK);
    assert_int_equal(b.n, 1);
    assert_string_equal(b.msgs[0].receipt, "rd2");
    edw_msg_batch_cleanup(&b);

    /* Fetch ahead again, then close: the batch is released (visibility 0). */
    fake_azure_http_reply(&e->fh, "GET", 200, NULL, LIST(MSG_XML("f", "rf", "1", "{}")));
    assert_int_equal(edw_azure_queue_ops.receive(e->q, 1, 30, &b, NULL), EDW_OK);
    fake_azure_http_reply(&e->fh, "DELETE", 204, NULL, NULL);
    fake_azure_http_reply(&e->fh, "GET", 200, NULL, LIST(MSG_XML("g", "rg", "1", "{}")));
    p[0] = &b.msgs[0];
    assert_int_equal(edw_azure_queue_ops.ack(e->q, p, 1, res, NULL), EDW_OK);
    edw_msg_batch_cleanup(&b);
    fake_azure_http_reply(&e->fh, "/messages/g?popreceipt=rg&visibilitytimeout=0", 204,
                    "x-ms-popreceipt: x", NULL);
    edw_azure_queue_ops.close(e->q);
    e->q = NULL;
    assert_int_equal(fake_azure_http_unused(&e->fh), 0);
}

static void test_extend_replaces_receipt(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, "/messages/m1?", 204, "x-ms-popreceipt: fresh+1", NULL);
    fake_azure_http_reply(&e->fh, "/messages/m2?", 400, "x-ms-error-code: PopReceiptMismatch", NULL);
    struct edw_msg m[2] = {{.id = "m1", .receipt = edw_xstrdup("old")},
                           {.id = "m2", .receipt = edw_xstrdup("old2")}};
    struct edw_msg *p[2] = {&m[0], &m[1]};
    enum edw_err res[2];
    assert_int_equal(edw_azure_queue_ops.extend(e->q, p, 2, 0, res, NULL), EDW_OK);
    assert_int_equal(res[0], EDW_OK);
    assert_int_equal(res[1], EDW_ERR_CONFLICT);
    assert_string_equal(m[0].receipt, "fresh+1");
    assert_string_equal(m[1].receipt, "old2");
    assert_string_equal(e->fh.sent[0].method, "PUT");
    assert_non_null(strstr(e->fh.sent[0].url, "popreceipt=old&visibilitytimeout=0"));
    assert_int_equal(e->fh.sent[0].body_len, 0);
    free(m[0].receipt);
    free(m[1].receipt);
}

static void test_poison_moves_with_envelope(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, "PUT", 204, "x-ms-popreceipt: held", NULL);
    fake_azure_http_reply(&e->fh, "POST http://fakeq/devstoreaccount1/edw-messages-poison/messages", 201,
                    NULL, LIST(""));
    fake_azure_http_reply(&e->fh, "DELETE", 204, NULL, NULL);
    struct edw_msg m = {.id = "orig-1", .receipt = "r0", .body = "not <json>", .body_len = 10,
                        .dequeue_count = 5};
    assert_int_equal(edw_azure_queue_ops.poison(e->q, &m, "body is not valid JSON", NULL), EDW_OK);
    assert_int_equal(e->fh.nsent, 3);
    assert_int_equal(fake_azure_http_unused(&e->fh), 0);
    const char *body = e->fh.sent[1].body;
    assert_non_null(strstr(body, "\"reason\":\"body is not valid JSON\""));
    assert_non_null(strstr(body, "\"messageId\":\"orig-1\""));
    assert_non_null(strstr(body, "\"dequeueCount\":5"));
    assert_non_null(strstr(body, "\"body\":\"not &lt;json&gt;\"")); /* XML-escaped on the wire */
    assert_non_null(strstr(e->fh.sent[2].url, "popreceipt=held")); /* the fresh receipt */
    assert_string_equal(m.receipt, "r0");
}

static void test_poison_lost_lease_moves_nothing(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, "PUT", 404, "x-ms-error-code: MessageNotFound", NULL);
    struct edw_msg m = {.id = "orig-1", .receipt = "r0", .body = "x", .body_len = 1};
    assert_int_equal(edw_azure_queue_ops.poison(e->q, &m, "why", NULL), EDW_ERR_CONFLICT);
    assert_int_equal(e->fh.nsent, 1);
    assert_int_equal(fake_azure_http_count(&e->fh, "POST"), 0);
}

static void test_send_limits(void **state)
{
    struct env *e = *state;
    struct edw_error err = {0};
    char *big = edw_xmalloc(65538);
    memset(big, 'x', 65537);
    big[65537] = '\0';
    assert_int_equal(send_one(e, big, &err), EDW_ERR_INVALID);
    assert_non_null(strstr(err.message, "65537 bytes"));
    big[65536] = '\0';
    fake_azure_http_reply(&e->fh, NULL, 201, NULL, LIST(""));
    assert_int_equal(send_one(e, big, &err), EDW_OK); /* exactly 64 KiB is allowed */
    free(big);
    assert_int_equal(send_one(e, "bell\x07", &err), EDW_ERR_INVALID);
    assert_non_null(strstr(err.message, "EDW_AZURE_SEND_ENCODING=base64"));
    assert_int_equal(e->fh.nsent, 1); /* refused before any request */
}

static void test_send_concurrent(void **state)
{
    struct env *e = *state;
    struct edw_str bodies[40];
    for (int i = 0; i < 40; i++) {
        bodies[i] = (struct edw_str){"{}", 2};
        fake_azure_http_reply(&e->fh, NULL, 201, NULL, LIST(""));
    }
    assert_int_equal(edw_azure_queue_ops.send(e->q, bodies, 40, NULL), EDW_OK);
    assert_int_equal(e->fh.performs, 1);
    assert_int_equal(e->fh.max_batch, 40);
}

static void test_depth(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, "edw-messages?comp=metadata", 200,
                    "x-ms-approximate-messages-count: 7", NULL);
    fake_azure_http_reply(&e->fh, "edw-messages-poison?comp=metadata", 404,
                    "x-ms-error-code: QueueNotFound", NULL);
    struct edw_queue_depth d;
    assert_int_equal(edw_azure_queue_ops.depth(e->q, &d, NULL), EDW_OK);
    assert_int_equal(d.visible, 7);
    assert_int_equal(d.poison, 0);
}

/* --- table --- */

static const char s_batch_ok[] = "--batchresponse_x\r\nContent-Type: multipart/mixed; "
                                 "boundary=changesetresponse_y\r\n\r\n--changesetresponse_y\r\n"
                                 "Content-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n"
                                 "\r\n\r\n--changesetresponse_y\r\nContent-Type: application/http"
                                 "\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n--changesetresponse_y"
                                 "\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content"
                                 "\r\n\r\n\r\n--changesetresponse_y--\r\n--batchresponse_x--\r\n";

static struct edw_row row(const char *key)
{
    return (struct edw_row){.key = key, .data = "d", .src_stamp = "2026-11-27 18:00:00.000000",
                            .dest_stamp = "2026-11-27 18:00:01.000000", .processing_s = 1.0,
                            .dequeue_count = 1};
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static bool keep_data(void *ctx, const struct edw_row *r)
{
    struct edw_row *out = ctx;
    out->data = edw_xstrdup(r->data);
    return true;
}

static void test_upsert_groups_into_batches(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, "$batch", 202,
                    "Content-Type: multipart/mixed; boundary=batchresponse_x", s_batch_ok);
    fake_azure_http_reply(&e->fh, "PUT", 204, NULL, NULL);
    fake_azure_http_reply(&e->fh, "PUT", 204, NULL, NULL);
    struct edw_row rows[6] = {row("run-1"), row("run-250"), row("run-2"),
                              row("6b0e1a4e-guid"), row("run-99"), row("run-2")};
    rows[5].data = "newer";
    assert_int_equal(edw_azure_table_ops.upsert(e->t, rows, 6, NULL), EDW_OK);
    assert_int_equal(e->fh.performs, 1);
    assert_int_equal(e->fh.nsent, 3); /* one $batch (run-1, run-2, run-99), two single PUTs */
    assert_int_equal(fake_azure_http_unused(&e->fh), 0);
    size_t b = 0;
    while (strcmp(e->fh.sent[b].method, "POST") != 0)
        b++;
    const char *body = e->fh.sent[b].body;
    assert_int_equal(count_of(body, "PUT http://faket/devstoreaccount1/edwresults(PartitionKey="),
                     3);
    assert_int_equal(count_of(body, "RowKey='run-2'"), 1); /* the duplicate key went once */
    assert_non_null(strstr(body, "\"data\":\"newer\""));
    assert_non_null(strstr(body, "\"messageProcessingTime\":1,"
                                 "\"messageProcessingTime@odata.type\":\"Edm.Double\""));
    assert_non_null(strstr(body, "\"dequeueCount\":1}"));
    assert_int_equal(strncmp(hdr(e, b, "Content-Type"), "multipart/mixed; boundary=batch_", 32),
                     0);
    assert_string_equal(hdr(e, b, "Accept"), "application/json;odata=nometadata");
}

static void test_upsert_batch_failures(void **state)
{
    struct env *e = *state;
    char failed[1024];
    snprintf(failed, sizeof(failed),
             "--batchresponse_x\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\n"
             "Content-Type: application/http\r\n\r\nHTTP/1.1 %s\r\nContent-Type: "
             "application/json\r\n\r\n{\"odata.error\":{\"code\":\"%s\",\"message\":{\"value\":"
             "\"1:%s\"}}}\r\n--cs--\r\n--batchresponse_x--\r\n",
             "503 Service Unavailable", "ServerBusy", "busy");
    fake_azure_http_reply(&e->fh, NULL, 202, "Content-Type: multipart/mixed; boundary=batchresponse_x",
                    failed);
    fake_azure_http_reply(&e->fh, NULL, 202, "Content-Type: multipart/mixed; boundary=batchresponse_x",
                    s_batch_ok);
    struct edw_row rows[3] = {row("run-1"), row("run-2"), row("run-3")};
    assert_int_equal(edw_azure_table_ops.upsert(e->t, rows, 3, NULL), EDW_OK);
    assert_int_equal(e->fh.nsent, 2); /* an inner 503 retries the whole (atomic) batch */

    snprintf(failed, sizeof(failed),
             "--batchresponse_x\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\n"
             "Content-Type: application/http\r\n\r\nHTTP/1.1 400 Bad Request\r\nContent-Type: "
             "application/json\r\n\r\n{\"odata.error\":{\"code\":\"PropertyValueTooLarge\","
             "\"message\":{\"value\":\"2:The property value exceeds the maximum allowed size.\"}}}"
             "\r\n--cs--\r\n--batchresponse_x--\r\n");
    fake_azure_http_reply(&e->fh, NULL, 202, "Content-Type: multipart/mixed; boundary=batchresponse_x",
                    failed);
    struct edw_error err = {0};
    assert_int_equal(edw_azure_table_ops.upsert(e->t, rows, 3, &err), EDW_ERR_INVALID);
    assert_int_equal(e->fh.nsent, 3);
    assert_string_equal(err.code, "PropertyValueTooLarge");
    assert_non_null(strstr(err.message, "operation 2 failed: HTTP 400"));
}

static void batch_ok_handler(void *ctx, const struct edw_http_request *req,
                             struct edw_http_response *resp)
{
    (void)ctx;
    (void)req;
    resp->status = 202;
    edw_http_headers_add(&resp->headers, "Content-Type",
                         "multipart/mixed; boundary=batchresponse_x");
    assert_int_equal(edw_buf_append_str(&resp->body, s_batch_ok), EDW_OK);
}

/* Messages near the queue's 64 KiB limit: data spread over data, data_2... (a string property
 * holds 32K UTF-16 units) and $batch bodies kept under the service's 4 MiB. */
static void test_upsert_large_rows(void **state)
{
    struct env *e = *state;
    e->fh.handler = batch_ok_handler;
    char *big = edw_xmalloc(70001);
    memset(big, 'x', 70000);
    big[70000] = '\0';
    struct edw_row rows[60];
    char keys[60][16];
    for (int i = 0; i < 60; i++) {
        snprintf(keys[i], sizeof(keys[i]), "run-%d", i + 1);
        rows[i] = row(keys[i]);
        rows[i].data = big;
    }
    assert_int_equal(edw_azure_table_ops.upsert(e->t, rows, 60, NULL), EDW_OK);
    assert_true(e->fh.nsent > 1); /* split by size, not only by the 100-operation limit */
    size_t ops = 0;
    for (size_t i = 0; i < e->fh.nsent; i++) {
        assert_true(e->fh.sent[i].body_len <= 4u << 20);
        ops += count_of(e->fh.sent[i].body, "PUT http://faket/");
        assert_non_null(strstr(e->fh.sent[i].body, "\"data_3\":\""));
        assert_null(strstr(e->fh.sent[i].body, "\"data_4\""));
    }
    assert_int_equal(ops, 60);
    free(big);
}

static void test_get_joins_data_parts(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, NULL, 200, NULL,
                    "{\"PartitionKey\":\"p\",\"RowKey\":\"k\",\"data\":\"ab\",\"data_2\":\"cd\","
                    "\"data_3\":\"e\",\"srcStamp\":\"s\"}");
    struct edw_row got = {0};
    assert_int_equal(edw_azure_table_ops.get(e->t, "k", keep_data, &got, NULL), EDW_OK);
    assert_string_equal(got.data, "abcde");
    free((char *)got.data);
}

struct collected {
    size_t n;
    char keys[8][32];
    double times[8];
    uint32_t counts[8];
};

static bool collect(void *ctx, const struct edw_row *r)
{
    struct collected *c = ctx;
    snprintf(c->keys[c->n], sizeof(c->keys[0]), "%s", r->key);
    c->times[c->n] = r->processing_s;
    c->counts[c->n] = r->dequeue_count;
    c->n++;
    return true;
}

static void test_scan_follows_continuation(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, NULL, 200,
                    "x-ms-continuation-NextPartitionKey: 1!8!cDE-\n"
                    "x-ms-continuation-NextRowKey: 1!8!cjE-",
                    "{\"value\":[]}"); /* an empty page that is not the end */
    fake_azure_http_reply(&e->fh, NULL, 200, "x-ms-continuation-NextPartitionKey: 1!8!cDI-",
                    "{\"value\":[{\"PartitionKey\":\"run-3f-0\",\"RowKey\":\"run-1\","
                    "\"data\":\"a\",\"messageProcessingTime\":0.5,\"dequeueCount\":2}]}");
    fake_azure_http_reply(&e->fh, NULL, 200, NULL,
                    "{\"value\":[{\"PartitionKey\":\"run-a1-1\",\"RowKey\":\"run-100\","
                    "\"messageProcessingTime\":\"1.25\",\"dequeueCount\":1}]}");
    struct collected c = {0};
    assert_int_equal(edw_azure_table_ops.scan(e->t, "run-", collect, &c, NULL), EDW_OK);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.keys[0], "run-1");
    assert_true(c.times[0] == 0.5);
    assert_int_equal(c.counts[0], 2);
    assert_true(c.times[1] == 1.25);
    assert_int_equal(e->fh.nsent, 3);
    assert_non_null(strstr(e->fh.sent[1].url, "&NextPartitionKey=1%218%21cDE-&NextRowKey=1%218%21cjE-"));
    assert_non_null(strstr(e->fh.sent[2].url, "&NextPartitionKey=1%218%21cDI-"));
    assert_null(strstr(e->fh.sent[2].url, "NextRowKey"));
    /* The run prefix narrows by partition and by row key. */
    assert_non_null(strstr(e->fh.sent[0].url, "PartitionKey%20ge%20%27run-%27%20and%20"
                                              "PartitionKey%20lt%20%27run.%27"));
    assert_non_null(strstr(e->fh.sent[0].url, "RowKey%20ge%20%27run-%27"));
}

static void test_run_records(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, "PUT", 204, NULL, NULL);
    struct edw_run run = {.id = "r1", .started_us = 5, .finished_us = 0, .sent = 10};
    assert_int_equal(edw_azure_table_ops.run_save(e->t, &run, NULL), EDW_OK);
    assert_non_null(strstr(e->fh.sent[0].url, "edwresults(PartitionKey='edw-runs',RowKey='r1')"));
    assert_non_null(strstr(e->fh.sent[0].body, "\"sent\":\"10\",\"sent@odata.type\":\"Edm.Int64\""));
    /* Keys are encoded the way encodeURIComponent does, quotes doubled, in runs or alone. */
    fake_azure_http_reply(&e->fh, "PUT", 204, NULL, NULL);
    struct edw_run odd = {.id = "'it's (1)/x!''", .started_us = 5};
    assert_int_equal(edw_azure_table_ops.run_save(e->t, &odd, NULL), EDW_OK);
    assert_non_null(strstr(e->fh.sent[1].url, "RowKey='''it''s%20(1)%2Fx!''''')"));
    fake_azure_http_reply(&e->fh, "GET", 200, NULL,
                    "{\"value\":[{\"PartitionKey\":\"edw-runs\",\"RowKey\":\"old\",\"startedUs\":"
                    "\"100\",\"sent\":\"3\"},{\"PartitionKey\":\"edw-runs\",\"RowKey\":\"new\","
                    "\"startedUs\":\"300\",\"finishedUs\":\"400\",\"sent\":\"7\"},{\"PartitionKey\":"
                    "\"edw-runs\",\"RowKey\":\"mid\",\"startedUs\":\"200\",\"sent\":\"1\"}]}");
    struct edw_run got;
    assert_int_equal(edw_azure_table_ops.run_load(e->t, NULL, &got, NULL), EDW_OK);
    assert_string_equal(got.id, "new");
    assert_int_equal(got.started_us, 300);
    assert_int_equal(got.finished_us, 400);
    assert_int_equal(got.sent, 7);
    fake_azure_http_reply(&e->fh, "GET", 200, NULL, "{\"value\":[]}");
    struct edw_error err = {0};
    assert_int_equal(edw_azure_table_ops.run_load(e->t, "nope", &got, &err), EDW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "no run 'nope'"));
}

static void test_get_missing_row(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, NULL, 404, "x-ms-error-code: ResourceNotFound", NULL);
    struct collected c = {0};
    assert_int_equal(edw_azure_table_ops.get(e->t, "run-5", collect, &c, NULL), EDW_ERR_NOT_FOUND);
    assert_int_equal(c.n, 0);
    char *pk = edw_azure_partition_key("run-5");
    char want[128];
    snprintf(want, sizeof(want), "edwresults(PartitionKey='%s',RowKey='run-5')", pk);
    assert_non_null(strstr(e->fh.sent[0].url, want));
    free(pk);
}

/* --- SAS and encodings (own setups) --- */

static int setup_sas(void **state)
{
    return setup_with(state,
                      "SharedAccessSignature=sv=2019-02-02&ss=qt&sig=c2VjcmV0%2B;"
                      "QueueEndpoint=https://acct.queue.example;TableEndpoint=https://acct.table.example",
                      NULL);
}

static void test_sas_requests(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, NULL, 200, NULL, "<QueueMessagesList/>");
    fake_azure_http_reply(&e->fh, NULL, 204, NULL, NULL);
    struct edw_msg_batch b = {0};
    assert_int_equal(edw_azure_queue_ops.receive(e->q, 1, 30, &b, NULL), EDW_OK);
    assert_string_equal(e->fh.sent[0].url,
                        "https://acct.queue.example/edw-messages/messages?numofmessages=1&"
                        "visibilitytimeout=30&sv=2019-02-02&ss=qt&sig=c2VjcmV0%2B");
    assert_null(hdr(e, 0, "Authorization"));
    assert_int_equal(edw_azure_table_ops.create(e->t, NULL), EDW_OK);
    assert_string_equal(e->fh.sent[1].url,
                        "https://acct.table.example/Tables?sv=2019-02-02&ss=qt&sig=c2VjcmV0%2B");
    /* A failure names the path, never the signature. */
    fake_azure_http_reply(&e->fh, NULL, 403, "x-ms-error-code: AuthenticationFailed", NULL);
    struct edw_error err = {0};
    assert_int_equal(edw_azure_queue_ops.receive(e->q, 1, 30, &b, &err), EDW_ERR_AUTH);
    assert_null(strstr(err.message, "c2VjcmV0"));
    assert_non_null(strstr(err.message, "/edw-messages/messages"));
    edw_msg_batch_cleanup(&b);
}

static int setup_base64(void **state)
{
    return setup_with(state, CONN, "base64");
}

static void test_send_base64(void **state)
{
    struct env *e = *state;
    fake_azure_http_reply(&e->fh, NULL, 201, NULL, LIST(""));
    assert_int_equal(send_one(e, "{\"a\":1}", NULL), EDW_OK);
    assert_string_equal(e->fh.sent[0].body,
                        "<QueueMessage><MessageText>eyJhIjoxfQ==</MessageText></QueueMessage>");
    /* Bytes XML cannot carry are fine in base64. */
    fake_azure_http_reply(&e->fh, NULL, 201, NULL, LIST(""));
    assert_int_equal(send_one(e, "bell\x07", NULL), EDW_OK);
    char *big = edw_xmalloc(49154);
    memset(big, 'x', 49153);
    big[49153] = '\0';
    struct edw_error err = {0};
    assert_int_equal(send_one(e, big, &err), EDW_ERR_INVALID); /* 49153 raw > 64 KiB encoded */
    assert_non_null(strstr(err.message, "after base64"));
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_retry_resigns_after_retry_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_retry_on_auth_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gives_up_after_max_attempts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_error_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_fans_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_keeps_partial_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_decodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_after_ambiguous_attempt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_persistent_throttling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_ahead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_ahead_aged_and_released, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_receive_ahead_while_a_lease_ran_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_extend_replaces_receipt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poison_moves_with_envelope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poison_lost_lease_moves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upsert_groups_into_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upsert_batch_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upsert_large_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_joins_data_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_follows_continuation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_missing_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sas_requests, setup_sas, teardown),
        cmocka_unit_test_setup_teardown(test_send_base64, setup_base64, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
