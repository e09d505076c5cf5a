/* SPDX-License-Identifier: Apache-2.0 */
/* The embedded result store: edw_results keyed by (table, message key), so a redelivered
 * message overwrites its own row; and edw_runs for the producer's run records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"
#include "edw/config.h"
#include "edw/store.h"
#include "sqlite_db.h"
#include "sqlite_sql.h"

enum { ST_UPSERT, ST_GET, ST_SCAN, ST_COUNT_ROWS, ST_RUN_SAVE, ST_RUN_GET, ST_RUN_LAST, ST_N };

static const char *const s_sql[ST_N] = {
    SQL_S_UPSERT, SQL_S_GET, SQL_S_SCAN, SQL_S_COUNT, SQL_S_RUN_SAVE, SQL_S_RUN_GET,
    SQL_S_RUN_LAST,
};

struct ss {
    sqlite3 *db;
    sqlite3_stmt *st[ST_N];
    char *table;
};

static void ss_close(void *state)
{
    struct ss *s = state;
    if (!s)
        return;
    for (int i = 0; i < ST_N; i++)
        sqlite3_finalize(s->st[i]);
    edw_sqlite_close(s->db);
    free(s->table);
    free(s);
}

static enum edw_err ss_open(const struct edw_config *cfg, const struct edw_backend_deps *deps,
                            void **state_out, struct edw_error *err)
{
    (void)deps;
    struct ss *s = edw_xcalloc(1, sizeof(*s));
    s->table = edw_xstrdup(cfg->table_name);
    enum edw_err rc = edw_sqlite_open(cfg, &s->db, err);
    for (int i = 0; i < ST_N && !rc; i++)
        rc = edw_sqlite_prepare(s->db, s_sql[i], &s->st[i], err);
    if (rc) {
        ss_close(s);
        s = NULL;
    }
    *state_out = s;
    return rc;
}

static enum edw_err ss_create(void *state, struct edw_error *err)
{
    (void)state;
    (void)err;
    return EDW_OK; /* one schema holds every table name */
}

static enum edw_err ss_upsert(void *state, const struct edw_row *rows, size_t n,
                              struct edw_error *err)
{
    struct ss *s = state;
    sqlite3_stmt *st = s->st[ST_UPSERT];
    enum edw_err rc = edw_sqlite_begin(s->db, err);
    for (size_t i = 0; i < n && !rc; i++) {
        const struct edw_row *r = &rows[i];
        sqlite3_bind_text(st, 1, s->table, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r->key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, r->data, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->src_stamp, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->dest_stamp, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 6, r->processing_s);
        sqlite3_bind_int64(st, 7, r->dequeue_count);
        int sr = sqlite3_step(st);
        sqlite3_reset(st);
        if (sr != SQLITE_DONE)
            rc = edw_sqlite_fail(s->db, sr, "upsert", err);
    }
    rc = rc ? rc : edw_sqlite_commit(s->db, err);
    if (rc)
        edw_sqlite_rollback(s->db);
    return rc;
}

static const char *text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

static void read_row(sqlite3_stmt *st, struct edw_row *r)
{
    r->key = text(st, 0);
    r->data = text(st, 1);
    r->src_stamp = text(st, 2);
    r->dest_stamp = text(st, 3);
    r->processing_s = sqlite3_column_double(st, 4);
    r->dequeue_count = (uint32_t)sqlite3_column_int64(st, 5);
}

static enum edw_err ss_get(void *state, const char *key, edw_row_fn *fn, void *ctx,
                           struct edw_error *err)
{
    struct ss *s = state;
    sqlite3_stmt *st = s->st[ST_GET];
    sqlite3_bind_text(st, 1, s->table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    enum edw_err e = EDW_OK;
    if (rc == SQLITE_ROW) {
        struct edw_row r;
        read_row(st, &r);
        fn(ctx, &r);
    } else if (rc == SQLITE_DONE) {
        e = edw_error_set(err, EDW_ERR_NOT_FOUND, "no row with key '%s'", key);
    } else {
        e = edw_sqlite_fail(s->db, rc, "get", err);
    }
    sqlite3_reset(st);
    return e;
}

static enum edw_err ss_scan(void *state, const char *prefix, edw_row_fn *fn, void *ctx,
                            struct edw_error *err)
{
    struct ss *s = state;
    sqlite3_stmt *st = s->st[ST_SCAN];
    size_t plen = strlen(prefix);
    sqlite3_bind_text(st, 1, s->table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct edw_row r;
        read_row(st, &r);
        if (strncmp(r.key, prefix, plen) != 0 || !fn(ctx, &r)) {
            rc = SQLITE_DONE; /* past the prefix range, or the caller has enough */
            break;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? EDW_OK : edw_sqlite_fail(s->db, rc, "scan", err);
}

static enum edw_err ss_count(void *state, uint64_t *out, struct edw_error *err)
{
    struct ss *s = state;
    sqlite3_stmt *st = s->st[ST_COUNT_ROWS];
    sqlite3_bind_text(st, 1, s->table, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? EDW_OK : edw_sqlite_fail(s->db, rc, "count", err);
}

static enum edw_err ss_run_save(void *state, const struct edw_run *run, struct edw_error *err)
{
    struct ss *s = state;
    sqlite3_stmt *st = s->st[ST_RUN_SAVE];
    enum edw_err rc = edw_sqlite_begin(s->db, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, s->table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, run->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, run->started_us);
    sqlite3_bind_int64(st, 4, run->finished_us);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)run->sent);
    int sr = sqlite3_step(st);
    sqlite3_reset(st);
    rc = sr == SQLITE_DONE ? edw_sqlite_commit(s->db, err)
                           : edw_sqlite_fail(s->db, sr, "save run", err);
    if (rc)
        edw_sqlite_rollback(s->db);
    return rc;
}

static enum edw_err ss_run_load(void *state, const char *id, struct edw_run *out,
                                struct edw_error *err)
{
    struct ss *s = state;
    sqlite3_stmt *st = s->st[id ? ST_RUN_GET : ST_RUN_LAST];
    sqlite3_bind_text(st, 1, s->table, -1, SQLITE_STATIC);
    if (id)
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    int rc = sqlite3_step(st);
    enum edw_err e = EDW_OK;
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof(*out));
        snprintf(out->id, sizeof(out->id), "%s", text(st, 0));
        out->started_us = sqlite3_column_int64(st, 1);
        out->finished_us = sqlite3_column_int64(st, 2);
        out->sent = (uint64_t)sqlite3_column_int64(st, 3);
    } else if (rc == SQLITE_DONE) {
        e = id ? edw_error_set(err, EDW_ERR_NOT_FOUND, "no run '%s' in table %s", id, s->table)
               : edw_error_set(err, EDW_ERR_NOT_FOUND, "no run recorded in table %s yet",
                               s->table);
    } else {
        e = edw_sqlite_fail(s->db, rc, "load run", err);
    }
    sqlite3_reset(st);
    return e;
}

static const void *ss_txn_domain(void *state)
{
    return ((struct ss *)state)->db;
}

const struct edw_store_ops edw_sqlite_store_ops = {
    .name = "sqlite",
    .max_upsert_batch = 1000,
    .open = ss_open,
    .create = ss_create,
    .upsert = ss_upsert,
    .get = ss_get,
    .scan = ss_scan,
    .count = ss_count,
    .run_save = ss_run_save,
    .run_load = ss_run_load,
    .close = ss_close,
    .txn_domain = ss_txn_domain,
};
