/* SPDX-License-Identifier: Apache-2.0 */
/* Workload identity: the projected service-account token (re-read on every exchange: the
 * kubelet rotates it) is the client assertion of an OAuth client-credentials request to
 * Microsoft Entra ID, which answers with a storage access token. One attempt per get: the
 * cache decides when to try again. */
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"
#include "edw/clock.h"
#include "edw/shutdown.h"
#include "edw/token.h"
#include "edw/urlencode.h"
#include "token_internal.h"

#define EXCHANGE_TIMEOUT_MS 10000

struct entra_wi {
    char *client_id;
    char *token_file;
    char *url;
    char *scope;
    struct edw_http_transport *http;
    bool owns_http;
};

static void entra_wi_destroy(void *state)
{
    struct entra_wi *w = state;
    free(w->client_id);
    free(w->token_file);
    free(w->url);
    free(w->scope);
    if (w->owns_http)
        edw_http_transport_destroy(w->http);
    free(w);
}

enum edw_err edw_token_fetch(struct edw_http_transport *http, struct edw_http_request *req,
                             int64_t now_us, const char *who, struct edw_token *out,
                             struct edw_error *err)
{
    struct edw_http_response resp;
    edw_http_response_init(&resp);
    resp.body.max = 1u << 20;
    /* During a shutdown the exchange, like every backend request, ends with the grace. */
    req->timeout_ms = edw_shutdown_timeout_ms(edw_clock_mono_us(edw_clock_system()),
                                              EXCHANGE_TIMEOUT_MS, EXCHANGE_TIMEOUT_MS);
    struct edw_http_response *rs = &resp;
    enum edw_err rc = edw_http_perform(http, &req, &rs, 1);
    if (rc)
        edw_error_set(err, rc, "%s: the HTTP transport is unusable", who);
    else if (resp.status == 0)
        rc = edw_error_set(err, resp.transport_err ? resp.transport_err : EDW_ERR_TRANSIENT,
                           "%s: no reply (%s)", who, resp.error[0] ? resp.error : "no response");
    else
        rc = edw_entra_token_parse(resp.status, edw_buf_cstr(&resp.body), resp.body.len, now_us,
                                   who, out, err);
    if (resp.body.ptr)
        explicit_bzero(resp.body.ptr, resp.body.len);
    edw_http_response_cleanup(&resp);
    return rc;
}

static enum edw_err entra_wi_get(void *state, int64_t now_us, struct edw_token *out,
                                 struct edw_error *err)
{
    struct entra_wi *w = state;
    char *assertion = NULL;
    enum edw_err rc =
        edw_read_token_file(w->token_file, EDW_MAX_FEDERATED_TOKEN_BYTES, &assertion, err);
    if (rc)
        return rc;
    struct edw_buf body;
    edw_buf_init(&body, 4 * EDW_MAX_FEDERATED_TOKEN_BYTES + 4096);
    rc = edw_buf_append_str(&body, "grant_type=client_credentials&client_assertion_type="
                                   "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3A"
                                   "jwt-bearer&client_id=");
    if (!rc)
        rc = edw_url_encode(&body, w->client_id, strlen(w->client_id), NULL);
    if (!rc)
        rc = edw_buf_append_str(&body, "&scope=");
    if (!rc)
        rc = edw_url_encode(&body, w->scope, strlen(w->scope), NULL);
    if (!rc)
        rc = edw_buf_append_str(&body, "&client_assertion=");
    if (!rc)
        rc = edw_url_encode(&body, assertion, strlen(assertion), NULL);
    explicit_bzero(assertion, strlen(assertion));
    free(assertion);
    if (rc) {
        edw_buf_cleanup(&body);
        return edw_error_set(err, EDW_ERR_AUTH, "workload identity: the request is too large");
    }
    struct edw_http_request req;
    edw_http_request_init(&req, "POST", w->url);
    edw_http_headers_add(&req.headers, "Content-Type", "application/x-www-form-urlencoded");
    edw_http_headers_add(&req.headers, "Accept", "application/json");
    req.body = body.ptr;
    req.body_len = body.len;
    rc = edw_token_fetch(w->http, &req, now_us, "workload identity token endpoint", out, err);
    edw_http_request_cleanup(&req);
    explicit_bzero(body.ptr, body.len);
    edw_buf_cleanup(&body);
    return rc;
}

static const struct edw_token_source_ops s_entra_wi_ops = {
    .kind = "workload-identity",
    .get = entra_wi_get,
    .invalidate = NULL,
    .destroy = entra_wi_destroy,
};

enum edw_err edw_token_entra_wi_new(const struct edw_entra_wi_options *o,
                                    struct edw_token_source **out, struct edw_error *err)
{
    *out = NULL;
    const char *missing = !o->client_id || !*o->client_id     ? "AZURE_CLIENT_ID"
                          : !o->tenant_id || !*o->tenant_id   ? "AZURE_TENANT_ID"
                          : !o->token_file || !*o->token_file ? "AZURE_FEDERATED_TOKEN_FILE"
                                                              : NULL;
    if (missing) {
        if (o->owns_http)
            edw_http_transport_destroy(o->http);
        return edw_error_set(err, EDW_ERR_INVALID, "workload identity needs %s", missing);
    }
    struct entra_wi *w = edw_xcalloc(1, sizeof(*w));
    w->client_id = edw_xstrdup(o->client_id);
    w->token_file = edw_xstrdup(o->token_file);
    w->url = edw_entra_token_url(o->authority_host, o->tenant_id);
    w->scope = edw_xstrdup(o->scope ? o->scope : EDW_STORAGE_SCOPE);
    w->http = o->http;
    w->owns_http = o->owns_http;
    *out = edw_token_source_new(&s_entra_wi_ops, w);
    return EDW_OK;
}
