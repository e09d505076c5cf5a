/* SPDX-License-Identifier: Apache-2.0 */
/* The DynamoDB store against the scripted transport: item layout, concurrent BatchWriteItem
 * calls, retry of UnprocessedItems only, duplicate keys, paginated parallel Scan, run records,
 * table creation; and the pure item conversions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>

#include "aws_common.h"
#include "aws_ddb_item.h"
#include "aws_fixture.h"
#include "edw/log.h"
#include "edw/shutdown.h"

extern const struct edw_store_ops edw_aws_dynamodb_ops;

/* A small DynamoDB: a JSON object of items by id, plus knobs. */
struct fake_ddb {
    json_t *items;           /* id -> item */
    int unprocessed_rounds;  /* BatchWriteItem leaves the last 2 puts unprocessed this often */
    int describe_creating;   /* DescribeTable says CREATING this many times */
    bool table_exists;
    bool latest_conflict;    /* the conditional put of edw-run#latest fails */
    size_t page_size;        /* Scan page size */
};

static void batch_write(struct fake_ddb *d, json_t *req, json_t **out)
{
    json_t *reqs = json_object_get(json_object_get(req, "RequestItems"), "results");
    size_t n = json_array_size(reqs), keep = n;
    if (d->unprocessed_rounds > 0 && n >= 2) {
        d->unprocessed_rounds--;
        keep = n - 2;
    }
    json_t *left = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(reqs, i);
        if (i >= keep) {
            json_array_append(left, r);
            continue;
        }
        json_t *item = json_object_get(json_object_get(r, "PutRequest"), "Item");
        json_object_set(d->items, edw_ddb_item_id(item), item);
    }
    *out = json_array_size(left) ? json_pack("{s:{s:o}}", "UnprocessedItems", "results", left)
                                 : json_pack("{s:{}}", "UnprocessedItems");
    if (!json_array_size(left))
        json_decref(left);
}

/* Segment s of TotalSegments t holds the ids whose position modulo t is s; pages of
 * `page_size`, LastEvaluatedKey = the index to continue from. */
static json_t *scan(struct fake_ddb *d, json_t *req)
{
    size_t seg = (size_t)json_integer_value(json_object_get(req, "Segment"));
    size_t total = (size_t)json_integer_value(json_object_get(req, "TotalSegments"));
    json_t *start = json_object_get(req, "ExclusiveStartKey");
    size_t from = start ? (size_t)atoi(edw_aws_jget(json_object_get(start, "id"), "S")) : 0;
    json_t *page = json_array();
    size_t pos = 0, next = 0;
    bool more = false;
    const char *key;
    json_t *item;
    json_object_foreach(d->items, key, item) {
        size_t p = pos++;
        if (p % total != seg || p < from)
            continue;
        if (json_array_size(page) == d->page_size) {
            more = true;
            next = p;
            break;
        }
        json_array_append(page, item);
    }
    json_t *out = json_pack("{s:o, s:I}", "Items", page, "Count",
                            (json_int_t)json_array_size(page));
    if (more) {
        char n[24];
        snprintf(n, sizeof(n), "%zu", next);
        json_object_set_new(out, "LastEvaluatedKey", json_pack("{s:{s:s}}", "id", "S", n));
    }
    return out;
}

static void ddb_handler(void *ctx, const struct fake_http_call *c, struct edw_http_response *resp)
{
    struct fake_ddb *d = ctx;
    const char *op = fixture_call_op(c);
    json_t *req = json_loads(c->body, 0, NULL);
    json_t *out = NULL;
    if (strcmp(op, "BatchWriteItem") == 0) {
        batch_write(d, req, &out);
    } else if (strcmp(op, "PutItem") == 0) {
        json_t *item = json_object_get(req, "Item");
        if (json_object_get(req, "ConditionExpression") && d->latest_conflict) {
            json_decref(req);
            fixture_reply_error(resp, 400,
                                "com.amazonaws.dynamodb.v20120810#"
                                "ConditionalCheckFailedException",
                                "The conditional request failed");
            return;
        }
        json_object_set(d->items, edw_ddb_item_id(item), item);
        out = json_object();
    } else if (strcmp(op, "GetItem") == 0) {
        const char *id = edw_aws_jget(json_object_get(json_object_get(req, "Key"), "id"), "S");
        json_t *item = json_object_get(d->items, id);
        out = item ? json_pack("{s:O}", "Item", item) : json_object();
    } else if (strcmp(op, "Scan") == 0) {
        out = scan(d, req);
    } else if (strcmp(op, "CreateTable") == 0 && d->table_exists) {
        json_decref(req);
        fixture_reply_error(resp, 400, "com.amazonaws.dynamodb.v20120810#ResourceInUseException",
                            "Table already exists: results");
        return;
    } else if (strcmp(op, "DescribeTable") == 0) {
        bool creating = d->describe_creating-- > 0;
        out = json_pack("{s:{s:s}}", "Table", "TableStatus", creating ? "CREATING" : "ACTIVE");
    } else {
        out = json_object();
    }
    json_decref(req);
    fixture_reply_json(resp, 200, out);
}

struct ddb_test {
    struct aws_fixture f;
    struct fake_ddb d;
    void *s;
};

static int setup(void **state)
{
    struct ddb_test *t = edw_xcalloc(1, sizeof(*t));
    fixture_init(&t->f);
    t->d.items = json_object();
    t->d.page_size = 1000;
    fake_http_set_handler(&t->f.http, ddb_handler, &t->d);
    struct edw_error e = {0};
    assert_int_equal(edw_aws_dynamodb_ops.open(&t->f.cfg, &t->f.deps, &t->s, &e), EDW_OK);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct ddb_test *t = *state;
    edw_aws_dynamodb_ops.close(t->s);
    json_decref(t->d.items);
    fixture_cleanup(&t->f);
    free(t);
    edw_shutdown_reset();
    return 0;
}

static char s_keys[100][32];

static struct edw_row *make_rows(size_t n, const char *prefix)
{
    struct edw_row *rows = edw_xcalloc(n, sizeof(*rows));
    for (size_t i = 0; i < n; i++) {
        snprintf(s_keys[i], sizeof(s_keys[i]), "%s-%zu", prefix, i + 1);
        rows[i] = (struct edw_row){s_keys[i], "Scale Test Message : COUNT 1",
                                   "2026-11-27 18:00:00.000000", "2026-11-27 18:00:00.250000",
                                   0.25, 1};
    }
    return rows;
}

static size_t count_op(const struct fake_http *h, const char *op)
{
    size_t n = 0;
    for (size_t i = 0; i < h->ncalls; i++)
        n += strcmp(fixture_op(h, i), op) == 0;
    return n;
}

static void upsert_batches_concurrently(void **state)
{
    struct ddb_test *t = *state;
    struct edw_row *rows = make_rows(60, "r1");
    struct edw_error e = {0};
    assert_int_equal(edw_aws_dynamodb_ops.upsert(t->s, rows, 60, &e), EDW_OK);
    assert_int_equal(t->f.http.ncalls, 3);
    assert_int_equal(t->f.http.performs, 1);
    assert_int_equal(json_object_size(t->d.items), 60);
    json_t *b = fixture_body(&t->f.http, 0);
    json_t *puts = json_object_get(json_object_get(b, "RequestItems"), "results");
    assert_int_equal(json_array_size(puts), 25);
    json_decref(b);
    free(rows);
}

static void upsert_retries_only_unprocessed(void **state)
{
    struct ddb_test *t = *state;
    t->d.unprocessed_rounds = 1; /* the first call of the first round leaves 2 behind */
    struct edw_row *rows = make_rows(10, "r2");
    struct edw_error e = {0};
    assert_int_equal(edw_aws_dynamodb_ops.upsert(t->s, rows, 10, &e), EDW_OK);
    assert_int_equal(t->f.http.ncalls, 2);
    json_t *b = fixture_body(&t->f.http, 1);
    json_t *puts = json_object_get(json_object_get(b, "RequestItems"), "results");
    assert_int_equal(json_array_size(puts), 2);
    json_decref(b);
    assert_int_equal(json_object_size(t->d.items), 10);
    assert_true(t->f.clock.slept_us >= 125000); /* backed off as for throttling */
    free(rows);
}

static void upsert_gives_up_when_never_processed(void **state)
{
    struct ddb_test *t = *state;
    t->d.unprocessed_rounds = 1000;
    struct edw_row *rows = make_rows(4, "r3");
    struct edw_error e = {0};
    assert_int_equal(edw_aws_dynamodb_ops.upsert(t->s, rows, 4, &e), EDW_ERR_THROTTLED);
    assert_non_null(strstr(e.message, "unprocessed"));
    assert_true(t->f.http.ncalls < 20);
    free(rows);
}

/* During a shutdown the unprocessed-items loop stops at the deadline like every retry loop
 * (edw/retry.h): past it, one round and no wait; the rows stay with the worker. */
static void upsert_stops_at_the_shutdown_deadline(void **state)
{
    struct ddb_test *t = *state;
    t->d.unprocessed_rounds = 1000;
    edw_shutdown_set_deadline(edw_clock_mono_us(&t->f.clock.clock) - 1);
    struct edw_row *rows = make_rows(4, "r5");
    struct edw_error e = {0};
    assert_int_equal(edw_aws_dynamodb_ops.upsert(t->s, rows, 4, &e), EDW_ERR_THROTTLED);
    assert_non_null(strstr(e.message, "shutting down"));
    assert_int_equal(t->f.http.ncalls, 1);
    assert_int_equal(t->f.clock.slept_us, 0);
    free(rows);
}

static void upsert_deduplicates_keys(void **state)
{
    struct ddb_test *t = *state;
    struct edw_row *rows = make_rows(3, "dup");
    rows[1].key = rows[0].key;
    rows[2].key = rows[0].key;
    rows[2].dequeue_count = 3;
    struct edw_error e = {0};
    assert_int_equal(edw_aws_dynamodb_ops.upsert(t->s, rows, 3, &e), EDW_OK);
    json_t *b = fixture_body(&t->f.http, 0);
    json_t *puts = json_object_get(json_object_get(b, "RequestItems"), "results");
    assert_int_equal(json_array_size(puts), 1);
    json_decref(b);
    json_t *item = json_object_get(t->d.items, "dup-1");
    assert_string_equal(edw_aws_jget(json_object_get(item, "dequeueCount"), "N"), "3");
    free(rows);
}

static bool collect(void *ctx, const struct edw_row *row)
{
    json_t *list = ctx;
    json_array_append_new(list, json_pack("{s:s, s:s, s:f, s:i}", "key", row->key, "data",
                                          row->data, "secs", row->processing_s, "count",
                                          (int)row->dequeue_count));
    return true;
}

static void scan_paginates_sorts_and_skips_runs(void **state)
{
    struct ddb_test *t = *state;
    t->d.page_size = 3;
    struct edw_row *rows = make_rows(40, "run9");
    struct edw_error e = {0};
    assert_int_equal(edw_aws_dynamodb_ops.upsert(t->s, rows, 40, &e), EDW_OK);
    struct edw_run run = {.started_us = 5, .sent = 40};
    snprintf(run.id, sizeof(run.id), "run9");
    assert_int_equal(edw_aws_dynamodb_ops.run_save(t->s, &run, &e), EDW_OK);
    size_t before = t->f.http.ncalls;
    json_t *got = json_array();
    assert_int_equal(edw_aws_dynamodb_ops.scan(t->s, "run9-", collect, got, &e), EDW_OK);
    assert_int_equal(json_array_size(got), 40); /* run records left out */
    for (size_t i = 1; i < 40; i++)
        assert_true(strcmp(edw_aws_jget(json_array_get(got, i - 1), "key"),
                           edw_aws_jget(json_array_get(got, i), "key")) < 0);
    json_t *first = json_array_get(got, 0);
    assert_string_equal(edw_aws_jget(first, "data"), "Scale Test Message : COUNT 1");
    assert_true(fabs(json_real_value(json_object_get(first, "secs")) - 0.25) < 1e-9);
    assert_int_equal(json_integer_value(json_object_get(first, "count")), 1);
    /* 4 segments x several pages, each page a new call */
    assert_true(t->f.http.ncalls - before > 4);
    json_t *req = fixture_body(&t->f.http, before);
    assert_string_equal(edw_aws_jget(req, "FilterExpression"), "begins_with(#k, :p)");
    assert_true(json_is_true(json_object_get(req, "ConsistentRead")));
    json_decref(req);
    json_decref(got);
    uint64_t n = 0;
    assert_int_equal(edw_aws_dynamodb_ops.count(t->s, &n, &e), EDW_OK);
    /* the fake ignores the filter, so Count includes both run items; the request carries it */
    assert_int_equal(n, 42);
    req = fixture_body(&t->f.http, t->f.http.ncalls - 1);
    assert_string_equal(edw_aws_jget(req, "Select"), "COUNT");
    assert_string_equal(edw_aws_jget(req, "FilterExpression"), "NOT begins_with(#k, :r)");
    json_decref(req);
    free(rows);
}

static void runs_save_and_load(void **state)
{
    struct ddb_test *t = *state;
    struct edw_run run = {.started_us = 1795802400000000LL, .finished_us = 0, .sent = 7};
    snprintf(run.id, sizeof(run.id), "r20261127-180000-abcd");
    struct edw_error e = {0};
    struct edw_run got;
    assert_int_equal(edw_aws_dynamodb_ops.run_load(t->s, NULL, &got, &e), EDW_ERR_NOT_FOUND);
    assert_non_null(strstr(e.message, "no run recorded"));
    assert_int_equal(edw_aws_dynamodb_ops.run_save(t->s, &run, &e), EDW_OK);
    assert_int_equal(t->f.http.max_batch, 2); /* run record and "latest" together */
    assert_non_null(json_object_get(t->d.items, "edw-run#r20261127-180000-abcd"));
    assert_non_null(json_object_get(t->d.items, "edw-run#latest"));
    run.sent = 9;
    run.finished_us = run.started_us + 5;
    t->d.latest_conflict = true; /* a newer run owns "latest": still a successful save */
    assert_int_equal(edw_aws_dynamodb_ops.run_save(t->s, &run, &e), EDW_OK);
    assert_int_equal(edw_aws_dynamodb_ops.run_load(t->s, NULL, &got, &e), EDW_OK);
    assert_string_equal(got.id, "r20261127-180000-abcd");
    assert_int_equal(got.sent, 9);
    assert_int_equal(got.started_us, 1795802400000000LL);
    assert_int_equal(got.finished_us, run.finished_us);
    assert_int_equal(edw_aws_dynamodb_ops.run_load(t->s, "r20261127-180000-abcd", &got, &e),
                     EDW_OK);
    assert_int_equal(edw_aws_dynamodb_ops.run_load(t->s, "nope", &got, &e), EDW_ERR_NOT_FOUND);
    assert_non_null(strstr(e.message, "no run 'nope'"));
}

static bool one_row(void *ctx, const struct edw_row *row)
{
    *(uint32_t *)ctx = row->dequeue_count;
    return true;
}

static void get_item(void **state)
{
    struct ddb_test *t = *state;
    struct edw_row *rows = make_rows(1, "g");
    rows[0].dequeue_count = 2;
    struct edw_error e = {0};
    assert_int_equal(edw_aws_dynamodb_ops.upsert(t->s, rows, 1, &e), EDW_OK);
    uint32_t count = 0;
    assert_int_equal(edw_aws_dynamodb_ops.get(t->s, "g-1", one_row, &count, &e), EDW_OK);
    assert_int_equal(count, 2);
    assert_int_equal(edw_aws_dynamodb_ops.get(t->s, "g-2", one_row, &count, &e),
                     EDW_ERR_NOT_FOUND);
    free(rows);
}

static void create_waits_for_active(void **state)
{
    struct ddb_test *t = *state;
    t->d.table_exists = true;
    t->d.describe_creating = 2;
    struct edw_error e = {0};
    assert_int_equal(edw_aws_dynamodb_ops.create(t->s, &e), EDW_OK);
    assert_int_equal(count_op(&t->f.http, "DescribeTable"), 3);
    assert_int_equal(t->f.clock.slept_us, 400000);
    json_t *b = fixture_body(&t->f.http, 0);
    assert_string_equal(fixture_op(&t->f.http, 0), "CreateTable");
    assert_string_equal(edw_aws_jget(b, "BillingMode"), "PAY_PER_REQUEST");
    json_t *key = json_array_get(json_object_get(b, "KeySchema"), 0);
    assert_string_equal(edw_aws_jget(key, "AttributeName"), "id");
    assert_string_equal(edw_aws_jget(key, "KeyType"), "HASH");
    json_decref(b);
}

static void item_layout(void **state)
{
    (void)state;
    struct edw_row r = {"k-1", "bad \xff utf8", "2026-11-27 18:00:00.000000",
                        "2026-11-27 18:00:01.500000", 1.5, 4};
    json_t *item = edw_ddb_item_from_row(&r);
    assert_int_equal(json_object_size(item), 6);
    assert_string_equal(edw_ddb_attr_s(item, "id"), "k-1");
    assert_string_equal(edw_ddb_attr_s(item, "data"), "bad \xef\xbf\xbd utf8");
    assert_string_equal(edw_ddb_attr_s(item, "destStamp"), "2026-11-27 18:00:01.500000");
    assert_string_equal(edw_aws_jget(json_object_get(item, "messageProcessingTime"), "N"),
                        "1.500000");
    assert_string_equal(edw_aws_jget(json_object_get(item, "dequeueCount"), "N"), "4");
    struct edw_row back;
    assert_true(edw_ddb_row_from_item(item, &back));
    assert_string_equal(back.key, "k-1");
    assert_int_equal(back.dequeue_count, 4);
    assert_true(fabs(back.processing_s - 1.5) < 1e-9);
    json_decref(item);
    r.processing_s = NAN;
    item = edw_ddb_item_from_row(&r);
    assert_string_equal(edw_aws_jget(json_object_get(item, "messageProcessingTime"), "N"),
                        "0.000000");
    json_decref(item);
    json_t *junk = json_pack("{s:{s:i}}", "id", "N", 1);
    assert_false(edw_ddb_row_from_item(junk, &back));
    json_decref(junk);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    g_edw_log_level = EDW_LOG_ERROR;
    const struct CMUnitTest tests[] = {
        T(upsert_batches_concurrently),
        T(upsert_retries_only_unprocessed),
        T(upsert_gives_up_when_never_processed),
        T(upsert_stops_at_the_shutdown_deadline),
        T(upsert_deduplicates_keys),
        T(scan_paginates_sorts_and_skips_runs),
        T(runs_save_and_load),
        T(get_item),
        T(create_waits_for_active),
        cmocka_unit_test(item_layout),
    };
    return cmocka_run_group_tests_name("aws_dynamodb", tests, NULL, NULL);
}
