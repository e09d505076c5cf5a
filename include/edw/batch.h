/* SPDX-License-Identifier: Apache-2.0 */
/* How many messages one send or receive call handles: `--batch auto` (the default) asks the
 * backend, an explicit `--batch N` wins but must fit the backend.
 *
 * Why per backend: the cost that a batch spreads differs by orders of magnitude. On SQLite a
 * call is one write transaction of a database file shared by every process (the write lock
 * passes between them, the WAL is appended to, and whoever did not write last re-reads pages),
 * so claiming 256 messages per transaction instead of 32 nearly doubles the end-to-end rate.
 * On Azure Queue one receive returns at most 32 messages and every delete is its own request;
 * on SQS one request carries at most 10: their preferred batch is the largest that keeps a
 * few requests in flight without leasing far ahead of what the consumer can work on.
 *
 * All functions are pure (no I/O, no globals): thread-safe, tested in test_batch.c. */
#ifndef EDW_BATCH_H
#define EDW_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "edw/err.h"

struct edw_queue_ops;

/* `--batch auto` as stored in struct edw_config (the table's keyword for 0). */
#define EDW_BATCH_AUTO 0
/* The preferred batch of a backend that states none (the default before `auto` existed). */
#define EDW_BATCH_FALLBACK 32
/* With a blocking handler (work:MS, exec:CMD) and `auto`, lease at most this many messages
 * per receive, or `--concurrency` if that is larger. A message leased but waiting for a
 * handler slot is a message another replica (that KEDA started for exactly this backlog)
 * cannot take, and its lease has to be renewed while it waits; one handler round ahead (at
 * least the old default of 32) keeps the handlers busy without hoarding. */
#define EDW_BATCH_BLOCKING_MAX 32

/* Messages per send call for `requested` (EDW_BATCH_AUTO or an explicit count). */
size_t edw_batch_send(const struct edw_queue_ops *ops, long long requested);

/* Messages per receive call for `requested`. With `auto` and a `blocking` handler the lease
 * ahead is capped (see EDW_BATCH_BLOCKING_MAX); `concurrency` is the handler slots. */
size_t edw_batch_receive(const struct edw_queue_ops *ops, long long requested, bool blocking,
                         size_t concurrency);

/* Check an explicit `requested` batch against what backend `ops` takes in one call, for the
 * calls a command makes (`send`, `receive`). EDW_OK for `auto`. Otherwise EDW_ERR_INVALID
 * with a one-line reason in `why` (e.g. "--batch 500 is more than the aws backend receives in
 * one call (100)"). */
EDW_NODISCARD enum edw_err edw_batch_check(const struct edw_queue_ops *ops, long long requested,
                                           bool send, bool receive, char *why, size_t why_size);

#endif
