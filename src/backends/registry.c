/* SPDX-License-Identifier: Apache-2.0 */
/* The compiled-in backends. A plain table: with a handful of backends, generated
 * registration would only hide what is there. */
#include <stddef.h>
#include <string.h>

#include "edw/backend.h"

extern const struct edw_queue_ops edw_sqlite_queue_ops;
extern const struct edw_store_ops edw_sqlite_store_ops;
extern const struct edw_queue_ops edw_aws_sqs_ops;
extern const struct edw_store_ops edw_aws_dynamodb_ops;
extern const struct edw_queue_ops edw_azure_queue_ops;
extern const struct edw_store_ops edw_azure_table_ops;

static const struct edw_backend s_backends[] = {
    {"sqlite", &edw_sqlite_queue_ops, &edw_sqlite_store_ops},
    {"azure", &edw_azure_queue_ops, &edw_azure_table_ops},
    {"aws", &edw_aws_sqs_ops, &edw_aws_dynamodb_ops},
};

const struct edw_backend *edw_backend_find(const char *name)
{
    for (size_t i = 0; i < sizeof(s_backends) / sizeof(s_backends[0]); i++)
        if (strcmp(s_backends[i].name, name) == 0)
            return &s_backends[i];
    return NULL;
}

const char *edw_backend_names(void)
{
    return "sqlite|azure|aws";
}
