/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"
#include "fake_queue.h"

struct fake_store *g_fake_store;

static enum edw_err fs_open(const struct edw_config *cfg, const struct edw_backend_deps *deps,
                            void **state_out, struct edw_error *err)
{
    (void)cfg;
    (void)deps;
    (void)err;
    struct fake_store *s = edw_xcalloc(1, sizeof(*s));
    g_fake_store = s;
    *state_out = s;
    return EDW_OK;
}

static void fs_close(void *state)
{
    struct fake_store *s = state;
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->rows[i].key);
        free(s->rows[i].data);
    }
    free(s->rows);
    if (g_fake_store == s)
        g_fake_store = NULL;
    free(s);
}

const struct fake_row *fake_store_find(const struct fake_store *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->rows[i].key, key) == 0)
            return &s->rows[i];
    return NULL;
}

static enum edw_err fs_create(void *state, struct edw_error *err)
{
    (void)state;
    (void)err;
    return EDW_OK;
}

static enum edw_err fs_upsert(void *state, const struct edw_row *rows, size_t n,
                              struct edw_error *err)
{
    struct fake_store *s = state;
    s->upserts++;
    if (s->fail_upsert) {
        s->fail_upsert--;
        return edw_error_set(err, s->fail_err, "scripted upsert failure");
    }
    for (size_t i = 0; s->reject_key && i < n; i++) {
        if (strstr(rows[i].key, s->reject_key)) {
            if (err)
                snprintf(err->code, sizeof(err->code), "InvalidKey");
            return edw_error_set(err, EDW_ERR_INVALID, "scripted: operation %zu refused", i);
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct fake_row *r = (struct fake_row *)fake_store_find(s, rows[i].key);
        if (!r) {
            s->rows = edw_xgrow(s->rows, &s->cap, s->n + 1, sizeof(*s->rows));
            r = &s->rows[s->n++];
            memset(r, 0, sizeof(*r));
            r->key = edw_xstrdup(rows[i].key);
        }
        free(r->data);
        r->data = edw_xstrdup(rows[i].data);
        r->processing_s = rows[i].processing_s;
        r->dequeue_count = rows[i].dequeue_count;
        r->writes++;
    }
    return EDW_OK;
}

static void to_row(const struct fake_row *f, struct edw_row *r)
{
    memset(r, 0, sizeof(*r));
    r->key = f->key;
    r->data = f->data;
    r->src_stamp = "";
    r->dest_stamp = "";
    r->processing_s = f->processing_s;
    r->dequeue_count = f->dequeue_count;
}

static enum edw_err fs_get(void *state, const char *key, edw_row_fn *fn, void *ctx,
                           struct edw_error *err)
{
    (void)err;
    const struct fake_row *f = fake_store_find(state, key);
    if (!f)
        return EDW_ERR_NOT_FOUND;
    struct edw_row r;
    to_row(f, &r);
    fn(ctx, &r);
    return EDW_OK;
}

static enum edw_err fs_scan(void *state, const char *prefix, edw_row_fn *fn, void *ctx,
                            struct edw_error *err)
{
    (void)err;
    struct fake_store *s = state;
    for (size_t i = 0; i < s->n; i++) {
        if (strncmp(s->rows[i].key, prefix, strlen(prefix)) != 0)
            continue;
        struct edw_row r;
        to_row(&s->rows[i], &r);
        if (!fn(ctx, &r))
            break;
    }
    return EDW_OK;
}

static enum edw_err fs_count(void *state, uint64_t *out, struct edw_error *err)
{
    (void)err;
    *out = ((struct fake_store *)state)->n;
    return EDW_OK;
}

static enum edw_err fs_run_save(void *state, const struct edw_run *run, struct edw_error *err)
{
    (void)err;
    struct fake_store *s = state;
    s->run = *run;
    s->has_run = true;
    return EDW_OK;
}

static enum edw_err fs_run_load(void *state, const char *id, struct edw_run *out,
                                struct edw_error *err)
{
    (void)err;
    struct fake_store *s = state;
    if (!s->has_run || (id && strcmp(id, s->run.id) != 0))
        return EDW_ERR_NOT_FOUND;
    *out = s->run;
    return EDW_OK;
}

static const void *fs_txn_domain(void *state)
{
    return ((struct fake_store *)state)->txn_domain;
}

const struct edw_store_ops fake_store_ops = {
    .name = "fake",
    .max_upsert_batch = 100,
    .open = fs_open,
    .create = fs_create,
    .upsert = fs_upsert,
    .get = fs_get,
    .scan = fs_scan,
    .count = fs_count,
    .run_save = fs_run_save,
    .run_load = fs_run_load,
    .close = fs_close,
    .txn_domain = fs_txn_domain,
};
