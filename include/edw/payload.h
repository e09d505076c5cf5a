/* SPDX-License-Identifier: Apache-2.0 */
/* The message envelope: {"msg": "...", "srcStamp": "%Y-%m-%d %H:%M:%S.%f", "id": "..."}.
 * Parsing is pure (no I/O) so it can be unit-tested and fuzzed. */
#ifndef EDW_PAYLOAD_H
#define EDW_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "edw/buf.h"
#include "edw/err.h"

/* Longest `id` we accept: it becomes a table key on every backend. */
#define EDW_PAYLOAD_MAX_ID 200

struct edw_payload {
    char *msg;          /* owned */
    char *src_stamp;    /* owned, as received */
    char *id;           /* owned; NULL when the producer sent none */
    int64_t src_us;     /* src_stamp as Unix microseconds */
};

/* Parse `body` (exactly `len` bytes). On failure returns EDW_ERR_INVALID and writes the
 * reason (suitable for the poison record) into `reason`. Caller owns `out` on success;
 * release with edw_payload_cleanup (also safe after a failure). */
EDW_NODISCARD enum edw_err edw_payload_parse(const char *body, size_t len, size_t max_bytes,
                                             struct edw_payload *out, char *reason,
                                             size_t reason_size);
void edw_payload_cleanup(struct edw_payload *p);

/* Build a producer body for (`run`, `seq`) at `now_us`. Caller owns the result. */
EDW_NODISCARD enum edw_err edw_payload_format(const char *run, uint64_t seq, int64_t now_us,
                                              size_t pad_to, struct edw_buf *out);

#endif
