/* SPDX-License-Identifier: Apache-2.0 */
/* The DynamoDB result store over the AWS JSON 1.0 protocol.
 *
 * Items use the AWS sample's layout: partition key `id` (S) = the message key, and the
 * attributes data, srcStamp, destStamp (S), messageProcessingTime and dequeueCount (N), so a
 * redelivered message overwrites its own item. Upserts go out as BatchWriteItem calls of 25
 * puts that run concurrently; UnprocessedItems are resent alone with backoff.
 *
 * Run records live in the same table under ids "edw-run#<run id>" (attributes runId, startedUs,
 * finishedUs, sent), plus one item "edw-run#latest" that names the most recently started run,
 * so `verify` finds the last run with two GetItem calls instead of a Scan. `count` and `scan`
 * leave these items out. `scan` and `count` read the whole table with a parallel Scan (4
 * segments, paginated): that costs read capacity proportional to the table size, which is
 * acceptable for verification runs but not for a hot path. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_common.h"
#include "aws_ddb_item.h"
#include "edw/alloc.h"
#include "edw/log.h"

#define DDB_MAX_BATCH 25
#define SCAN_SEGMENTS 4
#define TABLE_ACTIVE_WAIT_US (60 * 1000000LL)

struct ddb {
    struct edw_aws_client c;
    char *table;
};

static void ddb_close(void *state)
{
    struct ddb *d = state;
    if (!d)
        return;
    edw_aws_client_cleanup(&d->c);
    free(d->table);
    free(d);
}

static enum edw_err ddb_open(const struct edw_config *cfg, const struct edw_backend_deps *deps,
                             void **state_out, struct edw_error *err)
{
    *state_out = NULL;
    struct ddb *d = edw_xcalloc(1, sizeof(*d));
    enum edw_err rc = edw_aws_client_init(&d->c, cfg, deps, "dynamodb", err);
    if (rc) {
        ddb_close(d);
        return rc;
    }
    d->table = edw_xstrdup(cfg->table_name);
    *state_out = d;
    return EDW_OK;
}

/* ---- create ---- */

static enum edw_err table_status(struct ddb *d, char *status, size_t size, struct edw_error *err)
{
    json_t *out = NULL;
    enum edw_err rc = edw_aws_call_one(&d->c, "DescribeTable",
                                       json_pack("{s:s}", "TableName", d->table), 0, &out, err);
    const char *st = rc ? NULL : edw_aws_jget(json_object_get(out, "Table"), "TableStatus");
    snprintf(status, size, "%s", st ? st : "");
    json_decref(out);
    return rc;
}

static enum edw_err ddb_create(void *state, struct edw_error *err)
{
    struct ddb *d = state;
    json_t *in = json_pack("{s:s, s:[{s:s, s:s}], s:[{s:s, s:s}], s:s}", "TableName", d->table,
                           "AttributeDefinitions", "AttributeName", "id", "AttributeType", "S",
                           "KeySchema", "AttributeName", "id", "KeyType", "HASH", "BillingMode",
                           "PAY_PER_REQUEST");
    enum edw_err rc = edw_aws_call_one(&d->c, "CreateTable", in, 0, NULL, err);
    if (rc && err && strcmp(err->code, "ResourceInUseException") == 0) {
        edw_error_clear(err); /* it exists already: make sure it is usable */
        rc = EDW_OK;
    }
    /* A new table is CREATING for a while; writes before ACTIVE fail. */
    int64_t deadline = edw_clock_mono_us(d->c.clock) + TABLE_ACTIVE_WAIT_US;
    char status[32] = "";
    while (!rc) {
        rc = table_status(d, status, sizeof(status), err);
        if (rc || strcmp(status, "ACTIVE") == 0)
            break;
        if (edw_clock_mono_us(d->c.clock) > deadline)
            return edw_error_set(err, EDW_ERR_TRANSIENT,
                                 "DynamoDB table %s is still %s after 60 s", d->table, status);
        edw_clock_sleep_us(d->c.clock, 200000);
    }
    return rc;
}

/* ---- upsert ---- */

struct keyed {
    const char *key;
    size_t index;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* BatchWriteItem rejects a batch that names one key twice. Keep the last row per key (a
 * redelivered message written twice in one flush: both rows describe the same message). */
static size_t unique_rows(const struct edw_row *rows, size_t n, size_t *keep)
{
    struct keyed *k = edw_xcalloc(n ? n : 1, sizeof(*k));
    for (size_t i = 0; i < n; i++)
        k[i] = (struct keyed){rows[i].key, i};
    qsort(k, n, sizeof(*k), cmp_keyed);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (i + 1 == n || strcmp(k[i].key, k[i + 1].key) != 0)
            keep[m++] = k[i].index;
    free(k);
    return m;
}

static json_t *batch_request(const char *table, json_t *requests)
{
    return json_pack("{s:{s:o}}", "RequestItems", table, requests);
}

/* Send `pending` (an array of PutRequest wrappers) in calls of 25; whatever comes back
 * unprocessed is collected into a new array for the next round. */
static enum edw_err write_round(struct ddb *d, json_t *pending, json_t *unprocessed,
                                struct edw_error *err)
{
    size_t total = json_array_size(pending);
    size_t ncalls = (total + DDB_MAX_BATCH - 1) / DDB_MAX_BATCH;
    struct edw_aws_call *calls = edw_xcalloc(ncalls ? ncalls : 1, sizeof(*calls));
    for (size_t k = 0; k < ncalls; k++) {
        json_t *part = json_array();
        for (size_t i = k * DDB_MAX_BATCH; i < total && i < (k + 1) * DDB_MAX_BATCH; i++)
            json_array_append(part, json_array_get(pending, i));
        calls[k] = (struct edw_aws_call){.op = "BatchWriteItem",
                                         .in = batch_request(d->table, part)};
    }
    enum edw_err rc = edw_aws_call_many(&d->c, calls, ncalls);
    for (size_t k = 0; k < ncalls; k++) {
        if (calls[k].rc == EDW_OK) {
            json_t *left = json_object_get(json_object_get(calls[k].out, "UnprocessedItems"),
                                           d->table);
            if (left)
                json_array_extend(unprocessed, left);
        } else if (err && !err->message[0]) {
            *err = calls[k].err;
        }
        edw_aws_call_cleanup(&calls[k]);
    }
    free(calls);
    return rc;
}

static enum edw_err ddb_upsert(void *state, const struct edw_row *rows, size_t n,
                               struct edw_error *err)
{
    struct ddb *d = state;
    size_t *keep = edw_xcalloc(n ? n : 1, sizeof(*keep));
    size_t m = unique_rows(rows, n, keep);
    json_t *pending = json_array();
    for (size_t i = 0; i < m; i++)
        json_array_append_new(pending,
                              json_pack("{s:{s:o}}", "PutRequest", "Item",
                                        edw_ddb_item_from_row(&rows[keep[i]])));
    free(keep);
    enum edw_err rc = EDW_OK;
    int64_t start_us = edw_clock_mono_us(d->c.clock);
    for (unsigned attempt = 0; !rc && json_array_size(pending) > 0; attempt++) {
        json_t *unprocessed = json_array();
        rc = write_round(d, pending, unprocessed, err);
        json_decref(pending);
        pending = unprocessed;
        if (rc || json_array_size(pending) == 0)
            break;
        if (attempt + 1 >= d->c.retry.max_attempts + 3) {
            rc = edw_error_set(err, EDW_ERR_THROTTLED,
                               "DynamoDB BatchWriteItem: %zu item(s) still unprocessed after %u "
                               "rounds",
                               json_array_size(pending), attempt + 1);
            break;
        }
        /* Unprocessed items mean the table is at its capacity: back off as for throttling. */
        enum edw_retry_verdict v = edw_aws_backoff(&d->c, attempt, true, start_us);
        if (v != EDW_RETRY_GO) {
            rc = edw_error_set(err, EDW_ERR_THROTTLED,
                               "DynamoDB BatchWriteItem: %zu item(s) still unprocessed after %u "
                               "round(s) (%s)",
                               json_array_size(pending), attempt + 1,
                               v == EDW_RETRY_SHUTDOWN ? "shutting down" : "out of time");
            break;
        }
        edw_aws_note_retries(&d->c, "BatchWriteItem", json_array_size(pending),
                             EDW_ERR_THROTTLED);
        edw_info("dynamodb", "BatchWriteItem: retrying %zu unprocessed item(s)",
                 json_array_size(pending));
    }
    json_decref(pending);
    return rc;
}

/* ---- get, scan, count ---- */

static enum edw_err get_item(struct ddb *d, const char *key, json_t **item_out,
                             struct edw_error *err)
{
    json_t *out = NULL;
    json_t *in = json_pack("{s:s, s:{s:{s:s}}, s:b}", "TableName", d->table, "Key", "id", "S",
                           key, "ConsistentRead", 1);
    enum edw_err rc = edw_aws_call_one(&d->c, "GetItem", in, 0, &out, err);
    json_t *item = rc ? NULL : json_object_get(out, "Item");
    *item_out = item ? json_incref(item) : NULL;
    json_decref(out);
    if (!rc && !item)
        rc = EDW_ERR_NOT_FOUND;
    return rc;
}

static enum edw_err ddb_get(void *state, const char *key, edw_row_fn *fn, void *ctx,
                            struct edw_error *err)
{
    struct ddb *d = state;
    json_t *item = NULL;
    enum edw_err rc = get_item(d, key, &item, err);
    if (rc == EDW_ERR_NOT_FOUND)
        return edw_error_set(err, rc, "no row with key '%s'", key);
    struct edw_row row;
    if (!rc && edw_ddb_row_from_item(item, &row))
        fn(ctx, &row);
    json_decref(item);
    return rc;
}

/* A paginated, parallel Scan. `base` is the request without segment and start key; every
 * page's Items are appended to `items` and its Count added to `*count`. */
static enum edw_err scan_all(struct ddb *d, const json_t *base, json_t *items, uint64_t *count,
                             struct edw_error *err)
{
    json_t *start[SCAN_SEGMENTS] = {0};
    bool done[SCAN_SEGMENTS] = {0};
    size_t left = SCAN_SEGMENTS;
    enum edw_err rc = EDW_OK;
    while (left > 0 && !rc) {
        struct edw_aws_call calls[SCAN_SEGMENTS];
        size_t seg_of[SCAN_SEGMENTS], n = 0;
        for (size_t s = 0; s < SCAN_SEGMENTS; s++) {
            if (done[s])
                continue;
            json_t *in = json_deep_copy(base);
            json_object_set_new(in, "Segment", json_integer((json_int_t)s));
            json_object_set_new(in, "TotalSegments", json_integer(SCAN_SEGMENTS));
            if (start[s])
                json_object_set(in, "ExclusiveStartKey", start[s]);
            calls[n] = (struct edw_aws_call){.op = "Scan", .in = in};
            seg_of[n++] = s;
        }
        rc = edw_aws_call_many(&d->c, calls, n);
        for (size_t i = 0; i < n; i++) {
            size_t s = seg_of[i];
            if (!rc) {
                json_t *page = json_object_get(calls[i].out, "Items");
                if (page)
                    json_array_extend(items, page);
                json_t *c = json_object_get(calls[i].out, "Count");
                *count += json_is_integer(c) ? (uint64_t)json_integer_value(c) : 0;
                json_t *next = json_object_get(calls[i].out, "LastEvaluatedKey");
                json_decref(start[s]);
                start[s] = next ? json_incref(next) : NULL;
                if (!next) {
                    done[s] = true;
                    left--;
                }
            } else if (calls[i].rc && err) {
                *err = calls[i].err;
            }
            edw_aws_call_cleanup(&calls[i]);
        }
    }
    for (size_t s = 0; s < SCAN_SEGMENTS; s++)
        json_decref(start[s]);
    return rc;
}

static int cmp_item_id(const void *a, const void *b)
{
    const char *x = edw_ddb_item_id(*(json_t *const *)a);
    const char *y = edw_ddb_item_id(*(json_t *const *)b);
    return strcmp(x ? x : "", y ? y : "");
}

static enum edw_err ddb_scan(void *state, const char *prefix, edw_row_fn *fn, void *ctx,
                             struct edw_error *err)
{
    struct ddb *d = state;
    json_t *base = json_pack("{s:s, s:b}", "TableName", d->table, "ConsistentRead", 1);
    if (*prefix)
        json_object_update_new(base, json_pack("{s:s, s:{s:s}, s:{s:{s:s}}}", "FilterExpression",
                                               "begins_with(#k, :p)", "ExpressionAttributeNames",
                                               "#k", "id", "ExpressionAttributeValues", ":p",
                                               "S", prefix));
    json_t *items = json_array();
    uint64_t count = 0;
    enum edw_err rc = scan_all(d, base, items, &count, err);
    json_decref(base);
    /* The interface promises key order; a Scan returns hash order. */
    size_t n = json_array_size(items);
    json_t **sorted = edw_xcalloc(n ? n : 1, sizeof(*sorted));
    for (size_t i = 0; i < n; i++)
        sorted[i] = json_array_get(items, i);
    qsort(sorted, n, sizeof(*sorted), cmp_item_id);
    for (size_t i = 0; i < n && !rc; i++) {
        struct edw_row row;
        if (edw_ddb_is_run_item(sorted[i]) || !edw_ddb_row_from_item(sorted[i], &row))
            continue;
        if (!fn(ctx, &row))
            break;
    }
    free(sorted);
    json_decref(items);
    return rc;
}

static enum edw_err ddb_count(void *state, uint64_t *out, struct edw_error *err)
{
    struct ddb *d = state;
    json_t *base = json_pack("{s:s, s:s, s:s, s:{s:s}, s:{s:{s:s}}}", "TableName", d->table,
                             "Select", "COUNT", "FilterExpression", "NOT begins_with(#k, :r)",
                             "ExpressionAttributeNames", "#k", "id",
                             "ExpressionAttributeValues", ":r", "S", EDW_DDB_RUN_PREFIX);
    json_t *items = json_array();
    *out = 0;
    enum edw_err rc = scan_all(d, base, items, out, err);
    json_decref(items);
    json_decref(base);
    return rc;
}

/* ---- runs ---- */

static enum edw_err ddb_run_save(void *state, const struct edw_run *run, struct edw_error *err)
{
    struct ddb *d = state;
    char started[24];
    edw_ddb_int_text(run->started_us, started);
    struct edw_aws_call calls[2] = {
        {.op = "PutItem",
         .in = json_pack("{s:s, s:o}", "TableName", d->table, "Item", edw_ddb_run_item(run))},
        /* Only a run that started later may take over "latest". */
        {.op = "PutItem",
         .in = json_pack("{s:s, s:o, s:s, s:{s:s, s:s}, s:{s:{s:s}}}", "TableName", d->table,
                         "Item", edw_ddb_latest_item(run), "ConditionExpression",
                         "attribute_not_exists(#k) OR #s <= :s", "ExpressionAttributeNames",
                         "#k", "id", "#s", "startedUs", "ExpressionAttributeValues", ":s", "N",
                         started)},
    };
    enum edw_err rc = edw_aws_call_many(&d->c, calls, 2);
    if (calls[0].rc)
        rc = calls[0].rc;
    else if (calls[1].rc == EDW_ERR_CONFLICT)
        rc = EDW_OK; /* a newer run is "latest" already */
    if (rc && err)
        *err = calls[0].rc ? calls[0].err : calls[1].err;
    edw_aws_call_cleanup(&calls[0]);
    edw_aws_call_cleanup(&calls[1]);
    return rc;
}

static enum edw_err ddb_run_load(void *state, const char *id, struct edw_run *out,
                                 struct edw_error *err)
{
    struct ddb *d = state;
    json_t *item = NULL;
    enum edw_err rc = EDW_OK;
    char *run_id = id ? edw_xstrdup(id) : NULL;
    if (!run_id) {
        rc = get_item(d, EDW_DDB_RUN_PREFIX "latest", &item, err);
        const char *latest = rc ? NULL : edw_ddb_attr_s(item, "runId");
        run_id = latest ? edw_xstrdup(latest) : NULL;
        json_decref(item);
        item = NULL;
        if (rc == EDW_ERR_NOT_FOUND || (!rc && !run_id)) {
            free(run_id);
            return edw_error_set(err, EDW_ERR_NOT_FOUND, "no run recorded in table %s yet",
                                 d->table);
        }
    }
    char *key = edw_xasprintf(EDW_DDB_RUN_PREFIX "%s", run_id ? run_id : "");
    if (!rc)
        rc = get_item(d, key, &item, err);
    if (rc == EDW_ERR_NOT_FOUND)
        edw_error_set(err, rc, "no run '%s' in table %s", run_id, d->table);
    if (!rc && !edw_ddb_run_from_item(item, out))
        rc = edw_error_set(err, EDW_ERR_FATAL, "run record %s in table %s is malformed", key,
                           d->table);
    free(key);
    free(run_id);
    json_decref(item);
    return rc;
}

const struct edw_store_ops edw_aws_dynamodb_ops = {
    .name = "aws",
    .max_upsert_batch = 250,
    .open = ddb_open,
    .create = ddb_create,
    .upsert = ddb_upsert,
    .get = ddb_get,
    .scan = ddb_scan,
    .count = ddb_count,
    .run_save = ddb_run_save,
    .run_load = ddb_run_load,
    .close = ddb_close,
};
