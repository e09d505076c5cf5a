/* SPDX-License-Identifier: Apache-2.0 */
/* A fixed table of atomics: pipelines are few and long-lived, and the check runs before every
 * receive, so it must cost no lock. */
#include "edw/lease_guard.h"

#include <stdatomic.h>

#define GUARD_PLACES 64

static atomic_bool g_taken[GUARD_PLACES];
static _Atomic int64_t g_earliest[GUARD_PLACES];

int edw_lease_guard_join(void)
{
    for (int i = 0; i < GUARD_PLACES; i++) {
        bool free_place = false;
        if (atomic_compare_exchange_strong(&g_taken[i], &free_place, true)) {
            atomic_store(&g_earliest[i], INT64_MAX);
            return i;
        }
    }
    return -1;
}

void edw_lease_guard_publish(int id, int64_t earliest_end_us)
{
    if (id >= 0 && id < GUARD_PLACES)
        atomic_store(&g_earliest[id], earliest_end_us);
}

void edw_lease_guard_leave(int id)
{
    if (id < 0 || id >= GUARD_PLACES)
        return;
    atomic_store(&g_earliest[id], INT64_MAX);
    atomic_store(&g_taken[id], false);
}

bool edw_lease_guard_clear(int64_t until_us)
{
    for (int i = 0; i < GUARD_PLACES; i++)
        if (atomic_load(&g_taken[i]) && atomic_load(&g_earliest[i]) < until_us)
            return false;
    return true;
}
