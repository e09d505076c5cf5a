/* SPDX-License-Identifier: Apache-2.0 */
/* Injected time: production uses the system clocks, tests a fake that never sleeps. */
#ifndef EDW_CLOCK_H
#define EDW_CLOCK_H

#include <stdint.h>

struct edw_clock {
    int64_t (*wall_us)(void *ctx);           /* Unix time in microseconds */
    int64_t (*mono_us)(void *ctx);           /* monotonic, for deadlines and durations */
    void (*sleep_us)(void *ctx, int64_t us); /* may return early on a signal */
    void *ctx;
};

/* The process-wide system clock. Thread-safe; never NULL. */
const struct edw_clock *edw_clock_system(void);

static inline int64_t edw_clock_wall_us(const struct edw_clock *c)
{
    return c->wall_us(c->ctx);
}

static inline int64_t edw_clock_mono_us(const struct edw_clock *c)
{
    return c->mono_us(c->ctx);
}

static inline void edw_clock_sleep_us(const struct edw_clock *c, int64_t us)
{
    c->sleep_us(c->ctx, us);
}

#endif
