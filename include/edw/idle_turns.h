/* SPDX-License-Identifier: Apache-2.0 */
/* One pipeline of a process at a time polls a queue that looks empty. With several pipelines
 * (two by default on Azure and AWS), each backing off from 1 ms on its own would multiply the
 * receives an idle consumer sends: requests the service bills and answers with nothing. The
 * first pipeline to find the queue empty takes the turn and polls with the usual backoff; the
 * others nap until it finds messages or leaves (the news count moves), then all receive again.
 * A pipeline is named by any non-zero value unique to it (the worker uses its own address).
 * All functions are thread-safe and lock-free. */
#ifndef EDW_IDLE_TURNS_H
#define EDW_IDLE_TURNS_H

#include <stdbool.h>
#include <stdint.h>

/* Pipeline `who` found the queue empty: true when it has the turn to poll (it took it now,
 * or had it), false when another pipeline has it (then nap: edw_idle_turns_news). */
bool edw_idle_turns_take(uintptr_t who);

/* Pipeline `who` received messages, or stops: if it had the turn it gives it back and the
 * news count moves, so napping pipelines receive again. */
void edw_idle_turns_give(uintptr_t who);

/* How many times a turn was given back so far: a napping pipeline waits for it to move. */
uint64_t edw_idle_turns_news(void);

#endif
