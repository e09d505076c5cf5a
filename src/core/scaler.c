/* SPDX-License-Identifier: Apache-2.0 */
#include <stdbool.h>

#include "edw/scaler.h"

void edw_scaler_init(struct edw_scaler *s, const struct edw_scaler_config *cfg, double now_s)
{
    *s = (struct edw_scaler){.cfg = *cfg, .replicas = cfg->min_replicas, .last_active_s = now_s};
}

static unsigned clamp(const struct edw_scaler_config *c, uint64_t v)
{
    unsigned lo = c->min_replicas > 0 ? c->min_replicas : 1;
    if (v < lo)
        return lo;
    return v > c->max_replicas ? c->max_replicas : (unsigned)v;
}

static void remember(struct edw_scaler *s, double now_s, unsigned desired)
{
    size_t i = (s->hist_head + s->hist_n) % EDW_SCALER_HISTORY;
    if (s->hist_n == EDW_SCALER_HISTORY) {
        s->hist_head = (s->hist_head + 1) % EDW_SCALER_HISTORY;
        i = (s->hist_head + s->hist_n - 1) % EDW_SCALER_HISTORY;
    } else {
        s->hist_n++;
    }
    s->hist_t[i] = now_s;
    s->hist_v[i] = desired;
}

/* The highest recommendation inside the stabilisation window (HPA scale-down rule). */
static unsigned window_max(struct edw_scaler *s, double now_s)
{
    while (s->hist_n && s->hist_t[s->hist_head] < now_s - s->cfg.stabilization_s) {
        s->hist_head = (s->hist_head + 1) % EDW_SCALER_HISTORY;
        s->hist_n--;
    }
    unsigned best = 0;
    for (size_t k = 0; k < s->hist_n; k++) {
        unsigned v = s->hist_v[(s->hist_head + k) % EDW_SCALER_HISTORY];
        best = v > best ? v : best;
    }
    return best;
}

unsigned edw_scaler_decide(struct edw_scaler *s, double now_s, uint64_t depth)
{
    const struct edw_scaler_config *c = &s->cfg;
    bool active = depth > c->activation_queue_length;
    if (active) {
        s->last_active_s = now_s;
        s->ever_active = true;
    }
    if (!active) {
        /* KEDA: below the activation threshold the HPA is not consulted; after the cooldown
         * the workload goes to minReplicaCount. Until then it keeps what it has. */
        if (s->replicas > c->min_replicas && now_s - s->last_active_s >= c->cooldown_s) {
            s->replicas = c->min_replicas;
            s->hist_n = 0;
        }
        return s->replicas;
    }
    uint64_t want = (depth + c->queue_length - 1) / c->queue_length;
    unsigned desired = clamp(c, want);
    remember(s, now_s, desired);
    if (desired >= s->replicas) {
        s->replicas = desired; /* scale up (or stay) at once */
    } else {
        unsigned stable = window_max(s, now_s);
        s->replicas = stable < s->replicas ? clamp(c, stable) : s->replicas;
    }
    return s->replicas;
}
