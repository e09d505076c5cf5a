/* SPDX-License-Identifier: Apache-2.0 */
/* Azure Table JSON: a query reply ({"value":[entities]}) or a single entity, and an
 * {"odata.error":...} body. Every entity handed to the callback has string keys; the
 * property accessors the backend uses (strings, numbers sent as strings) must cope with any
 * value type. */
#include "azure_common.h"
#include "fuzz_common.h"

static bool on_entity(void *ctx, const struct edw_azure_entity *e)
{
    FUZZ_CHECK(e->partition_key && e->row_key && e->json);
    static const char *const names[] = {"data", "srcStamp", "destStamp", "messageProcessingTime",
                                        "dequeueCount", "runId", "sent", "PartitionKey", ""};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        double d;
        (void)edw_azure_entity_str(e, names[i]);
        (void)edw_azure_entity_num(e, names[i], &d);
    }
    size_t *n = ctx;
    return ++*n < 1000; /* also exercise the early stop */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    const char *json = (const char *)data;
    size_t n = 0;
    struct edw_error err = {0};
    enum edw_err rc = edw_azure_parse_entities(json, size, on_entity, &n, &err);
    FUZZ_CHECK(rc == EDW_OK || rc == EDW_ERR_INVALID);
    char code[64], msg[200];
    edw_azure_parse_error_json(json, size, code, sizeof(code), msg, sizeof(msg));
    FUZZ_CHECK(strlen(code) < sizeof(code) && strlen(msg) < sizeof(msg));
    return 0;
}
