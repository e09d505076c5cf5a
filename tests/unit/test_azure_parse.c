/* SPDX-License-Identifier: Apache-2.0 */
/* The Azure parsers on replies shaped like the service's (and Azurite's) own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "azure_common.h"

#define S(lit) lit, sizeof(lit) - 1

static void test_messages(void **state)
{
    (void)state;
    const char xml[] =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessagesList><QueueMessage>"
        "<MessageId>6b0e1a4e-5a3b</MessageId><InsertionTime>Fri, 27 Nov 2026 17:55:20 GMT"
        "</InsertionTime><ExpirationTime>Fri, 31 Dec 9999 23:59:59 GMT</ExpirationTime>"
        "<PopReceipt>AgAAAAMAAAAAAAAA+z/==</PopReceipt><TimeNextVisible>Fri, 27 Nov 2026 "
        "17:55:50 GMT</TimeNextVisible><DequeueCount>3</DequeueCount><MessageText>hello "
        "&lt;world&gt; &amp; &quot;q&quot; &#233;&#13;&#x1F600;</MessageText></QueueMessage>"
        "<QueueMessage><MessageId>second</MessageId><PopReceipt>r2</PopReceipt><DequeueCount>1"
        "</DequeueCount><MessageText /></QueueMessage></QueueMessagesList>";
    struct edw_azure_qmsg_list l = {0};
    assert_int_equal(edw_azure_parse_messages(S(xml), &l, NULL), EDW_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0].id, "6b0e1a4e-5a3b");
    assert_string_equal(l.items[0].pop_receipt, "AgAAAAMAAAAAAAAA+z/==");
    assert_string_equal(l.items[0].text, "hello <world> & \"q\" \xc3\xa9\r\xf0\x9f\x98\x80");
    assert_int_equal(l.items[0].text_len, strlen(l.items[0].text));
    assert_int_equal(l.items[0].dequeue_count, 3);
    assert_string_equal(l.items[0].insertion_time, "Fri, 27 Nov 2026 17:55:20 GMT");
    assert_string_equal(l.items[1].text, "");
    assert_null(l.items[1].insertion_time);
    edw_azure_qmsg_list_cleanup(&l);
}

static void test_messages_empty(void **state)
{
    (void)state;
    struct edw_azure_qmsg_list l = {0};
    assert_int_equal(edw_azure_parse_messages(S("<QueueMessagesList/>"), &l, NULL), EDW_OK);
    assert_int_equal(edw_azure_parse_messages(
                         S("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<QueueMessagesList />"),
                         &l, NULL),
                     EDW_OK);
    assert_int_equal(l.n, 0);
    edw_azure_qmsg_list_cleanup(&l);
}

static void test_messages_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "<QueueMessagesList><QueueMessage>",
        "<Other/>",
        "<QueueMessagesList><QueueMessage><MessageText>x</MessageText></QueueMessage>"
        "</QueueMessagesList>",
        "<QueueMessagesList><QueueMessage><MessageId>a</MessageId><DequeueCount>x"
        "</DequeueCount></QueueMessage></QueueMessagesList>",
        "<QueueMessagesList><QueueMessage><MessageId>a</MessageId><DequeueCount>99999999999"
        "</DequeueCount></QueueMessage></QueueMessagesList>",
        "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><QueueMessagesList/>",
        "<QueueMessagesList><QueueMessage><MessageId>a&#0;</MessageId></QueueMessage>"
        "</QueueMessagesList>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct edw_azure_qmsg_list l = {0};
        struct edw_error err = {0};
        assert_int_equal(edw_azure_parse_messages(bad[i], strlen(bad[i]), &l, &err),
                         EDW_ERR_INVALID);
        assert_int_equal(l.n, 0); /* nothing half-parsed is handed out */
        assert_non_null(strstr(err.message, "malformed queue XML"));
        edw_azure_qmsg_list_cleanup(&l);
    }
}

static void test_error_xml(void **state)
{
    (void)state;
    char code[64] = "", msg[200] = "";
    const char xml[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>PopReceiptMismatch"
                       "</Code><Message>The specified pop receipt did not match.\nRequestId:1"
                       "</Message></Error>";
    edw_azure_parse_error_xml(S(xml), code, sizeof(code), msg, sizeof(msg));
    assert_string_equal(code, "PopReceiptMismatch");
    assert_string_equal(msg, "The specified pop receipt did not match.\nRequestId:1");
    /* Whatever the buffers held before, what the body does not name comes back empty. */
    memset(code, 'x', sizeof(code) - 1);
    memset(msg, 'x', sizeof(msg) - 1);
    edw_azure_parse_error_xml(S("not xml"), code, sizeof(code), msg, sizeof(msg));
    assert_string_equal(code, "");
    assert_string_equal(msg, "");
}

struct seen {
    size_t n;
    char keys[8][64];
    double nums[8];
};

static bool on_entity(void *ctx, const struct edw_azure_entity *e)
{
    struct seen *s = ctx;
    snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s/%s", e->partition_key, e->row_key);
    double v = -1;
    s->nums[s->n] = edw_azure_entity_num(e, "messageProcessingTime", &v) ? v : -1;
    s->n++;
    return s->n < 8;
}

static void test_entities(void **state)
{
    (void)state;
    const char json[] =
        "{\"value\":[{\"PartitionKey\":\"p\",\"RowKey\":\"a\",\"data\":\"x\","
        "\"messageProcessingTime\":1.5},{\"PartitionKey\":\"p\",\"RowKey\":\"b\","
        "\"messageProcessingTime\":\"2\"},{\"PartitionKey\":\"q\",\"RowKey\":\"c\"}]}";
    struct seen s = {0};
    assert_int_equal(edw_azure_parse_entities(S(json), on_entity, &s, NULL), EDW_OK);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.keys[0], "p/a");
    assert_string_equal(s.keys[2], "q/c");
    assert_true(s.nums[0] == 1.5);
    assert_true(s.nums[1] == 2.0); /* nometadata: numbers may come back as strings */
    assert_true(s.nums[2] == -1);

    memset(&s, 0, sizeof(s));
    assert_int_equal(edw_azure_parse_entities(S("{\"PartitionKey\":\"p\",\"RowKey\":\"r\"}"),
                                              on_entity, &s, NULL),
                     EDW_OK);
    assert_int_equal(s.n, 1);
    memset(&s, 0, sizeof(s));
    assert_int_equal(edw_azure_parse_entities(S("{\"value\":[]}"), on_entity, &s, NULL), EDW_OK);
    assert_int_equal(s.n, 0);

    static const char *const bad[] = {"", "[]", "{\"value\":5}", "{\"value\":[{\"RowKey\":\"r\"}]}",
                                      "{\"value\":[{\"PartitionKey\":1,\"RowKey\":\"r\"}]}",
                                      "{\"value\":[1]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&s, 0, sizeof(s));
        assert_int_equal(edw_azure_parse_entities(bad[i], strlen(bad[i]), on_entity, &s, NULL),
                         EDW_ERR_INVALID);
    }
}

static void test_error_json(void **state)
{
    (void)state;
    char code[64] = "", msg[200] = "";
    const char json[] = "{\"odata.error\":{\"code\":\"EntityAlreadyExists\",\"message\":{\"lang\":"
                        "\"en-US\",\"value\":\"1:The specified entity already exists.\"}}}";
    edw_azure_parse_error_json(S(json), code, sizeof(code), msg, sizeof(msg));
    assert_string_equal(code, "EntityAlreadyExists");
    assert_string_equal(msg, "1:The specified entity already exists.");
    /* A body without the error object leaves both empty, not as they were. */
    edw_azure_parse_error_json(S("{\"value\":[]}"), code, sizeof(code), msg, sizeof(msg));
    assert_string_equal(code, "");
    assert_string_equal(msg, "");
}

static const char s_ok_batch[] =
    "--batchresponse_66925647-d0cb-4109-b6d3-28efe3e1e5ed\r\n"
    "Content-Type: multipart/mixed; boundary=changesetresponse_3b1e6b2c\r\n\r\n"
    "--changesetresponse_3b1e6b2c\r\nContent-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 204 No Content\r\n"
    "X-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\n"
    "DataServiceVersion: 1.0;\r\nETag: W/\"1\"\r\n\r\n\r\n"
    "--changesetresponse_3b1e6b2c\r\nContent-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 204 No Content\r\nETag: W/\"2\"\r\n\r\n\r\n"
    "--changesetresponse_3b1e6b2c--\r\n"
    "--batchresponse_66925647-d0cb-4109-b6d3-28efe3e1e5ed--\r\n";

static const char s_failed_batch[] =
    "--batchresponse_abc\r\n"
    "Content-Type: multipart/mixed; boundary=changesetresponse_def\r\n\r\n"
    "--changesetresponse_def\r\nContent-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 409 Conflict\r\n"
    "Content-ID: 2\r\nContent-Type: application/json;odata=minimalmetadata;charset=utf-8\r\n\r\n"
    "{\"odata.error\":{\"code\":\"EntityAlreadyExists\",\"message\":{\"lang\":\"en-US\","
    "\"value\":\"1:The specified entity already exists.\\nRequestId:x\"}}}\r\n"
    "--changesetresponse_def--\r\n--batchresponse_abc--\r\n";

static void test_batch(void **state)
{
    (void)state;
    struct edw_azure_batch_result r;
    assert_int_equal(
        edw_azure_parse_batch(
            "multipart/mixed; boundary=batchresponse_66925647-d0cb-4109-b6d3-28efe3e1e5ed",
            S(s_ok_batch), &r),
        EDW_OK);
    assert_int_equal(r.parts, 2);
    assert_int_equal(r.status, 0);

    assert_int_equal(edw_azure_parse_batch("multipart/mixed; boundary=\"batchresponse_abc\"",
                                           S(s_failed_batch), &r),
                     EDW_OK);
    assert_int_equal(r.parts, 1);
    assert_int_equal(r.status, 409);
    assert_int_equal(r.index, 1);
    assert_string_equal(r.code, "EntityAlreadyExists");

    assert_int_equal(edw_azure_parse_batch("application/json", S(s_ok_batch), &r),
                     EDW_ERR_INVALID);
    assert_int_equal(edw_azure_parse_batch("multipart/mixed; boundary=other", S(s_ok_batch), &r),
                     EDW_ERR_INVALID);
    assert_int_equal(edw_azure_parse_batch(NULL, S(s_ok_batch), &r), EDW_ERR_INVALID);
    assert_int_equal(edw_azure_parse_batch("multipart/mixed; boundary=b", S("--b\r\n--b--\r\n"),
                                           &r),
                     EDW_ERR_INVALID); /* no operation reply at all */
    assert_int_equal(edw_azure_parse_batch("multipart/mixed; boundary=b",
                                           S("--b\r\nHTTP/1.1 abc\r\n--b--\r\n"), &r),
                     EDW_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages),   cmocka_unit_test(test_messages_empty),
        cmocka_unit_test(test_messages_bad), cmocka_unit_test(test_error_xml),
        cmocka_unit_test(test_entities),   cmocka_unit_test(test_error_json),
        cmocka_unit_test(test_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
