/* SPDX-License-Identifier: Apache-2.0 */
/* Process-wide liveness and readiness, as the HTTP probes (/healthz, /readyz) report them.
 *
 * Liveness asks one question: are the worker loops still turning? Each loop registers and
 * beats; a loop that sleeps on purpose (an empty queue, a backoff) says for how long, so
 * being idle is never a failure, and neither is an unreachable backend: restarting the pod
 * would not bring the cloud service back. Readiness says whether the process can do its job
 * now: configuration loaded, credentials obtained, backend answering, not draining.
 *
 * All functions are thread-safe and lock-free; times are monotonic microseconds from the
 * caller's clock (the same clock for beats and checks). */
#ifndef EDW_HEALTH_H
#define EDW_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "edw/buf.h"
#include "edw/clock.h"
#include "edw/err.h"

#define EDW_HEALTH_MAX_PIPELINES 64

enum edw_pipe_state {
    EDW_PIPE_BUSY,     /* working, or about to */
    EDW_PIPE_IDLE,     /* waiting for messages (or a backoff) on purpose */
    EDW_PIPE_DRAINING, /* stop requested: finishing in-flight work */
};

enum edw_cred_state {
    EDW_CRED_NOT_NEEDED = 0, /* static keys, SQLite: nothing to obtain */
    EDW_CRED_PENDING,        /* a token is being fetched for the first time */
    EDW_CRED_OK,
    EDW_CRED_FAILED, /* the last fetch failed and no valid token is left */
};

/* Readiness inputs set by the command once known. */
void edw_health_set_config_ok(bool ok);
void edw_health_set_credentials(enum edw_cred_state state);

/* Register a loop that will beat. Returns its id, or -1 when EDW_HEALTH_MAX_PIPELINES are
 * registered already (then beats with -1 are ignored and that loop is not watched). */
int edw_health_pipeline_add(int64_t now_us);
/* The loop is alive at `now_us` in `state`, and will next beat within `quiet_us` (a planned
 * sleep) plus the stall allowance given to edw_health_live. */
void edw_health_pipeline_beat(int id, enum edw_pipe_state state, int64_t now_us, int64_t quiet_us);
/* The loop has ended: it is no longer watched. NULL-safe for -1. */
void edw_health_pipeline_remove(int id);

/* Live unless a registered loop is overdue by more than `stall_us`. On failure, appends the
 * reason to `why` (may be NULL). */
bool edw_health_live(int64_t now_us, int64_t stall_us, struct edw_buf *why);

/* Ready when the configuration is loaded, credentials are not pending or failed, no loop is
 * draining, a backend call has succeeded and no operation's latest call failed within
 * `window_us` (edw_metrics_backend_status). Appends the first reason to `why` otherwise. */
bool edw_health_ready(int64_t now_us, int64_t window_us, struct edw_buf *why);

/* Forget every registration and input (unit tests only). */
void edw_health_reset(void);

/* ---- the HTTP endpoint ------------------------------------------------------------------
 * GET /metrics (Prometheus text format), /healthz (liveness), /readyz (readiness): 200 with
 * "ok", or 503 with the reason as text. Served by libmicrohttpd on its own thread. */

struct edw_obs_server_opts {
    const char *addr;              /* numeric IPv4 or IPv6 address to bind, e.g. "0.0.0.0" */
    unsigned port;                 /* 0 picks a free one (see edw_obs_server_port) */
    int64_t stall_us;              /* liveness: how overdue a worker loop may be */
    int64_t failure_window_us;     /* readiness: how long a failed backend call counts */
    const struct edw_clock *clock; /* monotonic time for the checks */
};

struct edw_obs_server;

/* Start listening. Caller owns `*out`; stop with edw_obs_server_stop. EDW_ERR_INVALID for a
 * bad address or a port that cannot be bound (the reason is in `err` and the log). */
EDW_NODISCARD enum edw_err edw_obs_server_start(const struct edw_obs_server_opts *opts,
                                                struct edw_obs_server **out, struct edw_error *err);

/* The bound port. */
unsigned edw_obs_server_port(const struct edw_obs_server *s);

/* Stop listening, finish the requests being served and free `s`. NULL-safe. */
void edw_obs_server_stop(struct edw_obs_server *s);

/* The HTTP server library, e.g. "libmicrohttpd/0.9.75 (system)", and its kind ("system" or
 * "lean", -DEDW_MHD; docs/building.md). Static strings; thread-safe. */
const char *edw_obs_server_library(void);
const char *edw_obs_server_library_kind(void);

#endif
