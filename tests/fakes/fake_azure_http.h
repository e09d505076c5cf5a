/* SPDX-License-Identifier: Apache-2.0 */
/* A scripted HTTP transport for the Azure unit tests: replies are queued in order (optionally matched
 * by a substring of "METHOD url"), every request is recorded with its headers and body, and
 * nothing touches the network. Pair it with fake_clock so retries never sleep. */
#ifndef EDW_FAKE_AZURE_HTTP_H
#define EDW_FAKE_AZURE_HTTP_H

#include <stddef.h>

#include "edw/http.h"

/* Azurite's documented development account key (public, not a secret), and a connection
 * string for it whose endpoints only the fake transport answers. */
#define FAKE_AZURITE_KEY                                                                           \
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define FAKE_AZURE_CONN                                                                            \
    "AccountName=devstoreaccount1;AccountKey=" FAKE_AZURITE_KEY                                    \
    ";QueueEndpoint=http://fakeq/devstoreaccount1;TableEndpoint=http://faket/devstoreaccount1"

struct fake_azure_http_sent {
    char method[16];
    char *url;
    struct edw_http_headers headers;
    char *body;
    size_t body_len;
    size_t perform; /* which perform() call carried it, from 1 */
};

struct fake_azure_http_reply {
    char *match; /* NULL: any request */
    long status; /* 0: a transport failure */
    char *headers; /* "Name: value\n..." */
    char *body;
    int used;
};

/* Called for a request no scripted reply matches (when set). */
typedef void fake_azure_http_handler_fn(void *ctx, const struct edw_http_request *req,
                                  struct edw_http_response *resp);

struct fake_azure_http {
    struct edw_http_transport transport; /* pass &f.transport as deps.http */
    struct fake_azure_http_reply *replies;
    size_t nreplies, cap_replies;
    struct fake_azure_http_sent *sent;
    size_t nsent, cap_sent;
    size_t performs;  /* perform() calls */
    size_t max_batch; /* most requests in one perform() */
    fake_azure_http_handler_fn *handler;
    void *handler_ctx;
};

void fake_azure_http_init(struct fake_azure_http *f);
void fake_azure_http_cleanup(struct fake_azure_http *f);

/* Queue a reply for the next request containing `match` ("GET http://..."), or any request
 * when `match` is NULL. `headers` is "Name: value" lines separated by '\n' (may be NULL). */
void fake_azure_http_reply(struct fake_azure_http *f, const char *match, long status, const char *headers,
                     const char *body);

/* Queue a transport failure (no reply, EDW_ERR_TRANSIENT: connection reset). */
void fake_azure_http_drop(struct fake_azure_http *f, const char *match);

/* Scripted replies not consumed yet. */
size_t fake_azure_http_unused(const struct fake_azure_http *f);

/* Requests whose "METHOD url" contains `match`. */
size_t fake_azure_http_count(const struct fake_azure_http *f, const char *match);

#endif
