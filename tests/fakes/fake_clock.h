/* SPDX-License-Identifier: Apache-2.0 */
/* A clock that only moves when told to: sleeping advances it, so tests never wait. */
#ifndef EDW_FAKE_CLOCK_H
#define EDW_FAKE_CLOCK_H

#include <stdint.h>

#include "edw/clock.h"

struct fake_clock {
    struct edw_clock clock; /* pass &fc.clock wherever a clock is needed */
    int64_t wall_us;
    int64_t mono_us;
    int64_t slept_us; /* total asked for by sleep_us */
};

void fake_clock_init(struct fake_clock *fc, int64_t wall_us);
void fake_clock_advance(struct fake_clock *fc, int64_t us);

#endif
