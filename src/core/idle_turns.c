/* SPDX-License-Identifier: Apache-2.0 */
/* Two atomics: the pipeline that has the turn (0: nobody) and the news count. */
#include "edw/idle_turns.h"

#include <stdatomic.h>

static atomic_uintptr_t g_poller;
static atomic_uint_fast64_t g_news;

bool edw_idle_turns_take(uintptr_t who)
{
    uintptr_t nobody = 0;
    return atomic_compare_exchange_strong(&g_poller, &nobody, who) || nobody == who;
}

void edw_idle_turns_give(uintptr_t who)
{
    uintptr_t mine = who;
    if (atomic_compare_exchange_strong(&g_poller, &mine, 0))
        atomic_fetch_add(&g_news, 1);
}

uint64_t edw_idle_turns_news(void)
{
    return atomic_load(&g_news);
}
