/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "edw/buf.h"
#include "edw/err.h"

static void append_and_terminate(void **state)
{
    (void)state;
    struct edw_buf b;
    edw_buf_init(&b, 100);
    assert_string_equal(edw_buf_cstr(&b), "");
    assert_int_equal(edw_buf_append_str(&b, "hello"), EDW_OK);
    assert_int_equal(edw_buf_appendf(&b, " %d", 42), EDW_OK);
    assert_string_equal(edw_buf_cstr(&b), "hello 42");
    assert_int_equal(b.len, 8);
    edw_buf_cleanup(&b);
    edw_buf_cleanup(&b); /* idempotent */
}

static void max_size_frees_and_fails(void **state)
{
    (void)state;
    struct edw_buf b;
    edw_buf_init(&b, 8);
    assert_int_equal(edw_buf_append_str(&b, "12345678"), EDW_OK);
    assert_int_equal(edw_buf_append(&b, "9", 1), EDW_ERR_INVALID);
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
    /* still usable afterwards */
    assert_int_equal(edw_buf_append_str(&b, "ok"), EDW_OK);
    assert_string_equal(edw_buf_cstr(&b), "ok");
    edw_buf_cleanup(&b);
}

static void large_printf(void **state)
{
    (void)state;
    struct edw_buf b;
    edw_buf_init(&b, 1 << 20);
    char big[2000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(edw_buf_appendf(&b, "<%s>", big), EDW_OK);
    assert_int_equal(b.len, sizeof(big) + 1);
    assert_int_equal(b.ptr[0], '<');
    assert_int_equal(b.ptr[b.len - 1], '>');
    edw_buf_cleanup(&b);
}

static void json_escaping(void **state)
{
    (void)state;
    struct edw_buf b;
    edw_buf_init(&b, 1000);
    const char in[] = "a\"b\\c\n\x01 \xc3\xa9 \xff end";
    assert_int_equal(edw_buf_append_json_str(&b, in, sizeof(in) - 1), EDW_OK);
    assert_string_equal(edw_buf_cstr(&b), "a\\\"b\\\\c\\u000a\\u0001 \xc3\xa9 \\ufffd end");
    edw_buf_reset(&b);
    /* overlong encoding and a lone surrogate are not valid UTF-8 */
    assert_int_equal(edw_buf_append_json_str(&b, "\xc0\xaf\xed\xa0\x80", 5), EDW_OK);
    assert_string_equal(edw_buf_cstr(&b), "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd");
    edw_buf_cleanup(&b);
}

static void steal_hands_over(void **state)
{
    (void)state;
    struct edw_buf b;
    edw_buf_init(&b, 100);
    char *empty = edw_buf_steal(&b);
    assert_string_equal(empty, "");
    free(empty);
    assert_int_equal(edw_buf_append_str(&b, "x"), EDW_OK);
    char *s = edw_buf_steal(&b);
    assert_string_equal(s, "x");
    assert_null(b.ptr);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(append_and_terminate), cmocka_unit_test(max_size_frees_and_fails),
        cmocka_unit_test(large_printf),         cmocka_unit_test(json_escaping),
        cmocka_unit_test(steal_hands_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
