/* SPDX-License-Identifier: Apache-2.0 */
/* The SQS backend against the scripted transport: how calls are split and run concurrently,
 * long polling only when idle, per-entry retry of batch partial failures, lease-lost mapping,
 * the poison paths (own queue, redrive policy), and the pure parsing helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "aws_common.h"
#include "aws_crypto.h"
#include "aws_fixture.h"
#include "aws_sqs_parse.h"
#include "edw/log.h"

extern const struct edw_queue_ops edw_aws_sqs_ops;

#define QURL "http://sqs.us-east-1.fake:4566/000000000000/jobs"
#define PURL "http://sqs.us-east-1.fake:4566/000000000000/jobs-poison"

/* A small SQS: answers by operation; a test sets the knobs it needs. */
struct fake_sqs {
    struct aws_fixture *f;
    int available;          /* messages ReceiveMessage can still hand out */
    int next_id;
    const char *redrive;    /* RedrivePolicy attribute, or NULL */
    int fail_entry_once;    /* batch entry index (from "e<i>") that fails once, service-side */
    int invalid_entry;      /* batch entry index whose receipt handle is invalid, -1 for none */
    bool sender_fault_send; /* SendMessageBatch entries fail with InvalidMessageContents */
    bool lost_lease;        /* ChangeMessageVisibility: ReceiptHandleIsInvalid */
    bool no_queue;          /* GetQueueUrl: QueueDoesNotExist */
    bool bad_md5;           /* SendMessageBatch answers a wrong MD5 once */
};

static int entry_index(const char *id)
{
    return id && id[0] == 'e' ? atoi(id + 1) : -1;
}

static json_t *batch_reply(struct fake_sqs *s, const json_t *req, const char *op)
{
    json_t *ok = json_array(), *failed = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(req, "Entries"), i, e) {
        const char *id = edw_aws_jget(e, "Id");
        int k = entry_index(id);
        if (k == s->fail_entry_once) {
            s->fail_entry_once = -1;
            json_array_append_new(failed, json_pack("{s:s, s:s, s:s, s:b}", "Id", id, "Code",
                                                    "InternalError", "Message", "try again",
                                                    "SenderFault", 0));
        } else if (k == s->invalid_entry) {
            json_array_append_new(failed, json_pack("{s:s, s:s, s:s, s:b}", "Id", id, "Code",
                                                    "ReceiptHandleIsInvalid", "Message", "gone",
                                                    "SenderFault", 1));
        } else if (strcmp(op, "SendMessageBatch") == 0 && s->sender_fault_send) {
            json_array_append_new(failed, json_pack("{s:s, s:s, s:s, s:b}", "Id", id, "Code",
                                                    "InvalidMessageContents", "Message",
                                                    "bad chars", "SenderFault", 1));
        } else if (strcmp(op, "SendMessageBatch") == 0) {
            const char *body = edw_aws_jget(e, "MessageBody");
            char md5[33];
            edw_aws_md5_hex(body, strlen(body), md5);
            if (s->bad_md5) {
                s->bad_md5 = false;
                md5[0] = md5[0] == '0' ? '1' : '0';
            }
            json_array_append_new(ok, json_pack("{s:s, s:s, s:s}", "Id", id, "MessageId", "m",
                                                "MD5OfMessageBody", md5));
        } else {
            json_array_append_new(ok, json_pack("{s:s}", "Id", id));
        }
    }
    return json_pack("{s:o, s:o}", "Successful", ok, "Failed", failed);
}

static json_t *receive_reply(struct fake_sqs *s, const json_t *req)
{
    json_int_t max = json_integer_value(json_object_get(req, "MaxNumberOfMessages"));
    json_t *msgs = json_array();
    for (json_int_t k = 0; k < max && s->available > 0; k++, s->available--) {
        char id[32], receipt[32], body[64], md5[33];
        int n = s->next_id++;
        snprintf(id, sizeof(id), "id-%d", n);
        snprintf(receipt, sizeof(receipt), "rh-%d", n);
        snprintf(body, sizeof(body), "{\"msg\":\"m%d\"}", n);
        edw_aws_md5_hex(body, strlen(body), md5);
        json_array_append_new(msgs, json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}}", "MessageId", id,
                                              "ReceiptHandle", receipt, "Body", body, "MD5OfBody",
                                              md5, "Attributes", "ApproximateReceiveCount", "3",
                                              "SentTimestamp", "1795802400123"));
    }
    if (json_array_size(msgs) == 0) {
        json_decref(msgs);
        return json_object(); /* SQS answers {} when empty */
    }
    return json_pack("{s:o}", "Messages", msgs);
}

static void sqs_handler(void *ctx, const struct fake_http_call *c, struct edw_http_response *resp)
{
    struct fake_sqs *s = ctx;
    const char *op = fixture_call_op(c);
    json_t *req = json_loads(c->body, 0, NULL);
    json_t *out = NULL;
    if (strcmp(op, "GetQueueUrl") == 0 || strcmp(op, "CreateQueue") == 0) {
        const char *name = edw_aws_jget(req, "QueueName");
        if (s->no_queue) {
            json_decref(req);
            fixture_reply_error(resp, 400, "com.amazonaws.sqs#QueueDoesNotExist", "no queue");
            return;
        }
        out = json_pack("{s:s}", "QueueUrl",
                        strcmp(name, "jobs") == 0 ? QURL : PURL);
    } else if (strcmp(op, "GetQueueAttributes") == 0) {
        out = s->redrive ? json_pack("{s:{s:s}}", "Attributes", "RedrivePolicy", s->redrive)
                         : json_pack("{s:{s:s, s:s}}", "Attributes", "ApproximateNumberOfMessages",
                                     "7", "ApproximateNumberOfMessagesNotVisible", "2");
    } else if (strstr(op, "Batch")) {
        out = batch_reply(s, req, op);
    } else if (strcmp(op, "ReceiveMessage") == 0) {
        out = receive_reply(s, req);
    } else if (strcmp(op, "ChangeMessageVisibility") == 0 && s->lost_lease) {
        json_decref(req);
        fixture_reply_error(resp, 400, "com.amazonaws.sqs#ReceiptHandleIsInvalid", "gone");
        return;
    } else {
        out = json_object();
    }
    json_decref(req);
    fixture_reply_json(resp, 200, out);
}

struct sqs_test {
    struct aws_fixture f;
    struct fake_sqs s;
    void *q;
};

static int setup(void **state)
{
    struct sqs_test *t = edw_xcalloc(1, sizeof(*t));
    fixture_init(&t->f);
    t->s = (struct fake_sqs){.f = &t->f, .fail_entry_once = -1, .invalid_entry = -1};
    fake_http_set_handler(&t->f.http, sqs_handler, &t->s);
    struct edw_error e = {0};
    assert_int_equal(edw_aws_sqs_ops.open(&t->f.cfg, &t->f.deps, &t->q, &e), EDW_OK);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct sqs_test *t = *state;
    edw_aws_sqs_ops.close(t->q);
    fixture_cleanup(&t->f);
    free(t);
    return 0;
}

/* Calls after index `from` whose operation is `op`. */
static size_t count_op(const struct fake_http *h, size_t from, const char *op)
{
    size_t n = 0;
    for (size_t i = from; i < h->ncalls; i++)
        n += strcmp(fixture_op(h, i), op) == 0;
    return n;
}

static void send_splits_into_concurrent_batches(void **state)
{
    struct sqs_test *t = *state;
    char texts[25][32];
    struct edw_str bodies[25];
    for (int i = 0; i < 25; i++) {
        snprintf(texts[i], sizeof(texts[i]), "{\"n\":%d,\"é\":\"✓\"}", i);
        bodies[i] = (struct edw_str){texts[i], strlen(texts[i])};
    }
    struct edw_error e = {0};
    assert_int_equal(edw_aws_sqs_ops.send(t->q, bodies, 25, &e), EDW_OK);
    /* GetQueueUrl, then three SendMessageBatch calls in one round */
    assert_string_equal(fixture_op(&t->f.http, 0), "GetQueueUrl");
    assert_int_equal(count_op(&t->f.http, 1, "SendMessageBatch"), 3);
    assert_int_equal(t->f.http.max_batch, 3);
    size_t sizes[3];
    for (int k = 0; k < 3; k++) {
        json_t *b = fixture_body(&t->f.http, 1 + (size_t)k);
        assert_string_equal(edw_aws_jget(b, "QueueUrl"), QURL);
        json_t *entries = json_object_get(b, "Entries");
        sizes[k] = json_array_size(entries);
        json_t *first = json_array_get(entries, 0);
        int idx = entry_index(edw_aws_jget(first, "Id"));
        assert_string_equal(edw_aws_jget(first, "MessageBody"), texts[idx]);
        json_decref(b);
    }
    assert_int_equal(sizes[0] + sizes[1] + sizes[2], 25);
    assert_int_equal(sizes[0], 10);
    assert_int_equal(sizes[2], 5);
}

static void send_retries_only_failed_entries(void **state)
{
    struct sqs_test *t = *state;
    t->s.fail_entry_once = 3;
    struct edw_str bodies[5];
    for (int i = 0; i < 5; i++)
        bodies[i] = EDW_STR_LIT("{}");
    struct edw_error e = {0};
    assert_int_equal(edw_aws_sqs_ops.send(t->q, bodies, 5, &e), EDW_OK);
    size_t last = t->f.http.ncalls - 1;
    assert_int_equal(count_op(&t->f.http, 0, "SendMessageBatch"), 2);
    json_t *b = fixture_body(&t->f.http, last);
    json_t *entries = json_object_get(b, "Entries");
    assert_int_equal(json_array_size(entries), 1);
    assert_string_equal(edw_aws_jget(json_array_get(entries, 0), "Id"), "e3");
    json_decref(b);
    assert_true(t->f.clock.slept_us > 0);
}

static void send_checks_md5(void **state)
{
    struct sqs_test *t = *state;
    t->s.bad_md5 = true;
    struct edw_str body = EDW_STR_LIT("{\"x\":1}");
    struct edw_error e = {0};
    assert_int_equal(edw_aws_sqs_ops.send(t->q, &body, 1, &e), EDW_OK);
    assert_int_equal(count_op(&t->f.http, 0, "SendMessageBatch"), 2); /* resent once */
}

static void send_rejects_bad_input(void **state)
{
    struct sqs_test *t = *state;
    struct edw_error e = {0};
    struct edw_str bad_utf8 = {"\xff\xfe", 2};
    assert_int_equal(edw_aws_sqs_ops.send(t->q, &bad_utf8, 1, &e), EDW_ERR_INVALID);
    assert_non_null(strstr(e.message, "UTF-8"));
    t->s.sender_fault_send = true;
    struct edw_str ok = EDW_STR_LIT("fine");
    assert_int_equal(edw_aws_sqs_ops.send(t->q, &ok, 1, &e), EDW_ERR_INVALID);
    assert_non_null(strstr(e.message, "InvalidMessageContents"));
    assert_int_equal(count_op(&t->f.http, 0, "SendMessageBatch"), 1); /* sender fault: final */
}

static void receive_long_polls_when_idle_then_fans_out(void **state)
{
    struct sqs_test *t = *state;
    t->s.available = 45;
    struct edw_msg_batch b = {0};
    struct edw_error e = {0};
    /* Nothing seen yet, nothing leased: one long poll. */
    assert_int_equal(edw_aws_sqs_ops.receive(t->q, 32, 30, &b, &e), EDW_OK);
    assert_int_equal(b.n, 10);
    json_t *req = fixture_body(&t->f.http, 1);
    assert_int_equal(json_integer_value(json_object_get(req, "WaitTimeSeconds")), 2);
    assert_int_equal(json_integer_value(json_object_get(req, "VisibilityTimeout")), 30);
    assert_int_equal(json_integer_value(json_object_get(req, "MaxNumberOfMessages")), 10);
    assert_true(t->f.http.calls[1].timeout_ms > 2000);
    json_decref(req);
    assert_string_equal(b.msgs[0].id, "id-0");
    assert_string_equal(b.msgs[0].receipt, "rh-0");
    assert_string_equal(b.msgs[0].body, "{\"msg\":\"m0\"}");
    assert_int_equal(b.msgs[0].dequeue_count, 3);
    assert_int_equal(b.msgs[0].enqueued_us, 1795802400123000LL);
    /* Messages flowing: 32 wanted -> four short polls at once. */
    size_t before = t->f.http.ncalls, performs = t->f.http.performs;
    assert_int_equal(edw_aws_sqs_ops.receive(t->q, 32, 30, &b, &e), EDW_OK);
    assert_int_equal(b.n, 42);
    assert_int_equal(t->f.http.ncalls - before, 4);
    assert_int_equal(t->f.http.performs - performs, 1);
    req = fixture_body(&t->f.http, before + 3);
    assert_int_equal(json_integer_value(json_object_get(req, "WaitTimeSeconds")), 0);
    assert_int_equal(json_integer_value(json_object_get(req, "MaxNumberOfMessages")), 2);
    json_decref(req);
    edw_msg_batch_cleanup(&b);
}

static void receive_does_not_stall_a_busy_worker(void **state)
{
    struct sqs_test *t = *state;
    t->s.available = 3;
    struct edw_msg_batch b = {0};
    struct edw_error e = {0};
    assert_int_equal(edw_aws_sqs_ops.receive(t->q, 10, 30, &b, &e), EDW_OK); /* gets 3 */
    assert_int_equal(edw_aws_sqs_ops.receive(t->q, 10, 30, &b, &e), EDW_OK); /* empty */
    size_t before = t->f.http.ncalls;
    /* Still holding 3 leases: no long poll, and not more often than every 100 ms. */
    assert_int_equal(edw_aws_sqs_ops.receive(t->q, 10, 30, &b, &e), EDW_OK);
    assert_int_equal(t->f.http.ncalls, before);
    fake_clock_advance(&t->f.clock, 100000);
    assert_int_equal(edw_aws_sqs_ops.receive(t->q, 10, 30, &b, &e), EDW_OK);
    assert_int_equal(t->f.http.ncalls, before + 1);
    json_t *req = fixture_body(&t->f.http, before);
    assert_int_equal(json_integer_value(json_object_get(req, "WaitTimeSeconds")), 0);
    json_decref(req);
    /* Once everything is acked, an empty queue is long-polled again. */
    struct edw_msg *msgs[3] = {&b.msgs[0], &b.msgs[1], &b.msgs[2]};
    enum edw_err results[3];
    assert_int_equal(edw_aws_sqs_ops.ack(t->q, msgs, 3, results, &e), EDW_OK);
    before = t->f.http.ncalls;
    assert_int_equal(edw_aws_sqs_ops.receive(t->q, 10, 30, &b, &e), EDW_OK);
    req = fixture_body(&t->f.http, before);
    assert_int_equal(json_integer_value(json_object_get(req, "WaitTimeSeconds")), 2);
    json_decref(req);
    edw_msg_batch_cleanup(&b);
}

static void receive_skips_corrupt_messages(void **state)
{
    (void)state;
    const char *resp = "{\"Messages\":[{\"MessageId\":\"a\",\"ReceiptHandle\":\"r\",\"Body\":\"x\","
                       "\"MD5OfBody\":\"00000000000000000000000000000000\"},{\"MessageId\":\"b\","
                       "\"ReceiptHandle\":\"r2\",\"Body\":\"y\",\"Attributes\":{"
                       "\"ApproximateReceiveCount\":\"2\"}},{\"MessageId\":\"c\"}]}";
    json_t *j = json_loads(resp, 0, NULL);
    struct edw_msg_batch b = {0};
    assert_int_equal(edw_sqs_parse_messages(j, &b), 2); /* bad MD5, no receipt */
    assert_int_equal(b.n, 1);
    assert_string_equal(b.msgs[0].id, "b");
    assert_int_equal(b.msgs[0].dequeue_count, 2);
    json_t *empty = json_object();
    assert_int_equal(edw_sqs_parse_messages(empty, &b), 0);
    assert_int_equal(b.n, 1);
    json_decref(empty);
    json_decref(j);
    edw_msg_batch_cleanup(&b);
}

static void make_msgs(struct edw_msg *m, struct edw_msg **p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        memset(&m[i], 0, sizeof(m[i]));
        m[i].id = edw_xasprintf("id-%zu", i);
        m[i].receipt = edw_xasprintf("rh-%zu", i);
        m[i].body = edw_xstrdup("{\"msg\":\"x\"}");
        m[i].body_len = strlen(m[i].body);
        m[i].dequeue_count = 6;
        p[i] = &m[i];
    }
}

static void free_msgs(struct edw_msg *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        edw_msg_cleanup(&m[i]);
}

static void ack_partial_failures(void **state)
{
    struct sqs_test *t = *state;
    struct edw_msg m[12], *p[12];
    make_msgs(m, p, 12);
    t->s.invalid_entry = 4;
    t->s.fail_entry_once = 11;
    enum edw_err results[12];
    struct edw_error e = {0};
    assert_int_equal(edw_aws_sqs_ops.ack(t->q, p, 12, results, &e), EDW_OK);
    for (int i = 0; i < 12; i++)
        assert_int_equal(results[i], i == 4 ? EDW_ERR_CONFLICT : EDW_OK);
    /* 2 calls, then the one entry that failed on the service side, alone */
    assert_int_equal(count_op(&t->f.http, 0, "DeleteMessageBatch"), 3);
    json_t *b = fixture_body(&t->f.http, t->f.http.ncalls - 1);
    json_t *only = json_array_get(json_object_get(b, "Entries"), 0);
    assert_string_equal(edw_aws_jget(only, "ReceiptHandle"), "rh-11");
    json_decref(b);
    free_msgs(m, 12);
}

static void extend_and_release(void **state)
{
    struct sqs_test *t = *state;
    struct edw_msg m[3], *p[3];
    make_msgs(m, p, 3);
    t->s.invalid_entry = 1; /* MessageNotInflight is mapped the same way */
    enum edw_err results[3];
    struct edw_error e = {0};
    assert_int_equal(edw_aws_sqs_ops.extend(t->q, p, 3, 90, results, &e), EDW_OK);
    assert_int_equal(results[0], EDW_OK);
    assert_int_equal(results[1], EDW_ERR_CONFLICT);
    json_t *b = fixture_body(&t->f.http, t->f.http.ncalls - 1);
    assert_string_equal(fixture_op(&t->f.http, t->f.http.ncalls - 1),
                        "ChangeMessageVisibilityBatch");
    json_t *e0 = json_array_get(json_object_get(b, "Entries"), 0);
    assert_int_equal(json_integer_value(json_object_get(e0, "VisibilityTimeout")), 90);
    assert_string_equal(m[0].receipt, "rh-0"); /* SQS receipts do not change */
    json_decref(b);
    free_msgs(m, 3);
}

static void poison_to_own_queue(void **state)
{
    struct sqs_test *t = *state;
    struct edw_msg m[1], *p[1];
    make_msgs(m, p, 1);
    struct edw_error e = {0};
    assert_int_equal(edw_aws_sqs_ops.poison(t->q, &m[0], "handler failed 6 times", &e), EDW_OK);
    /* GetQueueUrl, GetQueueAttributes (redrive?), lease check, poison URL, copy, delete */
    const char *want[] = {"GetQueueUrl", "GetQueueAttributes", "ChangeMessageVisibility",
                          "GetQueueUrl", "SendMessage", "DeleteMessage"};
    assert_int_equal(t->f.http.ncalls, 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(fixture_op(&t->f.http, i), want[i]);
    json_t *send = fixture_body(&t->f.http, 4);
    assert_string_equal(edw_aws_jget(send, "QueueUrl"), PURL);
    json_t *env = json_loads(edw_aws_jget(send, "MessageBody"), 0, NULL);
    assert_string_equal(edw_aws_jget(env, "reason"), "handler failed 6 times");
    assert_string_equal(edw_aws_jget(env, "messageId"), "id-0");
    assert_string_equal(edw_aws_jget(env, "sourceQueue"), "jobs");
    assert_string_equal(edw_aws_jget(env, "body"), "{\"msg\":\"x\"}");
    assert_int_equal(json_integer_value(json_object_get(env, "receiveCount")), 6);
    json_decref(env);
    json_decref(send);
    json_t *del = fixture_body(&t->f.http, 5);
    assert_string_equal(edw_aws_jget(del, "ReceiptHandle"), "rh-0");
    assert_string_equal(edw_aws_jget(del, "QueueUrl"), QURL);
    json_decref(del);
    free_msgs(m, 1);
}

static void poison_with_lost_lease_moves_nothing(void **state)
{
    struct sqs_test *t = *state;
    t->s.lost_lease = true;
    struct edw_msg m[1], *p[1];
    make_msgs(m, p, 1);
    struct edw_error e = {0};
    assert_int_equal(edw_aws_sqs_ops.poison(t->q, &m[0], "r", &e), EDW_ERR_CONFLICT);
    assert_int_equal(count_op(&t->f.http, 0, "SendMessage"), 0);
    assert_int_equal(count_op(&t->f.http, 0, "DeleteMessage"), 0);
    free_msgs(m, 1);
}

static void poison_with_redrive_policy_releases(void **state)
{
    struct sqs_test *t = *state;
    t->s.redrive = "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:jobs-dlq\","
                   "\"maxReceiveCount\":5}";
    struct edw_msg m[1], *p[1];
    make_msgs(m, p, 1);
    struct edw_error e = {0};
    assert_int_equal(edw_aws_sqs_ops.poison(t->q, &m[0], "r", &e), EDW_OK);
    assert_int_equal(count_op(&t->f.http, 0, "SendMessage"), 0);
    assert_int_equal(count_op(&t->f.http, 0, "DeleteMessage"), 0);
    size_t last = t->f.http.ncalls - 1;
    assert_string_equal(fixture_op(&t->f.http, last), "ChangeMessageVisibility");
    json_t *b = fixture_body(&t->f.http, last);
    assert_int_equal(json_integer_value(json_object_get(b, "VisibilityTimeout")), 0);
    json_decref(b);
    free_msgs(m, 1);
}

static void depth_reads_string_attributes(void **state)
{
    struct sqs_test *t = *state;
    struct edw_queue_depth d;
    struct edw_error e = {0};
    assert_int_equal(edw_aws_sqs_ops.depth(t->q, &d, &e), EDW_OK);
    assert_int_equal(d.visible, 7);
    assert_int_equal(d.in_flight, 2);
    assert_int_equal(d.poison, 9); /* the poison queue's visible + in flight */
}

/* A role that may read only the main queue (KEDA's) still gets the depth; poison reads 0. */
static void depth_without_poison_access(void *ctx, const struct fake_http_call *c,
                                        struct edw_http_response *resp)
{
    struct fake_sqs *s = ctx;
    if (strstr(c->body, "jobs-poison")) {
        fixture_reply_error(resp, 400, "com.amazonaws.sqs#AccessDenied", "not allowed");
        return;
    }
    sqs_handler(s, c, resp);
}

static void depth_tolerates_poison_access_denied(void **state)
{
    struct sqs_test *t = *state;
    fake_http_set_handler(&t->f.http, depth_without_poison_access, &t->s);
    struct edw_queue_depth d;
    struct edw_error e = {0};
    assert_int_equal(edw_aws_sqs_ops.depth(t->q, &d, &e), EDW_OK);
    assert_int_equal(d.visible, 7);
    assert_int_equal(d.poison, 0);
}

static void missing_queue_is_explained(void **state)
{
    struct sqs_test *t = *state;
    t->s.no_queue = true;
    struct edw_msg_batch b = {0};
    struct edw_error e = {0};
    assert_int_equal(edw_aws_sqs_ops.receive(t->q, 10, 30, &b, &e), EDW_ERR_NOT_FOUND);
    assert_non_null(strstr(e.message, "edw queue create"));
    assert_int_equal(t->f.http.ncalls, 1); /* not retried */
}

static void queue_url_setting(void **state)
{
    (void)state;
    struct aws_fixture f;
    fixture_init(&f);
    fixture_set(&f.cfg.sqs_queue_url, "https://sqs.eu-west-1.amazonaws.com/123456789012/orders");
    struct fake_sqs s = {.f = &f, .fail_entry_once = -1, .invalid_entry = -1};
    fake_http_set_handler(&f.http, sqs_handler, &s);
    void *q = NULL;
    struct edw_error e = {0};
    assert_int_equal(edw_aws_sqs_ops.open(&f.cfg, &f.deps, &q, &e), EDW_OK);
    struct edw_str body = EDW_STR_LIT("x");
    assert_int_equal(edw_aws_sqs_ops.send(q, &body, 1, &e), EDW_OK);
    assert_int_equal(f.http.ncalls, 1); /* no GetQueueUrl */
    json_t *b = fixture_body(&f.http, 0);
    assert_string_equal(edw_aws_jget(b, "QueueUrl"),
                        "https://sqs.eu-west-1.amazonaws.com/123456789012/orders");
    assert_string_equal(f.http.calls[0].url, "http://127.0.0.1:4566/"); /* the endpoint */
    json_decref(b);
    edw_aws_sqs_ops.close(q);
    fixture_set(&f.cfg.sqs_queue_url, "https://sqs.eu-west-1.amazonaws.com/");
    assert_int_equal(edw_aws_sqs_ops.open(&f.cfg, &f.deps, &q, &e), EDW_ERR_INVALID);
    fixture_cleanup(&f);
}

static void pure_helpers(void **state)
{
    (void)state;
    char *n = edw_sqs_queue_name_from_url("https://sqs.us-east-1.amazonaws.com/1/jobs-x/");
    assert_string_equal(n, "jobs-x");
    free(n);
    assert_null(edw_sqs_queue_name_from_url("jobs"));
    n = edw_sqs_redrive_target("{\"deadLetterTargetArn\":\"arn:aws:sqs:r:1:dlq\","
                               "\"maxReceiveCount\":\"3\"}");
    assert_string_equal(n, "dlq");
    free(n);
    assert_null(edw_sqs_redrive_target("not json"));
    json_t *attrs = json_pack("{s:s, s:I, s:s}", "A", "12", "B", (json_int_t)5, "C", "x");
    assert_int_equal(edw_sqs_attr_u64(attrs, "A"), 12);
    assert_int_equal(edw_sqs_attr_u64(attrs, "B"), 5);
    assert_int_equal(edw_sqs_attr_u64(attrs, "C"), 0);
    assert_int_equal(edw_sqs_attr_u64(attrs, "D"), 0);
    json_decref(attrs);
}

static void poison_envelope_round_trip(void **state)
{
    (void)state;
    struct edw_msg m = {.id = edw_xstrdup("orig-1"), .body = edw_xstrdup("héllo \"x\""),
                        .dequeue_count = 4};
    m.body_len = strlen(m.body);
    json_t *req = edw_sqs_poison_message(PURL, &m, "jobs", "why", "2026-11-27 18:00:00.000000",
                                         4096);
    struct edw_msg got = {.id = edw_xstrdup("poison-id"),
                          .body = edw_xstrdup(edw_aws_jget(req, "MessageBody"))};
    got.body_len = strlen(got.body);
    edw_sqs_unwrap_poison(&got);
    assert_string_equal(got.id, "orig-1");
    assert_string_equal(got.body, "héllo \"x\"");
    assert_string_equal(got.reason, "why");
    assert_int_equal(got.dequeue_count, 4);
    json_decref(req);
    edw_msg_cleanup(&got);
    /* Too big for an envelope: the body goes as it is, the facts as attributes. */
    req = edw_sqs_poison_message(PURL, &m, "jobs", "why", "2026-11-27 18:00:00.000000", 20);
    assert_string_equal(edw_aws_jget(req, "MessageBody"), "héllo \"x\"");
    json_t *attrs = json_object_get(req, "MessageAttributes");
    assert_string_equal(edw_aws_jget(json_object_get(attrs, "edw-reason"), "StringValue"), "why");
    assert_string_equal(edw_aws_jget(json_object_get(attrs, "edw-receive-count"), "StringValue"),
                        "4");
    json_decref(req);
    /* A reason quoting bytes that are not UTF-8 (an exec handler's output) is kept, mended. */
    req = edw_sqs_poison_message(PURL, &m, "jobs", "exit 1: \xff\xfe", "2026-11-27", 4096);
    json_t *env = json_loads(edw_aws_jget(req, "MessageBody"), 0, NULL);
    assert_string_equal(edw_aws_jget(env, "reason"), "exit 1: \xef\xbf\xbd\xef\xbf\xbd");
    json_decref(env);
    json_decref(req);
    /* A plain message is left alone */
    struct edw_msg plain = {.body = edw_xstrdup("{\"msg\":\"x\"}")};
    plain.body_len = strlen(plain.body);
    edw_sqs_unwrap_poison(&plain);
    assert_null(plain.reason);
    edw_msg_cleanup(&plain);
    edw_msg_cleanup(&m);
}

static void dedupe(void **state)
{
    (void)state;
    struct edw_msg_batch b = {0};
    const char *ids[] = {"a", "b", "a", "c", "b"};
    for (int i = 0; i < 5; i++)
        edw_msg_batch_add(&b)->id = edw_xstrdup(ids[i]);
    edw_sqs_dedupe(&b, 0);
    assert_int_equal(b.n, 3);
    assert_string_equal(b.msgs[0].id, "a");
    assert_string_equal(b.msgs[1].id, "b");
    assert_string_equal(b.msgs[2].id, "c");
    edw_msg_batch_cleanup(&b);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    g_edw_log_level = EDW_LOG_ERROR;
    const struct CMUnitTest tests[] = {
        T(send_splits_into_concurrent_batches),
        T(send_retries_only_failed_entries),
        T(send_checks_md5),
        T(send_rejects_bad_input),
        T(receive_long_polls_when_idle_then_fans_out),
        T(receive_does_not_stall_a_busy_worker),
        cmocka_unit_test(receive_skips_corrupt_messages),
        T(ack_partial_failures),
        T(extend_and_release),
        T(poison_to_own_queue),
        T(poison_with_lost_lease_moves_nothing),
        T(poison_with_redrive_policy_releases),
        T(depth_reads_string_attributes),
        T(depth_tolerates_poison_access_denied),
        T(missing_queue_is_explained),
        cmocka_unit_test(queue_url_setting),
        cmocka_unit_test(pure_helpers),
        cmocka_unit_test(poison_envelope_round_trip),
        cmocka_unit_test(dedupe),
    };
    return cmocka_run_group_tests_name("aws_sqs", tests, NULL, NULL);
}
