/* SPDX-License-Identifier: Apache-2.0 */
#include "fake_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"

void fake_http_reply(struct edw_http_response *resp, long status, const char *body)
{
    resp->status = status;
    edw_buf_reset(&resp->body);
    if (body && edw_buf_append_str(&resp->body, body) != EDW_OK)
        abort();
}

static void record(struct fake_http *f, const struct edw_http_request *req)
{
    f->calls = edw_xgrow(f->calls, &f->cap, f->ncalls + 1, sizeof(*f->calls));
    struct fake_http_call *c = &f->calls[f->ncalls++];
    memset(c, 0, sizeof(*c));
    memcpy(c->method, req->method, sizeof(c->method));
    c->url = edw_xstrdup(req->url);
    for (size_t i = 0; i < req->headers.n; i++)
        edw_http_headers_add(&c->headers, req->headers.items[i].name,
                             req->headers.items[i].value);
    c->body = edw_xstrndup(req->body ? req->body : "", req->body ? req->body_len : 0);
    c->body_len = req->body ? req->body_len : 0;
    c->timeout_ms = req->timeout_ms;
    c->no_proxy = req->no_proxy;
    c->perform = f->performs;
}

static void answer(struct fake_http *f, const struct fake_http_call *c,
                   struct edw_http_response *resp)
{
    if (f->next < f->nscript) {
        const struct fake_http_scripted *s = &f->script[f->next++];
        resp->transport_err = s->transport_err;
        if (s->transport_err) {
            snprintf(resp->error, sizeof(resp->error), "fake connection failure");
            return;
        }
        fake_http_reply(resp, s->status, s->body);
        for (size_t i = 0; i < s->headers.n; i++)
            edw_http_headers_add(&resp->headers, s->headers.items[i].name,
                                 s->headers.items[i].value);
        return;
    }
    if (f->fn) {
        f->fn(f->ctx, c, resp);
        return;
    }
    fake_http_reply(resp, 599, "fake_http: no scripted response");
}

static enum edw_err fake_perform(void *state, struct edw_http_request *const *reqs,
                                 struct edw_http_response *const *resps, size_t n)
{
    struct fake_http *f = state;
    if (n > f->max_batch)
        f->max_batch = n;
    for (size_t i = 0; i < n; i++) {
        record(f, reqs[i]);
        answer(f, &f->calls[f->ncalls - 1], resps[i]);
    }
    f->performs++;
    return EDW_OK;
}

static void fake_destroy(void *state)
{
    (void)state; /* owned by the test: fake_http_cleanup */
}

static const struct edw_http_transport_ops s_ops = {fake_perform, fake_destroy};

void fake_http_init(struct fake_http *f)
{
    memset(f, 0, sizeof(*f));
    f->transport.ops = &s_ops;
    f->transport.state = f;
}

void fake_http_cleanup(struct fake_http *f)
{
    for (size_t i = 0; i < f->ncalls; i++) {
        free(f->calls[i].url);
        free(f->calls[i].body);
        edw_http_headers_cleanup(&f->calls[i].headers);
    }
    free(f->calls);
    for (size_t i = 0; i < f->nscript; i++) {
        free(f->script[i].body);
        edw_http_headers_cleanup(&f->script[i].headers);
    }
    free(f->script);
    memset(f, 0, sizeof(*f));
}

struct fake_http_scripted *fake_http_push(struct fake_http *f, long status, const char *body)
{
    f->script = edw_xgrow(f->script, &f->script_cap, f->nscript + 1, sizeof(*f->script));
    struct fake_http_scripted *s = &f->script[f->nscript++];
    memset(s, 0, sizeof(*s));
    s->status = status;
    s->body = body ? edw_xstrdup(body) : NULL;
    return s;
}

void fake_http_push_failure(struct fake_http *f)
{
    fake_http_push(f, 0, NULL)->transport_err = EDW_ERR_TRANSIENT;
}

void fake_http_set_handler(struct fake_http *f, fake_http_fn *fn, void *ctx)
{
    f->fn = fn;
    f->ctx = ctx;
}

const char *fake_http_header(const struct fake_http *f, size_t i, const char *name)
{
    return i < f->ncalls ? edw_http_headers_get(&f->calls[i].headers, name) : NULL;
}
