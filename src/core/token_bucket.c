/* SPDX-License-Identifier: Apache-2.0 */
#include "edw/token_bucket.h"

void edw_token_bucket_init(struct edw_token_bucket *tb, double rate, double burst,
                           int64_t now_us)
{
    tb->rate = rate;
    tb->burst = burst < 1 ? 1 : burst;
    tb->tokens = 1; /* start with one so the first message goes out at once */
    tb->last_us = now_us;
}

size_t edw_token_bucket_take(struct edw_token_bucket *tb, size_t want, int64_t now_us,
                             int64_t *wait_us)
{
    *wait_us = 0;
    if (tb->rate <= 0)
        return want;
    if (now_us > tb->last_us) {
        tb->tokens += (double)(now_us - tb->last_us) * tb->rate / 1e6;
        if (tb->tokens > tb->burst)
            tb->tokens = tb->burst;
        tb->last_us = now_us;
    }
    size_t granted = tb->tokens >= (double)want ? want : (size_t)tb->tokens;
    if (granted == 0) {
        *wait_us = (int64_t)((1.0 - tb->tokens) * 1e6 / tb->rate) + 1;
        return 0;
    }
    tb->tokens -= (double)granted;
    return granted;
}
