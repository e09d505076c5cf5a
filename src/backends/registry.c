/* SPDX-License-Identifier: Apache-2.0 */
/* The backends. A plain table: with a handful of backends, generated registration would only
 * hide what is there. SQLite is built into the binary; the backends that talk HTTP live in
 * edw-net.so (see edw/module.h), loaded the first time one of them is asked for. */
#include <stddef.h>
#include <string.h>

#include "edw/backend.h"
#include "edw/log.h"
#include "edw/module.h"

extern const struct edw_queue_ops edw_sqlite_queue_ops;
extern const struct edw_store_ops edw_sqlite_store_ops;

static const struct edw_backend s_builtin[] = {
    {"sqlite", &edw_sqlite_queue_ops, &edw_sqlite_store_ops},
};
static const char *const s_in_net_module[] = {"azure", "aws"};

const struct edw_backend *edw_backend_find(const char *name)
{
    for (size_t i = 0; i < sizeof(s_builtin) / sizeof(s_builtin[0]); i++)
        if (strcmp(s_builtin[i].name, name) == 0)
            return &s_builtin[i];
    for (size_t i = 0; i < sizeof(s_in_net_module) / sizeof(s_in_net_module[0]); i++) {
        if (strcmp(s_in_net_module[i], name) != 0)
            continue;
        struct edw_error err = {0};
        const struct edw_net_module *m = edw_module_load("net", &err);
        if (!m) {
            edw_error("backend", "backend %s: %s", name, err.message);
            return NULL;
        }
        for (size_t j = 0; j < m->n_backends; j++)
            if (strcmp(m->backends[j].name, name) == 0)
                return &m->backends[j];
    }
    return NULL;
}

const char *edw_backend_names(void)
{
    return "sqlite|azure|aws";
}
