/* SPDX-License-Identifier: Apache-2.0 */
/* Token bucket for the producer's --rate. Pure: the caller passes the time. */
#ifndef EDW_TOKEN_BUCKET_H
#define EDW_TOKEN_BUCKET_H

#include <stddef.h>
#include <stdint.h>

struct edw_token_bucket {
    double rate;     /* tokens per second; <= 0 means unlimited */
    double burst;    /* most tokens held at once */
    double tokens;
    int64_t last_us; /* monotonic time of the last refill */
};

void edw_token_bucket_init(struct edw_token_bucket *tb, double rate, double burst,
                           int64_t now_us);

/* Take up to `want` whole tokens. Returns how many were granted (maybe 0); when 0, sets
 * `*wait_us` to the time until one token is available. */
size_t edw_token_bucket_take(struct edw_token_bucket *tb, size_t want, int64_t now_us,
                             int64_t *wait_us);

#endif
