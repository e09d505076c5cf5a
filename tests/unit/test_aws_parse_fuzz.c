/* SPDX-License-Identifier: Apache-2.0 */
/* A deterministic fuzz smoke test of every AWS parser that reads what the network sends: STS
 * XML, SQS ReceiveMessage/batch JSON, poison envelopes, DynamoDB items, error bodies and the
 * signer's URL handling. Valid seeds are mutated (bit flips, truncation, splices, byte
 * insertions) with a fixed-seed generator; each parser must either succeed with complete output
 * or fail cleanly. Meant to run under ASan/UBSan (scripts/test.sh), where any out-of-bounds read
 * or leak fails it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_common.h"
#include "aws_ddb_item.h"
#include "aws_sqs_parse.h"
#include "edw/alloc.h"
#include "edw/aws_credentials.h"
#include "edw/log.h"
#include "edw/sigv4.h"
#include "fuzz_mutate.h"

#define ROUNDS 4000

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const char s_odd[] = "{}[]<>\"\\:,&;#\x00\xff\xc3";
static struct fuzz_mutator s_fuzz = {xorshift, 0x2545f4914f6cdd1dULL, s_odd, sizeof(s_odd) - 1,
                                     16};

static uint64_t next(void)
{
    return fuzz_next(&s_fuzz);
}

/* A mutated copy of `seed` (caller frees); `*len` is its length. */
static char *mutate(const char *seed, size_t *len)
{
    return fuzz_mutate(&s_fuzz, seed, len);
}

static const char *const STS_SEED =
    "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
    "<SessionToken>tok</SessionToken><SecretAccessKey>sec</SecretAccessKey>"
    "<Expiration>2026-11-27T19:00:00Z</Expiration><AccessKeyId>ASIA</AccessKeyId>"
    "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
static const char *const STS_ERR_SEED =
    "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>m</Message></Error>"
    "</ErrorResponse>";

static void sts_xml(void **state)
{
    (void)state;
    for (int i = 0; i < ROUNDS; i++) {
        size_t len;
        char *x = mutate(i % 2 ? STS_SEED : STS_ERR_SEED, &len);
        struct edw_aws_creds c;
        struct edw_error e = {0};
        enum edw_err rc = edw_aws_sts_parse(i % 3 ? 200 : 400, x, len, &c, &e);
        if (rc == EDW_OK) {
            assert_non_null(c.access_key_id);
            assert_non_null(c.secret_access_key);
            assert_non_null(c.session_token);
        } else {
            assert_null(c.access_key_id);
            assert_true(e.message[0] != '\0');
        }
        edw_aws_creds_cleanup(&c);
        free(x);
    }
}

static const char *const RECV_SEED =
    "{\"Messages\":[{\"MessageId\":\"a\",\"ReceiptHandle\":\"r\",\"Body\":\"{\\\"msg\\\":1}\","
    "\"Attributes\":{\"ApproximateReceiveCount\":\"2\",\"SentTimestamp\":\"1795802400123\"},"
    "\"MessageAttributes\":{\"edw-reason\":{\"StringValue\":\"x\",\"DataType\":\"String\"}}}]}";
static const char *const BATCH_SEED =
    "{\"Successful\":[{\"Id\":\"e0\",\"MD5OfMessageBody\":\"0\"}],\"Failed\":[{\"Id\":\"e1\","
    "\"Code\":\"InternalError\",\"Message\":\"m\",\"SenderFault\":false}]}";
static const char *const ENVELOPE_SEED =
    "{\"reason\":\"why\",\"receiveCount\":3,\"messageId\":\"m\",\"sourceQueue\":\"q\","
    "\"poisonedAt\":\"2026-11-27 18:00:00.000000\",\"body\":\"hello\"}";

static void sqs_json(void **state)
{
    (void)state;
    for (int i = 0; i < ROUNDS; i++) {
        size_t len;
        char *x = mutate(RECV_SEED, &len);
        json_t *j = json_loadb(x, len, 0, NULL);
        struct edw_msg_batch b = {0};
        edw_sqs_parse_messages(j, &b);
        for (size_t k = 0; k < b.n; k++) {
            assert_non_null(b.msgs[k].id);
            assert_non_null(b.msgs[k].receipt);
            assert_non_null(b.msgs[k].body);
            edw_sqs_unwrap_poison(&b.msgs[k]);
        }
        edw_sqs_dedupe(&b, 0);
        edw_msg_batch_cleanup(&b);
        json_decref(j);
        free(x);

        x = mutate(BATCH_SEED, &len);
        j = json_loadb(x, len, 0, NULL);
        struct edw_sqs_batch_failure f;
        (void)edw_sqs_batch_ok(j, "e0");
        if (edw_sqs_batch_failed(j, "e1", &f)) {
            assert_non_null(f.code);
            assert_non_null(f.message);
        }
        (void)edw_sqs_attr_u64(json_object_get(j, "Attributes"), "ApproximateNumberOfMessages");
        json_decref(j);
        free(x);

        x = mutate(ENVELOPE_SEED, &len);
        struct edw_msg m = {.id = edw_xstrdup("p"), .body = x, .body_len = len};
        edw_sqs_unwrap_poison(&m);
        assert_non_null(m.body);
        edw_msg_cleanup(&m);

        x = mutate("{\"deadLetterTargetArn\":\"arn:aws:sqs:r:1:dlq\",\"maxReceiveCount\":5}", &len);
        free(edw_sqs_redrive_target(x));
        free(x);
        x = mutate("https://sqs.us-east-1.amazonaws.com/123456789012/jobs", &len);
        free(edw_sqs_queue_name_from_url(x));
        free(x);
    }
}

static const char *const ITEM_SEED =
    "{\"id\":{\"S\":\"k\"},\"data\":{\"S\":\"d\"},\"srcStamp\":{\"S\":\"s\"},\"destStamp\":"
    "{\"S\":\"t\"},\"messageProcessingTime\":{\"N\":\"0.25\"},\"dequeueCount\":{\"N\":\"1\"},"
    "\"runId\":{\"S\":\"r\"},\"startedUs\":{\"N\":\"5\"},\"finishedUs\":{\"N\":\"6\"},"
    "\"sent\":{\"N\":\"7\"}}";

static void ddb_json(void **state)
{
    (void)state;
    for (int i = 0; i < ROUNDS; i++) {
        size_t len;
        char *x = mutate(ITEM_SEED, &len);
        json_t *j = json_loadb(x, len, 0, NULL);
        struct edw_row row;
        if (edw_ddb_row_from_item(j, &row)) {
            assert_non_null(row.key);
            assert_non_null(row.data);
        }
        struct edw_run run;
        (void)edw_ddb_run_from_item(j, &run);
        (void)edw_ddb_is_run_item(j);
        json_decref(j);
        /* and the reverse direction with arbitrary bytes as text */
        struct edw_row r = {"k", x, x, x, 1.0, 1};
        json_t *item = edw_ddb_item_from_row(&r);
        assert_non_null(item);
        char *text = json_dumps(item, JSON_COMPACT);
        assert_non_null(text); /* always valid JSON, whatever the bytes */
        free(text);
        json_decref(item);
        free(x);
    }
}

static void error_bodies(void **state)
{
    (void)state;
    for (int i = 0; i < ROUNDS; i++) {
        size_t len;
        char *x = mutate("{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\",\"message\":\"m\"}",
                         &len);
        struct edw_error e = {0};
        enum edw_err rc = edw_aws_parse_error(400 + (long)(next() % 200), NULL, x, len, &e);
        assert_true(rc != EDW_OK);
        assert_true(strlen(e.code) < sizeof(e.code));
        free(x);
    }
}

static void sign_odd_urls(void **state)
{
    (void)state;
    struct edw_sigv4_credentials c = {"AK", "SK", NULL};
    struct edw_sigv4_options o = {&c, "us-east-1", "sqs", 1795802400, true, false, false};
    for (int i = 0; i < ROUNDS; i++) {
        size_t len;
        char *url = mutate("http://127.0.0.1:4566/a/./b/../c%2Fd?x=1&y=%E1%88%B4&z", &len);
        struct edw_http_request req;
        edw_http_request_init(&req, "POST", url);
        struct edw_error e = {0};
        enum edw_err rc = edw_sigv4_sign_http(&o, &req, &e);
        if (rc == EDW_OK)
            assert_non_null(edw_http_headers_get(&req.headers, "Authorization"));
        edw_http_request_cleanup(&req);
        free(url);
    }
}

int main(void)
{
    g_edw_log_level = EDW_LOG_OFF;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sts_xml),      cmocka_unit_test(sqs_json),
        cmocka_unit_test(ddb_json),     cmocka_unit_test(error_bodies),
        cmocka_unit_test(sign_odd_urls),
    };
    return cmocka_run_group_tests_name("aws_parse_fuzz", tests, NULL, NULL);
}
