/* SPDX-License-Identifier: Apache-2.0 */
/* Azure Table storage over REST (JSON, odata=nometadata) as the result store.
 *
 * Upsert is Insert Or Replace, so a redelivered message overwrites its own row. Rows are
 * grouped by PartitionKey: a group of one is a single PUT, larger groups become entity group
 * transactions ($batch, at most 100 operations, one partition, atomic), and every request of
 * one upsert call runs concurrently. Scans and counts follow continuation tokens until the
 * service stops sending them, empty pages included.
 *
 * Row properties follow the Azure sample: data, srcStamp, dateStamp, messageProcessingTime
 * (Edm.Double, annotated so integral values keep their type) and dequeueCount (Edm.Int32).
 * Run records live in the same table under PartitionKey "edw-runs". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure_common.h"
#include "edw/alloc.h"
#include "edw/config.h"
#include "edw/store.h"
#include "edw/timefmt.h"
#include "edw/urlencode.h"

#define BATCH_MAX 100
#define BATCH_BYTES (3u << 20) /* the service takes 4 MiB per $batch; keep a margin */
#define PAGE_MAX 1000
#define PROP_UNITS 32000       /* a string property holds 64 KiB of UTF-16: 32768 units */
#define MAX_DATA_PARTS 16
#define ACCEPT "application/json;odata=nometadata"

struct at {
    struct edw_azure_client client;
    char *table;
};

static void at_close(void *state)
{
    struct at *t = state;
    if (!t)
        return;
    edw_azure_client_cleanup(&t->client);
    free(t->table);
    free(t);
}

/* Table names: 3-63 alphanumeric characters, starting with a letter. */
static bool table_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 3 || n > 63 || !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
              (name[i] >= '0' && name[i] <= '9')))
            return false;
    return true;
}

static enum edw_err at_open(const struct edw_config *cfg, const struct edw_backend_deps *deps,
                            void **state_out, struct edw_error *err)
{
    *state_out = NULL;
    if (!table_name_ok(cfg->table_name))
        return edw_error_set(err, EDW_ERR_INVALID,
                             "table name '%.80s' is not valid on Azure: 3-63 letters and digits, "
                             "starting with a letter",
                             cfg->table_name);
    struct at *t = edw_xcalloc(1, sizeof(*t));
    t->table = edw_xstrdup(cfg->table_name);
    enum edw_err rc = edw_azure_client_init(&t->client, EDW_AZURE_TABLE, cfg, deps, err);
    if (rc) {
        at_close(t);
        return rc;
    }
    *state_out = t;
    return EDW_OK;
}

static void json_headers(struct edw_azure_call *call, bool write)
{
    edw_http_headers_add(&call->headers, "Accept", ACCEPT);
    edw_http_headers_add(&call->headers, "DataServiceVersion", "3.0;NetFx");
    edw_http_headers_add(&call->headers, "MaxDataServiceVersion", "3.0;NetFx");
    if (write)
        edw_http_headers_add(&call->headers, "Prefer", "return-no-content");
}

/* --- keys --- */

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

char *edw_azure_partition_key(const char *key)
{
    const char *dash = strrchr(key, '-');
    const char *seq = dash ? dash + 1 : NULL;
    bool producer_key = dash && dash > key && *seq >= '1' && *seq <= '9' &&
                        strspn(seq, "0123456789") == strlen(seq) && strlen(seq) <= 18;
    if (!producer_key)
        return edw_xstrdup(key);
    unsigned long long block = strtoull(seq, NULL, 10) / 100;
    char digits[24];
    snprintf(digits, sizeof(digits), "%llu", block);
    return edw_xasprintf("%.*s-%02x-%s", (int)(dash - key), key, fnv1a(digits) & 0xffu, digits);
}

/* "/table(PartitionKey='pk',RowKey='rk')", quotes doubled, the rest percent-encoded the way
 * the SDKs' encodeURIComponent does. */
static enum edw_err entity_path(struct edw_buf *out, const char *table, const char *pk,
                                const char *rk)
{
    const char *keys[2] = {pk, rk};
    enum edw_err rc = edw_buf_appendf(out, "/%s(", table);
    for (int k = 0; k < 2 && !rc; k++) {
        rc = edw_buf_append_str(out, k == 0 ? "PartitionKey='" : ",RowKey='");
        for (const char *p = keys[k]; *p && !rc;) {
            size_t plain = strcspn(p, "'");
            rc = edw_url_encode(out, p, plain, "!*()");
            p += plain;
            if (*p == '\'' && !rc) {
                rc = edw_buf_append_str(out, "''");
                p++;
            }
        }
        if (!rc)
            rc = edw_buf_append_str(out, "'");
    }
    return rc ? rc : edw_buf_append_str(out, ")");
}

static char *entity_path_str(const char *table, const char *pk, const char *rk)
{
    struct edw_buf b;
    edw_buf_init(&b, 16 * 1024);
    if (entity_path(&b, table, pk, rk))
        abort(); /* keys are bounded (1 KiB each) far below the buffer */
    return edw_buf_steal(&b);
}

/* --- entity JSON --- */

static enum edw_err json_field(struct edw_buf *out, const char *name, const char *value,
                               bool first)
{
    const char *v = value ? value : "";
    enum edw_err rc = edw_buf_appendf(out, "%s\"%s\":\"", first ? "" : ",", name);
    if (!rc)
        rc = edw_buf_append_json_str(out, v, strlen(v));
    return rc ? rc : edw_buf_append_str(out, "\"");
}

/* The shortest text that reads back as the same double. */
static void format_double(double v, char out[40])
{
    if (!isfinite(v))
        v = 0;
    snprintf(out, 40, "%.15g", v);
    if (strtod(out, NULL) != v)
        snprintf(out, 40, "%.17g", v);
}

/* Bytes of `s` (valid UTF-8 or not) that fit in `units` UTF-16 code units, cut between
 * characters: 4-byte sequences take two units, every other byte sequence one. */
static size_t fit_units(const char *s, size_t len, size_t units)
{
    size_t i = 0, used = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        if (i + n > len)
            n = len - i;
        size_t u = n == 4 ? 2 : 1;
        if (used + u > units)
            break;
        used += u;
        i += n;
    }
    return i;
}

/* "data", split over data, data_2, data_3... when it exceeds one string property: a message
 * of up to 64 KiB must be stored whole rather than stall the worker on a 400. */
static enum edw_err data_fields(struct edw_buf *out, const char *data)
{
    const char *p = data ? data : "";
    size_t left = strlen(p);
    enum edw_err rc = EDW_OK;
    for (int part = 1; !rc; part++) {
        size_t n = fit_units(p, left, PROP_UNITS);
        char name[16];
        snprintf(name, sizeof(name), part == 1 ? "data" : "data_%d", part);
        rc = edw_buf_appendf(out, ",\"%s\":\"", name);
        if (!rc)
            rc = edw_buf_append_json_str(out, p, n);
        if (!rc)
            rc = edw_buf_append_str(out, "\"");
        p += n;
        left -= n;
        if (left == 0)
            break;
        if (part == MAX_DATA_PARTS)
            rc = EDW_ERR_INVALID;
    }
    return rc;
}

static enum edw_err row_json(struct edw_buf *out, const char *pk, const struct edw_row *r)
{
    char num[40];
    format_double(r->processing_s, num);
    enum edw_err rc = edw_buf_append_str(out, "{");
    if (!rc)
        rc = json_field(out, "PartitionKey", pk, true);
    if (!rc)
        rc = json_field(out, "RowKey", r->key, false);
    if (!rc)
        rc = data_fields(out, r->data);
    if (!rc)
        rc = json_field(out, "srcStamp", r->src_stamp, false);
    if (!rc)
        rc = json_field(out, "dateStamp", r->dest_stamp, false);
    if (!rc)
        rc = edw_buf_appendf(out,
                             ",\"messageProcessingTime\":%s,"
                             "\"messageProcessingTime@odata.type\":\"Edm.Double\","
                             "\"dequeueCount\":%u}",
                             num, r->dequeue_count > INT32_MAX ? (unsigned)INT32_MAX
                                                               : r->dequeue_count);
    return rc;
}

/* --- create --- */

static enum edw_err at_create(void *state, struct edw_error *err)
{
    struct at *t = state;
    struct edw_buf body;
    edw_buf_init(&body, 4096);
    enum edw_err rc = edw_buf_appendf(&body, "{\"TableName\":\"%s\"}", t->table);
    struct edw_azure_call call;
    edw_azure_call_init(&call, "POST", edw_xstrdup("/Tables"));
    json_headers(&call, true);
    call.content_type = "application/json";
    call.body = body.ptr;
    call.body_len = body.len;
    if (!rc)
        rc = edw_azure_perform_one(&t->client, &call, err);
    if (rc == EDW_ERR_CONFLICT) /* TableAlreadyExists */
        rc = EDW_OK;
    edw_azure_call_cleanup(&call);
    edw_buf_cleanup(&body);
    return rc;
}

/* --- upsert --- */

struct keyed {
    char *pk;
    const struct edw_row *row;
    size_t order;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    int c = strcmp(x->pk, y->pk);
    if (!c)
        c = strcmp(x->row->key, y->row->key);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* Append the NULL-terminated list of strings `parts`. */
static enum edw_err append_all(struct edw_buf *out, const char *const *parts)
{
    enum edw_err rc = EDW_OK;
    for (; *parts && !rc; parts++)
        rc = edw_buf_append_str(out, *parts);
    return rc;
}

/* One $batch of rows[0..n) (same partition): body into `out`, Content-Type into `ctype`. */
static enum edw_err batch_body(struct at *t, const struct keyed *rows, size_t n,
                               struct edw_buf *out, char ctype[96])
{
    char batch[40], cs[40];
    uint64_t r1 = edw_azure_rand(&t->client.rng), r2 = edw_azure_rand(&t->client.rng);
    snprintf(batch, sizeof(batch), "batch_%016llx", (unsigned long long)r1);
    snprintf(cs, sizeof(cs), "changeset_%016llx", (unsigned long long)r2);
    snprintf(ctype, 96, "multipart/mixed; boundary=%s", batch);
    struct edw_buf entity;
    edw_buf_init(&entity, 4u << 20);
    enum edw_err rc = edw_buf_appendf(out,
                                      "--%s\r\nContent-Type: multipart/mixed; boundary=%s\r\n\r\n",
                                      batch, cs);
    for (size_t i = 0; i < n && !rc; i++) {
        edw_buf_reset(&entity);
        rc = row_json(&entity, rows[i].pk, rows[i].row);
        /* Appended piecewise rather than by printf: the entity is copied once, not
         * formatted through "%s" (this runs for every row). */
        if (!rc)
            rc = append_all(out, (const char *[]){"--", cs,
                                                  "\r\nContent-Type: application/http\r\n"
                                                  "Content-Transfer-Encoding: binary\r\n\r\nPUT ",
                                                  t->client.endpoint, NULL});
        if (!rc)
            rc = entity_path(out, t->table, rows[i].pk, rows[i].row->key);
        char length[32];
        snprintf(length, sizeof(length), "%zu", entity.len);
        if (!rc)
            rc = append_all(out, (const char *[]){" HTTP/1.1\r\nAccept: " ACCEPT "\r\n"
                                                  "Content-Type: application/json\r\n"
                                                  "Prefer: return-no-content\r\n"
                                                  "DataServiceVersion: 3.0;\r\n"
                                                  "Content-Length: ",
                                                  length, "\r\n\r\n", NULL});
        if (!rc)
            rc = edw_buf_append(out, edw_buf_cstr(&entity), entity.len);
        if (!rc)
            rc = edw_buf_append(out, "\r\n", 2);
    }
    if (!rc)
        rc = edw_buf_appendf(out, "--%s--\r\n--%s--\r\n", cs, batch);
    edw_buf_cleanup(&entity);
    return rc;
}

/* A $batch reply is 202 even when an operation failed: look inside. */
static enum edw_err check_batch(struct edw_http_response *resp, void *ctx, struct edw_error *err)
{
    (void)ctx;
    struct edw_azure_batch_result res;
    const char *ctype = edw_http_headers_get(&resp->headers, "Content-Type");
    if (edw_azure_parse_batch(ctype, edw_buf_cstr(&resp->body), resp->body.len, &res))
        return edw_error_set(err, EDW_ERR_TRANSIENT, "azure table $batch: unreadable reply");
    if (res.status == 0)
        return EDW_OK;
    enum edw_err rc = edw_azure_classify(res.status, res.code);
    if (err) {
        err->http_status = (int)res.status;
        snprintf(err->code, sizeof(err->code), "%s", res.code);
    }
    return edw_error_set(err, rc, "azure table $batch: operation %ld failed: HTTP %ld %s: %s",
                         res.index, res.status, res.code[0] ? res.code : "(no code)",
                         res.message);
}

/* Sort by partition (last write of a key wins: $batch refuses a key twice). Returns the
 * number of distinct rows left in `k`. */
static size_t group_rows(const struct edw_row *rows, size_t n, struct keyed *k)
{
    for (size_t i = 0; i < n; i++)
        k[i] = (struct keyed){edw_azure_partition_key(rows[i].key), &rows[i], i};
    qsort(k, n, sizeof(*k), cmp_keyed);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && strcmp(k[m - 1].pk, k[i].pk) == 0 &&
            strcmp(k[m - 1].row->key, k[i].row->key) == 0) {
            free(k[m - 1].pk);
            k[m - 1] = k[i]; /* same key again: the later row replaces it */
        } else {
            k[m++] = k[i];
        }
    }
    return m;
}

/* An upper bound of a row's share of a $batch body: every byte JSON-escaped to 6, plus the
 * part headers and the entity URL. */
static size_t row_bytes_max(const struct edw_row *r)
{
    return 6 * (strlen(r->key) * 3 + (r->data ? strlen(r->data) : 0)) + 1024;
}

static enum edw_err at_upsert(void *state, const struct edw_row *rows, size_t n,
                              struct edw_error *err)
{
    struct at *t = state;
    struct keyed *k = edw_xcalloc(n ? n : 1, sizeof(*k));
    size_t m = group_rows(rows, n, k);
    struct edw_azure_call *calls = edw_xcalloc(m ? m : 1, sizeof(*calls));
    struct edw_buf *bodies = edw_xcalloc(m ? m : 1, sizeof(*bodies));
    char(*ctypes)[96] = edw_xcalloc(m ? m : 1, sizeof(*ctypes));
    size_t ncalls = 0;
    enum edw_err rc = EDW_OK;
    for (size_t i = 0; i < m && !rc;) {
        size_t j = i + 1, bytes = row_bytes_max(k[i].row);
        while (j < m && j - i < BATCH_MAX && strcmp(k[j].pk, k[i].pk) == 0 &&
               bytes + row_bytes_max(k[j].row) <= BATCH_BYTES)
            bytes += row_bytes_max(k[j++].row);
        struct edw_azure_call *c = &calls[ncalls];
        struct edw_buf *b = &bodies[ncalls];
        edw_buf_init(b, 4u << 20); /* the service's $batch limit */
        if (j - i == 1) {
            rc = row_json(b, k[i].pk, k[i].row);
            edw_azure_call_init(c, "PUT", entity_path_str(t->table, k[i].pk, k[i].row->key));
            c->content_type = "application/json";
        } else {
            rc = batch_body(t, &k[i], j - i, b, ctypes[ncalls]);
            edw_azure_call_init(c, "POST", edw_xstrdup("/$batch"));
            c->content_type = ctypes[ncalls];
            c->check = check_batch;
        }
        json_headers(c, true);
        c->body = b->ptr;
        c->body_len = b->len;
        ncalls++;
        i = j;
    }
    if (rc)
        rc = edw_error_set(err, rc, "azure table: a row is too large for one request");
    if (!rc)
        rc = edw_azure_perform(&t->client, calls, ncalls);
    for (size_t i = 0; i < ncalls && !rc; i++) {
        if (calls[i].result) {
            rc = calls[i].result;
            if (err)
                *err = calls[i].err;
        }
    }
    for (size_t i = 0; i < ncalls; i++) {
        edw_azure_call_cleanup(&calls[i]);
        edw_buf_cleanup(&bodies[i]);
    }
    for (size_t i = 0; i < m; i++)
        free(k[i].pk);
    free(calls);
    free(bodies);
    free(ctypes);
    free(k);
    return rc;
}

/* --- reads --- */

struct row_cb {
    edw_row_fn *fn;
    void *ctx;
    bool stopped;
    uint64_t count;
};

static bool entity_to_row(void *ctx, const struct edw_azure_entity *e)
{
    struct row_cb *cb = ctx;
    cb->count++;
    if (!cb->fn)
        return true;
    if (strcmp(e->partition_key, EDW_AZURE_RUNS_PARTITION) == 0)
        return true; /* run records are not rows */
    double proc = 0, dq = 0;
    (void)edw_azure_entity_num(e, "messageProcessingTime", &proc);
    (void)edw_azure_entity_num(e, "dequeueCount", &dq);
    const char *data = edw_azure_entity_str(e, "data");
    const char *src = edw_azure_entity_str(e, "srcStamp");
    const char *dst = edw_azure_entity_str(e, "dateStamp");
    struct edw_buf whole; /* data_2, data_3...: the rest of a message too large for one */
    edw_buf_init(&whole, 1u << 20);
    if (data && edw_azure_entity_str(e, "data_2")) {
        enum edw_err rc = edw_buf_append_str(&whole, data);
        for (int part = 2; !rc; part++) {
            char name[16];
            snprintf(name, sizeof(name), "data_%d", part);
            const char *more = edw_azure_entity_str(e, name);
            if (!more)
                break;
            rc = edw_buf_append_str(&whole, more);
        }
        data = edw_buf_cstr(&whole);
    }
    struct edw_row r = {.key = e->row_key,
                        .data = data ? data : "",
                        .src_stamp = src ? src : "",
                        .dest_stamp = dst ? dst : "",
                        .processing_s = proc,
                        .dequeue_count = dq > 0 && dq < 4294967296.0 ? (uint32_t)dq : 0};
    if (!cb->fn(cb->ctx, &r))
        cb->stopped = true;
    edw_buf_cleanup(&whole);
    return !cb->stopped;
}

static enum edw_err at_get(void *state, const char *key, edw_row_fn *fn, void *ctx,
                           struct edw_error *err)
{
    struct at *t = state;
    char *pk = edw_azure_partition_key(key);
    struct edw_azure_call call;
    edw_azure_call_init(&call, "GET", entity_path_str(t->table, pk, key));
    json_headers(&call, false);
    enum edw_err rc = edw_azure_perform_one(&t->client, &call, err);
    if (rc == EDW_ERR_NOT_FOUND)
        rc = edw_error_set(err, EDW_ERR_NOT_FOUND, "no row with key '%.100s'", key);
    struct row_cb cb = {fn, ctx, false, 0};
    if (!rc)
        rc = edw_azure_parse_entities(edw_buf_cstr(&call.resp.body), call.resp.body.len,
                                      entity_to_row, &cb, err);
    edw_azure_call_cleanup(&call);
    free(pk);
    return rc;
}

/* Append an OData string literal: quotes doubled. */
static enum edw_err odata_str(struct edw_buf *b, const char *s)
{
    enum edw_err rc = edw_buf_append_str(b, "'");
    for (; *s && !rc; s++)
        rc = *s == '\'' ? edw_buf_append_str(b, "''") : edw_buf_append(b, s, 1);
    return rc ? rc : edw_buf_append_str(b, "'");
}

/* "Name ge 'prefix' and Name lt 'prefix+1'": every string starting with prefix. */
static enum edw_err prefix_range(struct edw_buf *b, const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    char *upper = edw_xstrdup(prefix);
    while (n > 0 && (unsigned char)upper[n - 1] == 0xff)
        upper[--n] = '\0';
    enum edw_err rc = edw_buf_appendf(b, "%s ge ", name);
    if (!rc)
        rc = odata_str(b, prefix);
    if (!rc && n > 0) {
        upper[n - 1] = (char)(upper[n - 1] + 1);
        rc = edw_buf_appendf(b, " and %s lt ", name);
        if (!rc)
            rc = odata_str(b, upper);
    }
    free(upper);
    return rc;
}

/* The $filter for rows whose key starts with `prefix`. When the prefix ends with '-' (a run,
 * as verify asks), every matching row's partition starts with it too, so the partition range
 * narrows the query; otherwise only the row keys can be filtered. */
static enum edw_err scan_filter(struct edw_buf *b, const char *prefix)
{
    size_t n = strlen(prefix);
    enum edw_err rc = edw_buf_append_str(b, "PartitionKey ne '" EDW_AZURE_RUNS_PARTITION "'");
    if (!rc && n > 0 && prefix[n - 1] == '-') {
        rc = edw_buf_append_str(b, " and ");
        if (!rc)
            rc = prefix_range(b, "PartitionKey", prefix);
    }
    if (!rc && n > 0) {
        rc = edw_buf_append_str(b, " and ");
        if (!rc)
            rc = prefix_range(b, "RowKey", prefix);
    }
    return rc;
}

/* Run a query to the end, page after page (continuation tokens are opaque; an empty page
 * with a token is normal), feeding every entity to `fn` until `*stopped` turns true. */
static enum edw_err query_all(struct at *t, const char *filter, const char *select,
                              edw_azure_entity_fn *fn, void *ctx, const bool *stopped,
                              struct edw_error *err)
{
    struct edw_buf base, path;
    edw_buf_init(&base, 64 * 1024);
    edw_buf_init(&path, 64 * 1024);
    char *next_pk = NULL, *next_rk = NULL;
    enum edw_err rc = edw_buf_appendf(&base, "/%s()?$top=%d&$filter=", t->table, PAGE_MAX);
    if (!rc)
        rc = edw_url_encode(&base, filter, strlen(filter), NULL);
    if (!rc && select)
        rc = edw_buf_appendf(&base, "&$select=%s", select);
    while (!rc && !(stopped && *stopped)) {
        edw_buf_reset(&path);
        rc = edw_buf_append(&path, base.ptr, base.len);
        if (!rc && next_pk) {
            rc = edw_buf_append_str(&path, "&NextPartitionKey=");
            if (!rc)
                rc = edw_url_encode(&path, next_pk, strlen(next_pk), NULL);
        }
        if (!rc && next_rk) {
            rc = edw_buf_append_str(&path, "&NextRowKey=");
            if (!rc)
                rc = edw_url_encode(&path, next_rk, strlen(next_rk), NULL);
        }
        if (rc)
            break;
        struct edw_azure_call call;
        edw_azure_call_init(&call, "GET", edw_xstrdup(edw_buf_cstr(&path)));
        json_headers(&call, false);
        rc = edw_azure_perform_one(&t->client, &call, err);
        if (!rc)
            rc = edw_azure_parse_entities(edw_buf_cstr(&call.resp.body), call.resp.body.len, fn,
                                          ctx, err);
        const char *npk = edw_http_headers_get(&call.resp.headers,
                                               "x-ms-continuation-NextPartitionKey");
        const char *nrk = edw_http_headers_get(&call.resp.headers, "x-ms-continuation-NextRowKey");
        free(next_pk);
        free(next_rk);
        next_pk = npk ? edw_xstrdup(npk) : NULL;
        next_rk = nrk ? edw_xstrdup(nrk) : NULL;
        edw_azure_call_cleanup(&call);
        if (!next_pk && !next_rk)
            break;
    }
    free(next_pk);
    free(next_rk);
    edw_buf_cleanup(&base);
    edw_buf_cleanup(&path);
    return rc;
}

static enum edw_err at_scan(void *state, const char *prefix, edw_row_fn *fn, void *ctx,
                            struct edw_error *err)
{
    struct at *t = state;
    struct edw_buf filter;
    edw_buf_init(&filter, 16 * 1024);
    struct row_cb cb = {fn, ctx, false, 0};
    enum edw_err rc = scan_filter(&filter, prefix);
    if (rc)
        rc = edw_error_set(err, EDW_ERR_INVALID, "scan prefix is too long");
    else
        rc = query_all(t, edw_buf_cstr(&filter), NULL, entity_to_row, &cb, &cb.stopped, err);
    edw_buf_cleanup(&filter);
    return rc;
}

static enum edw_err at_count(void *state, uint64_t *out, struct edw_error *err)
{
    struct at *t = state;
    struct row_cb cb = {0};
    enum edw_err rc = query_all(t, "PartitionKey ne '" EDW_AZURE_RUNS_PARTITION "'",
                                "PartitionKey,RowKey", entity_to_row, &cb, NULL, err);
    *out = cb.count;
    return rc;
}

/* --- runs --- */

static enum edw_err at_run_save(void *state, const struct edw_run *run, struct edw_error *err)
{
    struct at *t = state;
    struct edw_buf body;
    edw_buf_init(&body, 4096);
    char started[25];
    edw_iso8601_ms(run->started_us, started);
    enum edw_err rc = edw_buf_append_str(&body, "{");
    if (!rc)
        rc = json_field(&body, "PartitionKey", EDW_AZURE_RUNS_PARTITION, true);
    if (!rc)
        rc = json_field(&body, "RowKey", run->id, false);
    if (!rc)
        rc = edw_buf_appendf(&body,
                             ",\"started\":\"%s\",\"startedUs\":\"%lld\","
                             "\"startedUs@odata.type\":\"Edm.Int64\",\"finishedUs\":\"%lld\","
                             "\"finishedUs@odata.type\":\"Edm.Int64\",\"sent\":\"%llu\","
                             "\"sent@odata.type\":\"Edm.Int64\"}",
                             started, (long long)run->started_us, (long long)run->finished_us,
                             (unsigned long long)run->sent);
    struct edw_azure_call call;
    edw_azure_call_init(&call, "PUT", entity_path_str(t->table, EDW_AZURE_RUNS_PARTITION, run->id));
    json_headers(&call, true);
    call.content_type = "application/json";
    call.body = body.ptr;
    call.body_len = body.len;
    if (!rc)
        rc = edw_azure_perform_one(&t->client, &call, err);
    edw_azure_call_cleanup(&call);
    edw_buf_cleanup(&body);
    return rc;
}

struct run_pick {
    const char *want; /* NULL: the latest started */
    struct edw_run *out;
    bool found;
};

static bool on_run(void *ctx, const struct edw_azure_entity *e)
{
    struct run_pick *p = ctx;
    double started = 0, finished = 0, sent = 0;
    (void)edw_azure_entity_num(e, "startedUs", &started);
    (void)edw_azure_entity_num(e, "finishedUs", &finished);
    (void)edw_azure_entity_num(e, "sent", &sent);
    if (p->want ? strcmp(e->row_key, p->want) != 0
                : p->found && (int64_t)started < p->out->started_us)
        return true;
    memset(p->out, 0, sizeof(*p->out));
    snprintf(p->out->id, sizeof(p->out->id), "%s", e->row_key);
    p->out->started_us = (int64_t)started;
    p->out->finished_us = (int64_t)finished;
    p->out->sent = (uint64_t)sent;
    p->found = true;
    return true;
}

static enum edw_err at_run_load(void *state, const char *id, struct edw_run *out,
                                struct edw_error *err)
{
    struct at *t = state;
    struct run_pick pick = {id, out, false};
    struct edw_buf filter;
    edw_buf_init(&filter, 4096);
    enum edw_err rc = edw_buf_append_str(&filter, "PartitionKey eq '" EDW_AZURE_RUNS_PARTITION "'");
    if (!rc && id) {
        rc = edw_buf_append_str(&filter, " and RowKey eq ");
        if (!rc)
            rc = odata_str(&filter, id);
    }
    if (rc)
        rc = edw_error_set(err, EDW_ERR_INVALID, "run id is too long");
    else
        rc = query_all(t, edw_buf_cstr(&filter), NULL, on_run, &pick, NULL, err);
    edw_buf_cleanup(&filter);
    if (!rc && !pick.found)
        rc = id ? edw_error_set(err, EDW_ERR_NOT_FOUND, "no run '%.64s' in table %s", id, t->table)
                : edw_error_set(err, EDW_ERR_NOT_FOUND, "no run recorded in table %s yet",
                                t->table);
    return rc;
}

const struct edw_store_ops edw_azure_table_ops = {
    .name = "azure",
    .max_upsert_batch = 1000,
    .open = at_open,
    .create = at_create,
    .upsert = at_upsert,
    .get = at_get,
    .scan = at_scan,
    .count = at_count,
    .run_save = at_run_save,
    .run_load = at_run_load,
    .close = at_close,
};
