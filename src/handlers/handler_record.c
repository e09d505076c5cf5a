/* SPDX-License-Identifier: Apache-2.0 */
/* `record`: the reference samples' behaviour. The worker stores the message text with the
 * time stamps; there is nothing else to do, so it runs inline without a thread. */
#include <stdlib.h>

#include "edw/alloc.h"
#include "edw/handler.h"

static void run(const struct edw_handler *h, const struct edw_payload *p, const char *body,
                size_t body_len, const atomic_bool *cancel, struct edw_handler_result *out)
{
    (void)h;
    (void)p;
    (void)body;
    (void)body_len;
    (void)cancel;
    out->ok = true;
    out->data = NULL;
}

static void destroy(struct edw_handler *h)
{
    free(h);
}

struct edw_handler *edw_handler_record_new(void)
{
    struct edw_handler *h = edw_xcalloc(1, sizeof(*h));
    h->name = "record";
    h->blocking = false;
    h->run = run;
    h->destroy = destroy;
    return h;
}
