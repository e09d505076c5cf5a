/* SPDX-License-Identifier: Apache-2.0 */
/* A deterministic fuzz smoke test of everything the Azure backend parses from outside: the
 * Queue service's XML (messages, errors), the Table service's JSON (entities, errors), $batch
 * multipart replies, connection strings, RFC 1123 dates, base64, and the Shared Key
 * canonicalisation of arbitrary URLs. Valid seeds are mutated (bit flips, truncation, odd
 * bytes, duplicated spans) with a fixed-seed generator; every parser must either succeed with
 * complete output or fail cleanly. Meant to run under ASan/UBSan (scripts/test.sh), where any
 * out-of-bounds read or leak fails it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "azure_common.h"
#include "edw/alloc.h"
#include "edw/timefmt.h"
#include "fuzz_mutate.h"

#define ROUNDS 3000

static const char s_odd[] = "<>/&;#'\"{}[]:,=%?\r\n\x00\xff\xc3\xef";
static struct fuzz_mutator s_fuzz = {edw_azure_rand, 0x9e3779b97f4a7c15ULL, s_odd,
                                     sizeof(s_odd) - 1, 24};

/* A mutated copy of `seed` (caller frees), NUL-terminated; `*len` excludes the NUL. */
static char *mutate(const char *seed, size_t *len)
{
    return fuzz_mutate(&s_fuzz, seed, len);
}

static const char *const MSG_SEED =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessagesList><QueueMessage><MessageId>"
    "6b0e1a4e</MessageId><InsertionTime>Fri, 27 Nov 2026 17:55:20 GMT</InsertionTime>"
    "<PopReceipt>AgAAAA+/==</PopReceipt><DequeueCount>3</DequeueCount><MessageText>{&quot;msg"
    "&quot;:&quot;a &lt;b&gt; &#233;&quot;}</MessageText></QueueMessage><QueueMessage>"
    "<MessageId>x</MessageId><MessageText/></QueueMessage></QueueMessagesList>";

static void queue_xml(void **state)
{
    (void)state;
    for (int i = 0; i < ROUNDS; i++) {
        size_t len;
        char *in = mutate(MSG_SEED, &len);
        struct edw_azure_qmsg_list l = {0};
        struct edw_error err = {0};
        enum edw_err rc = edw_azure_parse_messages(in, len, &l, &err);
        if (rc == EDW_OK) {
            for (size_t k = 0; k < l.n; k++) {
                assert_non_null(l.items[k].id); /* complete output or none */
                assert_non_null(l.items[k].text);
                assert_int_equal(strlen(l.items[k].text), l.items[k].text_len);
            }
        } else {
            assert_int_equal(rc, EDW_ERR_INVALID);
            assert_int_equal(l.n, 0);
        }
        edw_azure_qmsg_list_cleanup(&l);
        char code[64], msg[200];
        edw_azure_parse_error_xml(in, len, code, sizeof(code), msg, sizeof(msg));
        free(in);
    }
}

static bool count_entity(void *ctx, const struct edw_azure_entity *e)
{
    double d;
    (void)edw_azure_entity_num(e, "messageProcessingTime", &d);
    (void)edw_azure_entity_str(e, "data");
    assert_non_null(e->partition_key);
    assert_non_null(e->row_key);
    (*(size_t *)ctx)++;
    return true;
}

static const char *const ENTITY_SEED =
    "{\"value\":[{\"PartitionKey\":\"r-3f-0\",\"RowKey\":\"r-1\",\"data\":\"x\\u00e9\","
    "\"messageProcessingTime\":1.5,\"dequeueCount\":1},{\"PartitionKey\":\"p\",\"RowKey\":\"q\","
    "\"messageProcessingTime\":\"2e3\"}]}";
static const char *const ODATA_ERR_SEED =
    "{\"odata.error\":{\"code\":\"EntityAlreadyExists\",\"message\":{\"lang\":\"en-US\","
    "\"value\":\"1:exists\"}}}";

static void table_json(void **state)
{
    (void)state;
    for (int i = 0; i < ROUNDS; i++) {
        size_t len, n = 0;
        char *in = mutate(i % 2 ? ENTITY_SEED : ODATA_ERR_SEED, &len);
        enum edw_err rc = edw_azure_parse_entities(in, len, count_entity, &n, NULL);
        assert_true(rc == EDW_OK || rc == EDW_ERR_INVALID);
        char code[64], msg[200];
        edw_azure_parse_error_json(in, len, code, sizeof(code), msg, sizeof(msg));
        assert_true(strlen(code) < sizeof(code) && strlen(msg) < sizeof(msg));
        free(in);
    }
}

static const char *const BATCH_SEED =
    "--batchresponse_a\r\nContent-Type: multipart/mixed; boundary=changesetresponse_b\r\n\r\n"
    "--changesetresponse_b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n"
    "\r\n\r\n--changesetresponse_b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 409 "
    "Conflict\r\nContent-Type: application/json\r\n\r\n{\"odata.error\":{\"code\":\"X\","
    "\"message\":{\"value\":\"1:no\"}}}\r\n--changesetresponse_b--\r\n--batchresponse_a--\r\n";

static void batch_reply(void **state)
{
    (void)state;
    for (int i = 0; i < ROUNDS; i++) {
        size_t len, clen;
        char *in = mutate(BATCH_SEED, &len);
        char *ctype = mutate("multipart/mixed; boundary=batchresponse_a", &clen);
        struct edw_azure_batch_result r;
        enum edw_err rc = edw_azure_parse_batch(i % 3 ? "multipart/mixed; boundary=batchresponse_a"
                                                      : ctype,
                                                in, len, &r);
        if (rc == EDW_OK) {
            assert_true(r.parts > 0);
            assert_true(r.status == 0 || (r.status >= 100 && r.status <= 599));
        }
        free(in);
        free(ctype);
    }
}

static void conn_string(void **state)
{
    (void)state;
    static const char *const seed =
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" EDW_AZURITE_KEY
        ";QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;SharedAccessSignature=sv=1&sig=a"
        ";UseDevelopmentStorage=true;EndpointSuffix=core.windows.net";
    for (int i = 0; i < ROUNDS; i++) {
        size_t len;
        char *in = mutate(seed, &len);
        struct edw_azure_conn c;
        struct edw_error err = {0};
        enum edw_err rc = edw_azure_conn_parse(in, &c, &err);
        assert_true(rc == EDW_OK || rc == EDW_ERR_INVALID);
        if (rc)
            assert_null(strstr(err.message, "Eby8vdM02xNOcqFlqUwJ")); /* never the key */
        edw_azure_conn_cleanup(&c);
        free(in);
    }
}

static void dates_and_base64(void **state)
{
    (void)state;
    for (int i = 0; i < ROUNDS; i++) {
        size_t len;
        char *in = mutate(i % 2 ? "Fri, 27 Nov 2026 17:55:20 GMT" : "eyJhIjoxfQ==", &len);
        int64_t us;
        (void)edw_rfc1123_parse(in, &us);
        struct edw_buf b;
        edw_buf_init(&b, 1024);
        if (edw_base64_decode(in, len, &b) == EDW_OK) {
            struct edw_buf again; /* canonical base64 round-trips exactly */
            edw_buf_init(&again, 2048);
            assert_int_equal(edw_base64_encode(b.ptr ? b.ptr : "", b.len, &again), EDW_OK);
            assert_int_equal(again.len, len);
            assert_memory_equal(edw_buf_cstr(&again), in, len);
            edw_buf_cleanup(&again);
        }
        edw_buf_cleanup(&b);
        edw_buf_init(&b, 1 << 16);
        enum edw_err esc = edw_azure_xml_escape(&b, in, len);
        assert_true(esc == EDW_OK || esc == EDW_ERR_INVALID);
        edw_buf_cleanup(&b);
        free(in);
    }
}

static void sign_urls(void **state)
{
    (void)state;
    static const char *const seed =
        "https://acct.queue.core.windows.net/q/messages/id?popreceipt=Ag%2B%3D&b=2&B=1&x&=y";
    unsigned char key[32] = {7};
    for (int i = 0; i < ROUNDS; i++) {
        size_t len;
        char *url = mutate(seed, &len);
        for (int scheme = 0; scheme < 2; scheme++) {
            struct edw_http_request r;
            edw_http_request_init(&r, "GET", url);
            edw_http_headers_add(&r.headers, "x-ms-date", "Fri, 27 Nov 2026 17:55:20 GMT");
            edw_http_headers_add(&r.headers, "X-MS-meta", url);
            enum edw_err rc = edw_azure_sharedkey_authorize(
                scheme ? EDW_AZURE_SK_TABLE : EDW_AZURE_SK_QUEUE, "acct", key, sizeof(key), &r);
            assert_true(rc == EDW_OK || rc == EDW_ERR_INVALID);
            if (rc == EDW_OK)
                assert_non_null(edw_http_headers_get(&r.headers, "Authorization"));
            edw_http_request_cleanup(&r);
        }
        free(url);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(queue_xml),   cmocka_unit_test(table_json),
        cmocka_unit_test(batch_reply), cmocka_unit_test(conn_string),
        cmocka_unit_test(dates_and_base64), cmocka_unit_test(sign_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
