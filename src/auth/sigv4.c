/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Signature Version 4, header variant. The steps follow the AWS "Create a signed AWS API
 * request" guide; each is a separate function so the public test suite can check them one by
 * one (tests/unit/test_sigv4.c). */
#include "edw/sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws_crypto.h"
#include "edw/alloc.h"
#include "edw/urlencode.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define MAX_TEXT (8u << 20) /* far above any header set we send; bounds the stage buffers */

void edw_sigv4_stages_init(struct edw_sigv4_stages *s)
{
    edw_buf_init(&s->canonical_request, MAX_TEXT);
    edw_buf_init(&s->signed_headers, MAX_TEXT);
    edw_buf_init(&s->string_to_sign, MAX_TEXT);
    edw_buf_init(&s->authorization, MAX_TEXT);
    s->signature[0] = '\0';
}

void edw_sigv4_stages_cleanup(struct edw_sigv4_stages *s)
{
    if (!s)
        return;
    edw_buf_cleanup(&s->canonical_request);
    edw_buf_cleanup(&s->signed_headers);
    edw_buf_cleanup(&s->string_to_sign);
    edw_buf_cleanup(&s->authorization);
    s->signature[0] = '\0';
}

void edw_sigv4_amz_date(int64_t t, char out[17])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    char tmp[64]; /* roomy so the compiler can see nothing is truncated */
    snprintf(tmp, sizeof(tmp), "%04d%02d%02dT%02d%02d%02dZ", (tm.tm_year + 1900) % 10000,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    memcpy(out, tmp, 16);
    out[16] = '\0';
}

void edw_sigv4_payload_hash(const void *body, size_t len, char out[65])
{
    unsigned char md[EDW_SHA256_LEN];
    edw_aws_sha256(body ? body : "", body ? len : 0, md);
    edw_aws_hex(md, sizeof(md), out);
}

struct segment {
    const char *p;
    size_t len;
};

/* Remove "." and ".." segments and empty ones ("//"), keeping a trailing slash; the result
 * always starts with '/'. This is what AWS does for every service except S3. */
static enum edw_err normalize_path(const char *path, struct edw_buf *out)
{
    size_t n = 0, cap = 0;
    struct segment *segs = NULL;
    bool trailing = false;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        if (!*p) {
            trailing = n > 0; /* the path ended in '/' after a real segment */
            break;
        }
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        trailing = false;
        if (len == 1 && p[0] == '.') {
            trailing = true;
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            if (n > 0)
                n--;
            trailing = true;
        } else {
            segs = edw_xgrow(segs, &cap, n + 1, sizeof(*segs));
            segs[n++] = (struct segment){p, len};
        }
        p += len;
    }
    enum edw_err rc = edw_buf_append_str(out, "/");
    for (size_t i = 0; i < n && !rc; i++) {
        rc = edw_url_encode(out, segs[i].p, segs[i].len, NULL);
        if (!rc && (i + 1 < n || trailing))
            rc = edw_buf_append_str(out, "/");
    }
    free(segs);
    return rc;
}

static enum edw_err canonical_uri(const char *path, bool normalize, struct edw_buf *out)
{
    if (!path || !*path)
        return edw_buf_append_str(out, "/");
    if (normalize)
        return normalize_path(path, out);
    return edw_url_encode(out, path, strlen(path), "/");
}

struct enc_param {
    char *name;
    char *value;
};

static int cmp_param(const void *a, const void *b)
{
    const struct enc_param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static char *encoded(const char *s)
{
    struct edw_buf b;
    edw_buf_init(&b, MAX_TEXT);
    if (edw_url_encode(&b, s, strlen(s), NULL) != EDW_OK)
        abort(); /* only past MAX_TEXT: callers bound their inputs far below it */
    return edw_buf_steal(&b);
}

/* Encode every name and value, sort by encoded name then value, join with '&'. */
static enum edw_err canonical_query(const struct edw_sigv4_param *q, size_t n,
                                    struct edw_buf *out)
{
    struct enc_param *ps = edw_xcalloc(n ? n : 1, sizeof(*ps));
    for (size_t i = 0; i < n; i++) {
        ps[i].name = encoded(q[i].name);
        ps[i].value = encoded(q[i].value ? q[i].value : "");
    }
    qsort(ps, n, sizeof(*ps), cmp_param);
    enum edw_err rc = EDW_OK;
    for (size_t i = 0; i < n && !rc; i++)
        rc = edw_buf_appendf(out, "%s%s=%s", i ? "&" : "", ps[i].name, ps[i].value);
    for (size_t i = 0; i < n; i++) {
        free(ps[i].name);
        free(ps[i].value);
    }
    free(ps);
    return rc;
}

struct canon_header {
    char *name;        /* lowercased copy */
    const char *value; /* borrowed */
    size_t order;      /* position in the request, so repeated names keep their order */
};

static int cmp_header(const void *a, const void *b)
{
    const struct canon_header *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

static bool space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trim the value and collapse every run of whitespace (obsolete line folding included) to
 * one space. */
static enum edw_err append_trimmed(struct edw_buf *out, const char *v)
{
    enum edw_err rc = EDW_OK;
    while (space(*v))
        v++;
    while (*v && !rc) {
        if (space(*v)) {
            while (space(*v))
                v++;
            if (*v)
                rc = edw_buf_append_str(out, " ");
            continue;
        }
        rc = edw_buf_append(out, v++, 1);
    }
    return rc;
}

static char *lowercase(const char *s)
{
    char *l = edw_xstrdup(s);
    for (char *p = l; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return l;
}

/* "name:v1,v2\n" lines in name order, and "a;b;c" into `signed_headers`. */
static enum edw_err canonical_headers(const struct edw_http_headers *h, struct edw_buf *out,
                                      struct edw_buf *signed_headers)
{
    size_t n = 0;
    struct canon_header *hs = edw_xcalloc(h->n ? h->n : 1, sizeof(*hs));
    for (size_t i = 0; i < h->n; i++) {
        if (!h->items[i].name[0] || strcasecmp(h->items[i].name, "authorization") == 0)
            continue;
        hs[n++] = (struct canon_header){lowercase(h->items[i].name), h->items[i].value, i};
    }
    qsort(hs, n, sizeof(*hs), cmp_header);
    enum edw_err rc = EDW_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        bool first = i == 0 || strcmp(hs[i - 1].name, hs[i].name) != 0;
        bool last = i + 1 == n || strcmp(hs[i + 1].name, hs[i].name) != 0;
        if (first) {
            rc = edw_buf_appendf(out, "%s:", hs[i].name);
            if (!rc)
                rc = edw_buf_appendf(signed_headers, "%s%s", i ? ";" : "", hs[i].name);
        } else {
            rc = edw_buf_append_str(out, ",");
        }
        if (!rc)
            rc = append_trimmed(out, hs[i].value);
        if (!rc && last)
            rc = edw_buf_append_str(out, "\n");
    }
    for (size_t i = 0; i < n; i++)
        free(hs[i].name);
    free(hs);
    return rc;
}

enum edw_err edw_sigv4_canonical_request(const struct edw_sigv4_request *req,
                                         bool normalize_path, const char *payload_hash,
                                         struct edw_buf *creq, struct edw_buf *signed_headers)
{
    enum edw_err rc = edw_buf_appendf(creq, "%s\n", req->method);
    if (!rc)
        rc = canonical_uri(req->path, normalize_path, creq);
    if (!rc)
        rc = edw_buf_append_str(creq, "\n");
    if (!rc)
        rc = canonical_query(req->query, req->nquery, creq);
    if (!rc)
        rc = edw_buf_append_str(creq, "\n");
    if (!rc)
        rc = canonical_headers(req->headers, creq, signed_headers);
    if (!rc)
        rc = edw_buf_appendf(creq, "\n%s\n%s", edw_buf_cstr(signed_headers), payload_hash);
    return rc;
}

enum edw_err edw_sigv4_scope(const char *date8, const char *region, const char *service,
                             struct edw_buf *out)
{
    return edw_buf_appendf(out, "%.8s/%s/%s/aws4_request", date8, region, service);
}

enum edw_err edw_sigv4_string_to_sign(const char *amz_date, const char *scope,
                                      const struct edw_str creq, struct edw_buf *out)
{
    char hash[65];
    edw_sigv4_payload_hash(creq.ptr, creq.len, hash);
    return edw_buf_appendf(out, ALGORITHM "\n%s\n%s\n%s", amz_date, scope, hash);
}

void edw_sigv4_signing_key(const char *secret, const char *date8, const char *region,
                           const char *service, unsigned char key[32])
{
    size_t slen = strlen(secret);
    char *k = edw_xmalloc(slen + 5);
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, slen + 1);
    edw_aws_hmac_sha256(k, slen + 4, date8, 8, key);
    edw_aws_wipe(k, slen + 4);
    free(k);
    edw_aws_hmac_sha256(key, 32, region, strlen(region), key);
    edw_aws_hmac_sha256(key, 32, service, strlen(service), key);
    edw_aws_hmac_sha256(key, 32, "aws4_request", 12, key);
}

void edw_sigv4_signature(const unsigned char key[32], const struct edw_str sts, char out[65])
{
    unsigned char md[EDW_SHA256_LEN];
    edw_aws_hmac_sha256(key, 32, sts.ptr, sts.len, md);
    edw_aws_hex(md, sizeof(md), out);
}

enum edw_err edw_sigv4_authorization(const char *access_key_id, const char *scope,
                                     const char *signed_headers, const char *signature,
                                     struct edw_buf *out)
{
    return edw_buf_appendf(out, ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                           access_key_id, scope, signed_headers, signature);
}

/* Drop every header called `name` (case-insensitive). */
static void remove_header(struct edw_http_headers *h, const char *name)
{
    size_t k = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (strcasecmp(h->items[i].name, name) == 0) {
            free(h->items[i].name);
            free(h->items[i].value);
        } else {
            h->items[k++] = h->items[i];
        }
    }
    h->n = k;
}

static enum edw_err check_options(const struct edw_sigv4_options *o,
                                  const struct edw_sigv4_request *req, struct edw_error *err)
{
    const struct edw_sigv4_credentials *c = o->creds;
    if (!c || !c->access_key_id || !*c->access_key_id || !c->secret_access_key ||
        !*c->secret_access_key)
        return edw_error_set(err, EDW_ERR_INVALID, "SigV4: no AWS credentials to sign with");
    if (!o->region || !*o->region || !o->service || !*o->service)
        return edw_error_set(err, EDW_ERR_INVALID, "SigV4: region and service are required");
    if (!edw_http_headers_get(req->headers, "Host"))
        return edw_error_set(err, EDW_ERR_INVALID, "SigV4: the request has no Host header");
    return EDW_OK;
}

/* Stages 2 to 5 over a finished canonical request. */
static enum edw_err sign_stages(const struct edw_sigv4_options *o, const char *amz_date,
                                struct edw_sigv4_stages *st)
{
    struct edw_buf scope;
    edw_buf_init(&scope, 1024);
    unsigned char key[32];
    enum edw_err rc = edw_sigv4_scope(amz_date, o->region, o->service, &scope);
    if (!rc)
        rc = edw_sigv4_string_to_sign(
            amz_date, edw_buf_cstr(&scope),
            (struct edw_str){edw_buf_cstr(&st->canonical_request), st->canonical_request.len},
            &st->string_to_sign);
    if (!rc) {
        edw_sigv4_signing_key(o->creds->secret_access_key, amz_date, o->region, o->service,
                              key);
        edw_sigv4_signature(
            key, (struct edw_str){edw_buf_cstr(&st->string_to_sign), st->string_to_sign.len},
            st->signature);
        edw_aws_wipe(key, sizeof(key));
        rc = edw_sigv4_authorization(o->creds->access_key_id, edw_buf_cstr(&scope),
                                     edw_buf_cstr(&st->signed_headers), st->signature,
                                     &st->authorization);
    }
    edw_buf_cleanup(&scope);
    return rc;
}

enum edw_err edw_sigv4_sign(const struct edw_sigv4_options *opts, struct edw_sigv4_request *req,
                            struct edw_sigv4_stages *stages, struct edw_error *err)
{
    enum edw_err rc = check_options(opts, req, err);
    if (rc)
        return rc;
    struct edw_sigv4_stages local;
    struct edw_sigv4_stages *st = stages ? stages : &local;
    if (!stages)
        edw_sigv4_stages_init(&local);
    const char *token = opts->creds->session_token;
    bool has_token = token && *token;
    char amz_date[17], payload_hash[65];
    edw_sigv4_amz_date(opts->time_unix_s, amz_date);
    edw_sigv4_payload_hash(req->body, req->body_len, payload_hash);

    /* A request signed before (a retry) gets fresh values, never a second copy. */
    remove_header(req->headers, "Authorization");
    remove_header(req->headers, "X-Amz-Security-Token");
    edw_http_headers_set(req->headers, "X-Amz-Date", amz_date);
    if (has_token && !opts->unsigned_session_token)
        edw_http_headers_add(req->headers, "X-Amz-Security-Token", token);
    if (opts->add_content_sha256)
        edw_http_headers_set(req->headers, "x-amz-content-sha256", payload_hash);

    rc = edw_sigv4_canonical_request(req, opts->normalize_path, payload_hash,
                                     &st->canonical_request, &st->signed_headers);
    if (!rc)
        rc = sign_stages(opts, amz_date, st);
    if (!rc) {
        edw_http_headers_add(req->headers, "Authorization", edw_buf_cstr(&st->authorization));
        if (has_token && opts->unsigned_session_token)
            edw_http_headers_add(req->headers, "X-Amz-Security-Token", token);
    } else {
        edw_error_set(err, rc, "SigV4: request too large to sign");
    }
    if (!stages)
        edw_sigv4_stages_cleanup(&local);
    return rc;
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

/* Percent-decode `len` bytes; a malformed escape is kept as it is. */
static char *decode(const char *s, size_t len)
{
    char *out = edw_xmalloc(len + 1);
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[k++] = s[i];
        }
    }
    out[k] = '\0';
    return out;
}

struct parsed_url {
    char *authority;
    char *path;
    struct edw_sigv4_param *query;
    size_t nquery;
};

static void parsed_url_cleanup(struct parsed_url *u)
{
    free(u->authority);
    free(u->path);
    for (size_t i = 0; i < u->nquery; i++) {
        free((char *)u->query[i].name);
        free((char *)u->query[i].value);
    }
    free(u->query);
}

static bool parse_url(const char *url, struct parsed_url *u)
{
    memset(u, 0, sizeof(*u));
    const char *p = strstr(url, "://");
    if (!p)
        return false;
    p += 3;
    size_t alen = strcspn(p, "/?#");
    if (alen == 0)
        return false;
    u->authority = edw_xstrndup(p, alen);
    p += alen;
    size_t plen = strcspn(p, "?#");
    u->path = plen ? edw_xstrndup(p, plen) : edw_xstrdup("/");
    p += plen;
    if (*p != '?')
        return true;
    p++;
    size_t cap = 0;
    while (*p && *p != '#') {
        size_t len = strcspn(p, "&#");
        if (len) {
            const char *eq = memchr(p, '=', len);
            size_t nlen = eq ? (size_t)(eq - p) : len;
            u->query = edw_xgrow(u->query, &cap, u->nquery + 1, sizeof(*u->query));
            u->query[u->nquery].name = decode(p, nlen);
            u->query[u->nquery].value = eq ? decode(eq + 1, len - nlen - 1) : edw_xstrdup("");
            u->nquery++;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return true;
}

enum edw_err edw_sigv4_sign_http(const struct edw_sigv4_options *opts,
                                 struct edw_http_request *req, struct edw_error *err)
{
    struct parsed_url u;
    if (!parse_url(req->url, &u)) {
        parsed_url_cleanup(&u);
        return edw_error_set(err, EDW_ERR_INVALID, "SigV4: cannot parse the request URL");
    }
    if (!edw_http_headers_get(&req->headers, "Host"))
        edw_http_headers_add(&req->headers, "Host", u.authority);
    struct edw_sigv4_request sr = {
        .method = req->method,
        .path = u.path,
        .query = u.query,
        .nquery = u.nquery,
        .headers = &req->headers,
        .body = req->body,
        .body_len = req->body_len,
    };
    enum edw_err rc = edw_sigv4_sign(opts, &sr, NULL, err);
    parsed_url_cleanup(&u);
    return rc;
}
