/* SPDX-License-Identifier: Apache-2.0 */
/* Percent-encoding (edw/urlencode.h), shared by the Azure requests, SigV4 and the token
 * exchanges' form bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four above first */
#include <cmocka.h>
#include <string.h>

#include "edw/urlencode.h"

static void encodes_all_but_unreserved_and_kept(void **state)
{
    (void)state;
    struct edw_buf b;
    edw_buf_init(&b, 1024);
    const char *s = "AgAAAAMAAAAAAAAA+z/==~._- é'()";
    assert_int_equal(edw_url_encode(&b, s, strlen(s), NULL), EDW_OK);
    assert_string_equal(edw_buf_cstr(&b), "AgAAAAMAAAAAAAAA%2Bz%2F%3D%3D~._-%20%C3%A9%27%28%29");
    edw_buf_reset(&b);
    assert_int_equal(edw_url_encode(&b, "a'(b)", 5, "'()"), EDW_OK);
    assert_string_equal(edw_buf_cstr(&b), "a'(b)");
    /* A path keeps its slashes (SigV4's canonical URI). */
    edw_buf_reset(&b);
    assert_int_equal(edw_url_encode(&b, "/a b/c", 6, "/"), EDW_OK);
    assert_string_equal(edw_buf_cstr(&b), "/a%20b/c");
    /* Only `len` bytes, and a NUL among them is encoded, never taken for a kept character. */
    edw_buf_reset(&b);
    assert_int_equal(edw_url_encode(&b, "x\0y", 3, "/"), EDW_OK);
    assert_string_equal(edw_buf_cstr(&b), "x%00y");
    edw_buf_reset(&b);
    assert_int_equal(edw_url_encode(&b, "abc", 2, NULL), EDW_OK);
    assert_string_equal(edw_buf_cstr(&b), "ab");
    edw_buf_cleanup(&b);
}

static void fails_at_the_buffer_limit(void **state)
{
    (void)state;
    struct edw_buf b;
    edw_buf_init(&b, 4);
    assert_int_not_equal(edw_url_encode(&b, "a b c", 5, NULL), EDW_OK);
    edw_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encodes_all_but_unreserved_and_kept),
        cmocka_unit_test(fails_at_the_buffer_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
