/* SPDX-License-Identifier: Apache-2.0 */
/* Backend registry: a name ("sqlite", "azure", "aws") to its queue and store classes. */
#ifndef EDW_BACKEND_H
#define EDW_BACKEND_H

#include "edw/queue.h"
#include "edw/store.h"

struct edw_backend {
    const char *name;
    const struct edw_queue_ops *queue;
    const struct edw_store_ops *store;
};

/* NULL when no backend of that name is compiled in. */
const struct edw_backend *edw_backend_find(const char *name);

/* "sqlite|azure|aws" style list of compiled-in backends, for messages. */
const char *edw_backend_names(void);

#endif
