/* SPDX-License-Identifier: Apache-2.0 */
#include "edw/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Names and descriptions come from one table, indexed by the enum. */
static const struct {
    const char *name;
    const char *str;
    bool retryable;
} s_errors[] = {
    [EDW_OK] = {"EDW_OK", "success", false},
    [EDW_ERR_INVALID] = {"EDW_ERR_INVALID", "invalid input or configuration", false},
    [EDW_ERR_TRANSIENT] = {"EDW_ERR_TRANSIENT", "temporary failure, retry later", true},
    [EDW_ERR_THROTTLED] = {"EDW_ERR_THROTTLED", "throttled by the service", true},
    [EDW_ERR_AUTH] = {"EDW_ERR_AUTH", "authentication or authorisation failed", false},
    [EDW_ERR_NOT_FOUND] = {"EDW_ERR_NOT_FOUND", "not found", false},
    [EDW_ERR_CONFLICT] = {"EDW_ERR_CONFLICT", "conflict: lease lost or condition failed", false},
    [EDW_ERR_FATAL] = {"EDW_ERR_FATAL", "fatal error", false},
};

static bool known(enum edw_err err)
{
    return (unsigned)err < sizeof(s_errors) / sizeof(s_errors[0]);
}

const char *edw_err_name(enum edw_err err)
{
    return known(err) ? s_errors[err].name : "EDW_ERR_UNKNOWN";
}

const char *edw_err_str(enum edw_err err)
{
    return known(err) ? s_errors[err].str : "unknown error";
}

bool edw_err_retryable(enum edw_err err)
{
    return known(err) && s_errors[err].retryable;
}

enum edw_err edw_error_set(struct edw_error *e, enum edw_err err, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof(e->message), fmt, ap);
        va_end(ap);
    }
    return err;
}

void edw_error_clear(struct edw_error *e)
{
    if (e)
        memset(e, 0, sizeof(*e));
}
