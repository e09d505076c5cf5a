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

struct pair {
    char *name;
    char *value;
};

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

/* Percent-decode `n` bytes; a '%' not followed by two hex digits is kept literally. */
static char *decode(const char *s, size_t n, bool lower)
{
    char *out = edw_xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        }
        if (lower && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        out[k++] = c;
    }
    out[k] = '\0';
    return out;
}

static int cmp_pair(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static void free_pairs(struct pair *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
}

/* Decoded query parameters, names lowercased, sorted by name then value. */
static struct pair *query_pairs(const char *query, size_t *n_out)
{
    struct pair *p = NULL;
    size_t n = 0, cap = 0;
    const char *s = query;
    while (s && *s && *s != '#') {
        size_t len = strcspn(s, "&#");
        if (len > 0) {
            const char *eq = memchr(s, '=', len);
            size_t name_len = eq ? (size_t)(eq - s) : len;
            p = edw_xgrow(p, &cap, n + 1, sizeof(*p));
            p[n].name = decode(s, name_len, true);
            p[n].value = eq ? decode(eq + 1, len - name_len - 1, false) : edw_xstrdup("");
            n++;
        }
        s += len;
        if (*s == '&')
            s++;
    }
    if (n)
        qsort(p, n, sizeof(*p), cmp_pair);
    *n_out = n;
    return p;
}

/* Trim and collapse runs of spaces/tabs/CR/LF to one space (the "linear whitespace" rule). */
static char *collapse(const char *v)
{
    char *out = edw_xmalloc(strlen(v) + 1);
    size_t k = 0;
    bool space = false;
    for (const char *p = v; *p; p++) {
        bool ws = *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n';
        if (ws) {
            space = k > 0;
            continue;
        }
        if (space)
            out[k++] = ' ';
        space = false;
        out[k++] = *p;
    }
    out[k] = '\0';
    return out;
}

/* x-ms-* headers, names lowercased, values collapsed, sorted. */
static struct pair *ms_headers(const struct edw_http_headers *h, size_t *n_out)
{
    struct pair *p = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (strncasecmp(h->items[i].name, "x-ms-", 5) != 0)
            continue;
        p = edw_xgrow(p, &cap, n + 1, sizeof(*p));
        p[n].name = decode(h->items[i].name, strlen(h->items[i].name), true);
        p[n].value = collapse(h->items[i].value);
        n++;
    }
    /* Values of a repeated name keep their order on the wire, so sort stably by name only. */
    for (size_t i = 1; i < n; i++) {
        struct pair t = p[i];
        size_t j = i;
        while (j > 0 && strcmp(p[j - 1].name, t.name) > 0) {
            p[j] = p[j - 1];
            j--;
        }
        p[j] = t;
    }
    *n_out = n;
    return p;
}

/* Append "name:v1,v2\n"-style runs: one entry per distinct name. `sep_first` puts the newline
 * before each entry (query parameters) rather than after (headers). */
static enum edw_err append_joined(struct edw_buf *out, const struct pair *p, size_t n,
                                  bool sep_first)
{
    enum edw_err err = EDW_OK;
    for (size_t i = 0; i < n && !err; i++) {
        bool same = i > 0 && strcmp(p[i - 1].name, p[i].name) == 0;
        if (same) {
            err = edw_buf_appendf(out, ",%s", p[i].value);
        } else {
            if (i > 0 && !sep_first)
                err = edw_buf_append_str(out, "\n");
            if (!err)
                err = edw_buf_appendf(out, "%s%s:%s", sep_first ? "\n" : "", p[i].name,
                                      p[i].value);
        }
    }
    if (!err && n > 0 && !sep_first)
        err = edw_buf_append_str(out, "\n");
    return err;
}

static const char *header_or_empty(const struct edw_http_request *req, const char *name)
{
    const char *v = edw_http_headers_get(&req->headers, name);
    return v ? v : "";
}

static enum edw_err queue_sts(const char *account, const struct edw_http_request *req,
                              const struct url_parts *u, struct edw_buf *out)
{
    /* Content-Length is signed empty when zero (versions 2015-02-21 and later). */
    char length[32] = "";
    if (req->body_len > 0)
        snprintf(length, sizeof(length), "%zu", req->body_len);
    bool ms_date = edw_http_headers_get(&req->headers, "x-ms-date") != NULL;
    enum edw_err err = edw_buf_appendf(
        out, "%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n", req->method,
        header_or_empty(req, "Content-Encoding"), header_or_empty(req, "Content-Language"),
        length, header_or_empty(req, "Content-MD5"), header_or_empty(req, "Content-Type"),
        ms_date ? "" : header_or_empty(req, "Date"), header_or_empty(req, "If-Modified-Since"),
        header_or_empty(req, "If-Match"), header_or_empty(req, "If-None-Match"),
        header_or_empty(req, "If-Unmodified-Since"), header_or_empty(req, "Range"));
    size_t nh = 0, nq = 0;
    struct pair *h = ms_headers(&req->headers, &nh);
    struct pair *q = query_pairs(u->query, &nq);
    if (!err)
        err = append_joined(out, h, nh, false);
    if (!err)
        err = edw_buf_appendf(out, "/%s%.*s", account, (int)u->path_len, u->path);
    if (!err && u->path_len == 0)
        err = edw_buf_append_str(out, "/");
    if (!err)
        err = append_joined(out, q, nq, true);
    free_pairs(h, nh);
    free_pairs(q, nq);
    return err;
}

static enum edw_err table_sts(const char *account, const struct edw_http_request *req,
                              const struct url_parts *u, struct edw_buf *out)
{
    const char *date = edw_http_headers_get(&req->headers, "x-ms-date");
    enum edw_err err = edw_buf_appendf(out, "%s\n%s\n%s\n%s\n/%s%.*s", req->method,
                                       header_or_empty(req, "Content-MD5"),
                                       header_or_empty(req, "Content-Type"),
                                       date ? date : header_or_empty(req, "Date"), account,
                                       (int)u->path_len, u->path);
    if (!err && u->path_len == 0)
        err = edw_buf_append_str(out, "/");
    size_t nq = 0;
    struct pair *q = query_pairs(u->query, &nq);
    for (size_t i = 0; i < nq && !err; i++) {
        if (strcmp(q[i].name, "comp") == 0) {
            err = edw_buf_appendf(out, "?comp=%s", q[i].value);
            break;
        }
    }
    free_pairs(q, nq);
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
    err = edw_buf_appendf(&auth, "SharedKey %s:", account);
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
