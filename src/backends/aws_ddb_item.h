/* SPDX-License-Identifier: Apache-2.0 */
/* DynamoDB item <-> edw row and run conversions (pure; unit-tested). Items carry the AWS
 * sample's attribute names: id (S), data, srcStamp, destStamp (S), messageProcessingTime and
 * dequeueCount (N). Private to src/backends. */
#ifndef EDW_AWS_DDB_ITEM_H
#define EDW_AWS_DDB_ITEM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "edw/store.h"

/* Run records share the result table under ids with this prefix ("edw-run#<run>"), plus
 * "edw-run#latest" naming the most recently started run. */
#define EDW_DDB_RUN_PREFIX "edw-run#"

/* The item for `r`. Text that is not valid UTF-8 (possible in exec handler output) has each
 * bad byte replaced by U+FFFD, since DynamoDB strings must be UTF-8. */
json_t *edw_ddb_item_from_row(const struct edw_row *r);

/* Fill `row` with strings borrowed from `item` (valid while it lives); false when `item` has
 * no string id. Missing attributes read as "" or 0. */
bool edw_ddb_row_from_item(const json_t *item, struct edw_row *row);

/* The S value of attribute `name`, or NULL. */
const char *edw_ddb_attr_s(const json_t *item, const char *name);
/* The item's id, or NULL. */
const char *edw_ddb_item_id(const json_t *item);
/* True for the run records (ids starting with EDW_DDB_RUN_PREFIX). */
bool edw_ddb_is_run_item(const json_t *item);

json_t *edw_ddb_run_item(const struct edw_run *run);
json_t *edw_ddb_latest_item(const struct edw_run *run);
bool edw_ddb_run_from_item(const json_t *item, struct edw_run *out);

/* A number as DynamoDB's N text. */
void edw_ddb_int_text(int64_t v, char out[24]);

#endif
