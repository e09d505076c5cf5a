/* SPDX-License-Identifier: Apache-2.0 */
#include "demo.h"

double edw_demo_profile_rate(void *ctx, double elapsed_s)
{
    const struct edw_demo_profile *p = ctx;
    if (elapsed_s < p->ramp_s)
        return p->peak_rate * (0.1 + 0.4 * elapsed_s / p->ramp_s);
    return p->peak_rate;
}

const char *edw_demo_profile_phase(const struct edw_demo_profile *p, double elapsed_s,
                                   bool producing)
{
    if (!producing)
        return "pause: draining, then cooldown to zero";
    return elapsed_s < p->ramp_s ? "ramp up" : "burst";
}
