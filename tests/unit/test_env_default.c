/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "edw/env_default.h"

#define NAME "EDWTEST_ENV_DEFAULT" /* not EDW_*: edw rejects unknown EDW_* variables */

static void sets_when_unset_and_undo_unsets(void **state)
{
    (void)state;
    unsetenv(NAME);
    bool set = edw_env_default_set(NAME, "1");
    assert_true(set);
    assert_non_null(getenv(NAME));
    assert_string_equal(getenv(NAME), "1");
    edw_env_default_undo(NAME, set);
    assert_null(getenv(NAME));
}

static void keeps_a_value_the_user_set(void **state)
{
    (void)state;
    setenv(NAME, "0", 1);
    bool set = edw_env_default_set(NAME, "1");
    assert_false(set);
    assert_string_equal(getenv(NAME), "0");
    edw_env_default_undo(NAME, set); /* not ours: stays */
    assert_string_equal(getenv(NAME), "0");
    unsetenv(NAME);
}

static void keeps_an_empty_value(void **state)
{
    (void)state;
    setenv(NAME, "", 1);
    assert_false(edw_env_default_set(NAME, "1"));
    assert_string_equal(getenv(NAME), "");
    unsetenv(NAME);
}

static void reports_failure(void **state)
{
    (void)state;
    assert_false(edw_env_default_set("BAD=NAME", "1")); /* setenv: EINVAL */
    assert_null(getenv("BAD"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sets_when_unset_and_undo_unsets),
        cmocka_unit_test(keeps_a_value_the_user_set),
        cmocka_unit_test(keeps_an_empty_value),
        cmocka_unit_test(reports_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
