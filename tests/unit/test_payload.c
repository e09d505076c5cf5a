/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edw/payload.h"

static enum edw_err parse(const char *body, size_t len, struct edw_payload *p, char *reason)
{
    return edw_payload_parse(body, len, 65536, p, reason, 256);
}

static void sample_body(void **state)
{
    (void)state;
    const char *b = "{\"msg\": \"Scale Test Message : COUNT 17\", "
                    "\"srcStamp\": \"2026-11-27 18:00:00.123456\"}";
    struct edw_payload p;
    char reason[256] = "";
    assert_int_equal(parse(b, strlen(b), &p, reason), EDW_OK);
    assert_string_equal(p.msg, "Scale Test Message : COUNT 17");
    assert_string_equal(p.src_stamp, "2026-11-27 18:00:00.123456");
    assert_null(p.id); /* the reference producers send no id */
    assert_int_equal(p.src_us, 1795802400123456LL);
    edw_payload_cleanup(&p);
}

static void format_then_parse(void **state)
{
    (void)state;
    struct edw_buf b;
    edw_buf_init(&b, 1 << 20);
    assert_int_equal(edw_payload_format("r1", 42, 1795802400123456LL, 0, &b), EDW_OK);
    struct edw_payload p;
    char reason[256];
    assert_int_equal(parse(b.ptr, b.len, &p, reason), EDW_OK);
    assert_string_equal(p.id, "r1-42");
    assert_string_equal(p.msg, "Scale Test Message : COUNT 42");
    edw_payload_cleanup(&p);
    edw_buf_reset(&b);
    assert_int_equal(edw_payload_format("r1", 1, 0, 1024, &b), EDW_OK);
    assert_int_equal(b.len, 1024); /* padded exactly */
    assert_int_equal(parse(b.ptr, b.len, &p, reason), EDW_OK);
    edw_payload_cleanup(&p);
    edw_buf_cleanup(&b);
}

/* Non-ASCII ids that are not controls stay valid: é, U+00A0 (just past C1), U+0100 (C4 80,
 * whose second byte is in the C1 range but which is no control), and a C2 byte right before
 * the end. */
static void non_control_unicode_ids_accepted(void **state)
{
    (void)state;
    static const char *const ids[] = {"caf\xc3\xa9", "a\xc2\xa0", "\xc4\x80\xc4\x9f",
                                      "x\xc2\xbf"};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char body[256];
        snprintf(body, sizeof(body),
                 "{\"msg\":\"a\",\"srcStamp\":\"2026-11-27 18:00:00\",\"id\":\"%s\"}", ids[i]);
        struct edw_payload p;
        char reason[256] = "";
        if (parse(body, strlen(body), &p, reason) != EDW_OK)
            fail_msg("id %zu refused: %s", i, reason);
        assert_string_equal(p.id, ids[i]);
        edw_payload_cleanup(&p);
    }
}

struct bad_case {
    const char *body;
    size_t len; /* 0: strlen */
    const char *reason_contains;
};

static void rejects_with_reason(void **state)
{
    (void)state;
    static const char nul_in_body[] = "{\"msg\":\"a\",\0\"srcStamp\":\"2026-11-27 18:00:00\"}";
    static const struct bad_case cases[] = {
        {"", 0, "empty"},
        {"not json", 0, "not valid JSON"},
        {"[1,2]", 0, "not a JSON object"},
        {"\"just a string\"", 0, "not a JSON object"},
        {"{\"srcStamp\":\"2026-11-27 18:00:00\"}", 0, "'msg' is missing"},
        {"{\"msg\":5,\"srcStamp\":\"2026-11-27 18:00:00\"}", 0, "'msg' is not a string"},
        {"{\"msg\":null,\"srcStamp\":\"2026-11-27 18:00:00\"}", 0, "'msg' is not a string"},
        {"{\"msg\":\"a\"}", 0, "'srcStamp' is missing"},
        {"{\"msg\":\"a\",\"srcStamp\":1795802400}", 0, "'srcStamp' is not a string"},
        {"{\"msg\":\"a\",\"srcStamp\":\"yesterday\"}", 0, "not a UTC time"},
        {"{\"msg\":\"a\",\"srcStamp\":\"2026-11-27 18:00:00\",\"id\":7}", 0, "'id' is not a string"},
        {"{\"msg\":\"a\",\"srcStamp\":\"2026-11-27 18:00:00\",\"id\":\"a/b\"}", 0,
         "'id' contains '/' at byte 1"},
        {"{\"msg\":\"a\",\"srcStamp\":\"2026-11-27 18:00:00\",\"id\":\"\"}", 0, "'id' is empty"},
        /* C1 controls (U+0080..U+009F): Azure Table rejects them in keys */
        {"{\"msg\":\"a\",\"srcStamp\":\"2026-11-27 18:00:00\",\"id\":\"k\xc2\x85\"}", 0,
         "control character U+0085 at byte 1"},
        {"{\"msg\":\"a\",\"srcStamp\":\"2026-11-27 18:00:00\",\"id\":\"ab\xc2\x9f\"}", 0,
         "control character U+009F at byte 2"},
        {"{\"msg\":\"a\",\"srcStamp\":\"2026-11-27 18:00:00\",\"id\":\"a\\u0080\"}", 0,
         "control character U+0080 at byte 1"},
        {"{\"msg\":\"a\",\"srcStamp\":\"2026-11-27 18:00:00\",\"id\":\"a\\u0000b\"}", 0,
         "not valid JSON"}, /* Jansson refuses \u0000 itself */
        {"{\"msg\":\"a\",\"srcStamp\":\"2026-11-27 18:00:00\",\"id\":\"a\\u007f\"}", 0,
         "control character U+007F at byte 1"},
        {"{\"msg\":\"a\\u0000b\",\"srcStamp\":\"2026-11-27 18:00:00\"}", 0, "NUL"},
        {"{\"msg\":\"\xff\xfe\",\"srcStamp\":\"2026-11-27 18:00:00\"}", 0, "not valid JSON"},
        {"{\"msg\":\"a\",\"msg\":\"b\",\"srcStamp\":\"2026-11-27 18:00:00\"}", 0, "duplicate"},
        {nul_in_body, sizeof(nul_in_body) - 1, "not valid JSON"},
        {"{\"msg\":\"a\",\"srcStamp\":\"2026-11-27 18:00:00\"", 0, "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct edw_payload p;
        char reason[256] = "";
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].body);
        enum edw_err rc = parse(cases[i].body, len, &p, reason);
        if (rc != EDW_ERR_INVALID || !strstr(reason, cases[i].reason_contains))
            fail_msg("case %zu: rc %d, reason '%s', wanted '%s'", i, rc, reason,
                     cases[i].reason_contains);
        assert_null(p.msg);
        edw_payload_cleanup(&p);
    }
}

static void oversized_and_deep(void **state)
{
    (void)state;
    struct edw_payload p;
    char reason[256];
    char *big = malloc(70000);
    memset(big, ' ', 70000);
    assert_int_equal(parse(big, 70000, &p, reason), EDW_ERR_INVALID);
    assert_non_null(strstr(reason, "70000 bytes, the limit is 65536"));
    /* 5000 levels of nesting: refused by the parser, not a stack overflow */
    size_t n = 0;
    for (int i = 0; i < 5000; i++)
        big[n++] = '[';
    for (int i = 0; i < 5000; i++)
        big[n++] = ']';
    assert_int_equal(parse(big, n, &p, reason), EDW_ERR_INVALID);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sample_body),
        cmocka_unit_test(format_then_parse),
        cmocka_unit_test(rejects_with_reason),
        cmocka_unit_test(non_control_unicode_ids_accepted),
        cmocka_unit_test(oversized_and_deep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
