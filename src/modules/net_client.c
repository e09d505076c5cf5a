/* SPDX-License-Identifier: Apache-2.0 */
/* The binary's side of edw-net.so: the Azure credential chain of edw/token.h and the HTTP
 * library's name, forwarded to the module (src/backends/registry.c loads it for the backends
 * themselves). */
#include "edw/buf.h"
#include "edw/module.h"

enum edw_azure_cred_kind edw_azure_cred_choose(const struct edw_config *cfg, struct edw_buf *why)
{
    struct edw_error err = {0};
    const struct edw_net_module *m = edw_module_load("net", &err);
    if (!m) {
        if (why && edw_buf_appendf(why, "%s", err.message) != EDW_OK)
            why->len = 0; /* out of room: no reason rather than half of one */
        return EDW_AZURE_CRED_NONE;
    }
    return m->azure_cred_choose(cfg, why);
}

const char *edw_azure_cred_name(enum edw_azure_cred_kind k)
{
    struct edw_error err = {0};
    const struct edw_net_module *m = edw_module_load("net", &err);
    return m ? m->azure_cred_name(k) : "unavailable";
}

const char *edw_net_http_library(bool runtime, struct edw_error *err)
{
    const struct edw_net_module *m = edw_module_load("net", err);
    return m ? m->http_library(runtime) : NULL;
}

const char *edw_net_http_library_kind(struct edw_error *err)
{
    const struct edw_net_module *m = edw_module_load("net", err);
    return m ? m->http_library_kind() : NULL;
}
