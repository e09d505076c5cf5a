/* SPDX-License-Identifier: Apache-2.0 */
/* Handler factory: turns "record", "work:MS" or "exec:CMD" into a handler. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "edw/handler.h"

enum edw_err edw_handler_new(const char *spec, struct edw_handler **out, struct edw_error *err)
{
    *out = NULL;
    if (strcmp(spec, "record") == 0) {
        *out = edw_handler_record_new();
        return EDW_OK;
    }
    if (strncmp(spec, "work:", 5) == 0) {
        char *end = NULL;
        errno = 0;
        long ms = strtol(spec + 5, &end, 10);
        if (errno || end == spec + 5 || *end || ms < 0 || ms > 3600000)
            return edw_error_set(err, EDW_ERR_INVALID, "handler '%s': MS must be 0..3600000",
                                 spec);
        *out = edw_handler_work_new((unsigned)ms);
        return EDW_OK;
    }
    if (strncmp(spec, "exec:", 5) == 0 && spec[5]) {
        *out = edw_handler_exec_new(spec + 5);
        return EDW_OK;
    }
    return edw_error_set(err, EDW_ERR_INVALID,
                         "handler '%s': expected record, work:MS or exec:COMMAND", spec);
}

void edw_handler_destroy(struct edw_handler *h)
{
    if (h)
        h->destroy(h);
}

void edw_handler_result_cleanup(struct edw_handler_result *r)
{
    if (!r)
        return;
    free(r->data);
    memset(r, 0, sizeof(*r));
}
