/* SPDX-License-Identifier: Apache-2.0 */
/* Reading answers several at a time. When a transport has many requests in flight and the
 * server answers them one after another (Azurite works through 32 Delete Messages a few
 * milliseconds apart), waking up for every single answer costs a context switch and a pass
 * through the HTTP library each time: the largest share of edw's CPU per message. Holding back
 * a little between two wake-ups lets the answers that arrived meanwhile be read together.
 *
 * The hold is bounded twice: by a share of the time the requests have already taken, so a set
 * of quick requests is never slowed by more than that share, and by a fixed cap. It is only
 * taken when answers are expected within it (going by the spacing of those that came so far):
 * a hold in which nothing arrives adds a wake-up instead of saving one; and it ends before the
 * last outstanding answer is due, so that one is not read later than it would have been. With
 * one request in flight there is nothing to gather. Pure arithmetic: the transport sleeps for
 * the result before it waits on its sockets. */
#ifndef EDW_WAKE_HOLD_H
#define EDW_WAKE_HOLD_H

#include <stddef.h>
#include <stdint.h>

/* The default cap (edw_http_options.wake_hold_max_us 0). */
#define EDW_WAKE_HOLD_DEFAULT_US 16000
/* At most 1/EDW_WAKE_HOLD_SHARE of the time elapsed since the requests were started. Half:
 * each hold can then be half again as long as the last, so answers that trickle in are read
 * in fewer wake-ups (the transport test's 32 answers 3 ms apart: 11 instead of 15 with a
 * quarter; docs/BENCHMARKS.md, "Session 7"). */
#define EDW_WAKE_HOLD_SHARE 2

/* How long to sleep now, before waiting for the next answers: `started_us` is when the
 * requests were started, `last_wake_us` when the transport last woke up to read answers (or
 * started them), `now_us` the time now (all on one monotonic clock); `answered` requests have
 * their answers, `in_flight` not yet; `max_us` is the cap (<= 0: never hold). 0: wait for the
 * sockets at once. */
int64_t edw_wake_hold_us(int64_t started_us, int64_t last_wake_us, int64_t now_us, size_t answered,
                         size_t in_flight, int64_t max_us);

#endif
