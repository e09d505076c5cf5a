/* SPDX-License-Identifier: Apache-2.0 */
/* The retry policy the network backends' call loops share (Azure's edw_azure_perform, AWS's
 * edw_aws_call_many and its batch loops): how long to wait before the next attempt, whether
 * that attempt may be made at all, and how long it may take. Written once so that every
 * backend honours the same limits:
 *
 *   - the backoff: exponential with "equal jitter", never shorter than the service's
 *     Retry-After (itself capped, since no lease is renewed while a call sleeps);
 *   - the call's time budget: the worker renews no lease while a backend call runs, so one
 *     call, retries and waits included, ends within a quarter of the lease (the worker then
 *     retries it while renewing; tests/unit/test_{azure,aws}_retry_budget.c);
 *   - the shutdown deadline (edw/shutdown.h): after SIGTERM no retry starts after the grace
 *     ends and no request outlasts it, however unreachable the service is.
 *
 * Times are monotonic microseconds of the caller's clock. The functions are pure (but for the
 * shutdown deadline they read, which is atomic) and thread-safe; a policy is read-only. */
#ifndef EDW_RETRY_H
#define EDW_RETRY_H

#include <stdbool.h>
#include <stdint.h>

struct edw_retry_policy {
    unsigned max_attempts;    /* per call, the first included */
    int64_t base_us;          /* backoff ceiling before the second attempt */
    int64_t cap_us;           /* largest backoff ceiling */
    int64_t max_hint_us;      /* most of a service's Retry-After that is waited for */
    int64_t budget_us;        /* longest one call may take, waits included (0: no limit) */
    int64_t throttle_base_us; /* base_us when the service throttled (0: base_us) */
};

/* What a call loop does with a failure that could be retried. */
enum edw_retry_verdict {
    EDW_RETRY_GO,       /* sleep the delay, then try again */
    EDW_RETRY_BUDGET,   /* the call would outrun its budget: fail, the worker retries later */
    EDW_RETRY_SHUTDOWN, /* shutting down, and the grace ends first: fail now, exit in time */
};

/* The next value of the xorshift64* generator whose state is `*state` (0 is a valid seed).
 * For jitter, not for anything secret. */
uint64_t edw_retry_rand(uint64_t *state);

/* The wait before retry number `n` (0: before the second attempt): uniform in [c/2, c] where
 * c = min(cap_us, base * 2^n), base being throttle_base_us when `throttled` (and set), else
 * base_us; but at least the service's hint `hint_us` capped at max_hint_us. Advances *rng. */
int64_t edw_retry_backoff_us(const struct edw_retry_policy *p, unsigned n, bool throttled,
                             int64_t hint_us, uint64_t *rng);

/* Whether a call that started at `start_us` and failed at `now_us` may wait `delay_us` and
 * try again: not past its budget, and during a shutdown only if the retry starts before the
 * deadline. The budget is checked first (it applies at all times). */
enum edw_retry_verdict edw_retry_check(const struct edw_retry_policy *p, int64_t start_us,
                                       int64_t now_us, int64_t delay_us);

/* The timeout for a request sent at `now_us` with its own `timeout_ms` (0: the transport's
 * default): unchanged outside a shutdown, else capped to the time left (see
 * edw_shutdown_timeout_ms). Set it on every request a retry loop sends. */
long edw_retry_timeout_ms(int64_t now_us, long timeout_ms);

#endif
