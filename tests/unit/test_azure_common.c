/* SPDX-License-Identifier: Apache-2.0 */
/* Connection strings and settings, error mapping, backoff, dates, encoding helpers and the
 * partition-key choice of the Azure backends. */
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
#include "edw/timefmt.h"

#define KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static void test_conn_parse_full(void **state)
{
    (void)state;
    struct edw_azure_conn c;
    struct edw_error err = {0};
    const char *s = " DefaultEndpointsProtocol=http ; AccountName=devstoreaccount1;AccountKey=" KEY
                    ";QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1/;"
                    "tableendpoint=http://127.0.0.1:10002/devstoreaccount1;BlobEndpoint=x;;";
    assert_int_equal(edw_azure_conn_parse(s, &c, &err), EDW_OK);
    assert_string_equal(c.account, "devstoreaccount1");
    assert_int_equal(c.key_len, 64);
    assert_string_equal(c.protocol, "http");
    assert_string_equal(c.queue_endpoint, "http://127.0.0.1:10001/devstoreaccount1");
    assert_string_equal(c.table_endpoint, "http://127.0.0.1:10002/devstoreaccount1");
    assert_null(c.sas);
    edw_azure_conn_cleanup(&c);
}

static void test_conn_parse_sas_and_dev(void **state)
{
    (void)state;
    struct edw_azure_conn c;
    assert_int_equal(edw_azure_conn_parse("SharedAccessSignature=?sv=2019-02-02&sig=a%2Bb=;"
                                          "UseDevelopmentStorage=true",
                                          &c, NULL),
                     EDW_OK);
    assert_string_equal(c.sas, "sv=2019-02-02&sig=a%2Bb="); /* '=' inside values is kept */
    assert_true(c.development);
    edw_azure_conn_cleanup(&c);
}

static void test_conn_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"AccountName=a;AccountKey=not*base64", "AccountKey in the connection string"},
        {"AccountName=a;Nonsense", "part 2 is not Key=Value"},
        {"=x", "part 1 is not Key=Value"},
        {"AccountName=a;Colour=blue", "a part is not a known Key=value setting"},
        {"DefaultEndpointsProtocol=ftp", "must be http or https"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct edw_azure_conn c;
        struct edw_error err = {0};
        assert_int_equal(edw_azure_conn_parse(cases[i].text, &c, &err), EDW_ERR_INVALID);
        assert_non_null(strstr(err.message, cases[i].want));
        assert_null(strstr(err.message, "not*base64")); /* values are never echoed */
        edw_azure_conn_cleanup(&c);
    }
}

static void cfg_init(struct edw_config *cfg)
{
    edw_config_init(cfg);
}

static void set(char **field, const char *value)
{
    free(*field);
    *field = value ? edw_xstrdup(value) : NULL;
}

static void test_from_config_derives(void **state)
{
    (void)state;
    struct edw_config cfg;
    cfg_init(&cfg);
    set(&cfg.azure_account, "prodacct");
    set(&cfg.azure_account_key, KEY);
    struct edw_azure_conn c;
    assert_int_equal(edw_azure_conn_from_config(&cfg, &c, NULL), EDW_OK);
    assert_string_equal(c.queue_endpoint, "https://prodacct.queue.core.windows.net");
    assert_string_equal(c.table_endpoint, "https://prodacct.table.core.windows.net");
    assert_int_equal(c.auth, EDW_AZURE_AUTH_SHARED_KEY);
    edw_azure_conn_cleanup(&c);

    /* Sovereign clouds through EndpointSuffix; explicit endpoint settings win. */
    set(&cfg.azure_account, NULL);
    set(&cfg.azure_account_key, NULL);
    set(&cfg.azure_connection_string,
        "AccountName=cn1;AccountKey=" KEY ";EndpointSuffix=core.chinacloudapi.cn");
    set(&cfg.azure_table_endpoint, "https://private.example/");
    assert_int_equal(edw_azure_conn_from_config(&cfg, &c, NULL), EDW_OK);
    assert_string_equal(c.queue_endpoint, "https://cn1.queue.core.chinacloudapi.cn");
    assert_string_equal(c.table_endpoint, "https://private.example");
    edw_azure_conn_cleanup(&c);
    edw_config_cleanup(&cfg);
}

static void test_from_config_development(void **state)
{
    (void)state;
    struct edw_config cfg;
    cfg_init(&cfg);
    set(&cfg.azure_connection_string, "UseDevelopmentStorage=true");
    set(&cfg.azure_queue_endpoint, "http://127.0.0.1:4242/devstoreaccount1");
    struct edw_azure_conn c;
    assert_int_equal(edw_azure_conn_from_config(&cfg, &c, NULL), EDW_OK);
    assert_string_equal(c.account, "devstoreaccount1");
    assert_string_equal(c.queue_endpoint, "http://127.0.0.1:4242/devstoreaccount1");
    assert_string_equal(c.table_endpoint, "http://127.0.0.1:10002/devstoreaccount1");
    assert_int_equal(c.key_len, 64);
    assert_int_equal(c.auth, EDW_AZURE_AUTH_SHARED_KEY);
    edw_azure_conn_cleanup(&c);
    edw_config_cleanup(&cfg);
}

static void test_from_config_sas_and_errors(void **state)
{
    (void)state;
    struct edw_config cfg;
    cfg_init(&cfg);
    struct edw_azure_conn c;
    struct edw_error err = {0};
    assert_int_equal(edw_azure_conn_from_config(&cfg, &c, &err), EDW_ERR_INVALID);
    assert_non_null(strstr(err.message, "no Azure account"));
    edw_azure_conn_cleanup(&c);

    set(&cfg.azure_account, "acct");
    /* no key or SAS: an Entra bearer token (workload or managed identity) */
    assert_int_equal(edw_azure_conn_from_config(&cfg, &c, &err), EDW_OK);
    assert_int_equal(c.auth, EDW_AZURE_AUTH_BEARER);
    edw_azure_conn_cleanup(&c);

    set(&cfg.azure_sas_token, "?sv=1&sig=secret");
    assert_int_equal(edw_azure_conn_from_config(&cfg, &c, &err), EDW_OK);
    assert_int_equal(c.auth, EDW_AZURE_AUTH_SAS);
    assert_string_equal(c.sas, "sv=1&sig=secret");
    edw_azure_conn_cleanup(&c);

    set(&cfg.azure_queue_endpoint, "ftp://x");
    assert_int_equal(edw_azure_conn_from_config(&cfg, &c, &err), EDW_ERR_INVALID);
    assert_non_null(strstr(err.message, "http:// or https://"));
    edw_azure_conn_cleanup(&c);

    set(&cfg.azure_queue_endpoint, NULL);
    set(&cfg.azure_account, NULL);
    set(&cfg.azure_account_key, KEY);
    set(&cfg.azure_queue_endpoint, "https://q.example");
    set(&cfg.azure_table_endpoint, "https://t.example");
    assert_int_equal(edw_azure_conn_from_config(&cfg, &c, &err), EDW_ERR_INVALID);
    assert_non_null(strstr(err.message, "needs the account name"));
    edw_azure_conn_cleanup(&c);
    edw_config_cleanup(&cfg);
}

static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(edw_azure_classify(201, NULL), EDW_OK);
    assert_int_equal(edw_azure_classify(400, "PopReceiptMismatch"), EDW_ERR_CONFLICT);
    assert_int_equal(edw_azure_classify(400, "InvalidQueryParameterValue"), EDW_ERR_INVALID);
    assert_int_equal(edw_azure_classify(403, "AuthenticationFailed"), EDW_ERR_AUTH);
    assert_int_equal(edw_azure_classify(404, "MessageNotFound"), EDW_ERR_NOT_FOUND);
    assert_int_equal(edw_azure_classify(409, "QueueAlreadyExists"), EDW_ERR_CONFLICT);
    assert_int_equal(edw_azure_classify(413, "RequestBodyTooLarge"), EDW_ERR_INVALID);
    assert_int_equal(edw_azure_classify(500, "OperationTimedOut"), EDW_ERR_TRANSIENT);
    assert_int_equal(edw_azure_classify(503, "ServerBusy"), EDW_ERR_THROTTLED);
    assert_int_equal(edw_azure_classify(429, NULL), EDW_ERR_THROTTLED);
    assert_int_equal(edw_azure_classify(501, NULL), EDW_ERR_FATAL);
    assert_true(edw_azure_retryable(0, EDW_ERR_TRANSIENT));
    assert_false(edw_azure_retryable(0, EDW_ERR_FATAL)); /* TLS verification failed */
    assert_true(edw_azure_retryable(503, EDW_OK));
    assert_true(edw_azure_retryable(408, EDW_OK));
    assert_false(edw_azure_retryable(400, EDW_OK));
    assert_false(edw_azure_retryable(404, EDW_OK));
    assert_false(edw_azure_retryable(501, EDW_OK));
}

static void test_op_of(void **state)
{
    (void)state;
    enum edw_azure_service Q = EDW_AZURE_QUEUE, T = EDW_AZURE_TABLE;
    assert_int_equal(edw_azure_op_of(Q, "PUT", "/jobs"), EDW_OP_CREATE_QUEUE);
    assert_int_equal(edw_azure_op_of(Q, "GET", "/jobs?comp=metadata"), EDW_OP_DEPTH);
    assert_int_equal(edw_azure_op_of(Q, "POST", "/jobs/messages?messagettl=-1"), EDW_OP_SEND);
    assert_int_equal(edw_azure_op_of(Q, "GET", "/jobs/messages?numofmessages=32&visibilitytimeout=30"),
                     EDW_OP_RECEIVE);
    assert_int_equal(edw_azure_op_of(Q, "GET", "/jobs/messages?peekonly=true&numofmessages=32"),
                     EDW_OP_PEEK);
    assert_int_equal(edw_azure_op_of(Q, "PUT", "/jobs/messages/m1?popreceipt=r&visibilitytimeout=0"),
                     EDW_OP_EXTEND);
    assert_int_equal(edw_azure_op_of(Q, "DELETE", "/jobs/messages/m1?popreceipt=r"), EDW_OP_ACK);
    assert_int_equal(edw_azure_op_of(Q, "DELETE", "/jobs/messages"), EDW_OP_CLEAR);
    assert_int_equal(edw_azure_op_of(T, "POST", "/Tables"), EDW_OP_CREATE_TABLE);
    assert_int_equal(edw_azure_op_of(T, "POST", "/$batch"), EDW_OP_UPSERT);
    assert_int_equal(edw_azure_op_of(T, "PUT", "/t(PartitionKey='a',RowKey='b')"), EDW_OP_UPSERT);
    assert_int_equal(edw_azure_op_of(T, "GET", "/t()?$filter=x"), EDW_OP_SCAN);
}

static void test_retry_after(void **state)
{
    (void)state;
    struct edw_http_headers h = {0};
    assert_int_equal(edw_azure_retry_after_us(&h), 0);
    edw_http_headers_add(&h, "Retry-After", "3");
    assert_int_equal(edw_azure_retry_after_us(&h), 3000000);
    edw_http_headers_add(&h, "x-ms-retry-after-ms", "250");
    assert_int_equal(edw_azure_retry_after_us(&h), 250000);
    edw_http_headers_cleanup(&h);
    edw_http_headers_add(&h, "Retry-After", "Fri, 27 Nov 2026 17:55:20 GMT");
    assert_int_equal(edw_azure_retry_after_us(&h), 0); /* dates are ignored, not misread */
    edw_http_headers_cleanup(&h);
}

static void test_rfc1123(void **state)
{
    (void)state;
    char out[30];
    int64_t us = 1795802120000000LL; /* 2026-11-27 17:55:20 UTC */
    edw_rfc1123_format(us + 999999, out);
    assert_string_equal(out, "Fri, 27 Nov 2026 17:55:20 GMT");
    int64_t back = 0;
    assert_true(edw_rfc1123_parse(out, &back));
    assert_int_equal(back, us);
    assert_true(edw_rfc1123_parse("Thu, 01 Jan 1970 00:00:00 GMT", &back));
    assert_int_equal(back, 0);
    assert_false(edw_rfc1123_parse("Fri, 27 Foo 2026 17:55:20 GMT", &back));
    assert_false(edw_rfc1123_parse("Fri, 27 Nov 2026 17:55:20 GMT junk", &back));
    assert_false(edw_rfc1123_parse("2026-11-27T17:55:20Z", &back));
    /* the hand-written parser against timegm() over a range of dates, and truncations */
    for (int64_t t = -86400LL * 800; t < 86400LL * 365 * 200; t += 86400LL * 37 + 3601) {
        edw_rfc1123_format(t * 1000000, out);
        assert_true(edw_rfc1123_parse(out, &back));
        assert_int_equal(back, t * 1000000);
        for (size_t cut = 0; cut < strlen(out); cut++) {
            char part[30];
            memcpy(part, out, cut);
            part[cut] = '\0';
            assert_false(edw_rfc1123_parse(part, &back));
        }
    }
    assert_true(edw_rfc1123_parse("Sat, 7 Nov 2026 17:55:20 GMT", &back));
    assert_int_equal(back, 1794074120LL * 1000000);
}

static void test_xml_escape(void **state)
{
    (void)state;
    struct edw_buf b;
    edw_buf_init(&b, 1024);
    const char *s = "a<b>&\"c'\r\n\té€😀";
    assert_int_equal(edw_azure_xml_escape(&b, s, strlen(s)), EDW_OK);
    assert_string_equal(edw_buf_cstr(&b), "a&lt;b&gt;&amp;\"c'&#13;\n\té€😀");
    static const char *const bad[] = {"\x01", "a\x7f\x80", "\xc3", "\xef\xbf\xbe", "\xed\xa0\x80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        edw_buf_reset(&b);
        assert_int_equal(edw_azure_xml_escape(&b, bad[i], strlen(bad[i])), EDW_ERR_INVALID);
    }
    edw_buf_cleanup(&b);
}

static void test_partition_key(void **state)
{
    (void)state;
    char *a = edw_azure_partition_key("r20261127-180000-abcd-1");
    char *b = edw_azure_partition_key("r20261127-180000-abcd-99");
    char *c = edw_azure_partition_key("r20261127-180000-abcd-100");
    char *d = edw_azure_partition_key("r20261127-180000-abcd-250");
    /* Keys of one block of 100 share a partition: $batch can take them together. */
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(strncmp(a, "r20261127-180000-abcd-", 22), 0);
    assert_int_equal(strncmp(c, "r20261127-180000-abcd-", 22), 0);
    assert_string_equal(strrchr(c, '-'), "-1");
    assert_string_equal(strrchr(d, '-'), "-2");
    /* The hash spreads consecutive blocks over the key space. */
    size_t distinct = 0;
    char seen[256] = {0};
    for (int blk = 0; blk < 64; blk++) {
        char key[64];
        snprintf(key, sizeof(key), "run-%d", blk * 100 + 1);
        char *pk = edw_azure_partition_key(key);
        unsigned hh = (unsigned)strtoul(pk + 4, NULL, 16);
        distinct += !seen[hh & 0xff];
        seen[hh & 0xff] = 1;
        free(pk);
    }
    assert_true(distinct > 40);
    /* Anything else is its own partition. */
    static const char *const other[] = {"3832099f-9099-44c8-be75-6ca736d8ecb1", "plain", "-5",
                                        "run-05", "run-", "run-12a"};
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        char *pk = edw_azure_partition_key(other[i]);
        assert_string_equal(pk, other[i]);
        free(pk);
    }
    free(a);
    free(b);
    free(c);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conn_parse_full),
        cmocka_unit_test(test_conn_parse_sas_and_dev),
        cmocka_unit_test(test_conn_parse_errors),
        cmocka_unit_test(test_from_config_derives),
        cmocka_unit_test(test_from_config_development),
        cmocka_unit_test(test_from_config_sas_and_errors),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_op_of),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_rfc1123),
        cmocka_unit_test(test_xml_escape),
        cmocka_unit_test(test_partition_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
