/* SPDX-License-Identifier: Apache-2.0 */
/* The SQS queue over the AWS JSON 1.0 protocol.
 *
 * Latency is hidden inside each call: a receive of more than 10 messages issues several
 * ReceiveMessage calls at once, and ack, extend and send split into 10-entry batch calls that
 * run concurrently on the transport's keep-alive pool. When the previous receive found
 * nothing, the next one long-polls (one call, `sqs-wait` seconds) instead of spinning.
 *
 * Entries of a batch call that fail on the service's side (SenderFault false) are retried
 * alone with backoff; ReceiptHandleIsInvalid / MessageNotInflight mean the lease is lost
 * (EDW_ERR_CONFLICT). Requests always go to the configured endpoint: the host inside a
 * QueueUrl is only an identifier (emulators put unresolvable names there). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_common.h"
#include "aws_crypto.h"
#include "aws_sqs_parse.h"
#include "edw/alloc.h"
#include "edw/log.h"
#include "edw/timefmt.h"

#define SQS_MAX_ENTRIES 10
#define SQS_MAX_BATCH_BYTES (256u * 1024u) /* per call; the conservative historical limit */
#define SQS_MAX_BODY (256u * 1024u)
#define POISON_RETENTION_S "1209600" /* 14 days, the SQS maximum: quarantine is for humans */

struct sqs {
    struct edw_aws_client c;
    char *name;        /* the queue's name */
    char *url;         /* SQS_QUEUE_URL, or looked up on first use */
    char *poison_name; /* <name>-poison, or the redrive policy's dead-letter queue */
    char *poison_url;
    bool redrive_checked, has_redrive;
    unsigned wait_s;
    bool last_empty;       /* the last receive found nothing */
    int64_t last_poll_us;  /* monotonic time of the last ReceiveMessage round */
    uint64_t leased;       /* messages handed out and not yet acked, released or poisoned */
};

/* While the worker still holds leased messages it calls receive every few milliseconds; an
 * empty queue is then polled at most this often (a long poll would stall its acks). */
#define BUSY_EMPTY_POLL_US 100000

static void sqs_close(void *state)
{
    struct sqs *s = state;
    if (!s)
        return;
    edw_aws_client_cleanup(&s->c);
    free(s->name);
    free(s->url);
    free(s->poison_name);
    free(s->poison_url);
    free(s);
}

static enum edw_err sqs_open(const struct edw_config *cfg, const struct edw_backend_deps *deps,
                             void **state_out, struct edw_error *err)
{
    *state_out = NULL;
    struct sqs *s = edw_xcalloc(1, sizeof(*s));
    enum edw_err rc = edw_aws_client_init(&s->c, cfg, deps, "sqs", err);
    if (rc) {
        sqs_close(s);
        return rc;
    }
    if (cfg->sqs_queue_url && *cfg->sqs_queue_url) {
        s->url = edw_xstrdup(cfg->sqs_queue_url);
        s->name = edw_sqs_queue_name_from_url(s->url);
        if (!s->name) {
            sqs_close(s);
            return edw_error_set(err, EDW_ERR_INVALID,
                                 "SQS_QUEUE_URL '%s' does not end in a queue name",
                                 cfg->sqs_queue_url);
        }
    } else {
        s->name = edw_xstrdup(cfg->queue_name);
    }
    s->poison_name = edw_xasprintf("%s-poison", s->name);
    s->wait_s = (unsigned)cfg->sqs_wait_s;
    s->last_empty = true;
    *state_out = s;
    return EDW_OK;
}

/* ---- queue URLs and the redrive policy ---- */

static enum edw_err get_queue_url(struct sqs *s, const char *name, char **url_out,
                                  struct edw_error *err)
{
    json_t *out = NULL;
    enum edw_err rc = edw_aws_call_one(&s->c, "GetQueueUrl", json_pack("{s:s}", "QueueName", name),
                                       0, &out, err);
    if (rc == EDW_ERR_NOT_FOUND)
        edw_error_set(err, rc, "SQS queue '%s' does not exist (create it with `edw queue create`)",
                      name);
    const char *url = rc ? NULL : edw_aws_jget(out, "QueueUrl");
    if (!rc && !url)
        rc = edw_error_set(err, EDW_ERR_FATAL, "SQS GetQueueUrl: no QueueUrl in the response");
    *url_out = url ? edw_xstrdup(url) : NULL;
    json_decref(out);
    return rc;
}

static enum edw_err ensure_url(struct sqs *s, struct edw_error *err)
{
    return s->url ? EDW_OK : get_queue_url(s, s->name, &s->url, err);
}

/* Learn once whether SQS moves poison itself (a RedrivePolicy), and where it moves it. */
static enum edw_err check_redrive(struct sqs *s, struct edw_error *err)
{
    if (s->redrive_checked)
        return EDW_OK;
    json_t *out = NULL;
    enum edw_err rc = ensure_url(s, err);
    if (!rc)
        rc = edw_aws_call_one(&s->c, "GetQueueAttributes",
                              json_pack("{s:s, s:[s]}", "QueueUrl", s->url, "AttributeNames",
                                        "RedrivePolicy"),
                              0, &out, err);
    if (rc)
        return rc;
    const char *policy = edw_aws_jget(json_object_get(out, "Attributes"), "RedrivePolicy");
    char *dlq = policy ? edw_sqs_redrive_target(policy) : NULL;
    if (dlq) {
        s->has_redrive = true;
        free(s->poison_name);
        s->poison_name = dlq;
        edw_info("sqs", "queue %s has a redrive policy: SQS moves poison messages to %s",
                 s->name, dlq);
    }
    s->redrive_checked = true;
    json_decref(out);
    return EDW_OK;
}

static enum edw_err create_queue(struct sqs *s, const char *name, bool poison, char **url_out,
                                 struct edw_error *err)
{
    json_t *in = json_pack("{s:s}", "QueueName", name);
    if (poison)
        json_object_set_new(in, "Attributes",
                            json_pack("{s:s}", "MessageRetentionPeriod", POISON_RETENTION_S));
    json_t *out = NULL;
    enum edw_err rc = edw_aws_call_one(&s->c, "CreateQueue", in, 0, &out, err);
    if (rc && err && (strcmp(err->code, "QueueAlreadyExists") == 0 ||
                      strcmp(err->code, "QueueNameExists") == 0))
        return get_queue_url(s, name, url_out, err); /* exists with other attributes: fine */
    const char *url = rc ? NULL : edw_aws_jget(out, "QueueUrl");
    if (!rc && !url)
        rc = edw_error_set(err, EDW_ERR_FATAL, "SQS CreateQueue: no QueueUrl in the response");
    *url_out = url ? edw_xstrdup(url) : NULL;
    json_decref(out);
    return rc;
}

static enum edw_err ensure_poison_url(struct sqs *s, bool create, struct edw_error *err)
{
    enum edw_err rc = check_redrive(s, err);
    if (rc || s->poison_url)
        return rc;
    rc = get_queue_url(s, s->poison_name, &s->poison_url, err);
    if (rc == EDW_ERR_NOT_FOUND && create && !s->has_redrive)
        rc = create_queue(s, s->poison_name, true, &s->poison_url, err);
    return rc;
}

static enum edw_err sqs_create(void *state, struct edw_error *err)
{
    struct sqs *s = state;
    enum edw_err rc = EDW_OK;
    if (!s->url)
        rc = create_queue(s, s->name, false, &s->url, err);
    if (!rc)
        rc = check_redrive(s, err);
    if (!rc && !s->has_redrive && !s->poison_url)
        rc = create_queue(s, s->poison_name, true, &s->poison_url, err);
    return rc;
}

/* ---- batch calls with per-entry retry ---- */

/* A batch action over `n` items, 10 entries (and SQS_MAX_BATCH_BYTES) per call. */
struct batch {
    const char *op;  /* "DeleteMessageBatch", ... */
    const char *url; /* the queue */
    size_t n;
    /* the entry for item i (without "Id"), and its size for the byte limit */
    json_t *(*entry)(const struct batch *b, size_t i);
    size_t (*bytes)(const struct batch *b, size_t i);
    /* optional check of a Successful entry (send: the MD5 of the body) */
    bool (*check)(const struct batch *b, size_t i, const json_t *ok);
    const void *items;
    unsigned visibility_s;
    enum edw_err *results; /* n entries: EDW_OK or the item's error */
};

/* Group `pending` items into calls: at most 10 entries and SQS_MAX_BATCH_BYTES each. */
static size_t make_calls(const struct batch *b, const size_t *pending, size_t np,
                         struct edw_aws_call *calls, size_t **members, size_t *counts)
{
    size_t ncalls = 0, k = 0;
    while (k < np) {
        json_t *entries = json_array();
        size_t bytes = 0, m = 0;
        members[ncalls] = edw_xcalloc(SQS_MAX_ENTRIES, sizeof(size_t));
        while (k < np && m < SQS_MAX_ENTRIES) {
            size_t i = pending[k], sz = b->bytes ? b->bytes(b, i) : 0;
            if (m > 0 && bytes + sz > SQS_MAX_BATCH_BYTES)
                break;
            json_t *e = b->entry(b, i);
            char id[32];
            snprintf(id, sizeof(id), "e%zu", i);
            json_object_set_new(e, "Id", json_string(id));
            json_array_append_new(entries, e);
            members[ncalls][m++] = i;
            bytes += sz;
            k++;
        }
        calls[ncalls] = (struct edw_aws_call){.op = b->op};
        calls[ncalls].in = json_pack("{s:s, s:o}", "QueueUrl", b->url, "Entries", entries);
        counts[ncalls++] = m;
    }
    return ncalls;
}

/* Read one call's Successful/Failed lists into results; failed-but-retryable items are
 * appended to `again`; `err` describes the last item that failed for good. */
static void take_batch_result(const struct batch *b, const struct edw_aws_call *call,
                              const size_t *members, size_t m, size_t *again, size_t *nagain,
                              struct edw_error *err)
{
    if (call->rc) {
        for (size_t j = 0; j < m; j++)
            b->results[members[j]] = call->rc;
        if (err)
            *err = call->err;
        return;
    }
    for (size_t j = 0; j < m; j++) {
        size_t i = members[j];
        char id[32];
        snprintf(id, sizeof(id), "e%zu", i);
        const json_t *ok = edw_sqs_batch_ok(call->out, id);
        struct edw_sqs_batch_failure failure;
        const struct edw_sqs_batch_failure *f =
            edw_sqs_batch_failed(call->out, id, &failure) ? &failure : NULL;
        if (ok && (!b->check || b->check(b, i, ok))) {
            b->results[i] = EDW_OK;
        } else if (ok) {
            b->results[i] = edw_error_set(err, EDW_ERR_TRANSIENT,
                                          "SQS %s: checksum mismatch for entry %s", b->op, id);
            again[(*nagain)++] = i;
        } else if (f && !f->sender_fault && edw_aws_classify(500, f->code) != EDW_ERR_CONFLICT) {
            b->results[i] = EDW_ERR_TRANSIENT;
            again[(*nagain)++] = i;
        } else {
            enum edw_err e = f ? edw_aws_classify(400, f->code) : EDW_ERR_FATAL;
            b->results[i] = e;
            if (e != EDW_ERR_CONFLICT)
                edw_error_set(err, e, "SQS %s: %s: %s", b->op, f ? f->code : "no result",
                              f ? f->message : "the entry is in neither list");
        }
    }
}

/* Run the batch action; results[] gets every item's outcome. Returns EDW_OK when every item
 * is EDW_OK or EDW_ERR_CONFLICT, else the first other error. */
static enum edw_err run_batch(struct sqs *s, const struct batch *b, struct edw_error *err)
{
    size_t *pending = edw_xcalloc(b->n ? b->n : 1, sizeof(size_t));
    size_t *again = edw_xcalloc(b->n ? b->n : 1, sizeof(size_t));
    struct edw_aws_call *calls = edw_xcalloc(b->n ? b->n : 1, sizeof(*calls));
    size_t **members = edw_xcalloc(b->n ? b->n : 1, sizeof(size_t *));
    size_t *counts = edw_xcalloc(b->n ? b->n : 1, sizeof(size_t));
    size_t np = b->n;
    for (size_t i = 0; i < np; i++)
        pending[i] = i;
    int64_t start_us = edw_clock_mono_us(s->c.clock);
    for (unsigned attempt = 0; np > 0; attempt++) {
        size_t ncalls = make_calls(b, pending, np, calls, members, counts);
        enum edw_err ignored = edw_aws_call_many(&s->c, calls, ncalls);
        (void)ignored; /* per-call results are read below */
        size_t nagain = 0;
        for (size_t k = 0; k < ncalls; k++) {
            take_batch_result(b, &calls[k], members[k], counts[k], again, &nagain, err);
            edw_aws_call_cleanup(&calls[k]);
            free(members[k]);
        }
        if (nagain == 0 || attempt + 1 >= s->c.retry.max_attempts)
            break;
        /* The failed entries keep their (retryable) results when the time is up. */
        if (edw_aws_backoff(&s->c, attempt, false, start_us) != EDW_RETRY_GO)
            break;
        memcpy(pending, again, nagain * sizeof(size_t));
        np = nagain;
        edw_aws_note_retries(&s->c, b->op, nagain, EDW_ERR_TRANSIENT);
        edw_info("sqs", "%s: retrying %zu entr%s the service failed", b->op, nagain,
                 nagain == 1 ? "y" : "ies");
    }
    enum edw_err rc = EDW_OK;
    for (size_t i = 0; i < b->n && !rc; i++)
        if (b->results[i] != EDW_OK && b->results[i] != EDW_ERR_CONFLICT)
            rc = b->results[i];
    if (rc && err && !err->message[0])
        edw_error_set(err, rc, "SQS %s failed", b->op);
    free(pending);
    free(again);
    free(calls);
    free(members);
    free(counts);
    return rc;
}

/* ---- send ---- */

static json_t *send_entry(const struct batch *b, size_t i)
{
    const struct edw_str *bodies = b->items;
    return json_pack("{s:o}", "MessageBody", edw_aws_jstr(bodies[i].ptr, bodies[i].len));
}

static size_t send_bytes(const struct batch *b, size_t i)
{
    return ((const struct edw_str *)b->items)[i].len;
}

static bool send_check(const struct batch *b, size_t i, const json_t *ok)
{
    const struct edw_str *body = &((const struct edw_str *)b->items)[i];
    const char *md5 = edw_aws_jget(ok, "MD5OfMessageBody");
    char mine[33];
    edw_aws_md5_hex(body->ptr, body->len, mine);
    return !md5 || strcmp(md5, mine) == 0; /* absent: nothing to compare */
}

static enum edw_err sqs_send(void *state, const struct edw_str *bodies, size_t n,
                             struct edw_error *err)
{
    struct sqs *s = state;
    for (size_t i = 0; i < n; i++) {
        if (bodies[i].len > SQS_MAX_BODY)
            return edw_error_set(err, EDW_ERR_INVALID,
                                 "message of %zu bytes is larger than the SQS limit of %u",
                                 bodies[i].len, SQS_MAX_BODY);
        json_t *probe = edw_aws_jstr(bodies[i].ptr, bodies[i].len);
        if (!probe)
            return edw_error_set(err, EDW_ERR_INVALID,
                                 "message is not valid UTF-8 (SQS accepts text only)");
        json_decref(probe);
    }
    enum edw_err rc = ensure_url(s, err);
    if (rc)
        return rc;
    enum edw_err *results = edw_xcalloc(n ? n : 1, sizeof(*results));
    struct batch b = {.op = "SendMessageBatch", .url = s->url, .n = n, .entry = send_entry,
                      .bytes = send_bytes, .check = send_check, .items = bodies,
                      .results = results};
    rc = run_batch(s, &b, err);
    free(results);
    return rc;
}

/* ---- receive ---- */

static json_t *receive_request(const char *url, size_t max, unsigned visibility_s,
                               unsigned wait_s)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:[s,s], s:[s,s], s:[s]}", "QueueUrl", url,
                     "MaxNumberOfMessages", (json_int_t)max, "VisibilityTimeout",
                     (json_int_t)visibility_s, "WaitTimeSeconds", (json_int_t)wait_s,
                     "MessageSystemAttributeNames", "ApproximateReceiveCount", "SentTimestamp",
                     /* the pre-2023 name, for services and emulators that only know it */
                     "AttributeNames", "ApproximateReceiveCount", "SentTimestamp",
                     /* poison copies that did not fit an envelope carry the reason here */
                     "MessageAttributeNames", "All");
}

/* Issue `ncalls` ReceiveMessage calls at once against `url`; append what they return. */
static enum edw_err receive_many(struct sqs *s, const char *url, size_t max, unsigned vis,
                                 unsigned wait_s, struct edw_msg_batch *out,
                                 struct edw_error *err)
{
    size_t ncalls = (max + SQS_MAX_ENTRIES - 1) / SQS_MAX_ENTRIES;
    struct edw_aws_call *calls = edw_xcalloc(ncalls ? ncalls : 1, sizeof(*calls));
    for (size_t k = 0; k < ncalls; k++) {
        size_t want = max - k * SQS_MAX_ENTRIES;
        calls[k].op = "ReceiveMessage";
        calls[k].in = receive_request(url, want < SQS_MAX_ENTRIES ? want : SQS_MAX_ENTRIES, vis,
                                      wait_s);
        calls[k].timeout_ms = ((long)wait_s + 15) * 1000;
    }
    enum edw_err first = edw_aws_call_many(&s->c, calls, ncalls);
    size_t before = out->n;
    for (size_t k = 0; k < ncalls; k++) {
        if (calls[k].rc == EDW_OK) {
            size_t bad = edw_sqs_parse_messages(calls[k].out, out);
            if (bad)
                edw_warn("sqs", "%zu received message(s) failed their MD5 check; left for "
                                "redelivery", bad);
        } else if (err) {
            *err = calls[k].err;
        }
        edw_aws_call_cleanup(&calls[k]);
    }
    free(calls);
    /* Messages leased by the calls that worked are handed out even if another call failed. */
    return out->n > before ? EDW_OK : first;
}

/* How to poll, from what this instance has seen:
 *   - the last receive returned messages: several short polls at once (up to `max`);
 *   - it returned none and nothing is leased (the worker is idle): one long poll of
 *     `sqs-wait` seconds, which returns as soon as a message arrives;
 *   - it returned none but the worker still holds leases (handlers running, acks to come):
 *     one short poll, at most every BUSY_EMPTY_POLL_US, so the worker is never stalled. */
static enum edw_err sqs_receive(void *state, size_t max, unsigned visibility_s,
                                struct edw_msg_batch *out, struct edw_error *err)
{
    struct sqs *s = state;
    enum edw_err rc = ensure_url(s, err);
    if (rc || max == 0)
        return rc;
    int64_t now = edw_clock_mono_us(s->c.clock);
    size_t before = out->n, one = max < SQS_MAX_ENTRIES ? max : SQS_MAX_ENTRIES;
    if (!s->last_empty)
        rc = receive_many(s, s->url, max, visibility_s, 0, out, err);
    else if (s->leased == 0)
        rc = receive_many(s, s->url, one, visibility_s, s->wait_s, out, err);
    else if (now - s->last_poll_us >= BUSY_EMPTY_POLL_US)
        rc = receive_many(s, s->url, one, visibility_s, 0, out, err);
    else
        return EDW_OK;
    s->last_poll_us = now;
    s->last_empty = out->n == before;
    s->leased += out->n - before;
    return rc;
}

static void unlease(struct sqs *s, size_t n)
{
    s->leased = s->leased > n ? s->leased - n : 0;
}

/* ---- ack, extend ---- */

static json_t *delete_entry(const struct batch *b, size_t i)
{
    struct edw_msg *const *msgs = b->items;
    return json_pack("{s:s}", "ReceiptHandle", msgs[i]->receipt ? msgs[i]->receipt : "");
}

static json_t *visibility_entry(const struct batch *b, size_t i)
{
    struct edw_msg *const *msgs = b->items;
    return json_pack("{s:s, s:I}", "ReceiptHandle", msgs[i]->receipt ? msgs[i]->receipt : "",
                     "VisibilityTimeout", (json_int_t)b->visibility_s);
}

static enum edw_err sqs_ack(void *state, struct edw_msg *const *msgs, size_t n,
                            enum edw_err *results, struct edw_error *err)
{
    struct sqs *s = state;
    enum edw_err rc = ensure_url(s, err);
    if (rc)
        return rc;
    struct batch b = {.op = "DeleteMessageBatch", .url = s->url, .n = n, .entry = delete_entry,
                      .items = msgs, .results = results};
    rc = run_batch(s, &b, err);
    if (!rc) /* on failure the worker keeps the messages and acks again later */
        unlease(s, n);
    return rc;
}

static enum edw_err sqs_extend(void *state, struct edw_msg *const *msgs, size_t n,
                               unsigned visibility_s, enum edw_err *results,
                               struct edw_error *err)
{
    struct sqs *s = state;
    enum edw_err rc = ensure_url(s, err);
    if (rc)
        return rc;
    struct batch b = {.op = "ChangeMessageVisibilityBatch", .url = s->url, .n = n,
                      .entry = visibility_entry, .items = msgs,
                      .visibility_s = visibility_s > 43200 ? 43200 : visibility_s,
                      .results = results};
    if (visibility_s == 0) /* a release: the worker lets go of these whatever happens */
        unlease(s, n);
    return run_batch(s, &b, err);
}

/* ---- poison ---- */

static enum edw_err change_visibility(struct sqs *s, const struct edw_msg *m, unsigned vis,
                                      struct edw_error *err)
{
    return edw_aws_call_one(&s->c, "ChangeMessageVisibility",
                            json_pack("{s:s, s:s, s:I}", "QueueUrl", s->url, "ReceiptHandle",
                                      m->receipt ? m->receipt : "", "VisibilityTimeout",
                                      (json_int_t)vis),
                            0, NULL, err);
}

static enum edw_err sqs_poison(void *state, const struct edw_msg *m, const char *reason,
                               struct edw_error *err)
{
    struct sqs *s = state;
    unlease(s, 1); /* whatever the outcome, the worker lets go of it */
    enum edw_err rc = ensure_url(s, err);
    if (!rc)
        rc = check_redrive(s, err);
    if (rc)
        return rc;
    if (s->has_redrive) {
        /* SQS moves it to the dead-letter queue once maxReceiveCount is reached; giving the
         * lease back now gets it there soonest. The reason only goes to our log. */
        return change_visibility(s, m, 0, err);
    }
    /* Prove we still hold the lease before copying anything, so a lost lease moves nothing. */
    rc = change_visibility(s, m, 60, err);
    if (!rc)
        rc = ensure_poison_url(s, true, err);
    if (rc)
        return rc;
    char stamp[EDW_STAMP_LEN + 1];
    edw_stamp_format(edw_clock_wall_us(s->c.clock), stamp);
    json_t *send = edw_sqs_poison_message(s->poison_url, m, s->name, reason, stamp,
                                          SQS_MAX_BODY);
    rc = edw_aws_call_one(&s->c, "SendMessage", send, 0, NULL, err);
    if (!rc)
        rc = edw_aws_call_one(&s->c, "DeleteMessage",
                              json_pack("{s:s, s:s}", "QueueUrl", s->url, "ReceiptHandle",
                                        m->receipt ? m->receipt : ""),
                              0, NULL, err);
    if (rc == EDW_ERR_CONFLICT)
        edw_warn("sqs", "message %s: lease lost while moving it to %s; a copy may be there "
                        "already", m->id ? m->id : "?", s->poison_name);
    return rc;
}

/* ---- depth, peek, clear ---- */

static json_t *depth_request(const char *url)
{
    return json_pack("{s:s, s:[s,s]}", "QueueUrl", url, "AttributeNames",
                     "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible");
}

static enum edw_err sqs_depth(void *state, struct edw_queue_depth *out, struct edw_error *err)
{
    struct sqs *s = state;
    memset(out, 0, sizeof(*out));
    enum edw_err rc = ensure_url(s, err);
    if (rc)
        return rc;
    /* The poison count is a courtesy: a missing poison queue, or a role that may not read
     * it (KEDA's needs only the main queue), reads as 0 instead of failing the depth. */
    struct edw_error perr = {0};
    enum edw_err prc = ensure_poison_url(s, false, &perr);
    if (prc && prc != EDW_ERR_NOT_FOUND && prc != EDW_ERR_AUTH)
        return edw_error_set(err, prc, "%s", perr.message);
    struct edw_aws_call calls[2] = {{.op = "GetQueueAttributes", .in = depth_request(s->url)}};
    size_t n = 1;
    if (s->poison_url)
        calls[n++] = (struct edw_aws_call){.op = "GetQueueAttributes",
                                           .in = depth_request(s->poison_url)};
    enum edw_err ignored = edw_aws_call_many(&s->c, calls, n);
    (void)ignored;
    rc = calls[0].rc;
    if (!rc) {
        json_t *a = json_object_get(calls[0].out, "Attributes");
        out->visible = edw_sqs_attr_u64(a, "ApproximateNumberOfMessages");
        out->in_flight = edw_sqs_attr_u64(a, "ApproximateNumberOfMessagesNotVisible");
        if (n == 2 && calls[1].rc == EDW_OK) {
            json_t *p = json_object_get(calls[1].out, "Attributes");
            out->poison = edw_sqs_attr_u64(p, "ApproximateNumberOfMessages") +
                          edw_sqs_attr_u64(p, "ApproximateNumberOfMessagesNotVisible");
        } else if (n == 2) {
            edw_debug("sqs", "poison count unavailable: %s", calls[1].err.message);
        }
    } else if (err) {
        *err = calls[0].err;
    }
    for (size_t i = 0; i < n; i++)
        edw_aws_call_cleanup(&calls[i]);
    return rc;
}

/* SQS has no peek: a receive with VisibilityTimeout 0 leaves the messages visible, but it
 * does count as a receive (ApproximateReceiveCount goes up), so peek reads at most 10. */
static enum edw_err sqs_peek(void *state, bool poison, size_t max, struct edw_msg_batch *out,
                             struct edw_error *err)
{
    struct sqs *s = state;
    enum edw_err rc = ensure_url(s, err);
    if (!rc && poison)
        rc = ensure_poison_url(s, false, err);
    if (rc)
        return rc == EDW_ERR_NOT_FOUND && poison ? EDW_OK : rc;
    /* One call (at most 10): every extra call would count as one more receive. */
    size_t first = out->n;
    rc = receive_many(s, poison ? s->poison_url : s->url,
                      max == 0 ? 1 : max < SQS_MAX_ENTRIES ? max : SQS_MAX_ENTRIES, 0, 0, out,
                      err);
    edw_sqs_dedupe(out, first); /* concurrent calls may see the same visible message */
    if (poison)
        for (size_t i = first; i < out->n; i++)
            edw_sqs_unwrap_poison(&out->msgs[i]);
    return rc;
}

static enum edw_err sqs_clear(void *state, bool poison, struct edw_error *err)
{
    struct sqs *s = state;
    enum edw_err rc = ensure_url(s, err);
    if (!rc && poison)
        rc = ensure_poison_url(s, false, err);
    if (rc)
        return rc;
    return edw_aws_call_one(&s->c, "PurgeQueue",
                            json_pack("{s:s}", "QueueUrl", poison ? s->poison_url : s->url), 0,
                            NULL, err);
}

const struct edw_queue_ops edw_aws_sqs_ops = {
    .name = "aws",
    .caps = EDW_QCAP_EXTEND | EDW_QCAP_DEQUEUE_COUNT | EDW_QCAP_DEPTH,
    .max_send_batch = 100,
    .max_recv_batch = 100,
    .max_body_bytes = SQS_MAX_BODY,
    .pref_pipelines = 2, /* two loops overlap their round trips (docs/BENCHMARKS.md) */
    .open = sqs_open,
    .create = sqs_create,
    .send = sqs_send,
    .receive = sqs_receive,
    .ack = sqs_ack,
    .extend = sqs_extend,
    .poison = sqs_poison,
    .depth = sqs_depth,
    .peek = sqs_peek,
    .clear = sqs_clear,
    .close = sqs_close,
};
