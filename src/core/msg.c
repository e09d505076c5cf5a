/* SPDX-License-Identifier: Apache-2.0 */
/* Ownership helpers for received messages and batches. */
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"
#include "edw/queue.h"

void edw_msg_cleanup(struct edw_msg *m)
{
    if (!m)
        return;
    free(m->id);
    free(m->receipt);
    free(m->body);
    free(m->reason);
    memset(m, 0, sizeof(*m));
}

void edw_msg_move(struct edw_msg *dst, struct edw_msg *src)
{
    *dst = *src;
    memset(src, 0, sizeof(*src));
}

struct edw_msg *edw_msg_batch_add(struct edw_msg_batch *b)
{
    b->msgs = edw_xgrow(b->msgs, &b->cap, b->n + 1, sizeof(*b->msgs));
    struct edw_msg *m = &b->msgs[b->n++];
    memset(m, 0, sizeof(*m));
    return m;
}

void edw_msg_batch_cleanup(struct edw_msg_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        edw_msg_cleanup(&b->msgs[i]);
    free(b->msgs);
    memset(b, 0, sizeof(*b));
}
