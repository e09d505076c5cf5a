/* SPDX-License-Identifier: Apache-2.0 */
/* Azure Storage Shared Key: the string-to-sign of the Queue (full canonicalisation) and Table
 * ("Shared Key for Table") schemes, and the Authorization header built from it. Pure
 * functions: the caller has already put x-ms-date and x-ms-version on the request, so a
 * retry re-signs simply by calling this again after refreshing the date.
 *
 * Both schemes sign "/" + account + the URL path exactly as sent (percent-encoded). Against
 * Azurite's path-style URLs the path already starts with "/devstoreaccount1", so the account
 * appears twice; that is correct, not a bug. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edw/alloc.h"
#include "edw/auth.h"

/* A name and a value, NUL-terminated, inside one scratch buffer (see struct scratch). */
struct pair {
    const char *name;
    const char *value;
};

/* Decoded query parameters or x-ms-* headers of one request: their text in `text`, the pairs
 * in `small` while there are few (every request edw makes), on the heap beyond. Built and
 * torn down per signature without an allocation per name or value. */
#define SMALL_PAIRS 16
struct pairs {
    struct edw_buf text;
    size_t off[2 * SMALL_PAIRS]; /* offsets of name and value in `text`, while n <= SMALL */
    size_t *heap_off;            /* the same beyond */
    size_t n, cap;
    struct pair small[SMALL_PAIRS];
    struct pair *p; /* `small` or the heap, valid after pairs_fix */
};

static void pairs_init(struct pairs *ps)
{
    memset(ps, 0, sizeof(*ps));
    edw_buf_init(&ps->text, 1u << 20);
    ps->cap = SMALL_PAIRS;
}

static void pairs_cleanup(struct pairs *ps)
{
    edw_buf_cleanup(&ps->text);
    free(ps->heap_off);
    if (ps->p != ps->small)
        free(ps->p);
}

static size_t *pairs_offsets(struct pairs *ps)
{
    return ps->heap_off ? ps->heap_off : ps->off;
}

/* Start a new pair: its name begins at the current end of the text. */
static void pairs_push(struct pairs *ps)
{
    if (ps->n == ps->cap) {
        size_t *o = edw_xcalloc(2 * ps->cap * 2, sizeof(*o));
        memcpy(o, pairs_offsets(ps), 2 * ps->n * sizeof(*o));
        free(ps->heap_off);
        ps->heap_off = o;
        ps->cap *= 2;
    }
    pairs_offsets(ps)[2 * ps->n] = ps->text.len;
    ps->n++;
}

/* End the current name and start its value. */
static enum edw_err pairs_value(struct pairs *ps)
{
    enum edw_err err = edw_buf_append(&ps->text, "", 1);
    pairs_offsets(ps)[2 * ps->n - 1] = ps->text.len;
    return err;
}

/* Turn the offsets into pointers (the text no longer moves). */
static void pairs_fix(struct pairs *ps)
{
    ps->p = ps->n <= SMALL_PAIRS ? ps->small : edw_xcalloc(ps->n, sizeof(*ps->p));
    const size_t *o = pairs_offsets(ps);
    const char *base = edw_buf_cstr(&ps->text);
    for (size_t i = 0; i < ps->n; i++)
        ps->p[i] = (struct pair){base + o[2 * i], base + o[2 * i + 1]};
}

struct url_parts {
    const char *path; /* starts with '/', may be empty when the URL has none */
    size_t path_len;
    const char *query; /* after '?', NULL when absent */
};

static bool split_url(const char *url, struct url_parts *u)
{
    const char *scheme_end = strstr(url, "://");
    if (!scheme_end || scheme_end == url)
        return false;
    const char *host = scheme_end + 3;
    size_t host_len = strcspn(host, "/?#");
    if (host_len == 0)
        return false;
    const char *rest = host + host_len;
    u->path = rest;
    u->path_len = *rest == '/' ? strcspn(rest, "?#") : 0;
    const char *q = strchr(rest, '?');
    u->query = q ? q + 1 : NULL;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Append `n` bytes percent-decoded, then a NUL; a '%' not followed by two hex digits is kept
 * literally. */
static enum edw_err append_decoded(struct edw_buf *out, const char *s, size_t n, bool lower)
{
    enum edw_err err = EDW_OK;
    size_t i = 0;
    while (i < n && !err) {
        size_t run = i;
        while (run < n && s[run] != '%' && !(lower && s[run] >= 'A' && s[run] <= 'Z'))
            run++;
        if (run > i) {
            err = edw_buf_append(out, s + i, run - i); /* the plain stretch at once */
            i = run;
            continue;
        }
        char c = s[i];
        if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        }
        if (lower && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        err = edw_buf_append(out, &c, 1);
        i++;
    }
    return err;
}

static int cmp_pair(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* Decoded query parameters, names lowercased, sorted by name then value. */
static enum edw_err query_pairs(const char *query, struct pairs *ps)
{
    enum edw_err err = EDW_OK;
    const char *s = query;
    while (s && *s && *s != '#' && !err) {
        size_t len = strcspn(s, "&#");
        if (len > 0) {
            const char *eq = memchr(s, '=', len);
            size_t name_len = eq ? (size_t)(eq - s) : len;
            pairs_push(ps);
            err = append_decoded(&ps->text, s, name_len, true);
            if (!err)
                err = pairs_value(ps);
            if (!err && eq)
                err = append_decoded(&ps->text, eq + 1, len - name_len - 1, false);
            if (!err)
                err = edw_buf_append(&ps->text, "", 1);
        }
        s += len;
        if (*s == '&')
            s++;
    }
    if (err)
        return err;
    pairs_fix(ps);
    if (ps->n > 1)
        qsort(ps->p, ps->n, sizeof(*ps->p), cmp_pair);
    return EDW_OK;
}

/* Append `v` trimmed, runs of spaces/tabs/CR/LF collapsed to one space ("linear
 * whitespace"), then a NUL. */
static enum edw_err append_collapsed(struct edw_buf *out, const char *v)
{
    enum edw_err err = EDW_OK;
    bool space = false, any = false;
    const char *p = v;
    while (*p && !err) {
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
            space = any;
            p++;
            continue;
        }
        size_t run = strcspn(p, " \t\r\n");
        if (space)
            err = edw_buf_append(out, " ", 1);
        if (!err)
            err = edw_buf_append(out, p, run);
        space = false;
        any = true;
        p += run;
    }
    return err ? err : edw_buf_append(out, "", 1);
}

/* x-ms-* headers, names lowercased, values collapsed, sorted. */
static enum edw_err ms_headers(const struct edw_http_headers *h, struct pairs *ps)
{
    enum edw_err err = EDW_OK;
    for (size_t i = 0; i < h->n && !err; i++) {
        const char *name = h->items[i].name;
        if (strncasecmp(name, "x-ms-", 5) != 0)
            continue;
        pairs_push(ps);
        err = append_decoded(&ps->text, name, strlen(name), true);
        if (!err)
            err = pairs_value(ps);
        if (!err)
            err = append_collapsed(&ps->text, h->items[i].value);
    }
    if (err)
        return err;
    pairs_fix(ps);
    struct pair *p = ps->p;
    /* Values of a repeated name keep their order on the wire, so sort stably by name only. */
    for (size_t i = 1; i < ps->n; i++) {
        struct pair t = p[i];
        size_t j = i;
        while (j > 0 && strcmp(p[j - 1].name, t.name) > 0) {
            p[j] = p[j - 1];
            j--;
        }
        p[j] = t;
    }
    return EDW_OK;
}

static enum edw_err append3(struct edw_buf *out, const char *a, const char *b, const char *c)
{
    enum edw_err err = edw_buf_append_str(out, a);
    if (!err)
        err = edw_buf_append_str(out, b);
    return err ? err : edw_buf_append_str(out, c);
}

/* Append "name:v1,v2\n"-style runs: one entry per distinct name. `sep_first` puts the newline
 * before each entry (query parameters) rather than after (headers). */
static enum edw_err append_joined(struct edw_buf *out, const struct pairs *ps, bool sep_first)
{
    enum edw_err err = EDW_OK;
    const struct pair *p = ps->p;
    size_t n = ps->n;
    for (size_t i = 0; i < n && !err; i++) {
        bool same = i > 0 && strcmp(p[i - 1].name, p[i].name) == 0;
        if (same) {
            err = append3(out, ",", p[i].value, "");
        } else {
            if (i > 0 && !sep_first)
                err = edw_buf_append(out, "\n", 1);
            if (!err)
                err = append3(out, sep_first ? "\n" : "", p[i].name, ":");
            if (!err)
                err = edw_buf_append_str(out, p[i].value);
        }
    }
    if (!err && n > 0 && !sep_first)
        err = edw_buf_append(out, "\n", 1);
    return err;
}

/* The standard headers the Queue scheme signs, in its order. */
enum {
    H_ENCODING,
    H_LANGUAGE,
    H_MD5,
    H_TYPE,
    H_DATE,
    H_IMS,
    H_IM,
    H_INM,
    H_IUS,
    H_RANGE,
    H_MS_DATE,
    H_COUNT
};
static const char *const s_std[H_COUNT] = {
    "Content-Encoding", "Content-Language", "Content-MD5",        "Content-Type",
    "Date",             "If-Modified-Since", "If-Match",          "If-None-Match",
    "If-Unmodified-Since", "Range",          "x-ms-date"};

/* Each standard header's first value (NULL when absent), in one pass over the headers. */
static void std_headers(const struct edw_http_request *req, const char *v[H_COUNT])
{
    for (size_t k = 0; k < H_COUNT; k++)
        v[k] = NULL;
    for (size_t i = 0; i < req->headers.n; i++) {
        const char *name = req->headers.items[i].name;
        for (size_t k = 0; k < H_COUNT; k++) {
            if (!v[k] && strcasecmp(name, s_std[k]) == 0) {
                v[k] = req->headers.items[i].value;
                break;
            }
        }
    }
}

static enum edw_err append_line(struct edw_buf *out, const char *v)
{
    enum edw_err err = v ? edw_buf_append_str(out, v) : EDW_OK;
    return err ? err : edw_buf_append(out, "\n", 1);
}

static enum edw_err append_resource(struct edw_buf *out, const char *account,
                                    const struct url_parts *u)
{
    enum edw_err err = edw_buf_append(out, "/", 1);
    if (!err)
        err = edw_buf_append_str(out, account);
    if (!err)
        err = u->path_len ? edw_buf_append(out, u->path, u->path_len)
                          : edw_buf_append(out, "/", 1);
    return err;
}

static enum edw_err queue_sts(const char *account, const struct edw_http_request *req,
                              const struct url_parts *u, struct edw_buf *out)
{
    /* Content-Length is signed empty when zero (versions 2015-02-21 and later). */
    char length[32] = "";
    if (req->body_len > 0)
        snprintf(length, sizeof(length), "%zu", req->body_len);
    const char *v[H_COUNT];
    std_headers(req, v);
    if (v[H_MS_DATE])
        v[H_DATE] = NULL; /* x-ms-date is signed among the x-ms-* headers instead */
    enum edw_err err = append_line(out, req->method);
    const char *lines[] = {v[H_ENCODING], v[H_LANGUAGE], length,  v[H_MD5],
                           v[H_TYPE],     v[H_DATE],     v[H_IMS], v[H_IM],
                           v[H_INM],      v[H_IUS],      v[H_RANGE]};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]) && !err; i++)
        err = append_line(out, lines[i]);
    struct pairs h, q;
    pairs_init(&h);
    pairs_init(&q);
    if (!err)
        err = ms_headers(&req->headers, &h);
    if (!err)
        err = query_pairs(u->query, &q);
    if (!err)
        err = append_joined(out, &h, false);
    if (!err)
        err = append_resource(out, account, u);
    if (!err)
        err = append_joined(out, &q, true);
    pairs_cleanup(&h);
    pairs_cleanup(&q);
    return err;
}

static enum edw_err table_sts(const char *account, const struct edw_http_request *req,
                              const struct url_parts *u, struct edw_buf *out)
{
    const char *v[H_COUNT];
    std_headers(req, v);
    enum edw_err err = append_line(out, req->method);
    if (!err)
        err = append_line(out, v[H_MD5]);
    if (!err)
        err = append_line(out, v[H_TYPE]);
    if (!err)
        err = append_line(out, v[H_MS_DATE] ? v[H_MS_DATE] : v[H_DATE]);
    if (!err)
        err = append_resource(out, account, u);
    struct pairs q;
    pairs_init(&q);
    if (!err)
        err = query_pairs(u->query, &q);
    for (size_t i = 0; i < q.n && !err; i++) {
        if (strcmp(q.p[i].name, "comp") == 0) {
            err = append3(out, "?comp=", q.p[i].value, "");
            break;
        }
    }
    pairs_cleanup(&q);
    return err;
}

enum edw_err edw_azure_string_to_sign(enum edw_azure_sk_scheme scheme, const char *account,
                                      const struct edw_http_request *req, struct edw_buf *out)
{
    struct url_parts u;
    if (!req->url || !split_url(req->url, &u))
        return EDW_ERR_INVALID;
    return scheme == EDW_AZURE_SK_TABLE ? table_sts(account, req, &u, out)
                                        : queue_sts(account, req, &u, out);
}

enum edw_err edw_azure_sign(const unsigned char *key, size_t key_len, const char *string_to_sign,
                            size_t len, struct edw_buf *out)
{
    unsigned char mac[EDW_SHA256_LEN];
    edw_hmac_sha256(key, key_len, string_to_sign, len, mac);
    return edw_base64_encode(mac, sizeof(mac), out);
}

/* Sign with either a raw key or a prepared one. */
static enum edw_err authorize(enum edw_azure_sk_scheme scheme, const char *account,
                              const unsigned char *raw, size_t raw_len,
                              struct edw_hmac_key *prepared, struct edw_http_request *req)
{
    struct edw_buf sts, auth;
    edw_buf_init(&sts, 1u << 20);
    edw_buf_init(&auth, 4096);
    enum edw_err err = edw_azure_string_to_sign(scheme, account, req, &sts);
    if (err)
        goto out;
    err = append3(&auth, "SharedKey ", account, ":");
    if (err)
        goto out;
    unsigned char mac[EDW_SHA256_LEN];
    if (prepared)
        edw_hmac_key_sign(prepared, edw_buf_cstr(&sts), sts.len, mac);
    else
        edw_hmac_sha256(raw, raw_len, edw_buf_cstr(&sts), sts.len, mac);
    err = edw_base64_encode(mac, sizeof(mac), &auth);
    if (err)
        goto out;
    edw_http_headers_set(&req->headers, "Authorization", edw_buf_cstr(&auth));
out:
    edw_buf_cleanup(&sts);
    edw_buf_cleanup(&auth);
    return err;
}

enum edw_err edw_azure_sharedkey_authorize(enum edw_azure_sk_scheme scheme, const char *account,
                                           const unsigned char *key, size_t key_len,
                                           struct edw_http_request *req)
{
    return authorize(scheme, account, key, key_len, NULL, req);
}

enum edw_err edw_azure_sharedkey_authorize_with(enum edw_azure_sk_scheme scheme,
                                                const char *account, struct edw_hmac_key *key,
                                                struct edw_http_request *req)
{
    return authorize(scheme, account, NULL, 0, key, req);
}
