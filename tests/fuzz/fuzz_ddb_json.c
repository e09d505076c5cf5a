/* SPDX-License-Identifier: Apache-2.0 */
/* DynamoDB JSON replies as the store reads them: GetItem's Item, Scan's Items/Count/
 * LastEvaluatedKey, BatchWriteItem's UnprocessedItems, DescribeTable's TableStatus, and the
 * error body. Every item goes through the row and run converters; a row that converts has
 * its key and data. The reverse direction (row -> item) must always give valid JSON, whatever
 * bytes the row holds (exec handler output may be any bytes). */
#include "aws_common.h"
#include "aws_ddb_item.h"
#include "fuzz_common.h"

static void read_item(const json_t *item)
{
    struct edw_row row;
    if (edw_ddb_row_from_item(item, &row))
        FUZZ_CHECK(row.key && row.data && row.src_stamp && row.dest_stamp);
    struct edw_run run;
    if (edw_ddb_run_from_item(item, &run))
        FUZZ_CHECK(memchr(run.id, '\0', sizeof(run.id)) != NULL);
    (void)edw_ddb_is_run_item(item);
    (void)edw_ddb_item_id(item);
    (void)edw_ddb_attr_s(item, "data");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    const char *text = (const char *)data;
    json_t *j = json_loadb(text, size, 0, NULL);
    read_item(json_object_get(j, "Item"));
    read_item(j);
    json_t *items = json_object_get(j, "Items");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
        read_item(it);
    (void)json_integer_value(json_object_get(j, "Count"));
    read_item(json_object_get(j, "LastEvaluatedKey"));
    (void)edw_aws_jget(json_object_get(j, "Table"), "TableStatus");
    const char *tname;
    json_t *reqs;
    json_object_foreach(json_object_get(j, "UnprocessedItems"), tname, reqs)
    {
        json_array_foreach(reqs, i, it)
            read_item(json_object_get(json_object_get(it, "PutRequest"), "Item"));
    }
    json_decref(j);

    struct edw_error e = {0};
    FUZZ_CHECK(edw_aws_parse_error(400, NULL, text, size, &e) != EDW_OK);

    /* Arbitrary bytes as row text: the item must serialise. */
    char *s = fuzz_cstr(data, size);
    struct edw_row r = {s, s, s, s, 1.0, 1};
    json_t *item = edw_ddb_item_from_row(&r);
    FUZZ_CHECK(item != NULL);
    char *dump = json_dumps(item, JSON_COMPACT);
    FUZZ_CHECK(dump != NULL);
    free(dump);
    json_decref(item);
    struct edw_run run = {.started_us = size ? (int64_t)data[0] << 40 : -1, .sent = size};
    snprintf(run.id, sizeof(run.id), "%.63s", s);
    item = edw_ddb_run_item(&run);
    FUZZ_CHECK(item != NULL);
    struct edw_run back;
    (void)edw_ddb_run_from_item(item, &back);
    json_decref(item);
    free(s);
    return 0;
}
