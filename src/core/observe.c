/* SPDX-License-Identifier: Apache-2.0 */
#include "observe.h"

#include "edw/log.h"

void edw_observe_call(const char *tag, const char *backend, const struct edw_clock *clock,
                      enum edw_op op, int64_t t0_us, enum edw_err rc, bool quiet,
                      const struct edw_error *err)
{
    int64_t now = edw_clock_mono_us(clock);
    edw_metrics_backend_call(backend, op, rc, now - t0_us, now);
    if (quiet)
        return;
    struct edw_log_field f[5] = {
        {"backend", backend, 0}, {"operation", edw_op_name(op), 0}, {"error", edw_err_name(rc), 0}};
    size_t n = 3;
    if (err && err->http_status)
        f[n++] = (struct edw_log_field){"http_status", NULL, err->http_status};
    if (err && err->code[0])
        f[n++] = (struct edw_log_field){"code", err->code, 0};
    EDW_LOG_FIELDS(edw_err_retryable(rc) ? EDW_LOG_WARN : EDW_LOG_ERROR, tag, f, n,
                   "%s %s failed: %s", tag, edw_op_name(op),
                   err && err->message[0] ? err->message : edw_err_str(rc));
}
