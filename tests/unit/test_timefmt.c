/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "edw/timefmt.h"

/* 2026-11-27 18:00:00.123456 UTC = 1795802400 s (checked with `date -u -d @1795802400`). */
#define T0 1795802400123456LL

static void format_stamp(void **state)
{
    (void)state;
    char out[EDW_STAMP_LEN + 1];
    edw_stamp_format(T0, out);
    assert_string_equal(out, "2026-11-27 18:00:00.123456");
    edw_stamp_format(0, out);
    assert_string_equal(out, "1970-01-01 00:00:00.000000");
    char iso[25];
    edw_iso8601_ms(T0, iso);
    assert_string_equal(iso, "2026-11-27T18:00:00.123Z");
}

static void parse_round_trip(void **state)
{
    (void)state;
    int64_t us = 0;
    assert_true(edw_stamp_parse("2026-11-27 18:00:00.123456", &us));
    assert_int_equal(us, T0);
    assert_true(edw_stamp_parse("2026-11-27 18:00:00", &us));
    assert_int_equal(us, T0 - 123456);
    assert_true(edw_stamp_parse("2026-11-27 18:00:00.5", &us));
    assert_int_equal(us, T0 - 123456 + 500000);
    assert_true(edw_stamp_parse("2024-02-29 00:00:00.000001", &us)); /* leap day */
    for (int64_t t = 0; t < 4000000000LL * 1000000; t += 987654321987LL) {
        char out[EDW_STAMP_LEN + 1];
        edw_stamp_format(t, out);
        assert_true(edw_stamp_parse(out, &us));
        assert_int_equal(us, t);
    }
}

static void parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2026-11-27",
        "2026-11-27T18:00:00",        /* ISO 'T' is not the samples' format */
        "2026-13-01 00:00:00",        /* month */
        "2026-02-30 00:00:00",        /* day */
        "2026-11-27 24:00:00",        /* hour */
        "2026-11-27 18:00:00.",       /* empty fraction */
        "2026-11-27 18:00:00.1234567", /* seven digits */
        "2026-11-27 18:00:00Z",
        " 2026-11-27 18:00:00",
        "20x6-11-27 18:00:00",
    };
    int64_t us;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(edw_stamp_parse(bad[i], &us));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_stamp),
        cmocka_unit_test(parse_round_trip),
        cmocka_unit_test(parse_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
