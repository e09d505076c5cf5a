/* SPDX-License-Identifier: Apache-2.0 */
/* Error model: one by-value enum whose categories carry the worker's retry decisions,
 * plus an optional, allocation-free context struct filled by backends. */
#ifndef EDW_ERR_H
#define EDW_ERR_H

#include <stdbool.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define EDW_NODISCARD __attribute__((warn_unused_result))
#define EDW_PRINTF(fmt_idx, args_idx) __attribute__((format(printf, fmt_idx, args_idx)))
#else
#define EDW_NODISCARD
#define EDW_PRINTF(fmt_idx, args_idx)
#endif

enum edw_err {
    EDW_OK = 0,
    EDW_ERR_INVALID,   /* bad input or configuration: do not retry */
    EDW_ERR_TRANSIENT, /* network, 5xx, busy database: back off and retry */
    EDW_ERR_THROTTLED, /* service asked us to slow down: back off longer */
    EDW_ERR_AUTH,      /* 401/403: refresh credentials once, then fail */
    EDW_ERR_NOT_FOUND, /* queue, table, row or run does not exist */
    EDW_ERR_CONFLICT,  /* lease lost, ETag or conditional check failed */
    EDW_ERR_FATAL,     /* anything else that cannot succeed by retrying */
};

/* Context for the last failure. Fixed-size so filling it never allocates. */
struct edw_error {
    int http_status;         /* 0 when not an HTTP failure */
    uint32_t retry_after_ms; /* service-provided hint, 0 when absent */
    char code[64];           /* service error code, e.g. "PopReceiptMismatch" */
    char message[256];       /* human-readable; never contains a secret */
};

/* Stable identifier of the category, e.g. "EDW_ERR_TRANSIENT". Never NULL. */
const char *edw_err_name(enum edw_err err);

/* One-line description of the category. Never NULL. */
const char *edw_err_str(enum edw_err err);

/* True for categories where the same call may succeed later. */
bool edw_err_retryable(enum edw_err err);

/* Fill `e` (NULL-safe) with a formatted message and return `err`, so callers can write
 * `return edw_error_set(e, EDW_ERR_INVALID, "...")`. The message is truncated to fit. */
enum edw_err edw_error_set(struct edw_error *e, enum edw_err err, const char *fmt, ...)
    EDW_PRINTF(3, 4);

/* Reset `e` (NULL-safe) to the empty state. */
void edw_error_clear(struct edw_error *e);

#endif
