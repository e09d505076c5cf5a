/* SPDX-License-Identifier: Apache-2.0 */
/* What the SQS and DynamoDB backends share (private to src/backends): endpoint resolution,
 * the AWS JSON 1.0 protocol (POST / with X-Amz-Target, SigV4-signed), error mapping onto
 * enum edw_err, and concurrent calls with retry, backoff and jitter (re-signed on every
 * attempt). One client per backend instance; not thread-safe (instances are). */
#ifndef EDW_AWS_COMMON_H
#define EDW_AWS_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edw/aws_credentials.h"
#include "edw/clock.h"
#include "edw/config.h"
#include "edw/err.h"
#include "edw/http.h"
#include "edw/metrics.h"
#include "edw/queue.h"
#include "edw/retry.h"

struct edw_aws_client {
    const char *service;       /* SigV4 signing name: "sqs", "dynamodb" */
    const char *label;         /* for messages: "SQS", "DynamoDB" */
    const char *target_prefix; /* "AmazonSQS.", "DynamoDB_20120810." */
    char *region;
    char *url; /* endpoint, ending in "/" */
    struct edw_http_transport *http;
    bool own_http;
    const struct edw_clock *clock;
    struct edw_aws_cred_provider *creds;
    struct edw_retry_policy retry; /* see edw_aws_client_init */
    uint64_t rng;                  /* jitter state (edw_retry_rand) */
    uint64_t requests, retries; /* counters, for tests and benchmarks */
};

/* One JSON-protocol call. Fill `op` and `in`; after edw_aws_call_many read `rc`, `err` and
 * `out`. Release with edw_aws_call_cleanup. */
struct edw_aws_call {
    const char *op;  /* "ReceiveMessage" (prefixed with the client's target) */
    json_t *in;      /* request object; owned (freed by cleanup) */
    long timeout_ms; /* 0: transport default; long polls need more than their wait */
    enum edw_err rc;
    struct edw_error err;
    json_t *out; /* parsed response when rc == EDW_OK; owned */
    char *text;  /* serialised `in`, kept across attempts */
};

void edw_aws_call_cleanup(struct edw_aws_call *c);

/* Resolve the endpoint, make the credential provider and (when deps->http is NULL) a libcurl
 * transport. No network I/O. `service` is "sqs" or "dynamodb". */
EDW_NODISCARD enum edw_err edw_aws_client_init(struct edw_aws_client *c,
                                               const struct edw_config *cfg,
                                               const struct edw_backend_deps *deps,
                                               const char *service, struct edw_error *err);
void edw_aws_client_cleanup(struct edw_aws_client *c);

/* Perform `n` calls concurrently. Calls that fail with a retryable error (5xx, throttling,
 * connection failures; an expired session token once after refreshing credentials) are
 * re-signed and retried together after a backoff (edw/retry.h), up to retry.max_attempts,
 * within the client's budget and, during a shutdown, before the deadline; a request's timeout
 * is capped to the time the shutdown leaves. Per-call results are in calls[i].rc; the return
 * value is the first non-OK of them (EDW_OK when all succeeded). */
EDW_NODISCARD enum edw_err edw_aws_call_many(struct edw_aws_client *c, struct edw_aws_call *calls,
                                             size_t n);

/* One call: takes ownership of `in`; on success `*out` is the response (caller decrefs). */
EDW_NODISCARD enum edw_err edw_aws_call_one(struct edw_aws_client *c, const char *op, json_t *in,
                                            long timeout_ms, json_t **out, struct edw_error *err);

/* The backend label of AWS metrics and logs (both ops tables are named so). */
#define EDW_AWS_BACKEND "aws"

/* For loops that retry part of a batch themselves (entries a batch call failed, items
 * DynamoDB left unprocessed): sleep the backoff for retry number `attempt` (0 = before the
 * second try) and return EDW_RETRY_GO, unless the retry would carry the operation, which
 * started at `start_us`, past the client's budget or the shutdown deadline: then return why
 * without sleeping (the loop gives up; the worker retries later or the process exits). */
EDW_NODISCARD enum edw_retry_verdict edw_aws_backoff(struct edw_aws_client *c, unsigned attempt,
                                                     bool throttled, int64_t start_us);

/* Count `n` retries of `action` (calls or batch entries) with the error that caused them:
 * the client's counter and edw_backend_retries_total. */
void edw_aws_note_retries(struct edw_aws_client *c, const char *action, size_t n,
                          enum edw_err reason);

/* ---- pure helpers (unit-tested) ---- */

/* "<scheme>://host[:port]/" for `service` from AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL
 * or the region's public endpoint. Caller frees. EDW_ERR_INVALID without a region or with a
 * URL that is not http(s). */
EDW_NODISCARD enum edw_err edw_aws_endpoint(const struct edw_config *cfg, const char *service,
                                            char **url_out, struct edw_error *err);

/* The category of an AWS error code (`__type` after '#') and HTTP status. */
enum edw_err edw_aws_classify(long status, const char *code);

/* Turn an error response into its category, filling err->code, message and http_status. */
enum edw_err edw_aws_parse_error(long status, const struct edw_http_headers *headers,
                                 const char *body, size_t len, struct edw_error *err);

/* The metrics operation of an AWS action ("ReceiveMessage" -> EDW_OP_RECEIVE, ...). */
enum edw_op edw_aws_op_of(const char *action);

/* A response's Retry-After in milliseconds (delta-seconds form, at most an hour); 0 when
 * absent or given as an HTTP date. */
uint32_t edw_aws_retry_after_ms(const struct edw_http_headers *h);

/* JSON string helpers: NULL when `s` is not valid UTF-8. */
json_t *edw_aws_jstr(const char *s, size_t len);
/* Always a JSON string: bytes that are not valid UTF-8 become U+FFFD (for text we must not
 * lose, such as a poison reason quoting a handler's output). */
json_t *edw_aws_jstr_lossy(const char *s, size_t len);
/* A member's string value, or NULL. */
const char *edw_aws_jget(const json_t *obj, const char *key);

#endif
