/* SPDX-License-Identifier: Apache-2.0 */
/* The leases a process holds, as one view for all its pipelines. When a backend stops
 * answering for longer than a lease (seen on Azurite: no answer at all for 6 s, with 3 s
 * leases), a pipeline blocked in a call cannot renew, and its leases run out. The messages
 * are not taken by anyone until someone receives again: if that is a sibling pipeline of the
 * same process (or its own receive-ahead), the message is processed twice and the holder's ack
 * finds its lease lost. So a pipeline publishes when its earliest lease ends, and nobody in the
 * process receives while any published lease is over (or nearly): the holder renews first.
 * Times are on the monotonic clock the pipelines share. */
#ifndef EDW_LEASE_GUARD_H
#define EDW_LEASE_GUARD_H

#include <stdbool.h>
#include <stdint.h>

/* Take a place for one pipeline. Returns its id, or -1 when all places are taken (then its
 * leases are not seen by the others; the process still works, unguarded). Thread-safe. */
int edw_lease_guard_join(void);

/* Pipeline `id` holds no lease ending before `earliest_end_us` (INT64_MAX: none). Ignores
 * id -1. Thread-safe. */
void edw_lease_guard_publish(int id, int64_t earliest_end_us);

/* Give the place back (the pipeline ended). Ignores id -1. Thread-safe. */
void edw_lease_guard_leave(int id);

/* True when no pipeline of the process holds a lease ending before `until_us`: a receive
 * sent now cannot hand out a message this process still holds. Thread-safe, lock-free. */
bool edw_lease_guard_clear(int64_t until_us);

#endif
