/* SPDX-License-Identifier: Apache-2.0 */
#include "aws_sqs_parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_common.h"
#include "aws_crypto.h"
#include "edw/alloc.h"

char *edw_sqs_queue_name_from_url(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL; /* the path */
    if (!p)
        return NULL;
    size_t len = strcspn(p, "?#");
    while (len > 0 && p[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && p[start - 1] != '/')
        start--;
    return len > start ? edw_xstrndup(p + start, len - start) : NULL;
}

char *edw_sqs_redrive_target(const char *policy_json)
{
    json_t *j = json_loads(policy_json, 0, NULL);
    const char *arn = j ? edw_aws_jget(j, "deadLetterTargetArn") : NULL;
    const char *colon = arn ? strrchr(arn, ':') : NULL;
    char *name = colon && colon[1] ? edw_xstrdup(colon + 1) : NULL;
    json_decref(j);
    return name;
}

static uint64_t parse_u64(const char *s)
{
    if (!s || *s < '0' || *s > '9')
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    return errno || *end ? 0 : (uint64_t)v;
}

uint64_t edw_sqs_attr_u64(const json_t *attrs, const char *name)
{
    json_t *v = json_object_get(attrs, name);
    if (json_is_integer(v))
        return json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
    return parse_u64(json_is_string(v) ? json_string_value(v) : NULL);
}

/* StringValue of a message attribute, or NULL. */
static const char *msg_attr(const json_t *msg, const char *name)
{
    return edw_aws_jget(json_object_get(json_object_get(msg, "MessageAttributes"), name),
                        "StringValue");
}

static bool take_message(const json_t *j, struct edw_msg *m)
{
    const char *id = edw_aws_jget(j, "MessageId");
    const char *receipt = edw_aws_jget(j, "ReceiptHandle");
    json_t *body = json_object_get(j, "Body");
    if (!id || !receipt || !json_is_string(body))
        return false;
    const char *md5 = edw_aws_jget(j, "MD5OfBody");
    if (md5) {
        char mine[33];
        edw_aws_md5_hex(json_string_value(body), json_string_length(body), mine);
        if (strcmp(md5, mine) != 0)
            return false;
    }
    json_t *attrs = json_object_get(j, "Attributes");
    m->id = edw_xstrdup(id);
    m->receipt = edw_xstrdup(receipt);
    m->body_len = json_string_length(body);
    m->body = edw_xstrndup(json_string_value(body), m->body_len);
    m->dequeue_count = (uint32_t)edw_sqs_attr_u64(attrs, "ApproximateReceiveCount");
    m->enqueued_us = (int64_t)edw_sqs_attr_u64(attrs, "SentTimestamp") * 1000;
    const char *reason = msg_attr(j, "edw-reason");
    if (reason)
        m->reason = edw_xstrdup(reason);
    return true;
}

size_t edw_sqs_parse_messages(const json_t *resp, struct edw_msg_batch *out)
{
    json_t *list = json_object_get(resp, "Messages");
    size_t i, bad = 0;
    json_t *j;
    json_array_foreach(list, i, j) {
        struct edw_msg m = {0};
        if (take_message(j, &m)) {
            edw_msg_move(edw_msg_batch_add(out), &m);
        } else {
            edw_msg_cleanup(&m);
            bad++;
        }
    }
    return bad;
}

static const json_t *find_id(const json_t *list, const char *id)
{
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        const char *eid = edw_aws_jget(e, "Id");
        if (eid && strcmp(eid, id) == 0)
            return e;
    }
    return NULL;
}

const json_t *edw_sqs_batch_ok(const json_t *resp, const char *id)
{
    return find_id(json_object_get(resp, "Successful"), id);
}

bool edw_sqs_batch_failed(const json_t *resp, const char *id, struct edw_sqs_batch_failure *f)
{
    const json_t *e = find_id(json_object_get(resp, "Failed"), id);
    if (!e)
        return false;
    const char *code = edw_aws_jget(e, "Code");
    const char *msg = edw_aws_jget(e, "Message");
    f->code = code ? code : "";
    f->message = msg ? msg : "";
    f->sender_fault = json_is_true(json_object_get(e, "SenderFault"));
    return true;
}

static json_t *lossy(const char *s)
{
    return edw_aws_jstr_lossy(s ? s : "", s ? strlen(s) : 0);
}

static json_t *str_attr(const char *type, json_t *value)
{
    return json_pack("{s:s, s:o}", "DataType", type, "StringValue", value);
}

json_t *edw_sqs_poison_message(const char *poison_url, const struct edw_msg *m,
                               const char *queue, const char *reason, const char *stamp,
                               size_t max_body)
{
    json_t *body = edw_aws_jstr(m->body ? m->body : "", m->body ? m->body_len : 0);
    if (!body) /* cannot happen for a body SQS delivered, but never lose it: keep the bytes */
        body = json_string("");
    json_t *env = json_pack("{s:o, s:I, s:o, s:o, s:s, s:O}", "reason", lossy(reason),
                            "receiveCount", (json_int_t)m->dequeue_count, "messageId",
                            lossy(m->id), "sourceQueue", lossy(queue), "poisonedAt", stamp,
                            "body", body);
    char *text = json_dumps(env, JSON_COMPACT);
    json_t *req;
    if (text && strlen(text) <= max_body) {
        req = json_pack("{s:s, s:s}", "QueueUrl", poison_url, "MessageBody", text);
    } else {
        char count[24];
        snprintf(count, sizeof(count), "%u", m->dequeue_count);
        req = json_pack("{s:s, s:O, s:{s:o, s:o, s:o, s:o}}", "QueueUrl", poison_url,
                        "MessageBody", body, "MessageAttributes", "edw-reason",
                        str_attr("String", lossy(reason)), "edw-receive-count",
                        str_attr("Number", json_string(count)), "edw-message-id",
                        str_attr("String", lossy(m->id)), "edw-source-queue",
                        str_attr("String", lossy(queue)));
    }
    free(text);
    json_decref(env);
    json_decref(body);
    return req;
}

void edw_sqs_unwrap_poison(struct edw_msg *m)
{
    json_t *env = m->body ? json_loadb(m->body, m->body_len, 0, NULL) : NULL;
    const char *reason = env ? edw_aws_jget(env, "reason") : NULL;
    json_t *body = json_object_get(env, "body");
    const char *id = env ? edw_aws_jget(env, "messageId") : NULL;
    if (reason && id && json_is_string(body)) {
        free(m->reason);
        m->reason = edw_xstrdup(reason);
        free(m->id);
        m->id = edw_xstrdup(id);
        free(m->body);
        m->body_len = json_string_length(body);
        m->body = edw_xstrndup(json_string_value(body), m->body_len);
        json_t *count = json_object_get(env, "receiveCount");
        if (json_is_integer(count))
            m->dequeue_count = (uint32_t)json_integer_value(count);
    }
    json_decref(env);
}

void edw_sqs_dedupe(struct edw_msg_batch *b, size_t first)
{
    size_t k = first;
    for (size_t i = first; i < b->n; i++) {
        bool seen = false;
        for (size_t j = first; j < k && !seen; j++)
            seen = strcmp(b->msgs[j].id, b->msgs[i].id) == 0;
        if (seen)
            edw_msg_cleanup(&b->msgs[i]);
        else if (k != i)
            edw_msg_move(&b->msgs[k++], &b->msgs[i]);
        else
            k++;
    }
    b->n = k;
}
