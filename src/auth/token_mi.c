/* SPDX-License-Identifier: Apache-2.0 */
/* Managed identity: the instance metadata service (VMs, VM scale sets, AKS node identity)
 * or the IDENTITY_ENDPOINT service (App Service, Functions, Container Apps). One attempt per
 * get; the cache backs off. IMDS is plain HTTP on a link-local address by design. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"
#include "edw/token.h"
#include "edw/urlencode.h"
#include "token_internal.h"

struct managed_identity {
    char *url;    /* with the query */
    char *header; /* IDENTITY_HEADER (secret) or NULL for IMDS */
    struct edw_http_transport *http;
    bool owns_http;
};

static void mi_destroy(void *state)
{
    struct managed_identity *m = state;
    free(m->url);
    if (m->header) {
        explicit_bzero(m->header, strlen(m->header));
        free(m->header);
    }
    if (m->owns_http)
        edw_http_transport_destroy(m->http);
    free(m);
}

static enum edw_err mi_get(void *state, int64_t now_us, struct edw_token *out,
                           struct edw_error *err)
{
    struct managed_identity *m = state;
    struct edw_http_request req;
    edw_http_request_init(&req, "GET", m->url);
    if (m->header)
        edw_http_headers_add(&req.headers, "X-IDENTITY-HEADER", m->header);
    else
        edw_http_headers_add(&req.headers, "Metadata", "true");
    edw_http_headers_add(&req.headers, "Accept", "application/json");
    req.no_proxy = true; /* IMDS is link-local and the identity endpoint local: never proxied */
    enum edw_err rc = edw_token_fetch(
        m->http, &req, now_us,
        m->header ? "managed identity (IDENTITY_ENDPOINT)" : "managed identity (IMDS)", out, err);
    edw_http_request_cleanup(&req);
    if (rc && err && (err->http_status == 400 || err->http_status == 404) && !m->header)
        snprintf(err->message + strlen(err->message), sizeof(err->message) - strlen(err->message),
                 " (is a managed identity assigned to this VM or node pool?)");
    return rc;
}

static const struct edw_token_source_ops s_mi_ops = {
    .kind = "managed-identity",
    .get = mi_get,
    .invalidate = NULL,
    .destroy = mi_destroy,
};

enum edw_err edw_token_managed_identity_new(const struct edw_managed_identity_options *o,
                                            struct edw_token_source **out, struct edw_error *err)
{
    *out = NULL;
    bool service = o->identity_endpoint && *o->identity_endpoint;
    if (service && (!o->identity_header || !*o->identity_header)) {
        if (o->owns_http)
            edw_http_transport_destroy(o->http);
        return edw_error_set(err, EDW_ERR_INVALID,
                             "IDENTITY_ENDPOINT is set but IDENTITY_HEADER is not");
    }
    struct edw_buf q;
    edw_buf_init(&q, 8192);
    enum edw_err rc = edw_buf_append_str(&q, service       ? o->identity_endpoint
                                             : o->imds_url ? o->imds_url
                                                           : EDW_IMDS_TOKEN_URL);
    if (!rc)
        rc = edw_buf_append_str(&q, strchr(edw_buf_cstr(&q), '?') ? "&" : "?");
    if (!rc)
        rc = edw_buf_append_str(&q, service ? "api-version=2019-08-01&resource="
                                            : "api-version=2018-02-01&resource=");
    const char *resource = o->resource ? o->resource : EDW_STORAGE_RESOURCE;
    if (!rc)
        rc = edw_url_encode(&q, resource, strlen(resource), NULL);
    if (!rc && o->client_id && *o->client_id) {
        rc = edw_buf_append_str(&q, "&client_id=");
        if (!rc)
            rc = edw_url_encode(&q, o->client_id, strlen(o->client_id), NULL);
    }
    if (rc) {
        edw_buf_cleanup(&q);
        if (o->owns_http)
            edw_http_transport_destroy(o->http);
        return edw_error_set(err, EDW_ERR_INVALID, "managed identity: the URL is too long");
    }
    struct managed_identity *m = edw_xcalloc(1, sizeof(*m));
    m->url = edw_buf_steal(&q);
    m->header = service ? edw_xstrdup(o->identity_header) : NULL;
    m->http = o->http;
    m->owns_http = o->owns_http;
    *out = edw_token_source_new(&s_mi_ops, m);
    return EDW_OK;
}
