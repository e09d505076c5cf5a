/* SPDX-License-Identifier: Apache-2.0 */
/* Liveness from loop heartbeats, readiness from configuration, credentials and the backend
 * call results the metrics already keep. A fixed table of atomics: probes read it from the
 * HTTP thread while the loops write it, without locks. */
#include "edw/health.h"

#include <stdatomic.h>
#include <string.h>

#include "edw/err.h"
#include "edw/metrics.h"

struct pipe {
    _Atomic bool used;
    _Atomic int state;      /* enum edw_pipe_state */
    _Atomic int64_t due_us; /* the next beat is expected by then */
};

static struct pipe s_pipes[EDW_HEALTH_MAX_PIPELINES];
static _Atomic bool s_config_ok;
static _Atomic int s_cred = EDW_CRED_NOT_NEEDED;

static const char *const s_state_names[] = {"busy", "idle", "draining"};

void edw_health_set_config_ok(bool ok)
{
    atomic_store(&s_config_ok, ok);
}

void edw_health_set_credentials(enum edw_cred_state state)
{
    atomic_store(&s_cred, (int)state);
}

int edw_health_pipeline_add(int64_t now_us)
{
    for (int i = 0; i < EDW_HEALTH_MAX_PIPELINES; i++) {
        bool expected = false;
        if (atomic_compare_exchange_strong(&s_pipes[i].used, &expected, true)) {
            atomic_store(&s_pipes[i].state, EDW_PIPE_BUSY);
            atomic_store(&s_pipes[i].due_us, now_us);
            return i;
        }
    }
    return -1;
}

void edw_health_pipeline_beat(int id, enum edw_pipe_state state, int64_t now_us, int64_t quiet_us)
{
    if (id < 0 || id >= EDW_HEALTH_MAX_PIPELINES)
        return;
    atomic_store(&s_pipes[id].state, (int)state);
    atomic_store(&s_pipes[id].due_us, now_us + (quiet_us > 0 ? quiet_us : 0));
}

void edw_health_pipeline_remove(int id)
{
    if (id >= 0 && id < EDW_HEALTH_MAX_PIPELINES)
        atomic_store(&s_pipes[id].used, false);
}

/* Append a reason (a reason too long for the buffer is simply not shown). */
static void say(struct edw_buf *why, const char *text)
{
    if (!why)
        return;
    enum edw_err ignored = edw_buf_append_str(why, text);
    (void)ignored;
}

bool edw_health_live(int64_t now_us, int64_t stall_us, struct edw_buf *why)
{
    for (int i = 0; i < EDW_HEALTH_MAX_PIPELINES; i++) {
        if (!atomic_load(&s_pipes[i].used))
            continue;
        int64_t late = now_us - atomic_load(&s_pipes[i].due_us);
        if (late > stall_us) {
            int state = atomic_load(&s_pipes[i].state);
            if (why) {
                enum edw_err ignored = edw_buf_appendf(
                    why, "a worker loop (%s) has not made progress for %.1f s\n",
                    s_state_names[state >= 0 && state <= EDW_PIPE_DRAINING ? state : 0],
                    (double)late / 1e6);
                (void)ignored;
            }
            return false;
        }
    }
    return true;
}

static bool draining(void)
{
    for (int i = 0; i < EDW_HEALTH_MAX_PIPELINES; i++)
        if (atomic_load(&s_pipes[i].used) && atomic_load(&s_pipes[i].state) == EDW_PIPE_DRAINING)
            return true;
    return false;
}

bool edw_health_ready(int64_t now_us, int64_t window_us, struct edw_buf *why)
{
    if (!atomic_load(&s_config_ok)) {
        say(why, "configuration not loaded\n");
        return false;
    }
    int cred = atomic_load(&s_cred);
    if (cred == EDW_CRED_PENDING || cred == EDW_CRED_FAILED) {
        say(why, cred == EDW_CRED_PENDING ? "credentials not obtained yet\n"
                                          : "credentials could not be obtained\n");
        return false;
    }
    if (draining()) {
        say(why, "draining: stop requested\n");
        return false;
    }
    struct edw_backend_status st;
    edw_metrics_backend_status(now_us, window_us, &st);
    if (st.failing) {
        if (why) {
            enum edw_err ignored = edw_buf_appendf(
                why, "backend %s: %s failed %.1f s ago (%s)\n", st.backend, edw_op_name(st.op),
                (double)st.failed_ago_us / 1e6, edw_err_name(st.err));
            (void)ignored;
        }
        return false;
    }
    if (!st.any_ok) {
        say(why, "no backend call has succeeded yet\n");
        return false;
    }
    return true;
}

void edw_health_reset(void)
{
    for (int i = 0; i < EDW_HEALTH_MAX_PIPELINES; i++)
        atomic_store(&s_pipes[i].used, false);
    atomic_store(&s_config_ok, false);
    atomic_store(&s_cred, EDW_CRED_NOT_NEEDED);
}
