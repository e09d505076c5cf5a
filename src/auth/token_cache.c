/* SPDX-License-Identifier: Apache-2.0 */
/* The token cache: fetch once, refresh ahead of expiry, one refresher at a time.
 *
 * A caller that finds the token due for refresh becomes the refresher if nobody else is; it
 * fetches without holding the lock, so other callers keep getting the still-valid token
 * meanwhile (callers with no valid token wait for the refresher instead of piling onto the
 * token endpoint). A failed refresh keeps the valid token and tries again after a backoff
 * (1 s doubling to 30 s by default); with no valid token the last error is returned until the
 * backoff has passed, so a broken endpoint is not hammered by every request. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"
#include "edw/health.h"
#include "edw/log.h"
#include "edw/metrics.h"
#include "edw/token.h"

#define LONG_LIVED_US (2LL * 3600 * 1000000) /* refresh these at half-life */

struct token_cache {
    struct edw_token_source *inner;
    const struct edw_clock *clock;
    struct edw_token_cache_options o;
    pthread_mutex_t lock;
    pthread_cond_t done;
    struct edw_token token; /* value NULL: none */
    int64_t refresh_at_us;  /* wall clock */
    bool refreshing;
    unsigned failures;   /* consecutive */
    int64_t next_try_us; /* after a failure */
    enum edw_err last_rc;
    struct edw_error last_err;
};

static void cache_destroy(void *state)
{
    struct token_cache *c = state;
    edw_token_cleanup(&c->token);
    edw_token_source_unref(c->inner);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->done);
    free(c);
}

static void cache_invalidate(void *state)
{
    struct token_cache *c = state;
    pthread_mutex_lock(&c->lock);
    edw_token_cleanup(&c->token);
    c->refresh_at_us = 0;
    c->next_try_us = 0; /* the service rejected it: fetch at once */
    pthread_mutex_unlock(&c->lock);
}

/* When to refresh a token fetched at `now_us`. */
static int64_t refresh_time(const struct token_cache *c, const struct edw_token *t, int64_t now_us)
{
    if (t->refresh_at_us > now_us)
        return t->refresh_at_us;
    int64_t life = t->expires_at_us - now_us;
    if (life > LONG_LIVED_US || life < 2 * c->o.skew_us)
        return now_us + life / 2;
    return t->expires_at_us - c->o.skew_us;
}

static bool usable(const struct token_cache *c, int64_t now_us)
{
    return c->token.value && now_us + c->o.min_valid_us < c->token.expires_at_us;
}

static int64_t backoff(const struct token_cache *c)
{
    int64_t d = c->o.backoff_base_us;
    for (unsigned i = 1; i < c->failures && d < c->o.backoff_cap_us; i++)
        d *= 2;
    return d < c->o.backoff_cap_us ? d : c->o.backoff_cap_us;
}

static enum edw_err cache_get(void *state, int64_t now_us, struct edw_token *out,
                              struct edw_error *err)
{
    struct token_cache *c = state;
    enum edw_err rc = EDW_OK;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        bool valid = usable(c, now_us);
        bool due = !valid || now_us >= c->refresh_at_us;
        if (!due || (valid && (c->refreshing || now_us < c->next_try_us)))
            break; /* use what we have */
        if (!valid && !c->refreshing && now_us < c->next_try_us && c->last_rc) {
            rc = c->last_rc; /* backing off: report the last failure */
            if (err)
                *err = c->last_err;
            break;
        }
        if (c->refreshing) { /* no valid token: wait for the refresher */
            pthread_cond_wait(&c->done, &c->lock);
            now_us = edw_clock_wall_us(c->clock);
            continue;
        }
        c->refreshing = true;
        if (!c->token.value && c->o.report_health)
            edw_health_set_credentials(EDW_CRED_PENDING);
        pthread_mutex_unlock(&c->lock);
        struct edw_token fresh = {0};
        struct edw_error ferr = {0};
        enum edw_err frc = edw_token_source_get(c->inner, now_us, &fresh, &ferr);
        pthread_mutex_lock(&c->lock);
        c->refreshing = false;
        pthread_cond_broadcast(&c->done);
        if (c->o.report_health)
            edw_metrics_token_refresh(frc == EDW_OK);
        if (!frc) {
            edw_token_cleanup(&c->token);
            c->token = fresh;
            c->refresh_at_us = refresh_time(c, &fresh, now_us);
            c->failures = 0;
            c->next_try_us = 0;
            c->last_rc = EDW_OK;
            if (c->o.report_health)
                edw_health_set_credentials(EDW_CRED_OK);
            edw_info("identity", "%s: got an access token valid for %lld s, refreshing in %lld s",
                     edw_token_source_kind(c->inner),
                     (long long)((fresh.expires_at_us - now_us) / 1000000),
                     (long long)((c->refresh_at_us - now_us) / 1000000));
            break;
        }
        c->failures++;
        c->next_try_us = now_us + backoff(c);
        c->last_rc = frc;
        c->last_err = ferr;
        valid = usable(c, now_us);
        if (c->o.report_health)
            edw_health_set_credentials(valid ? EDW_CRED_OK : EDW_CRED_FAILED);
        if (valid) {
            edw_warn("identity",
                     "refreshing the %s token failed (%s); using the cached token, "
                     "retrying in %lld ms",
                     edw_token_source_kind(c->inner), ferr.message,
                     (long long)((c->next_try_us - now_us) / 1000));
            break;
        }
        edw_warn("identity", "getting a %s token failed: %s (next attempt in %lld ms)",
                 edw_token_source_kind(c->inner), ferr.message,
                 (long long)((c->next_try_us - now_us) / 1000));
        rc = frc;
        if (err)
            *err = ferr;
        break;
    }
    if (!rc)
        edw_token_copy(out, &c->token);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

static const struct edw_token_source_ops s_cache_ops = {
    .kind = "cache",
    .get = cache_get,
    .invalidate = cache_invalidate,
    .destroy = cache_destroy,
};

struct edw_token_source *edw_token_cache_new(struct edw_token_source *inner,
                                             const struct edw_clock *clock,
                                             const struct edw_token_cache_options *o)
{
    struct token_cache *c = edw_xcalloc(1, sizeof(*c));
    c->inner = edw_token_source_ref(inner);
    c->clock = clock;
    if (o)
        c->o = *o;
    if (c->o.skew_us <= 0)
        c->o.skew_us = 300LL * 1000000;
    if (c->o.min_valid_us <= 0)
        c->o.min_valid_us = 5LL * 1000000;
    if (c->o.backoff_base_us <= 0)
        c->o.backoff_base_us = 1000000;
    if (c->o.backoff_cap_us <= 0)
        c->o.backoff_cap_us = 30LL * 1000000;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->done, NULL);
    return edw_token_source_new(&s_cache_ops, c);
}
