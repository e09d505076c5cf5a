/* SPDX-License-Identifier: Apache-2.0 */
#include "edw/wake_hold.h"

int64_t edw_wake_hold_us(int64_t started_us, int64_t last_wake_us, int64_t now_us, size_t answered,
                         size_t in_flight, int64_t max_us)
{
    if (in_flight < 2 || answered == 0 || max_us <= 0 || now_us <= started_us)
        return 0;
    int64_t elapsed = now_us - started_us;
    int64_t hold = elapsed / EDW_WAKE_HOLD_SHARE;
    if (hold > max_us)
        hold = max_us;
    /* The answers so far came one per `spacing` on average: a shorter hold gathers none, and
     * a hold past the time the last one is due would only make the caller wait longer. */
    int64_t spacing = elapsed / (int64_t)answered;
    int64_t due = spacing * (int64_t)(in_flight - 1);
    if (hold > due)
        hold = due;
    if (hold < spacing)
        return 0;
    int64_t since_wake = now_us - last_wake_us;
    return since_wake < hold ? hold - since_wake : 0;
}
