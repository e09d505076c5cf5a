/* SPDX-License-Identifier: Apache-2.0 */
#include "edw/shutdown.h"

#include <stdatomic.h>

static _Atomic int64_t s_deadline_us; /* 0: no shutdown */

void edw_shutdown_set_deadline(int64_t deadline_us)
{
    if (deadline_us <= 0)
        deadline_us = 1; /* 0 means "none": a deadline at the clock's origin is still one */
    int64_t cur = atomic_load(&s_deadline_us);
    while ((cur == 0 || deadline_us < cur) &&
           !atomic_compare_exchange_weak(&s_deadline_us, &cur, deadline_us)) {
    }
}

int64_t edw_shutdown_deadline_us(void)
{
    return atomic_load(&s_deadline_us);
}

void edw_shutdown_reset(void)
{
    atomic_store(&s_deadline_us, 0);
}

bool edw_shutdown_may_retry(int64_t now_us, int64_t delay_us)
{
    int64_t d = atomic_load(&s_deadline_us);
    return d == 0 || now_us + delay_us < d;
}

long edw_shutdown_timeout_ms(int64_t now_us, long timeout_ms, long default_ms)
{
    int64_t d = atomic_load(&s_deadline_us);
    if (d == 0)
        return timeout_ms;
    long own = timeout_ms > 0 ? timeout_ms : default_ms;
    int64_t left_ms = (d - now_us) / 1000;
    if (left_ms < EDW_SHUTDOWN_MIN_REQUEST_MS)
        left_ms = EDW_SHUTDOWN_MIN_REQUEST_MS;
    return left_ms < own ? (long)left_ms : own;
}
