/* SPDX-License-Identifier: Apache-2.0 */
/* Time stamps in the samples' format "%Y-%m-%d %H:%M:%S.%f" (UTC), ISO 8601 and RFC 1123
 * (HTTP dates, as Azure Storage signs and returns them). */
#ifndef EDW_TIMEFMT_H
#define EDW_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EDW_STAMP_LEN 26 /* "2026-11-27 18:00:00.123456" */

/* Format Unix microseconds as the samples' stamp; `out` holds at least 27 bytes. */
void edw_stamp_format(int64_t unix_us, char out[EDW_STAMP_LEN + 1]);

/* Parse a stamp with 0 to 6 fractional digits (".%f" optional). False on anything else. */
bool edw_stamp_parse(const char *text, int64_t *unix_us_out);

/* "2026-11-27T18:00:00.123Z" for log lines; `out` holds at least 25 bytes. */
void edw_iso8601_ms(int64_t unix_us, char out[25]);

/* "Fri, 27 Nov 2026 17:55:20 GMT" (whole seconds); `out` holds at least 30 bytes. */
void edw_rfc1123_format(int64_t unix_us, char out[30]);

/* Parse that format (the day may have one digit). False on anything else. */
bool edw_rfc1123_parse(const char *text, int64_t *unix_us_out);

#endif
