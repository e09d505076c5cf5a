/* SPDX-License-Identifier: Apache-2.0 */
/* What the queue and store wrappers do around every backend call: count and time it for
 * the metrics, and log a failure once with the fields an operator filters on. Private to
 * src/core. */
#ifndef EDW_OBSERVE_H
#define EDW_OBSERVE_H

#include <stdbool.h>
#include <stdint.h>

#include "edw/clock.h"
#include "edw/err.h"
#include "edw/metrics.h"

/* The call `op` of `backend` started at monotonic `t0_us` and returned `rc`. Unless `quiet`
 * (success, or an expected answer such as a lost lease), it is logged under `tag`: warn when
 * retryable, error otherwise, with backend, operation, error and, when the backend filled
 * them, http_status and code. Thread-safe. */
void edw_observe_call(const char *tag, const char *backend, const struct edw_clock *clock,
                      enum edw_op op, int64_t t0_us, enum edw_err rc, bool quiet,
                      const struct edw_error *err);

#endif
