/* SPDX-License-Identifier: Apache-2.0 */
/* What the consumer does with each message: `record` (store it, the samples' behaviour),
 * `work:MS` (simulated work) or `exec:CMD` (run a command with the body on stdin). */
#ifndef EDW_HANDLER_H
#define EDW_HANDLER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "edw/err.h"
#include "edw/payload.h"

struct edw_handler_result {
    bool ok;
    char *data;         /* owned; NULL means "store the message text" */
    char error[256];    /* why it failed, when !ok */
};

struct edw_handler {
    const char *name;
    /* True when `run` blocks (sleeps, waits for a child): the worker then runs it on its
     * thread pool. False means it is cheap and runs inline. */
    bool blocking;
    /* Process one message. Must be thread-safe when `blocking`. Should return soon after
     * `*cancel` becomes true (shutdown grace expired); the result is then discarded. */
    void (*run)(const struct edw_handler *h, const struct edw_payload *p, const char *body,
                size_t body_len, const atomic_bool *cancel, struct edw_handler_result *out);
    void (*destroy)(struct edw_handler *h);
    void *state;
};

/* Build the handler described by `spec` ("record", "work:MS", "exec:CMD"). Caller owns the
 * result; release with edw_handler_destroy. EDW_ERR_INVALID with a message in `err`. */
EDW_NODISCARD enum edw_err edw_handler_new(const char *spec, struct edw_handler **out,
                                           struct edw_error *err);
void edw_handler_destroy(struct edw_handler *h);

void edw_handler_result_cleanup(struct edw_handler_result *r);

/* Constructors used by edw_handler_new. */
struct edw_handler *edw_handler_record_new(void);
struct edw_handler *edw_handler_work_new(unsigned work_ms);
struct edw_handler *edw_handler_exec_new(const char *command);

#endif
