/* SPDX-License-Identifier: Apache-2.0 */
/* Pure pieces of the SQS backend (no I/O): response parsing, the poison envelope, queue URL
 * and redrive-policy parsing. Unit-tested and fuzzable. Private to src/backends. */
#ifndef EDW_AWS_SQS_PARSE_H
#define EDW_AWS_SQS_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edw/queue.h"

/* The last path segment of a queue URL ("https://.../123456789012/jobs" -> "jobs"); NULL when
 * there is none. Caller frees. */
char *edw_sqs_queue_name_from_url(const char *url);

/* The dead-letter queue's name from a RedrivePolicy attribute (JSON text whose
 * deadLetterTargetArn is "arn:aws:sqs:region:account:name"); NULL when absent. Caller frees. */
char *edw_sqs_redrive_target(const char *policy_json);

/* A ReceiveMessage response's messages appended to `out` (id, receipt, body, receive count,
 * sent time, and the reason of poison copies). A message whose MD5OfBody does not match its
 * body is left out (it comes back after its visibility timeout); returns how many were. */
size_t edw_sqs_parse_messages(const json_t *resp, struct edw_msg_batch *out);

/* Batch responses: the Successful entry with `id` (NULL if none)... */
const json_t *edw_sqs_batch_ok(const json_t *resp, const char *id);

/* ...or its Failed entry (strings borrowed from `resp`). */
struct edw_sqs_batch_failure {
    const char *code;
    const char *message;
    bool sender_fault;
};
bool edw_sqs_batch_failed(const json_t *resp, const char *id, struct edw_sqs_batch_failure *f);

/* A queue attribute (SQS sends numbers as strings); 0 when absent or malformed. */
uint64_t edw_sqs_attr_u64(const json_t *attrs, const char *name);

/* The SendMessage request that quarantines `m`: a JSON envelope
 *   {"reason", "receiveCount", "messageId", "sourceQueue", "poisonedAt", "body"}
 * or, when that would exceed `max_body` bytes, the original body unchanged with the same facts
 * as message attributes (edw-reason, edw-receive-count, edw-message-id, edw-source-queue). */
json_t *edw_sqs_poison_message(const char *poison_url, const struct edw_msg *m,
                               const char *queue, const char *reason, const char *stamp,
                               size_t max_body);

/* If `m` is an envelope made by edw_sqs_poison_message, replace its body, id and receive count
 * with the original ones and set its reason. Otherwise leave it alone. */
void edw_sqs_unwrap_poison(struct edw_msg *m);

/* Drop messages from index `first` on whose id appeared earlier in the batch. */
void edw_sqs_dedupe(struct edw_msg_batch *b, size_t first);

#endif
