/* SPDX-License-Identifier: Apache-2.0 */
/* Request/response bookkeeping shared by every transport (and the test fakes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edw/alloc.h"
#include "edw/http.h"

void edw_http_request_init(struct edw_http_request *r, const char *method, const char *url)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->method, sizeof(r->method), "%s", method);
    r->url = edw_xstrdup(url);
}

void edw_http_request_cleanup(struct edw_http_request *r)
{
    if (!r)
        return;
    free(r->url);
    edw_http_headers_cleanup(&r->headers);
    memset(r, 0, sizeof(*r));
}

void edw_http_response_init(struct edw_http_response *r)
{
    memset(r, 0, sizeof(*r));
    edw_buf_init(&r->body, 64u << 20);
}

void edw_http_response_cleanup(struct edw_http_response *r)
{
    if (!r)
        return;
    edw_http_headers_cleanup(&r->headers);
    edw_buf_cleanup(&r->body);
    r->status = 0;
    r->transport_err = EDW_OK;
    r->error[0] = '\0';
}

void edw_http_headers_add(struct edw_http_headers *h, const char *name, const char *value)
{
    h->items = edw_xgrow(h->items, &h->cap, h->n + 1, sizeof(*h->items));
    h->items[h->n].name = edw_xstrdup(name);
    h->items[h->n].value = edw_xstrdup(value);
    h->n++;
}

void edw_http_headers_add_n(struct edw_http_headers *h, const char *name, size_t name_len,
                            const char *value, size_t value_len)
{
    h->items = edw_xgrow(h->items, &h->cap, h->n + 1, sizeof(*h->items));
    h->items[h->n].name = edw_xstrndup(name, name_len);
    h->items[h->n].value = edw_xstrndup(value, value_len);
    h->n++;
}

void edw_http_headers_set(struct edw_http_headers *h, const char *name, const char *value)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcasecmp(h->items[i].name, name) == 0) {
            free(h->items[i].value);
            h->items[i].value = edw_xstrdup(value);
            return;
        }
    }
    edw_http_headers_add(h, name, value);
}

const char *edw_http_headers_get(const struct edw_http_headers *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->items[i].name, name) == 0)
            return h->items[i].value;
    return NULL;
}

void edw_http_headers_cleanup(struct edw_http_headers *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++) {
        free(h->items[i].name);
        free(h->items[i].value);
    }
    free(h->items);
    memset(h, 0, sizeof(*h));
}

void edw_http_transport_destroy(struct edw_http_transport *t)
{
    if (!t)
        return;
    t->ops->destroy(t->state);
    free(t);
}
