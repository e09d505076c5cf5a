/* SPDX-License-Identifier: Apache-2.0 */
/* A scripted HTTP transport for unit tests of the network backends. It records every request
 * it is given (method, URL, headers, body) and answers from a FIFO of scripted responses, or,
 * when the script is empty, from a handler function (so a test can play a small service).
 * Requests of one perform() call are answered in order; perform() never blocks. */
#ifndef EDW_FAKE_HTTP_H
#define EDW_FAKE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "edw/http.h"

struct fake_http_call {
    char method[16];
    char *url;
    struct edw_http_headers headers;
    char *body; /* NUL-terminated copy */
    size_t body_len;
    long timeout_ms;
    bool no_proxy;
    size_t perform; /* which perform() call carried it, from 0 */
};

/* Fill `resp` for `req`; the transport has initialised `resp` (status 0). */
typedef void fake_http_fn(void *ctx, const struct fake_http_call *req,
                          struct edw_http_response *resp);

struct fake_http_scripted {
    long status;
    char *body;
    struct edw_http_headers headers;
    enum edw_err transport_err; /* EDW_OK, or a connection failure (status stays 0) */
};

struct fake_http {
    struct edw_http_transport transport; /* pass &f.transport where a transport is needed */
    struct fake_http_call *calls;
    size_t ncalls, cap;
    size_t performs;  /* perform() calls so far */
    size_t max_batch; /* most requests in one perform() */
    struct fake_http_scripted *script;
    size_t nscript, next, script_cap;
    fake_http_fn *fn;
    void *ctx;
};

void fake_http_init(struct fake_http *f);
void fake_http_cleanup(struct fake_http *f);

/* Queue a response (body may be NULL); returns it so headers can be added (the pointer is
 * valid until the next push). */
struct fake_http_scripted *fake_http_push(struct fake_http *f, long status, const char *body);
/* Queue a connection failure (EDW_ERR_TRANSIENT, no status). */
void fake_http_push_failure(struct fake_http *f);
/* Answer with `fn` once the script is used up (NULL: 599 "no scripted response"). */
void fake_http_set_handler(struct fake_http *f, fake_http_fn *fn, void *ctx);

/* Convenience for handlers: set status and body. */
void fake_http_reply(struct edw_http_response *resp, long status, const char *body);

/* The value of header `name` in recorded call `i` (NULL when absent). */
const char *fake_http_header(const struct fake_http *f, size_t i, const char *name);

#endif
