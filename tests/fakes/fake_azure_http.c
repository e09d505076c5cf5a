/* SPDX-License-Identifier: Apache-2.0 */
#include "fake_azure_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"

static bool matches(const char *match, const struct edw_http_request *req)
{
    if (!match)
        return true;
    char *line = edw_xasprintf("%s %s", req->method, req->url);
    bool hit = strstr(line, match) != NULL;
    free(line);
    return hit;
}

static void add_headers(struct edw_http_headers *h, const char *text)
{
    const char *p = text;
    while (p && *p) {
        size_t len = strcspn(p, "\n");
        const char *colon = memchr(p, ':', len);
        if (colon) {
            char *name = edw_xstrndup(p, (size_t)(colon - p));
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            char *value = edw_xstrndup(v, len - (size_t)(v - p));
            edw_http_headers_add(h, name, value);
            free(name);
            free(value);
        }
        p += len;
        if (*p == '\n')
            p++;
    }
}

static void record(struct fake_azure_http *f, const struct edw_http_request *req)
{
    f->sent = edw_xgrow(f->sent, &f->cap_sent, f->nsent + 1, sizeof(*f->sent));
    struct fake_azure_http_sent *s = &f->sent[f->nsent++];
    memset(s, 0, sizeof(*s));
    snprintf(s->method, sizeof(s->method), "%s", req->method);
    s->url = edw_xstrdup(req->url);
    for (size_t i = 0; i < req->headers.n; i++)
        edw_http_headers_add(&s->headers, req->headers.items[i].name,
                             req->headers.items[i].value);
    s->body = edw_xstrndup(req->body ? req->body : "", req->body_len);
    s->body_len = req->body_len;
    s->perform = f->performs;
}

static void answer(struct fake_azure_http *f, const struct edw_http_request *req,
                   struct edw_http_response *resp)
{
    for (size_t i = 0; i < f->nreplies; i++) {
        struct fake_azure_http_reply *r = &f->replies[i];
        if (r->used || !matches(r->match, req))
            continue;
        r->used = 1;
        resp->status = r->status;
        if (r->status == 0) {
            resp->transport_err = EDW_ERR_TRANSIENT;
            snprintf(resp->error, sizeof(resp->error), "Connection reset by peer");
            return;
        }
        add_headers(&resp->headers, r->headers);
        if (r->body && edw_buf_append_str(&resp->body, r->body) != EDW_OK)
            abort();
        return;
    }
    if (f->handler) {
        f->handler(f->handler_ctx, req, resp);
        return;
    }
    resp->status = 0;
    resp->transport_err = EDW_ERR_FATAL;
    snprintf(resp->error, sizeof(resp->error), "fake_azure_http: no scripted reply for %s %.150s",
             req->method, req->url);
}

static enum edw_err perform(void *state, struct edw_http_request *const *reqs,
                            struct edw_http_response *const *resps, size_t n)
{
    struct fake_azure_http *f = state;
    f->performs++;
    if (n > f->max_batch)
        f->max_batch = n;
    for (size_t i = 0; i < n; i++) {
        record(f, reqs[i]);
        answer(f, reqs[i], resps[i]);
    }
    return EDW_OK;
}

static void destroy(void *state)
{
    (void)state; /* owned by the test, released with fake_azure_http_cleanup */
}

static const struct edw_http_transport_ops s_ops = {perform, destroy};

void fake_azure_http_init(struct fake_azure_http *f)
{
    memset(f, 0, sizeof(*f));
    f->transport.ops = &s_ops;
    f->transport.state = f;
}

void fake_azure_http_cleanup(struct fake_azure_http *f)
{
    for (size_t i = 0; i < f->nreplies; i++) {
        free(f->replies[i].match);
        free(f->replies[i].headers);
        free(f->replies[i].body);
    }
    for (size_t i = 0; i < f->nsent; i++) {
        free(f->sent[i].url);
        edw_http_headers_cleanup(&f->sent[i].headers);
        free(f->sent[i].body);
    }
    free(f->replies);
    free(f->sent);
    memset(f, 0, sizeof(*f));
}

void fake_azure_http_reply(struct fake_azure_http *f, const char *match, long status, const char *headers,
                     const char *body)
{
    f->replies = edw_xgrow(f->replies, &f->cap_replies, f->nreplies + 1, sizeof(*f->replies));
    struct fake_azure_http_reply *r = &f->replies[f->nreplies++];
    r->match = match ? edw_xstrdup(match) : NULL;
    r->status = status;
    r->headers = headers ? edw_xstrdup(headers) : NULL;
    r->body = body ? edw_xstrdup(body) : NULL;
    r->used = 0;
}

void fake_azure_http_drop(struct fake_azure_http *f, const char *match)
{
    fake_azure_http_reply(f, match, 0, NULL, NULL);
}

size_t fake_azure_http_unused(const struct fake_azure_http *f)
{
    size_t n = 0;
    for (size_t i = 0; i < f->nreplies; i++)
        n += !f->replies[i].used;
    return n;
}

size_t fake_azure_http_count(const struct fake_azure_http *f, const char *match)
{
    size_t n = 0;
    for (size_t i = 0; i < f->nsent; i++) {
        char *line = edw_xasprintf("%s %s", f->sent[i].method, f->sent[i].url);
        n += strstr(line, match) != NULL;
        free(line);
    }
    return n;
}
