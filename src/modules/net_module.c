/* SPDX-License-Identifier: Apache-2.0 */
/* The descriptor of edw-net.so: the Azure and AWS backends and the Azure credential chain
 * (everything that needs libcurl, libcrypto or expat). Built into the module only. */
#include "edw/http.h"
#include "edw/module.h"

extern const struct edw_queue_ops edw_aws_sqs_ops;
extern const struct edw_store_ops edw_aws_dynamodb_ops;
extern const struct edw_queue_ops edw_azure_queue_ops;
extern const struct edw_store_ops edw_azure_table_ops;

static const struct edw_backend s_backends[] = {
    {"azure", &edw_azure_queue_ops, &edw_azure_table_ops},
    {"aws", &edw_aws_sqs_ops, &edw_aws_dynamodb_ops},
};

__attribute__((visibility("default"))) extern const struct edw_net_module EDW_MODULE_SYMBOL(net);
const struct edw_net_module EDW_MODULE_SYMBOL(net) = {
    .abi = EDW_MODULE_ABI,
    .version = EDW_VERSION,
    .backends = s_backends,
    .n_backends = sizeof(s_backends) / sizeof(s_backends[0]),
    .azure_cred_choose = edw_azure_cred_choose,
    .azure_cred_name = edw_azure_cred_name,
    .http_library = edw_http_library,
    .http_library_kind = edw_http_library_kind,
};
