/* SPDX-License-Identifier: Apache-2.0 */
/* The AWS JSON-protocol client (endpoints, error mapping, signing of every attempt, retry with
 * backoff on the fake clock) and the credential sources (STS XML parsing, token file reading,
 * the IRSA cache and its refresh), all against the scripted transport. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "aws_common.h"
#include "aws_fixture.h"
#include "edw/aws_credentials.h"
#include "edw/log.h"
#include "edw/metrics.h"

/* ---- error mapping ---- */

static void classify_codes(void **state)
{
    (void)state;
    static const struct {
        long status;
        const char *code;
        enum edw_err want;
    } cases[] = {
        {400, "ThrottlingException", EDW_ERR_THROTTLED},
        {400, "ProvisionedThroughputExceededException", EDW_ERR_THROTTLED},
        {400, "RequestThrottled", EDW_ERR_THROTTLED},
        {403, "OverLimit", EDW_ERR_THROTTLED},
        {400, "RequestLimitExceeded", EDW_ERR_THROTTLED},
        {503, "ServiceUnavailable", EDW_ERR_TRANSIENT},
        {500, "InternalServerError", EDW_ERR_TRANSIENT},
        {500, "", EDW_ERR_TRANSIENT},
        {429, "", EDW_ERR_THROTTLED},
        {400, "ExpiredTokenException", EDW_ERR_AUTH},
        {403, "InvalidSignatureException", EDW_ERR_AUTH},
        {400, "UnrecognizedClientException", EDW_ERR_AUTH},
        {400, "QueueDoesNotExist", EDW_ERR_NOT_FOUND},
        {400, "ResourceNotFoundException", EDW_ERR_NOT_FOUND},
        {400, "ReceiptHandleIsInvalid", EDW_ERR_CONFLICT},
        {400, "MessageNotInflight", EDW_ERR_CONFLICT},
        {400, "ConditionalCheckFailedException", EDW_ERR_CONFLICT},
        {400, "ValidationException", EDW_ERR_INVALID},
        {400, "InvalidParameterValue", EDW_ERR_INVALID},
        {403, "", EDW_ERR_AUTH},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(edw_aws_classify(cases[i].status, cases[i].code), cases[i].want);
}

static void parse_error_bodies(void **state)
{
    (void)state;
    struct edw_error e = {0};
    const char *sqs = "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\","
                      "\"message\":\"The specified queue does not exist.\"}";
    assert_int_equal(edw_aws_parse_error(400, NULL, sqs, strlen(sqs), &e), EDW_ERR_NOT_FOUND);
    assert_string_equal(e.code, "QueueDoesNotExist");
    assert_int_equal(e.http_status, 400);
    assert_non_null(strstr(e.message, "The specified queue does not exist."));

    const char *ddb = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
                      "ProvisionedThroughputExceededException\",\"message\":\"slow down\"}";
    assert_int_equal(edw_aws_parse_error(400, NULL, ddb, strlen(ddb), &e), EDW_ERR_THROTTLED);
    const char *val = "{\"__type\":\"com.amazon.coral.validate#ValidationException\","
                      "\"Message\":\"bad key\"}";
    assert_int_equal(edw_aws_parse_error(400, NULL, val, strlen(val), &e), EDW_ERR_INVALID);
    assert_non_null(strstr(e.message, "bad key"));

    /* An unknown __type, but the legacy SQS header knows better. */
    struct edw_http_headers h = {0};
    edw_http_headers_add(&h, "x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender");
    const char *odd = "{\"__type\":\"com.amazonaws.sqs#SomethingNew\"}";
    assert_int_equal(edw_aws_parse_error(400, &h, odd, strlen(odd), &e), EDW_ERR_NOT_FOUND);
    edw_http_headers_cleanup(&h);

    /* A load balancer's HTML 503 */
    assert_int_equal(edw_aws_parse_error(503, NULL, "<html>busy</html>", 17, &e),
                     EDW_ERR_TRANSIENT);
}

/* ---- endpoints ---- */

static void endpoints(void **state)
{
    (void)state;
    struct aws_fixture f;
    fixture_init(&f);
    char *url = NULL;
    struct edw_error e = {0};
    assert_int_equal(edw_aws_endpoint(&f.cfg, "sqs", &url, &e), EDW_OK);
    assert_string_equal(url, "http://127.0.0.1:4566/");
    free(url);
    fixture_set(&f.cfg.aws_endpoint_url_sqs, "http://127.0.0.1:9000///");
    assert_int_equal(edw_aws_endpoint(&f.cfg, "sqs", &url, &e), EDW_OK);
    assert_string_equal(url, "http://127.0.0.1:9000/");
    free(url);
    assert_int_equal(edw_aws_endpoint(&f.cfg, "dynamodb", &url, &e), EDW_OK);
    assert_string_equal(url, "http://127.0.0.1:4566/"); /* the general one */
    free(url);
    fixture_set(&f.cfg.aws_endpoint_url, NULL);
    assert_int_equal(edw_aws_endpoint(&f.cfg, "dynamodb", &url, &e), EDW_OK);
    assert_string_equal(url, "https://dynamodb.us-east-1.amazonaws.com/");
    free(url);
    fixture_set(&f.cfg.aws_region, "cn-north-1");
    assert_int_equal(edw_aws_endpoint(&f.cfg, "dynamodb", &url, &e), EDW_OK);
    assert_string_equal(url, "https://dynamodb.cn-north-1.amazonaws.com.cn/");
    free(url);
    fixture_set(&f.cfg.aws_region, NULL);
    assert_int_equal(edw_aws_endpoint(&f.cfg, "dynamodb", &url, &e), EDW_ERR_INVALID);
    assert_non_null(strstr(e.message, "AWS_REGION"));
    fixture_set(&f.cfg.aws_endpoint_url_sqs, "ftp://example.com");
    assert_int_equal(edw_aws_endpoint(&f.cfg, "sqs", &url, &e), EDW_ERR_INVALID);
    assert_null(url);
    fixture_cleanup(&f);
}

/* ---- calls: signing, retries ---- */

struct script {
    struct aws_fixture *f;
    int fail_first; /* answer this many requests with `fail_status` */
    long fail_status;
    const char *fail_type;
    const char *fail_only; /* fail only requests whose body contains this */
    int seen;
};

/* Advances the fake clock by a second per request, so each attempt is signed at a new time. */
static void scripted(void *ctx, const struct fake_http_call *c, struct edw_http_response *resp)
{
    struct script *s = ctx;
    fake_clock_advance(&s->f->clock, 1000000);
    bool eligible = !s->fail_only || strstr(c->body, s->fail_only);
    if (eligible && s->seen++ < s->fail_first) {
        fixture_reply_error(resp, s->fail_status, s->fail_type, "scripted failure");
        return;
    }
    fixture_reply_json(resp, 200, json_pack("{s:s}", "echo", c->body));
}

static void client_init(struct aws_fixture *f, struct edw_aws_client *c)
{
    fixture_init(f);
    struct edw_error e = {0};
    assert_int_equal(edw_aws_client_init(c, &f->cfg, &f->deps, "sqs", &e), EDW_OK);
}

static void signs_every_request(void **state)
{
    (void)state;
    struct aws_fixture f;
    struct edw_aws_client c;
    client_init(&f, &c);
    json_t *out = NULL;
    struct edw_error e = {0};
    fake_http_push(&f.http, 200, "{\"QueueUrls\":[]}");
    assert_int_equal(edw_aws_call_one(&c, "ListQueues", json_pack("{s:s}", "a", "é"), 0, &out, &e),
                     EDW_OK);
    assert_true(json_is_array(json_object_get(out, "QueueUrls")));
    json_decref(out);
    assert_int_equal(f.http.ncalls, 1);
    const struct fake_http_call *call = &f.http.calls[0];
    assert_string_equal(call->method, "POST");
    assert_string_equal(call->url, "http://127.0.0.1:4566/");
    assert_string_equal(call->body, "{\"a\":\"é\"}");
    assert_string_equal(fake_http_header(&f.http, 0, "Content-Type"), "application/x-amz-json-1.0");
    assert_string_equal(fake_http_header(&f.http, 0, "X-Amz-Target"), "AmazonSQS.ListQueues");
    assert_string_equal(fake_http_header(&f.http, 0, "Host"), "127.0.0.1:4566");
    assert_string_equal(fake_http_header(&f.http, 0, "X-Amz-Date"), "20261127T180000Z");
    const char *auth = fake_http_header(&f.http, 0, "Authorization");
    assert_non_null(auth);
    assert_true(strncmp(auth,
                        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/us-east-1/sqs/"
                        "aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
                        "Signature=",
                        strlen("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/us-east-1/sqs/"
                               "aws4_request, SignedHeaders=content-type;host;x-amz-date;"
                               "x-amz-target, Signature=")) == 0);
    assert_null(fake_http_header(&f.http, 0, "X-Amz-Security-Token"));
    /* the secret appears nowhere in what was sent */
    for (size_t i = 0; i < call->headers.n; i++)
        assert_null(strstr(call->headers.items[i].value, "EXAMPLEKEY"));
    edw_aws_client_cleanup(&c);
    fixture_cleanup(&f);
}

static void session_token_is_signed(void **state)
{
    (void)state;
    struct aws_fixture f;
    fixture_init(&f);
    fixture_set(&f.cfg.aws_session_token, "FwoGZXIvYXdzEXAMPLETOKEN");
    struct edw_aws_client c;
    struct edw_error e = {0};
    assert_int_equal(edw_aws_client_init(&c, &f.cfg, &f.deps, "dynamodb", &e), EDW_OK);
    fake_http_push(&f.http, 200, "{}");
    assert_int_equal(edw_aws_call_one(&c, "ListTables", json_object(), 0, NULL, &e), EDW_OK);
    assert_string_equal(fake_http_header(&f.http, 0, "X-Amz-Security-Token"),
                        "FwoGZXIvYXdzEXAMPLETOKEN");
    assert_string_equal(fake_http_header(&f.http, 0, "X-Amz-Target"),
                        "DynamoDB_20120810.ListTables");
    assert_non_null(strstr(fake_http_header(&f.http, 0, "Authorization"),
                           "/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;"
                           "x-amz-security-token;x-amz-target, "));
    edw_aws_client_cleanup(&c);
    fixture_cleanup(&f);
}

static void retries_transient_then_succeeds(void **state)
{
    (void)state;
    struct aws_fixture f;
    struct edw_aws_client c;
    client_init(&f, &c);
    struct script s = {&f, 2, 503, "ServiceUnavailable", NULL, 0};
    fake_http_set_handler(&f.http, scripted, &s);
    json_t *out = NULL;
    struct edw_error e = {0};
    assert_int_equal(edw_aws_call_one(&c, "GetQueueUrl", json_object(), 0, &out, &e), EDW_OK);
    json_decref(out);
    assert_int_equal(f.http.ncalls, 3);
    assert_int_equal(c.retries, 2);
    assert_true(f.clock.slept_us >= 25000 + 50000); /* half of 50 ms, then half of 100 ms */
    /* every attempt carries its own date and signature */
    assert_string_not_equal(fake_http_header(&f.http, 0, "X-Amz-Date"),
                            fake_http_header(&f.http, 2, "X-Amz-Date"));
    assert_string_not_equal(fake_http_header(&f.http, 0, "Authorization"),
                            fake_http_header(&f.http, 1, "Authorization"));
    assert_int_equal(f.http.calls[1].headers.n, f.http.calls[0].headers.n); /* no duplicates */
    edw_aws_client_cleanup(&c);
    fixture_cleanup(&f);
}

static void throttling_backs_off_longer(void **state)
{
    (void)state;
    struct aws_fixture f;
    struct edw_aws_client c;
    client_init(&f, &c);
    struct script s = {&f, 1, 400, "com.amazonaws.sqs#RequestThrottled", NULL, 0};
    fake_http_set_handler(&f.http, scripted, &s);
    struct edw_error e = {0};
    assert_int_equal(edw_aws_call_one(&c, "ReceiveMessage", json_object(), 0, NULL, &e), EDW_OK);
    assert_int_equal(f.http.ncalls, 2);
    assert_true(f.clock.slept_us >= 125000); /* at least half the 250 ms throttle base */
    edw_aws_client_cleanup(&c);
    fixture_cleanup(&f);
}

static void final_errors_are_not_retried(void **state)
{
    (void)state;
    struct aws_fixture f;
    struct edw_aws_client c;
    client_init(&f, &c);
    struct script s = {&f, 100, 400, "com.amazon.coral.validate#ValidationException", NULL, 0};
    fake_http_set_handler(&f.http, scripted, &s);
    struct edw_error e = {0};
    assert_int_equal(edw_aws_call_one(&c, "PutItem", json_object(), 0, NULL, &e),
                     EDW_ERR_INVALID);
    assert_int_equal(f.http.ncalls, 1);
    assert_int_equal(f.clock.slept_us, 0);
    assert_string_equal(e.code, "ValidationException");
    assert_non_null(strstr(e.message, "SQS PutItem: ValidationException: scripted failure"));
    edw_aws_client_cleanup(&c);
    fixture_cleanup(&f);
}

static void retries_are_bounded(void **state)
{
    (void)state;
    struct aws_fixture f;
    struct edw_aws_client c;
    client_init(&f, &c);
    struct script s = {&f, 1000, 500, "InternalError", NULL, 0};
    fake_http_set_handler(&f.http, scripted, &s);
    struct edw_error e = {0};
    assert_int_equal(edw_aws_call_one(&c, "SendMessage", json_object(), 0, NULL, &e),
                     EDW_ERR_TRANSIENT);
    assert_int_equal(f.http.ncalls, c.retry.max_attempts);
    edw_aws_client_cleanup(&c);
    fixture_cleanup(&f);
}

/* A 503 with Retry-After: 2 is retried after at least 2 s, not the 25-50 ms backoff; the
 * retry is counted in edw_backend_retries_total under the action's operation. */
static void retry_after(void *ctx, const struct fake_http_call *c, struct edw_http_response *resp)
{
    int *seen = ctx;
    (void)c;
    if ((*seen)++ == 0) {
        fixture_reply_error(resp, 503, "ServiceUnavailable", "slow down");
        edw_http_headers_add(&resp->headers, "Retry-After", "2");
        return;
    }
    fixture_reply_json(resp, 200, json_object());
}

static void retry_after_is_honoured_and_counted(void **state)
{
    (void)state;
    struct aws_fixture f;
    struct edw_aws_client c;
    client_init(&f, &c);
    edw_metrics_reset();
    int seen = 0;
    fake_http_set_handler(&f.http, retry_after, &seen);
    struct edw_error e = {0};
    assert_int_equal(edw_aws_call_one(&c, "ReceiveMessage", json_object(), 0, NULL, &e), EDW_OK);
    assert_int_equal(f.http.ncalls, 2);
    assert_true(f.clock.slept_us >= 2000000);
    assert_int_equal(c.retries, 1);
    struct edw_buf m;
    edw_buf_init(&m, 1 << 20);
    assert_int_equal(edw_metrics_render(&m), EDW_OK);
    assert_non_null(strstr(edw_buf_cstr(&m), "edw_backend_retries_total{backend=\"aws\","
                                             "operation=\"receive\",reason=\"transient\"} 1\n"));
    edw_buf_cleanup(&m);
    /* a hint longer than max_hint_us is capped: no lease may run out while a call sleeps */
    seen = 0;
    f.clock.slept_us = 0;
    c.retry.max_hint_us = 500000;
    assert_int_equal(edw_aws_call_one(&c, "ReceiveMessage", json_object(), 0, NULL, &e), EDW_OK);
    assert_int_equal(f.clock.slept_us, 500000);
    edw_aws_client_cleanup(&c);
    fixture_cleanup(&f);
}

static void retry_after_header_forms(void **state)
{
    (void)state;
    struct edw_http_headers h = {0};
    assert_int_equal(edw_aws_retry_after_ms(&h), 0);
    edw_http_headers_set(&h, "retry-after", "3");
    assert_int_equal(edw_aws_retry_after_ms(&h), 3000);
    edw_http_headers_set(&h, "Retry-After", "0");
    assert_int_equal(edw_aws_retry_after_ms(&h), 0);
    edw_http_headers_set(&h, "Retry-After", "Fri, 27 Nov 2026 18:00:00 GMT");
    assert_int_equal(edw_aws_retry_after_ms(&h), 0);
    edw_http_headers_set(&h, "Retry-After", "-5");
    assert_int_equal(edw_aws_retry_after_ms(&h), 0);
    edw_http_headers_set(&h, "Retry-After", "99999999999");
    assert_int_equal(edw_aws_retry_after_ms(&h), 3600000);
    edw_http_headers_cleanup(&h);
    assert_int_equal(edw_aws_op_of("ReceiveMessage"), EDW_OP_RECEIVE);
    assert_int_equal(edw_aws_op_of("DeleteMessageBatch"), EDW_OP_ACK);
    assert_int_equal(edw_aws_op_of("ChangeMessageVisibilityBatch"), EDW_OP_EXTEND);
    assert_int_equal(edw_aws_op_of("BatchWriteItem"), EDW_OP_UPSERT);
    assert_int_equal(edw_aws_op_of("SendMessageBatch"), EDW_OP_SEND);
}

static void connection_failures_are_retried(void **state)
{
    (void)state;
    struct aws_fixture f;
    struct edw_aws_client c;
    client_init(&f, &c);
    fake_http_push_failure(&f.http);
    fake_http_push(&f.http, 200, "{\"ok\":1}");
    struct edw_error e = {0};
    assert_int_equal(edw_aws_call_one(&c, "SendMessage", json_object(), 0, NULL, &e), EDW_OK);
    assert_int_equal(f.http.ncalls, 2);
    edw_aws_client_cleanup(&c);
    fixture_cleanup(&f);
}

static void only_failed_calls_are_retried(void **state)
{
    (void)state;
    struct aws_fixture f;
    struct edw_aws_client c;
    client_init(&f, &c);
    struct script s = {&f, 1, 500, "InternalError", "second", 0};
    fake_http_set_handler(&f.http, scripted, &s);
    struct edw_aws_call calls[3] = {
        {.op = "A", .in = json_pack("{s:s}", "n", "first")},
        {.op = "B", .in = json_pack("{s:s}", "n", "second")},
        {.op = "C", .in = json_pack("{s:s}", "n", "third")},
    };
    assert_int_equal(edw_aws_call_many(&c, calls, 3), EDW_OK);
    assert_int_equal(f.http.performs, 2);
    assert_int_equal(f.http.max_batch, 3); /* the first round went out together */
    assert_int_equal(f.http.ncalls, 4);
    assert_non_null(strstr(f.http.calls[3].body, "second"));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(calls[i].rc, EDW_OK);
        assert_non_null(calls[i].out);
        edw_aws_call_cleanup(&calls[i]);
    }
    edw_aws_client_cleanup(&c);
    fixture_cleanup(&f);
}

static void unencodable_request_is_refused(void **state)
{
    (void)state;
    struct aws_fixture f;
    struct edw_aws_client c;
    client_init(&f, &c);
    struct edw_error e = {0};
    /* json_pack() gives NULL for text that is not UTF-8: nothing may be sent */
    json_t *in = json_pack("{s:s}", "QueueName", "bad\xff");
    assert_null(in);
    assert_int_equal(edw_aws_call_one(&c, "GetQueueUrl", in, 0, NULL, &e), EDW_ERR_INVALID);
    assert_int_equal(f.http.ncalls, 0);
    assert_non_null(strstr(e.message, "could not be encoded"));
    edw_aws_client_cleanup(&c);
    fixture_cleanup(&f);
}

static void invalid_json_response(void **state)
{
    (void)state;
    struct aws_fixture f;
    struct edw_aws_client c;
    client_init(&f, &c);
    c.retry.max_attempts = 1;
    fake_http_push(&f.http, 200, "<xml/>");
    struct edw_error e = {0};
    assert_int_equal(edw_aws_call_one(&c, "X", json_object(), 0, NULL, &e), EDW_ERR_TRANSIENT);
    assert_non_null(strstr(e.message, "not a JSON object"));
    edw_aws_client_cleanup(&c);
    fixture_cleanup(&f);
}

/* ---- STS ---- */

static const char *const STS_OK =
    "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
    "<AssumeRoleWithWebIdentityResult><Credentials>"
    "<SessionToken>tok&amp;en</SessionToken><SecretAccessKey>sec/ret</SecretAccessKey>"
    "<Expiration>2026-11-27T19:00:00.123Z</Expiration><AccessKeyId>ASIA1</AccessKeyId>"
    "</Credentials><AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn>"
    "</AssumedRoleUser></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";

static void sts_parse_success(void **state)
{
    (void)state;
    struct edw_aws_creds c;
    struct edw_error e = {0};
    assert_int_equal(edw_aws_sts_parse(200, STS_OK, strlen(STS_OK), &c, &e), EDW_OK);
    assert_string_equal(c.access_key_id, "ASIA1");
    assert_string_equal(c.secret_access_key, "sec/ret");
    assert_string_equal(c.session_token, "tok&en");
    assert_int_equal(c.expires_at_unix_s, FIXTURE_T0 + 3600);
    edw_aws_creds_cleanup(&c);
}

static void sts_parse_errors(void **state)
{
    (void)state;
    struct edw_aws_creds c;
    struct edw_error e = {0};
    const char *idp = "<ErrorResponse><Error><Type>Sender</Type><Code>IDPCommunicationError</Code>"
                      "<Message>try again</Message></Error></ErrorResponse>";
    assert_int_equal(edw_aws_sts_parse(400, idp, strlen(idp), &c, &e), EDW_ERR_TRANSIENT);
    assert_non_null(strstr(e.message, "IDPCommunicationError: try again"));
    const char *denied = "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message>"
                         "</Error></ErrorResponse>";
    assert_int_equal(edw_aws_sts_parse(403, denied, strlen(denied), &c, &e), EDW_ERR_AUTH);
    const char *bare = "<Error><Code>ExpiredTokenException</Code></Error>"; /* aws-c-auth's form */
    assert_int_equal(edw_aws_sts_parse(400, bare, strlen(bare), &c, &e), EDW_ERR_AUTH);
    assert_int_equal(edw_aws_sts_parse(503, "<html>", 6, &c, &e), EDW_ERR_TRANSIENT);
    assert_int_equal(edw_aws_sts_parse(200, "not xml", 7, &c, &e), EDW_ERR_FATAL);
    const char *partial = "<R><Credentials><AccessKeyId>A</AccessKeyId></Credentials></R>";
    assert_int_equal(edw_aws_sts_parse(200, partial, strlen(partial), &c, &e), EDW_ERR_FATAL);
    const char *dtd = "<!DOCTYPE r [<!ENTITY a \"aaaa\">]><r>&a;</r>";
    assert_int_equal(edw_aws_sts_parse(200, dtd, strlen(dtd), &c, &e), EDW_ERR_FATAL);
    assert_non_null(strstr(e.message, "DOCTYPE"));
    const char *bad_time = "<R><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S"
                           "</SecretAccessKey><SessionToken>T</SessionToken><Expiration>soon"
                           "</Expiration></Credentials></R>";
    assert_int_equal(edw_aws_sts_parse(200, bad_time, strlen(bad_time), &c, &e), EDW_ERR_FATAL);
    assert_null(c.access_key_id);
}

static void iso8601(void **state)
{
    (void)state;
    int64_t t = 0;
    assert_true(edw_aws_parse_iso8601("2026-11-27T18:00:00Z", &t));
    assert_int_equal(t, FIXTURE_T0);
    assert_true(edw_aws_parse_iso8601("2026-11-27T18:00:01.123456789Z", &t));
    assert_int_equal(t, FIXTURE_T0 + 1);
    assert_false(edw_aws_parse_iso8601("2026-11-27 18:00:00", &t));
    assert_false(edw_aws_parse_iso8601("2026-13-27T18:00:00Z", &t));
}

static char s_tmpdir[256];

static const char *write_file(const char *name, const char *content, size_t len)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", s_tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(content, 1, len, f), len);
    fclose(f);
    return path;
}

static void token_file_reading(void **state)
{
    (void)state;
    char *tok = NULL;
    struct edw_error e = {0};
    const char *p = write_file("t1", "abc.def.ghi\n", 12);
    assert_int_equal(edw_aws_read_token_file(p, 64, &tok, &e), EDW_OK);
    assert_string_equal(tok, "abc.def.ghi");
    free(tok);
    char big[100];
    memset(big, 'x', sizeof(big));
    p = write_file("t2", big, sizeof(big));
    assert_int_equal(edw_aws_read_token_file(p, 64, &tok, &e), EDW_ERR_AUTH);
    assert_null(tok);
    assert_non_null(strstr(e.message, "larger than 64 bytes"));
    assert_null(strstr(e.message, "xxxx")); /* the contents never appear */
    p = write_file("t3", "\n\n", 2);
    assert_int_equal(edw_aws_read_token_file(p, 64, &tok, &e), EDW_ERR_AUTH);
    assert_non_null(strstr(e.message, "empty"));
    assert_int_equal(edw_aws_read_token_file("/nonexistent/token", 64, &tok, &e), EDW_ERR_AUTH);
    p = write_file("t4", big, 64); /* exactly the cap is fine */
    assert_int_equal(edw_aws_read_token_file(p, 64, &tok, &e), EDW_OK);
    free(tok);
}

/* A scripted STS: 200 with fresh credentials valid for `lifetime_s` from the fake clock's now,
 * or `fail` failures first. */
struct sts {
    struct fake_clock *clock;
    int64_t lifetime_s;
    int fail;
    int answered;
};

static void sts_handler(void *ctx, const struct fake_http_call *c, struct edw_http_response *resp)
{
    (void)c;
    struct sts *s = ctx;
    if (s->fail > 0) {
        s->fail--;
        fake_http_reply(resp, 503, "<html>down</html>");
        return;
    }
    s->answered++;
    int64_t exp = s->clock->wall_us / 1000000 + s->lifetime_s;
    time_t t = (time_t)exp;
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[32], *xml;
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    xml = edw_xasprintf("<R><Credentials><AccessKeyId>ASIA%d</AccessKeyId><SecretAccessKey>s%d"
                        "</SecretAccessKey><SessionToken>t%d</SessionToken><Expiration>%s"
                        "</Expiration></Credentials></R>",
                        s->answered, s->answered, s->answered, when);
    fake_http_reply(resp, 200, xml);
    free(xml);
}

static void irsa_provider(struct aws_fixture *f, const char *token_path,
                          struct edw_aws_cred_provider **p)
{
    struct edw_aws_cred_options o = {
        .role_arn = "arn:aws:iam::123456789012:role/edw",
        .token_file = token_path,
        .session_name = "edw-test",
        .sts_endpoint = "http://127.0.0.1:9999",
        .region = "us-east-1",
        .http = &f->http.transport,
        .clock = &f->clock.clock,
    };
    struct edw_error e = {0};
    assert_int_equal(edw_aws_cred_provider_new(&o, p, &e), EDW_OK);
    assert_string_equal(edw_aws_cred_provider_kind(*p), "web-identity");
}

static void irsa_exchange_cache_refresh(void **state)
{
    (void)state;
    struct aws_fixture f;
    fixture_init(&f);
    struct sts sts = {&f.clock, 3600, 0, 0};
    fake_http_set_handler(&f.http, sts_handler, &sts);
    const char *path = write_file("irsa", "jwt-one\n", 8);
    struct edw_aws_cred_provider *p = NULL;
    irsa_provider(&f, path, &p);
    struct edw_aws_creds c;
    struct edw_error e = {0};

    assert_int_equal(edw_aws_cred_provider_get(p, &c, &e), EDW_OK);
    assert_string_equal(c.access_key_id, "ASIA1");
    assert_string_equal(c.session_token, "t1");
    edw_aws_creds_cleanup(&c);
    assert_int_equal(f.http.ncalls, 1);
    const struct fake_http_call *call = &f.http.calls[0];
    assert_string_equal(call->url, "http://127.0.0.1:9999/");
    assert_string_equal(call->body,
                        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn="
                        "arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fedw&RoleSessionName=edw-test"
                        "&WebIdentityToken=jwt-one");
    assert_null(fake_http_header(&f.http, 0, "Authorization")); /* the exchange is unsigned */

    /* cached while outside the 300 s skew */
    fake_clock_advance(&f.clock, 3000 * 1000000LL);
    assert_int_equal(edw_aws_cred_provider_get(p, &c, &e), EDW_OK);
    assert_string_equal(c.access_key_id, "ASIA1");
    edw_aws_creds_cleanup(&c);
    assert_int_equal(f.http.ncalls, 1);

    /* inside the skew: refreshed, with the rotated token file */
    write_file("irsa", "jwt-two", 7);
    fake_clock_advance(&f.clock, 301 * 1000000LL);
    assert_int_equal(edw_aws_cred_provider_get(p, &c, &e), EDW_OK);
    assert_string_equal(c.access_key_id, "ASIA2");
    edw_aws_creds_cleanup(&c);
    assert_int_equal(f.http.ncalls, 2);
    assert_non_null(strstr(f.http.calls[1].body, "&WebIdentityToken=jwt-two"));

    /* invalidate forces a new exchange */
    edw_aws_cred_provider_invalidate(p);
    assert_int_equal(edw_aws_cred_provider_get(p, &c, &e), EDW_OK);
    assert_string_equal(c.access_key_id, "ASIA3");
    edw_aws_creds_cleanup(&c);
    edw_aws_cred_provider_destroy(p);
    fixture_cleanup(&f);
}

static void irsa_failed_refresh_keeps_valid_cache(void **state)
{
    (void)state;
    struct aws_fixture f;
    fixture_init(&f);
    struct sts sts = {&f.clock, 3600, 0, 0};
    fake_http_set_handler(&f.http, sts_handler, &sts);
    const char *path = write_file("irsa2", "jwt", 3);
    struct edw_aws_cred_provider *p = NULL;
    irsa_provider(&f, path, &p);
    struct edw_aws_creds c;
    struct edw_error e = {0};
    assert_int_equal(edw_aws_cred_provider_get(p, &c, &e), EDW_OK);
    edw_aws_creds_cleanup(&c);

    /* STS down while the cache is in its refresh window but still valid */
    fake_clock_advance(&f.clock, 3400 * 1000000LL);
    sts.fail = 1000;
    size_t before = f.http.ncalls;
    assert_int_equal(edw_aws_cred_provider_get(p, &c, &e), EDW_OK);
    assert_string_equal(c.access_key_id, "ASIA1");
    edw_aws_creds_cleanup(&c);
    assert_int_equal(f.http.ncalls, before + 3); /* three attempts, then fall back */
    /* and it does not hammer STS: no new attempt within 30 s */
    assert_int_equal(edw_aws_cred_provider_get(p, &c, &e), EDW_OK);
    edw_aws_creds_cleanup(&c);
    assert_int_equal(f.http.ncalls, before + 3);

    /* expired and STS still down: an error */
    fake_clock_advance(&f.clock, 300 * 1000000LL);
    assert_int_equal(edw_aws_cred_provider_get(p, &c, &e), EDW_ERR_TRANSIENT);
    assert_null(c.access_key_id);
    /* STS back: recovers */
    sts.fail = 0;
    assert_int_equal(edw_aws_cred_provider_get(p, &c, &e), EDW_OK);
    assert_string_equal(c.access_key_id, "ASIA2");
    edw_aws_creds_cleanup(&c);
    edw_aws_cred_provider_destroy(p);
    fixture_cleanup(&f);
}

static void credential_choice(void **state)
{
    (void)state;
    struct edw_aws_cred_provider *p = NULL;
    struct edw_error e = {0};
    struct edw_aws_cred_options none = {.clock = edw_clock_system()};
    assert_int_equal(edw_aws_cred_provider_new(&none, &p, &e), EDW_ERR_INVALID);
    assert_null(p);
    assert_non_null(strstr(e.message, "AWS_ACCESS_KEY_ID"));
    assert_non_null(strstr(e.message, "AWS_WEB_IDENTITY_TOKEN_FILE"));
    struct edw_aws_cred_options half = {.access_key_id = "AK", .clock = edw_clock_system()};
    assert_int_equal(edw_aws_cred_provider_new(&half, &p, &e), EDW_ERR_INVALID);
    /* static keys win over IRSA, as in the AWS SDKs */
    struct edw_aws_cred_options both = {.access_key_id = "AK", .secret_access_key = "SK",
                                        .role_arn = "arn", .token_file = "/x",
                                        .clock = edw_clock_system()};
    assert_int_equal(edw_aws_cred_provider_new(&both, &p, &e), EDW_OK);
    assert_string_equal(edw_aws_cred_provider_kind(p), "static");
    struct edw_aws_creds c;
    assert_int_equal(edw_aws_cred_provider_get(p, &c, &e), EDW_OK);
    assert_string_equal(c.secret_access_key, "SK");
    assert_null(c.session_token);
    edw_aws_creds_cleanup(&c);
    edw_aws_cred_provider_destroy(p);
}

/* ---- settings ---- */

static const char *const *s_env; /* NAME=value pairs for fake_getenv */

static char *fake_getenv(const char *name)
{
    size_t len = strlen(name);
    for (const char *const *e = s_env; *e; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return (char *)*e + len + 1;
    return NULL;
}

static void load(const char *const *env, struct edw_config *cfg, struct edw_buf *problems)
{
    s_env = env;
    struct edw_config_source src = {fake_getenv, (char *const *)env};
    edw_config_init(cfg);
    edw_buf_init(problems, 1 << 16);
    char *argv[] = {NULL};
    assert_int_equal(edw_config_load(cfg, EDW_CMD_CONSUME, &src, 0, argv, problems), EDW_OK);
}

static void settings_aliases_and_secrets(void **state)
{
    (void)state;
    struct edw_config cfg;
    struct edw_buf problems, dump;
    /* The AWS sample's names: DYNAMODB_TABLE, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_STS */
    const char *const sample[] = {"DYNAMODB_TABLE=orders", "AWS_DEFAULT_REGION=eu-west-1",
                                  "AWS_ENDPOINT_URL_STS=http://127.0.0.1:1",
                                  "AWS_SECRET_ACCESS_KEY=s3cr3t-value",
                                  "AWS_SESSION_TOKEN=t0ken-value", "EDW_SQS_WAIT_S=5", NULL};
    load(sample, &cfg, &problems);
    assert_string_equal(cfg.table_name, "orders");
    assert_string_equal(cfg.aws_region, "eu-west-1");
    assert_string_equal(cfg.aws_sts_endpoint, "http://127.0.0.1:1");
    assert_int_equal(cfg.sqs_wait_s, 5);
    edw_buf_init(&dump, 1 << 20);
    assert_int_equal(edw_config_dump(&cfg, false, &dump), EDW_OK);
    assert_null(strstr(edw_buf_cstr(&dump), "s3cr3t"));
    assert_null(strstr(edw_buf_cstr(&dump), "t0ken"));
    assert_non_null(strstr(edw_buf_cstr(&dump), "***"));
    edw_buf_cleanup(&dump);
    edw_buf_cleanup(&problems);
    edw_config_cleanup(&cfg);
    /* The primary names win over the aliases, the first alias over the second. */
    const char *const both[] = {"DYNAMODB_TABLE=orders", "AZURE_TABLE_NAME=azure",
                                "EDW_TABLE_NAME=mine", "AWS_REGION=us-west-2",
                                "AWS_DEFAULT_REGION=eu-west-1", NULL};
    load(both, &cfg, &problems);
    assert_string_equal(cfg.table_name, "mine");
    assert_string_equal(cfg.aws_region, "us-west-2");
    edw_buf_cleanup(&problems);
    edw_config_cleanup(&cfg);
    const char *const two[] = {"DYNAMODB_TABLE=orders", "AZURE_TABLE_NAME=azure", NULL};
    load(two, &cfg, &problems);
    assert_string_equal(cfg.table_name, "azure");
    edw_buf_cleanup(&problems);
    edw_config_cleanup(&cfg);
}

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(s_tmpdir, sizeof(s_tmpdir), "%s/edw-aws-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(s_tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    static const char *const names[] = {"t1", "t2", "t3", "t4", "irsa", "irsa2"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", s_tmpdir, names[i]);
        unlink(path);
    }
    return rmdir(s_tmpdir);
}

int main(void)
{
    g_edw_log_level = EDW_LOG_ERROR;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classify_codes),
        cmocka_unit_test(parse_error_bodies),
        cmocka_unit_test(endpoints),
        cmocka_unit_test(signs_every_request),
        cmocka_unit_test(session_token_is_signed),
        cmocka_unit_test(retries_transient_then_succeeds),
        cmocka_unit_test(throttling_backs_off_longer),
        cmocka_unit_test(final_errors_are_not_retried),
        cmocka_unit_test(retries_are_bounded),
        cmocka_unit_test(retry_after_is_honoured_and_counted),
        cmocka_unit_test(retry_after_header_forms),
        cmocka_unit_test(connection_failures_are_retried),
        cmocka_unit_test(only_failed_calls_are_retried),
        cmocka_unit_test(unencodable_request_is_refused),
        cmocka_unit_test(invalid_json_response),
        cmocka_unit_test(sts_parse_success),
        cmocka_unit_test(sts_parse_errors),
        cmocka_unit_test(iso8601),
        cmocka_unit_test(token_file_reading),
        cmocka_unit_test(irsa_exchange_cache_refresh),
        cmocka_unit_test(irsa_failed_refresh_keeps_valid_cache),
        cmocka_unit_test(credential_choice),
        cmocka_unit_test(settings_aliases_and_secrets),
    };
    return cmocka_run_group_tests_name("aws_common", tests, make_tmpdir, remove_tmpdir);
}
