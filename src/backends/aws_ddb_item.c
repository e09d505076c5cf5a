/* SPDX-License-Identifier: Apache-2.0 */
#include "aws_ddb_item.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_common.h"
#include "edw/alloc.h"

static json_t *attr_s(const char *s)
{
    return json_pack("{s:o}", "S", edw_aws_jstr_lossy(s ? s : "", s ? strlen(s) : 0));
}

static json_t *attr_n_text(const char *text)
{
    return json_pack("{s:s}", "N", text);
}

void edw_ddb_int_text(int64_t v, char out[24])
{
    snprintf(out, 24, "%lld", (long long)v);
}

static json_t *attr_int(int64_t v)
{
    char t[24];
    edw_ddb_int_text(v, t);
    return attr_n_text(t);
}

json_t *edw_ddb_item_from_row(const struct edw_row *r)
{
    char secs[64];
    /* DynamoDB numbers have no NaN or infinity; a broken clock must not lose the row. */
    snprintf(secs, sizeof(secs), "%.6f", isfinite(r->processing_s) ? r->processing_s : 0.0);
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "id", attr_s(r->key), "data",
                     attr_s(r->data), "srcStamp", attr_s(r->src_stamp), "destStamp",
                     attr_s(r->dest_stamp), "messageProcessingTime", attr_n_text(secs),
                     "dequeueCount", attr_int((int64_t)r->dequeue_count));
}

const char *edw_ddb_attr_s(const json_t *item, const char *name)
{
    json_t *v = json_object_get(json_object_get(item, name), "S");
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *attr_n(const json_t *item, const char *name)
{
    json_t *v = json_object_get(json_object_get(item, name), "N");
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool parse_i64(const char *s, int64_t *out)
{
    if (!s)
        return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

const char *edw_ddb_item_id(const json_t *item)
{
    return edw_ddb_attr_s(item, "id");
}

bool edw_ddb_is_run_item(const json_t *item)
{
    const char *id = edw_ddb_item_id(item);
    return id && strncmp(id, EDW_DDB_RUN_PREFIX, sizeof(EDW_DDB_RUN_PREFIX) - 1) == 0;
}

bool edw_ddb_row_from_item(const json_t *item, struct edw_row *row)
{
    const char *id = edw_ddb_item_id(item);
    if (!id)
        return false;
    const char *data = edw_ddb_attr_s(item, "data");
    const char *src = edw_ddb_attr_s(item, "srcStamp");
    const char *dest = edw_ddb_attr_s(item, "destStamp");
    const char *secs = attr_n(item, "messageProcessingTime");
    int64_t count = 0;
    row->key = id;
    row->data = data ? data : "";
    row->src_stamp = src ? src : "";
    row->dest_stamp = dest ? dest : "";
    row->processing_s = secs ? strtod(secs, NULL) : 0;
    row->dequeue_count = parse_i64(attr_n(item, "dequeueCount"), &count) && count > 0
                             ? (uint32_t)count
                             : 0;
    return true;
}

json_t *edw_ddb_run_item(const struct edw_run *run)
{
    char *id = edw_xasprintf(EDW_DDB_RUN_PREFIX "%s", run->id);
    json_t *item = json_pack("{s:o, s:o, s:o, s:o, s:o}", "id", attr_s(id), "runId",
                             attr_s(run->id), "startedUs", attr_int(run->started_us),
                             "finishedUs", attr_int(run->finished_us), "sent",
                             attr_int((int64_t)run->sent));
    free(id);
    return item;
}

json_t *edw_ddb_latest_item(const struct edw_run *run)
{
    return json_pack("{s:o, s:o, s:o}", "id", attr_s(EDW_DDB_RUN_PREFIX "latest"), "runId",
                     attr_s(run->id), "startedUs", attr_int(run->started_us));
}

bool edw_ddb_run_from_item(const json_t *item, struct edw_run *out)
{
    memset(out, 0, sizeof(*out));
    const char *id = edw_ddb_attr_s(item, "runId");
    int64_t started = 0, finished = 0, sent = 0;
    if (!id || strlen(id) >= sizeof(out->id) || !parse_i64(attr_n(item, "startedUs"), &started) ||
        !parse_i64(attr_n(item, "finishedUs"), &finished) ||
        !parse_i64(attr_n(item, "sent"), &sent) || sent < 0)
        return false;
    snprintf(out->id, sizeof(out->id), "%s", id);
    out->started_us = started;
    out->finished_us = finished;
    out->sent = (uint64_t)sent;
    return true;
}
