/* SPDX-License-Identifier: Apache-2.0 */
/* `work:MS`: holds a worker slot for MS milliseconds, like a message that takes real work.
 * Used by scaling tests and the demo. Sleeps in short slices so shutdown can cancel it. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "edw/alloc.h"
#include "edw/handler.h"

struct work_state {
    unsigned work_ms;
};

static void run(const struct edw_handler *h, const struct edw_payload *p, const char *body,
                size_t body_len, const atomic_bool *cancel, struct edw_handler_result *out)
{
    (void)p;
    (void)body;
    (void)body_len;
    const struct work_state *st = h->state;
    unsigned left = st->work_ms;
    while (left > 0 && !atomic_load(cancel)) {
        unsigned slice = left < 20 ? left : 20;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)slice * 1000000L};
        nanosleep(&ts, NULL);
        left -= slice;
    }
    out->ok = left == 0;
    if (!out->ok)
        snprintf(out->error, sizeof(out->error), "cancelled by shutdown");
}

static void destroy(struct edw_handler *h)
{
    if (h)
        free(h->state);
    free(h);
}

struct edw_handler *edw_handler_work_new(unsigned work_ms)
{
    struct edw_handler *h = edw_xcalloc(1, sizeof(*h));
    struct work_state *st = edw_xcalloc(1, sizeof(*st));
    st->work_ms = work_ms;
    h->name = "work";
    h->blocking = work_ms > 0;
    h->run = run;
    h->destroy = destroy;
    h->state = st;
    return h;
}
