/* SPDX-License-Identifier: Apache-2.0 */
/* The process-wide shutdown deadline. After SIGTERM a consumer has its grace period to finish;
 * backend calls that retry inside (backoff sleeps, a request that hangs on an unreachable
 * service) must not carry it past that, or Kubernetes kills the pod with its leases still
 * held. The worker sets the deadline when it starts to stop; backend retry loops ask whether
 * another try still fits, and cap their request timeouts to the time left.
 *
 * Times are monotonic microseconds of the system clock (the clock the worker and the
 * backends share in production). All functions are thread-safe and lock-free. */
#ifndef EDW_SHUTDOWN_H
#define EDW_SHUTDOWN_H

#include <stdbool.h>
#include <stdint.h>

/* A request made after the deadline still gets this long: what the worker hands back then
 * (leases, finished rows) is worth one short try. */
#define EDW_SHUTDOWN_MIN_REQUEST_MS 1000L

/* Start a shutdown that must be over by `deadline_us`. Called again (one call per pipeline),
 * the earliest deadline stands. */
void edw_shutdown_set_deadline(int64_t deadline_us);

/* The deadline set, or 0 while no shutdown is under way. */
int64_t edw_shutdown_deadline_us(void);

/* Forget the deadline (tests that run several workers in one process). */
void edw_shutdown_reset(void);

/* Whether a call failing at `now_us` may sleep `delay_us` and try again: always outside a
 * shutdown; during one, only if the retry would start before the deadline. */
bool edw_shutdown_may_retry(int64_t now_us, int64_t delay_us);

/* The timeout for a request sent at `now_us` whose own timeout is `timeout_ms` (0: the
 * transport's default of `default_ms`): unchanged outside a shutdown, else at most the time
 * left to the deadline, and never less than EDW_SHUTDOWN_MIN_REQUEST_MS. */
long edw_shutdown_timeout_ms(int64_t now_us, long timeout_ms, long default_ms);

#endif
