/* SPDX-License-Identifier: Apache-2.0 */
#include "edw/retry.h"

#include "edw/http.h"
#include "edw/shutdown.h"

uint64_t edw_retry_rand(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

int64_t edw_retry_backoff_us(const struct edw_retry_policy *p, unsigned n, bool throttled,
                             int64_t hint_us, uint64_t *rng)
{
    int64_t ceiling = throttled && p->throttle_base_us > 0 ? p->throttle_base_us : p->base_us;
    for (unsigned i = 0; i < n && ceiling < p->cap_us; i++)
        ceiling *= 2;
    if (ceiling > p->cap_us)
        ceiling = p->cap_us;
    /* "Equal jitter": half fixed so a busy service really gets a pause, half random so
     * consumers that failed together do not come back together. */
    int64_t half = ceiling / 2;
    int64_t delay = half + (half > 0 ? (int64_t)(edw_retry_rand(rng) % (uint64_t)(half + 1)) : 0);
    if (hint_us > p->max_hint_us)
        hint_us = p->max_hint_us;
    return delay > hint_us ? delay : hint_us;
}

enum edw_retry_verdict edw_retry_check(const struct edw_retry_policy *p, int64_t start_us,
                                       int64_t now_us, int64_t delay_us)
{
    if (p->budget_us > 0 && now_us - start_us + delay_us > p->budget_us)
        return EDW_RETRY_BUDGET;
    if (!edw_shutdown_may_retry(now_us, delay_us))
        return EDW_RETRY_SHUTDOWN;
    return EDW_RETRY_GO;
}

long edw_retry_timeout_ms(int64_t now_us, long timeout_ms)
{
    return edw_shutdown_timeout_ms(now_us, timeout_ms, EDW_HTTP_DEFAULT_REQUEST_TIMEOUT_MS);
}
