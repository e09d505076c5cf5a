/* SPDX-License-Identifier: Apache-2.0 */
#include "edw/clock.h"

#include <time.h>

static int64_t read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_us(void *ctx)
{
    (void)ctx;
    return read_clock(CLOCK_REALTIME);
}

static int64_t mono_us(void *ctx)
{
    (void)ctx;
    return read_clock(CLOCK_MONOTONIC);
}

/* One nanosleep: a signal (SIGTERM) ends it early, which is what shutdown wants. */
static void sleep_us(void *ctx, int64_t us)
{
    (void)ctx;
    if (us <= 0)
        return;
    struct timespec ts = {.tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static const struct edw_clock s_system = {wall_us, mono_us, sleep_us, NULL};

const struct edw_clock *edw_clock_system(void)
{
    return &s_system;
}
