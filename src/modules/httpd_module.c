/* SPDX-License-Identifier: Apache-2.0 */
/* The descriptor of edw-httpd.so: the metrics and probe endpoint (libmicrohttpd). Built into
 * the module only. */
#include "edw/module.h"

__attribute__((visibility("default"))) extern const struct edw_httpd_module
    EDW_MODULE_SYMBOL(httpd);
const struct edw_httpd_module EDW_MODULE_SYMBOL(httpd) = {
    .abi = EDW_MODULE_ABI,
    .version = EDW_VERSION,
    .start = edw_obs_server_start,
    .port = edw_obs_server_port,
    .stop = edw_obs_server_stop,
    .server_library = edw_obs_server_library,
    .server_library_kind = edw_obs_server_library_kind,
};
