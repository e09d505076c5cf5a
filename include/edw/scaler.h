/* SPDX-License-Identifier: Apache-2.0 */
/* The scaling decision of KEDA + the Horizontal Pod Autoscaler for a queue trigger, as a pure
 * function of time and observed depth, so the demo behaves like a cluster and tests can check
 * the semantics without one:
 *   - active when depth > activation queue length; 0 -> 1 happens only when active;
 *   - while active: desired = ceil(depth / queue length), clamped to [max(min, 1), max];
 *   - inactive: keep the replicas until `cooldown` has passed since the last active poll,
 *     then go to min (usually 0) (KEDA's cooldownPeriod);
 *   - scale-up applies at once; scale-down takes the highest desired value seen during the
 *     stabilisation window (HPA's behavior.scaleDown.stabilizationWindowSeconds). */
#ifndef EDW_SCALER_H
#define EDW_SCALER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct edw_scaler_config {
    unsigned min_replicas;
    unsigned max_replicas;
    uint64_t queue_length;            /* target messages per replica (> 0) */
    uint64_t activation_queue_length; /* depth must exceed this to activate */
    double cooldown_s;
    double stabilization_s;
};

#define EDW_SCALER_HISTORY 512

struct edw_scaler {
    struct edw_scaler_config cfg;
    unsigned replicas;      /* the current decision */
    double last_active_s;   /* last poll that saw depth above the activation threshold */
    bool ever_active;
    /* recent desired values for the scale-down window */
    double hist_t[EDW_SCALER_HISTORY];
    unsigned hist_v[EDW_SCALER_HISTORY];
    size_t hist_n, hist_head;
};

/* Start at `cfg.min_replicas` replicas at time `now_s`. */
void edw_scaler_init(struct edw_scaler *s, const struct edw_scaler_config *cfg, double now_s);

/* Feed one poll (time in seconds, any monotonic origin) and return the replica count to run. */
unsigned edw_scaler_decide(struct edw_scaler *s, double now_s, uint64_t depth);

#endif
