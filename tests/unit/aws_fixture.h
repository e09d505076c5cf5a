/* SPDX-License-Identifier: Apache-2.0 */
/* Shared set-up for the AWS unit tests: a configuration pointing at a fake endpoint, a fake
 * clock at 2026-11-27 18:00:00 UTC, the scripted transport, and helpers to read what was
 * sent. Included by test_aws_*.c only. */
#ifndef EDW_AWS_FIXTURE_H
#define EDW_AWS_FIXTURE_H

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"
#include "edw/config.h"
#include "edw/queue.h"
#include "fake_clock.h"
#include "fake_http.h"

#define FIXTURE_T0 1795802400LL /* 2026-11-27 18:00:00 UTC */

struct aws_fixture {
    struct edw_config cfg;
    struct fake_clock clock;
    struct fake_http http;
    struct edw_backend_deps deps;
};

static inline void fixture_set(char **field, const char *value)
{
    free(*field);
    *field = value ? edw_xstrdup(value) : NULL;
}

static inline void fixture_init(struct aws_fixture *f)
{
    memset(f, 0, sizeof(*f));
    edw_config_init(&f->cfg);
    fixture_set(&f->cfg.aws_region, "us-east-1");
    fixture_set(&f->cfg.aws_endpoint_url, "http://127.0.0.1:4566/");
    fixture_set(&f->cfg.aws_access_key_id, "AKIDEXAMPLE");
    fixture_set(&f->cfg.aws_secret_access_key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    fixture_set(&f->cfg.queue_name, "jobs");
    fixture_set(&f->cfg.table_name, "results");
    fake_clock_init(&f->clock, FIXTURE_T0 * 1000000);
    fake_http_init(&f->http);
    f->deps.clock = &f->clock.clock;
    f->deps.http = &f->http.transport;
}

static inline void fixture_cleanup(struct aws_fixture *f)
{
    edw_config_cleanup(&f->cfg);
    fake_http_cleanup(&f->http);
}

/* The operation of recorded call `i` ("ReceiveMessage"), from X-Amz-Target. */
static inline const char *fixture_op(const struct fake_http *h, size_t i)
{
    const char *t = fake_http_header(h, i, "X-Amz-Target");
    const char *dot = t ? strchr(t, '.') : NULL;
    return dot ? dot + 1 : "";
}

/* The JSON body of recorded call `i` (caller decrefs). */
static inline json_t *fixture_body(const struct fake_http *h, size_t i)
{
    return json_loads(h->calls[i].body, 0, NULL);
}

/* The operation of a call being answered (for handlers). */
static inline const char *fixture_call_op(const struct fake_http_call *c)
{
    const char *t = edw_http_headers_get(&c->headers, "X-Amz-Target");
    const char *dot = t ? strchr(t, '.') : NULL;
    return dot ? dot + 1 : "";
}

/* Reply with a JSON object (stolen). */
static inline void fixture_reply_json(struct edw_http_response *resp, long status, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    fake_http_reply(resp, status, text);
    free(text);
    json_decref(j);
}

/* An AWS JSON-protocol error reply. */
static inline void fixture_reply_error(struct edw_http_response *resp, long status,
                                       const char *type, const char *message)
{
    fixture_reply_json(resp, status, json_pack("{s:s, s:s}", "__type", type, "message", message));
}

#endif
