/* SPDX-License-Identifier: Apache-2.0 */
#include "fake_clock.h"

static int64_t wall(void *ctx)
{
    return ((struct fake_clock *)ctx)->wall_us;
}

static int64_t mono(void *ctx)
{
    return ((struct fake_clock *)ctx)->mono_us;
}

static void sleep_us(void *ctx, int64_t us)
{
    struct fake_clock *fc = ctx;
    fc->slept_us += us;
    fake_clock_advance(fc, us);
}

void fake_clock_init(struct fake_clock *fc, int64_t wall_us)
{
    fc->clock = (struct edw_clock){wall, mono, sleep_us, fc};
    fc->wall_us = wall_us;
    fc->mono_us = 1000000;
    fc->slept_us = 0;
}

void fake_clock_advance(struct fake_clock *fc, int64_t us)
{
    fc->wall_us += us;
    fc->mono_us += us;
}
