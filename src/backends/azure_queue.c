/* SPDX-License-Identifier: Apache-2.0 */
/* Azure Queue Storage over REST. Every multi-message operation is a set of concurrent
 * requests in one edw_azure_perform (the service has no batch API): receive of more than 32
 * issues several Get Messages, ack deletes each message, extend updates each one, send puts
 * each body. Network latency is therefore paid once per call, not once per message.
 *
 * Leases are pop receipts. Update Message returns a new receipt that replaces the old one; a
 * stale receipt answers 400 PopReceiptMismatch (Azurite) or 404 MessageNotFound (Azure), both
 * meaning another consumer owns the message now: EDW_ERR_CONFLICT. A delete retried after an
 * attempt that may have succeeded (no reply, 500, 504) and then answered 404 is a success.
 *
 * Receive-ahead: after a receive that came back full, the next ack also fetches the next
 * batch in the same round trip, and the next receive hands it out without waiting. Those
 * messages are leased from the moment they are fetched, so one that waited longer than a
 * moment has its lease renewed before it is handed out, and close() releases what is left.
 *
 * Message text: sent raw (XML-escaped) or base64 (EDW_AZURE_SEND_ENCODING); received per
 * EDW_AZURE_RECEIVE_ENCODING, where "auto" takes JSON as it is and decodes canonical base64
 * that yields UTF-8. Messages never expire (messagettl=-1): a queue that silently drops work
 * after seven days would break the "no message lost" promise. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure_common.h"
#include "edw/alloc.h"
#include "edw/config.h"
#include "edw/lease_guard.h"
#include "edw/log.h"
#include "edw/timefmt.h"
#include "edw/urlencode.h"

#define MAX_TEXT_BYTES 65536 /* "the encoded message can be up to 64 KiB" */
#define GET_MAX 32           /* numofmessages limit of Get/Peek Messages */
#define POISON_LEASE_S 60    /* held while a poisoned message is copied */

enum recv_encoding { RECV_AUTO, RECV_NONE, RECV_BASE64 };

struct aq {
    struct edw_azure_client client;
    char *queue;
    char *poison;
    bool send_base64;
    enum recv_encoding recv;
    /* Receive-ahead: while a batch is deleted, the next one is fetched in the same round
     * trip, and handed out by the next receive. */
    struct edw_msg_batch ahead;
    int64_t ahead_at_us;  /* monotonic time the ahead batch was leased */
    size_t prefetch_max;  /* 0: do not fetch ahead (the last receive was not full) */
    long prefetch_vis;
};

static enum edw_err aq_extend(void *state, struct edw_msg *const *msgs, size_t n,
                              unsigned visibility_s, enum edw_err *results,
                              struct edw_error *err);

/* Messages fetched ahead and never handed out go back to the queue at once. */
static void release_ahead(struct aq *q)
{
    size_t n = q->ahead.n;
    if (n > 0) {
        struct edw_msg **p = edw_xcalloc(n, sizeof(*p));
        enum edw_err *res = edw_xcalloc(n, sizeof(*res));
        for (size_t i = 0; i < n; i++)
            p[i] = &q->ahead.msgs[i];
        if (aq_extend(q, p, n, 0, res, NULL) != EDW_OK)
            edw_warn("azure", "%zu messages fetched ahead stay leased until their timeout", n);
        free(p);
        free(res);
    }
    edw_msg_batch_cleanup(&q->ahead);
}

static void aq_close(void *state)
{
    struct aq *q = state;
    if (!q)
        return;
    if (q->client.http)
        release_ahead(q);
    edw_azure_client_cleanup(&q->client);
    free(q->queue);
    free(q->poison);
    free(q);
}

/* Queue names: 3-63 of [a-z0-9-], starting with a letter or digit, no "--", no trailing '-'.
 * The poison queue appends "-poison", so the base name may use at most 56. */
static bool queue_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 3 || n > 56 || name[0] == '-' || name[n - 1] == '-' || strstr(name, "--"))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '-'))
            return false;
    return true;
}

static enum edw_err aq_open(const struct edw_config *cfg, const struct edw_backend_deps *deps,
                            void **state_out, struct edw_error *err)
{
    *state_out = NULL;
    if (!queue_name_ok(cfg->queue_name))
        return edw_error_set(err, EDW_ERR_INVALID,
                             "queue name '%.80s' is not valid on Azure: 3-56 characters of "
                             "lowercase letters, digits and single hyphens (the poison queue "
                             "adds '-poison')",
                             cfg->queue_name);
    struct aq *q = edw_xcalloc(1, sizeof(*q));
    q->queue = edw_xstrdup(cfg->queue_name);
    q->poison = edw_xasprintf("%s-poison", cfg->queue_name);
    q->send_base64 = cfg->azure_send_encoding && strcmp(cfg->azure_send_encoding, "base64") == 0;
    q->recv = RECV_AUTO;
    if (cfg->azure_receive_encoding && strcmp(cfg->azure_receive_encoding, "none") == 0)
        q->recv = RECV_NONE;
    else if (cfg->azure_receive_encoding && strcmp(cfg->azure_receive_encoding, "base64") == 0)
        q->recv = RECV_BASE64;
    enum edw_err rc = edw_azure_client_init(&q->client, EDW_AZURE_QUEUE, cfg, deps, err);
    if (rc) {
        aq_close(q);
        return rc;
    }
    *state_out = q;
    return EDW_OK;
}

/* An array of calls, cleaned up together. */
static struct edw_azure_call *calls_new(size_t n)
{
    return edw_xcalloc(n ? n : 1, sizeof(struct edw_azure_call));
}

static void calls_free(struct edw_azure_call *calls, size_t n)
{
    for (size_t i = 0; i < n; i++)
        edw_azure_call_cleanup(&calls[i]);
    free(calls);
}

/* The first failed call's result and error, or EDW_OK. */
static enum edw_err first_failure(const struct edw_azure_call *calls, size_t n,
                                  struct edw_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (calls[i].result) {
            if (err)
                *err = calls[i].err;
            return calls[i].result;
        }
    }
    return EDW_OK;
}

/* "/queue/messages/<id>?popreceipt=<receipt>[&visibilitytimeout=V]" */
static char *message_path(const char *queue, const char *id, const char *receipt, long vis)
{
    struct edw_buf b;
    edw_buf_init(&b, 64 * 1024);
    enum edw_err rc = edw_buf_append(&b, "/", 1);
    if (!rc)
        rc = edw_buf_append_str(&b, queue);
    if (!rc)
        rc = edw_buf_append_str(&b, "/messages/");
    if (!rc)
        rc = edw_url_encode(&b, id, strlen(id), NULL);
    if (!rc)
        rc = edw_buf_append_str(&b, "?popreceipt=");
    if (!rc)
        rc = edw_url_encode(&b, receipt, strlen(receipt), NULL);
    if (!rc && vis >= 0)
        rc = edw_buf_appendf(&b, "&visibilitytimeout=%ld", vis);
    if (rc)
        abort(); /* ids and receipts come from the service and are far below the limit */
    return edw_buf_steal(&b);
}

static enum edw_err aq_create(void *state, struct edw_error *err)
{
    struct aq *q = state;
    struct edw_azure_call calls[2];
    edw_azure_call_init(&calls[0], "PUT", edw_xasprintf("/%s", q->queue));
    edw_azure_call_init(&calls[1], "PUT", edw_xasprintf("/%s", q->poison));
    enum edw_err rc = edw_azure_perform(&q->client, calls, 2);
    for (size_t i = 0; i < 2 && !rc; i++) {
        /* 409 QueueAlreadyExists: it exists with other metadata, which is fine for us. */
        if (calls[i].result == EDW_ERR_CONFLICT)
            calls[i].result = EDW_OK;
    }
    if (!rc)
        rc = first_failure(calls, 2, err);
    edw_azure_call_cleanup(&calls[0]);
    edw_azure_call_cleanup(&calls[1]);
    return rc;
}

/* The XML body of Put Message for `body`, encoded as configured. */
static enum edw_err put_body(bool base64, const char *body, size_t len, size_t index,
                             struct edw_buf *out, struct edw_error *err)
{
    struct edw_buf text;
    edw_buf_init(&text, 4 * MAX_TEXT_BYTES);
    enum edw_err rc = base64 ? edw_base64_encode(body, len, &text) : EDW_OK;
    const char *t = base64 ? edw_buf_cstr(&text) : body;
    size_t tlen = base64 ? text.len : len;
    if (!rc && tlen > MAX_TEXT_BYTES)
        rc = edw_error_set(err, EDW_ERR_INVALID,
                           "message %zu is %zu bytes%s; Azure Queue Storage takes at most "
                           "%d (%d raw bytes with base64)",
                           index, tlen, base64 ? " after base64" : "", MAX_TEXT_BYTES,
                           MAX_TEXT_BYTES / 4 * 3);
    if (!rc)
        rc = edw_buf_append_str(out, "<QueueMessage><MessageText>");
    if (!rc && edw_azure_xml_escape(out, t, tlen) != EDW_OK)
        rc = edw_error_set(err, EDW_ERR_INVALID,
                           "message %zu holds bytes XML cannot carry (control characters or "
                           "invalid UTF-8); set EDW_AZURE_SEND_ENCODING=base64",
                           index);
    if (!rc)
        rc = edw_buf_append_str(out, "</MessageText></QueueMessage>");
    edw_buf_cleanup(&text);
    return rc;
}

/* Put `n` bodies to `queue` concurrently. */
static enum edw_err put_messages(struct aq *q, const char *queue, bool base64,
                                 const struct edw_str *bodies, size_t n, struct edw_error *err)
{
    struct edw_buf *xml = edw_xcalloc(n ? n : 1, sizeof(*xml));
    struct edw_azure_call *calls = calls_new(n);
    enum edw_err rc = EDW_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        edw_buf_init(&xml[i], 8 * MAX_TEXT_BYTES);
        rc = put_body(base64, bodies[i].ptr, bodies[i].len, i, &xml[i], err);
    }
    for (size_t i = 0; i < n && !rc; i++) {
        edw_azure_call_init(&calls[i], "POST", edw_xasprintf("/%s/messages?messagettl=-1", queue));
        calls[i].content_type = "application/xml";
        calls[i].body = xml[i].ptr;
        calls[i].body_len = xml[i].len;
    }
    if (!rc)
        rc = edw_azure_perform(&q->client, calls, n);
    if (!rc)
        rc = first_failure(calls, n, err);
    calls_free(calls, n);
    for (size_t i = 0; i < n; i++)
        edw_buf_cleanup(&xml[i]);
    free(xml);
    return rc;
}

static enum edw_err aq_send(void *state, const struct edw_str *bodies, size_t n,
                            struct edw_error *err)
{
    struct aq *q = state;
    return put_messages(q, q->queue, q->send_base64, bodies, n, err);
}

static bool utf8_ok(const char *s, size_t len)
{
    json_t *probe = json_stringn(s, len); /* jansson validates UTF-8 */
    json_decref(probe);
    return probe != NULL;
}

/* The body a received text stands for, per the receive encoding. Caller owns *out. */
static void decode_text(enum recv_encoding enc, const char *text, size_t len, char **out,
                        size_t *out_len)
{
    const char *p = text;
    while (p < text + len && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    bool try_b64 = enc == RECV_BASE64 || (enc == RECV_AUTO && p < text + len && *p != '{');
    if (try_b64 && edw_base64_valid(text, len)) {
        struct edw_buf raw;
        edw_buf_init(&raw, len);
        if (edw_base64_decode(text, len, &raw) == EDW_OK &&
            (enc == RECV_BASE64 || utf8_ok(edw_buf_cstr(&raw), raw.len))) {
            *out_len = raw.len;
            *out = edw_buf_steal(&raw);
            return;
        }
        edw_buf_cleanup(&raw);
    }
    *out = edw_xstrndup(text, len);
    *out_len = len;
}

static void to_msg(const struct aq *q, struct edw_azure_qmsg *src, struct edw_msg *m)
{
    m->id = src->id;
    src->id = NULL;
    m->receipt = src->pop_receipt;
    src->pop_receipt = NULL;
    decode_text(q->recv, src->text, src->text_len, &m->body, &m->body_len);
    m->dequeue_count = src->dequeue_count;
    int64_t us = 0;
    if (src->insertion_time && edw_rfc1123_parse(src->insertion_time, &us))
        m->enqueued_us = us;
}

/* Append the Get (vis >= 0) or Peek (vis < 0) calls for `max` messages of `queue` to
 * `calls`: ceil(max/32) of them, all to run concurrently. Returns how many. */
static size_t add_gets(struct edw_azure_call *calls, const char *queue, size_t max, long vis)
{
    size_t n = (max + GET_MAX - 1) / GET_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t want = max - i * GET_MAX < GET_MAX ? max - i * GET_MAX : GET_MAX;
        char *path = vis >= 0 ? edw_xasprintf("/%s/messages?numofmessages=%zu&visibilitytimeout=%ld",
                                              queue, want, vis)
                              : edw_xasprintf("/%s/messages?peekonly=true&numofmessages=%zu",
                                              queue, want);
        edw_azure_call_init(&calls[i], "GET", path);
    }
    return n;
}

/* Parse the replies of `n` Get/Peek calls into `list`. Messages of the requests that
 * succeeded are kept even when another failed: they are leased now, and dropping them would
 * only delay them by a visibility timeout. An error only when every request failed. */
static enum edw_err collect_gets(struct edw_azure_call *calls, size_t n,
                                 struct edw_azure_qmsg_list *list, struct edw_error *err)
{
    size_t ok = 0;
    struct edw_error first = {0};
    enum edw_err first_rc = EDW_OK;
    for (size_t i = 0; i < n; i++) {
        enum edw_err r = calls[i].result;
        struct edw_error e = calls[i].err;
        if (calls[i].ambiguous && strstr(calls[i].path, "peekonly") == NULL)
            edw_warn("azure", "a Get Messages reply was lost (no answer or 500/504) and retried: "
                              "the messages it leased stay invisible until their lease ends");
        if (!r)
            r = edw_azure_parse_messages(edw_buf_cstr(&calls[i].resp.body),
                                         calls[i].resp.body.len, list, &e);
        if (!r)
            ok++;
        else if (!first_rc) {
            first_rc = r;
            first = e;
        }
    }
    if (ok == 0 && first_rc) {
        if (err)
            *err = first;
        return first_rc;
    }
    if (first_rc)
        edw_warn("azure", "one of %zu receive requests failed: %s", n, first.message);
    return EDW_OK;
}

static enum edw_err get_messages(struct aq *q, const char *queue, size_t max, long vis,
                                 struct edw_azure_qmsg_list *list, struct edw_error *err)
{
    struct edw_azure_call *calls = calls_new((max + GET_MAX - 1) / GET_MAX);
    size_t n = add_gets(calls, queue, max, vis);
    enum edw_err rc = edw_azure_perform(&q->client, calls, n);
    if (rc)
        rc = edw_error_set(err, rc, "azure queue: the HTTP transport failed");
    else
        rc = collect_gets(calls, n, list, err);
    calls_free(calls, n);
    return rc;
}

/* Hand out up to `max` messages fetched ahead. Their lease started when they were fetched;
 * if that was more than a moment ago it is renewed first, so the worker's idea of the lease
 * (it counts from now) stays true. Messages whose renewal finds them gone are dropped. */
static void take_ahead(struct aq *q, size_t max, long vis, struct edw_msg_batch *out)
{
    size_t take = q->ahead.n < max ? q->ahead.n : max;
    int64_t age = edw_clock_mono_us(q->client.clock) - q->ahead_at_us;
    int64_t fresh_us = vis * 250000 < 2000000 ? vis * 250000 : 2000000; /* vis/4, at most 2 s */
    enum edw_err *res = edw_xcalloc(take ? take : 1, sizeof(*res));
    if (age > fresh_us) {
        struct edw_msg **p = edw_xcalloc(take ? take : 1, sizeof(*p));
        for (size_t i = 0; i < take; i++)
            p[i] = &q->ahead.msgs[i];
        if (aq_extend(q, p, take, (unsigned)vis, res, NULL) != EDW_OK)
            for (size_t i = 0; i < take; i++)
                res[i] = EDW_OK; /* unknown: hand them out; at worst the lease runs short */
        free(p);
    }
    for (size_t i = 0; i < take; i++) {
        if (res[i] == EDW_OK)
            edw_msg_move(edw_msg_batch_add(out), &q->ahead.msgs[i]);
        else {
            edw_warn("azure",
                     "message %s, fetched ahead, lost its lease before it was handed out (it "
                     "was received again elsewhere or deleted): left to its new holder",
                     q->ahead.msgs[i].id ? q->ahead.msgs[i].id : "?");
            edw_msg_cleanup(&q->ahead.msgs[i]);
        }
    }
    memmove(q->ahead.msgs, q->ahead.msgs + take, (q->ahead.n - take) * sizeof(*q->ahead.msgs));
    q->ahead.n -= take;
    free(res);
}

static enum edw_err aq_receive(void *state, size_t max, unsigned visibility_s,
                               struct edw_msg_batch *out, struct edw_error *err)
{
    struct aq *q = state;
    if (max == 0)
        return EDW_OK;
    long vis = visibility_s < 1 ? 1 : (long)visibility_s;
    if (q->ahead.n > 0) {
        bool full = q->ahead.n >= max;
        take_ahead(q, max, vis, out);
        q->prefetch_max = full ? max : 0;
        q->prefetch_vis = vis;
        return EDW_OK;
    }
    struct edw_azure_qmsg_list list = {0};
    enum edw_err rc = get_messages(q, q->queue, max, vis, &list, err);
    for (size_t i = 0; i < list.n && !rc; i++)
        to_msg(q, &list.items[i], edw_msg_batch_add(out));
    /* A full batch means more is waiting: fetch the next one while this one is deleted. */
    q->prefetch_max = !rc && list.n >= max ? max : 0;
    q->prefetch_vis = vis;
    edw_azure_qmsg_list_cleanup(&list);
    return rc;
}

/* A lost lease shows up as 404 (gone) or 400/409 (receipt no longer valid). */
static bool lost_lease(enum edw_err rc)
{
    return rc == EDW_ERR_NOT_FOUND || rc == EDW_ERR_CONFLICT || rc == EDW_ERR_INVALID;
}

/* Delete `n` messages; with `ahead`, fetch the next batch in the same round trip. */
static enum edw_err delete_messages(struct aq *q, struct edw_msg *const *msgs, size_t n,
                                    enum edw_err *results, bool ahead, struct edw_error *err)
{
    /* No fetching ahead while a lease of this process is over or nearly: the Get could be
     * answered before these deletes and hand out a message still held here, even one of
     * these (edw/lease_guard.h). */
    int64_t sent_us = edw_clock_mono_us(q->client.clock);
    size_t want = ahead && q->ahead.n == 0 &&
                          edw_lease_guard_clear(sent_us + (int64_t)q->prefetch_vis * 1000000 / 6)
                      ? q->prefetch_max
                      : 0;
    struct edw_azure_call *calls = calls_new(n + (want + GET_MAX - 1) / GET_MAX);
    for (size_t i = 0; i < n; i++)
        edw_azure_call_init(&calls[i], "DELETE",
                            message_path(q->queue, msgs[i]->id,
                                         msgs[i]->receipt ? msgs[i]->receipt : "", -1));
    size_t ngets = want ? add_gets(calls + n, q->queue, want, q->prefetch_vis) : 0;
    enum edw_err rc = edw_azure_perform(&q->client, calls, n + ngets);
    enum edw_err overall = EDW_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        enum edw_err r = calls[i].result;
        results[i] = EDW_OK;
        if (r && lost_lease(r))
            /* After an attempt that may have deleted it, "gone" means done. */
            results[i] = calls[i].ambiguous ? EDW_OK : EDW_ERR_CONFLICT;
        else if (r && !overall) {
            overall = r;
            if (err)
                *err = calls[i].err;
        }
    }
    if (!rc && ngets) {
        struct edw_azure_qmsg_list list = {0};
        q->ahead_at_us = sent_us; /* the leases may have started as soon as it was sent */
        if (collect_gets(calls + n, ngets, &list, NULL) == EDW_OK)
            for (size_t i = 0; i < list.n; i++)
                to_msg(q, &list.items[i], edw_msg_batch_add(&q->ahead));
        edw_azure_qmsg_list_cleanup(&list);
    }
    calls_free(calls, n + ngets);
    return rc ? rc : overall;
}

static enum edw_err aq_ack(void *state, struct edw_msg *const *msgs, size_t n,
                           enum edw_err *results, struct edw_error *err)
{
    return delete_messages(state, msgs, n, results, true, err);
}

/* Update each message's visibility; on success its receipt is replaced by the new one. */
static enum edw_err aq_extend(void *state, struct edw_msg *const *msgs, size_t n,
                              unsigned visibility_s, enum edw_err *results,
                              struct edw_error *err)
{
    struct aq *q = state;
    struct edw_azure_call *calls = calls_new(n);
    for (size_t i = 0; i < n; i++)
        edw_azure_call_init(&calls[i], "PUT",
                            message_path(q->queue, msgs[i]->id,
                                         msgs[i]->receipt ? msgs[i]->receipt : "",
                                         (long)visibility_s));
    enum edw_err rc = edw_azure_perform(&q->client, calls, n);
    enum edw_err overall = EDW_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        enum edw_err r = calls[i].result;
        const char *fresh = edw_http_headers_get(&calls[i].resp.headers, "x-ms-popreceipt");
        results[i] = EDW_OK;
        if (!r && fresh) {
            free(msgs[i]->receipt);
            msgs[i]->receipt = edw_xstrdup(fresh);
        } else if (!r) {
            results[i] = EDW_ERR_CONFLICT; /* no new receipt: we cannot act on it any more */
        } else if (lost_lease(r)) {
            results[i] = EDW_ERR_CONFLICT;
        } else if (!overall) {
            overall = r;
            results[i] = EDW_ERR_CONFLICT;
            if (err)
                *err = calls[i].err;
        }
    }
    calls_free(calls, n);
    return rc ? rc : overall;
}

/* The poison record: reason, delivery count, original id and the original body (as text
 * when it is UTF-8, else as bodyBase64). Caller owns the result (free()). */
static char *poison_envelope(const struct aq *q, const struct edw_msg *m, const char *reason,
                             int64_t now_us)
{
    char when[25];
    edw_iso8601_ms(now_us, when);
    json_t *o = json_object();
    json_object_set_new(o, "reason", json_string(reason && utf8_ok(reason, strlen(reason))
                                                     ? reason
                                                     : "(reason not valid UTF-8)"));
    json_object_set_new(o, "dequeueCount", json_integer(m->dequeue_count));
    json_object_set_new(o, "messageId", json_string(m->id ? m->id : ""));
    json_object_set_new(o, "queue", json_string(q->queue));
    json_object_set_new(o, "poisonedAt", json_string(when));
    json_t *body = json_stringn(m->body ? m->body : "", m->body_len);
    if (body) {
        json_object_set_new(o, "body", body);
    } else {
        struct edw_buf b64;
        edw_buf_init(&b64, 4 * m->body_len + 16);
        if (edw_base64_encode(m->body, m->body_len, &b64) == EDW_OK)
            json_object_set_new(o, "bodyBase64", json_string(edw_buf_cstr(&b64)));
        edw_buf_cleanup(&b64);
    }
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        abort(); /* only on allocation failure */
    char *copy = edw_xstrdup(text);
    free(text);
    return copy;
}

/* Put the envelope to the poison queue. When it would exceed the size limit, the original
 * body goes alone (nothing is lost; the reason stays in the log), base64 if it fits so and
 * raw otherwise. */
static enum edw_err put_poison(struct aq *q, const struct edw_msg *m, const char *reason,
                               struct edw_error *err)
{
    const size_t b64_limit = MAX_TEXT_BYTES / 4 * 3;
    char *env = poison_envelope(q, m, reason, edw_clock_wall_us(q->client.clock));
    struct edw_str one = {env, strlen(env)};
    bool base64 = q->send_base64;
    if (one.len > (base64 ? b64_limit : MAX_TEXT_BYTES)) {
        edw_warn("azure", "poison envelope of message %s too large; storing the body alone "
                          "(reason: %s)",
                 m->id, reason);
        one = (struct edw_str){m->body ? m->body : "", m->body_len};
        base64 = one.len <= b64_limit;
    }
    enum edw_err rc = put_messages(q, q->poison, base64, &one, 1, err);
    if (rc == EDW_ERR_NOT_FOUND) {
        /* Nobody ran `edw queue create`: make the poison queue rather than loop forever. */
        struct edw_azure_call call;
        edw_azure_call_init(&call, "PUT", edw_xasprintf("/%s", q->poison));
        rc = edw_azure_perform_one(&q->client, &call, err);
        edw_azure_call_cleanup(&call);
        if (!rc || rc == EDW_ERR_CONFLICT)
            rc = put_messages(q, q->poison, base64, &one, 1, err);
    }
    free(env);
    return rc;
}

/* Take ownership for long enough (update, which also proves we still hold the lease), copy
 * to <queue>-poison, delete the original with the fresh receipt. */
static enum edw_err aq_poison(void *state, const struct edw_msg *m, const char *reason,
                              struct edw_error *err)
{
    struct aq *q = state;
    struct edw_msg held = {.id = m->id, .receipt = edw_xstrdup(m->receipt ? m->receipt : "")};
    struct edw_msg *one[] = {&held};
    enum edw_err result = EDW_OK;
    enum edw_err rc = aq_extend(q, one, 1, POISON_LEASE_S, &result, err);
    if (!rc && result)
        rc = edw_error_set(err, EDW_ERR_CONFLICT, "lease of message %s lost before poisoning",
                           m->id);
    if (!rc)
        rc = put_poison(q, m, reason, err);
    if (!rc)
        rc = delete_messages(q, one, 1, &result, false, err);
    if (!rc && result) {
        edw_warn("azure", "message %s was copied to %s but its lease ended before the delete",
                 m->id, q->poison);
        rc = EDW_ERR_CONFLICT;
    }
    free(held.receipt);
    return rc;
}

static enum edw_err count_of(const struct edw_azure_call *call, uint64_t *out)
{
    const char *v = edw_http_headers_get(&call->resp.headers, "x-ms-approximate-messages-count");
    char *end = NULL;
    *out = v ? strtoull(v, &end, 10) : 0;
    return v && end != v && *end == '\0' ? EDW_OK : EDW_ERR_FATAL;
}

static enum edw_err aq_depth(void *state, struct edw_queue_depth *out, struct edw_error *err)
{
    struct aq *q = state;
    struct edw_azure_call calls[2];
    edw_azure_call_init(&calls[0], "GET", edw_xasprintf("/%s?comp=metadata", q->queue));
    edw_azure_call_init(&calls[1], "GET", edw_xasprintf("/%s?comp=metadata", q->poison));
    memset(out, 0, sizeof(*out));
    enum edw_err rc = edw_azure_perform(&q->client, calls, 2);
    if (!rc && calls[1].result == EDW_ERR_NOT_FOUND)
        calls[1].result = EDW_OK; /* no poison queue yet: nothing poisoned */
    if (!rc)
        rc = first_failure(calls, 2, err);
    /* Azure counts leased messages too and cannot tell them apart: all are "visible". */
    if (!rc && count_of(&calls[0], &out->visible))
        rc = edw_error_set(err, EDW_ERR_FATAL, "azure queue: no message count in the reply");
    if (!rc && calls[1].resp.status == 200)
        rc = count_of(&calls[1], &out->poison);
    edw_azure_call_cleanup(&calls[0]);
    edw_azure_call_cleanup(&calls[1]);
    return rc;
}

/* A poison entry shows its original id, delivery count, body and reason. Entries that are not
 * our envelope are shown as they are. */
static void unwrap_poison(struct edw_msg *m)
{
    json_t *o = json_loadb(m->body, m->body_len, 0, NULL);
    const char *reason = json_string_value(json_object_get(o, "reason"));
    json_t *body = json_object_get(o, "body");
    const char *b64 = json_string_value(json_object_get(o, "bodyBase64"));
    if (json_is_object(o) && reason && (json_is_string(body) || b64)) {
        struct edw_buf raw;
        edw_buf_init(&raw, m->body_len + 1);
        enum edw_err rc = json_is_string(body)
                              ? edw_buf_append(&raw, json_string_value(body),
                                               json_string_length(body))
                              : edw_base64_decode(b64, strlen(b64), &raw);
        if (!rc) {
            const char *id = json_string_value(json_object_get(o, "messageId"));
            json_t *count = json_object_get(o, "dequeueCount");
            m->reason = edw_xstrdup(reason);
            if (id && id[0]) {
                free(m->id);
                m->id = edw_xstrdup(id);
            }
            if (json_is_integer(count))
                m->dequeue_count = (uint32_t)json_integer_value(count);
            free(m->body);
            m->body_len = raw.len;
            m->body = edw_buf_steal(&raw);
        }
        edw_buf_cleanup(&raw);
    }
    json_decref(o);
}

static enum edw_err aq_peek(void *state, bool poison, size_t max, struct edw_msg_batch *out,
                            struct edw_error *err)
{
    struct aq *q = state;
    if (max == 0)
        return EDW_OK;
    struct edw_azure_qmsg_list list = {0};
    enum edw_err rc = get_messages(q, poison ? q->poison : q->queue, max > GET_MAX ? GET_MAX : max,
                                   -1, &list, err);
    for (size_t i = 0; i < list.n && !rc; i++) {
        struct edw_msg *m = edw_msg_batch_add(out);
        to_msg(q, &list.items[i], m);
        if (poison)
            unwrap_poison(m);
    }
    edw_azure_qmsg_list_cleanup(&list);
    return rc;
}

static enum edw_err aq_clear(void *state, bool poison, struct edw_error *err)
{
    struct aq *q = state;
    enum edw_err rc = EDW_OK;
    /* A large queue can answer 500 OperationTimedOut with part of it cleared: go on until
     * it says done (bounded, so a broken service cannot keep us here forever). */
    for (int round = 0; round < 50; round++) {
        struct edw_azure_call call;
        edw_azure_call_init(&call, "DELETE",
                            edw_xasprintf("/%s/messages", poison ? q->poison : q->queue));
        rc = edw_azure_perform_one(&q->client, &call, err);
        bool again = rc == EDW_ERR_TRANSIENT && strcmp(call.err.code, "OperationTimedOut") == 0;
        edw_azure_call_cleanup(&call);
        if (poison && rc == EDW_ERR_NOT_FOUND)
            return EDW_OK;
        if (!again)
            break;
    }
    return rc;
}

const struct edw_queue_ops edw_azure_queue_ops = {
    .name = "azure",
    .caps = EDW_QCAP_EXTEND | EDW_QCAP_DEQUEUE_COUNT | EDW_QCAP_DEPTH,
    .max_send_batch = 256,
    .max_recv_batch = 1024,
    .max_body_bytes = MAX_TEXT_BYTES,
    /* Two loops overlap their round trips: one leaves Azure idle while it waits for each
     * answer (Azurite: 89 % of its ceiling with one, 103 % with two; docs/BENCHMARKS.md). */
    .pref_pipelines = 2,
    .open = aq_open,
    .create = aq_create,
    .send = aq_send,
    .receive = aq_receive,
    .ack = aq_ack,
    .extend = aq_extend,
    .poison = aq_poison,
    .depth = aq_depth,
    .peek = aq_peek,
    .clear = aq_clear,
    .close = aq_close,
};
