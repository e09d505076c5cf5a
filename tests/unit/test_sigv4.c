/* SPDX-License-Identifier: Apache-2.0 */
/* SigV4 against the public AWS test suite (aws-c-auth's tests/aws-signing-test-suite/v4, read
 * from $EDW_VECTORS_DIR/aws-sigv4), stage by stage: canonical request, string to sign,
 * signature, Authorization header and the headers the signer adds. One cmocka test per case.
 *
 * What is not checked, and why:
 *   - the query-*.txt files of every case: they describe presigned URLs (the signature in the
 *     query string). edw only signs headers, so there is nothing of ours to compare them with.
 * Every one of the 38 cases applies to header signing and runs; none is skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edw/alloc.h"
#include "edw/http.h"
#include "edw/sigv4.h"

#define SUITE_CASES 38

static char s_suite[4096];

static char *slurp(const char *dir, const char *name, size_t *len_out)
{
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s/%s", s_suite, dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    struct edw_buf b;
    edw_buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_int_equal(edw_buf_append(&b, chunk, n), EDW_OK);
    fclose(f);
    if (len_out)
        *len_out = b.len;
    return edw_buf_steal(&b);
}

/* Days since 1970-01-01 (proleptic Gregorian), for the context's ISO 8601 timestamp. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t parse_timestamp(const char *iso)
{
    int y, mo, d, h, mi, s;
    assert_int_equal(sscanf(iso, "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s), 6);
    return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static char *pct_decode(const char *s, size_t len)
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

/* A request.txt, parsed the way aws-c-auth's runner reads it: request line, header lines
 * (a line starting with whitespace continues the previous value), blank line, body. */
struct vreq {
    char method[16];
    char *path;
    struct edw_sigv4_param query[16];
    size_t nquery;
    struct edw_http_headers headers;
    char *body;
    size_t body_len;
};

static void parse_target(struct vreq *r, const char *target, size_t len)
{
    const char *q = memchr(target, '?', len);
    size_t plen = q ? (size_t)(q - target) : len;
    r->path = edw_xstrndup(target, plen);
    if (!q)
        return;
    const char *p = q + 1, *end = target + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        size_t n = amp ? (size_t)(amp - p) : (size_t)(end - p);
        const char *eq = memchr(p, '=', n);
        size_t nlen = eq ? (size_t)(eq - p) : n;
        assert_true(r->nquery < 16);
        r->query[r->nquery].name = pct_decode(p, nlen);
        r->query[r->nquery].value = eq ? pct_decode(eq + 1, n - nlen - 1) : edw_xstrdup("");
        r->nquery++;
        p += n + (amp ? 1 : 0);
    }
}

static void parse_request(struct vreq *r, char *text, size_t len)
{
    memset(r, 0, sizeof(*r));
    char *line_end = strstr(text, "\n");
    assert_non_null(line_end);
    char *sp = memchr(text, ' ', (size_t)(line_end - text));
    assert_non_null(sp);
    snprintf(r->method, sizeof(r->method), "%.*s", (int)(sp - text), text);
    /* The target may contain spaces ("/example space/"): it ends at the last " HTTP/". */
    char *proto = NULL;
    for (char *p = sp; p < line_end; p++)
        if (strncmp(p, " HTTP/", 6) == 0)
            proto = p;
    assert_non_null(proto);
    parse_target(r, sp + 1, (size_t)(proto - sp - 1));
    char *p = line_end + 1;
    while (p < text + len && *p != '\n') {
        char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (*p == ' ' || *p == '\t') { /* obsolete folding: continue the last value */
            assert_true(r->headers.n > 0);
            struct edw_http_header *h = &r->headers.items[r->headers.n - 1];
            char *v = edw_xasprintf("%s\n%.*s", h->value, (int)n, p);
            free(h->value);
            h->value = v;
        } else {
            char *colon = memchr(p, ':', n);
            assert_non_null(colon);
            char *name = edw_xstrndup(p, (size_t)(colon - p));
            char *value = edw_xstrndup(colon + 1, n - (size_t)(colon - p) - 1);
            edw_http_headers_add(&r->headers, name, value);
            free(name);
            free(value);
        }
        p = e ? e + 1 : text + len;
    }
    if (p < text + len) { /* the blank line, then the body */
        r->body = edw_xstrndup(p + 1, (size_t)(text + len - p - 1));
        r->body_len = (size_t)(text + len - p - 1);
    }
}

static void vreq_cleanup(struct vreq *r)
{
    free(r->path);
    for (size_t i = 0; i < r->nquery; i++) {
        free((char *)r->query[i].name);
        free((char *)r->query[i].value);
    }
    edw_http_headers_cleanup(&r->headers);
    free(r->body);
}

/* The header lines of header-signed-request.txt (the request line and body skipped). */
static void signed_headers_of(const char *dir, struct edw_http_headers *out)
{
    size_t len = 0;
    char *text = slurp(dir, "header-signed-request.txt", &len);
    struct vreq r;
    parse_request(&r, text, len);
    *out = r.headers;
    memset(&r.headers, 0, sizeof(r.headers));
    vreq_cleanup(&r);
    free(text);
}

static bool has_header(const struct edw_http_headers *h, const char *name, const char *value)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->items[i].name, name) == 0 && strcmp(h->items[i].value, value) == 0)
            return true;
    return false;
}

static const char *json_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void run_case(void **state)
{
    const char *dir = *state;
    size_t len = 0;
    char *ctx_text = slurp(dir, "context.json", NULL);
    json_error_t jerr;
    json_t *ctx = json_loads(ctx_text, 0, &jerr);
    assert_non_null(ctx);
    json_t *jc = json_object_get(ctx, "credentials");
    struct edw_sigv4_credentials creds = {json_str(jc, "access_key_id"),
                                          json_str(jc, "secret_access_key"),
                                          json_str(jc, "token")};
    struct edw_sigv4_options opts = {
        .creds = &creds,
        .region = json_str(ctx, "region"),
        .service = json_str(ctx, "service"),
        .time_unix_s = parse_timestamp(json_str(ctx, "timestamp")),
        .normalize_path = json_is_true(json_object_get(ctx, "normalize")),
        .add_content_sha256 = json_is_true(json_object_get(ctx, "sign_body")),
        .unsigned_session_token = json_is_true(json_object_get(ctx, "omit_session_token")),
    };
    char *req_text = slurp(dir, "request.txt", &len);
    struct vreq vr;
    parse_request(&vr, req_text, len);
    struct edw_http_headers original = {0};
    for (size_t i = 0; i < vr.headers.n; i++)
        edw_http_headers_add(&original, vr.headers.items[i].name, vr.headers.items[i].value);

    struct edw_sigv4_request sr = {vr.method, vr.path, vr.query, vr.nquery, &vr.headers,
                                   vr.body, vr.body_len};
    struct edw_sigv4_stages st;
    edw_sigv4_stages_init(&st);
    struct edw_error err = {0};
    assert_int_equal(edw_sigv4_sign(&opts, &sr, &st, &err), EDW_OK);

    char *want_creq = slurp(dir, "header-canonical-request.txt", NULL);
    char *want_sts = slurp(dir, "header-string-to-sign.txt", NULL);
    char *want_sig = slurp(dir, "header-signature.txt", NULL);
    assert_string_equal(edw_buf_cstr(&st.canonical_request), want_creq); /* stage 1 */
    assert_string_equal(edw_buf_cstr(&st.string_to_sign), want_sts);     /* stage 2 */
    assert_string_equal(st.signature, want_sig);                         /* stages 3, 4 */

    /* Stage 5 and the added headers: the signed request is the original plus exactly what
     * the signer added (Authorization, X-Amz-Date, token, content hash), values included. */
    struct edw_http_headers want;
    signed_headers_of(dir, &want);
    assert_string_equal(edw_buf_cstr(&st.authorization),
                        edw_http_headers_get(&want, "Authorization"));
    for (size_t i = 0; i < want.n; i++)
        if (!has_header(&original, want.items[i].name, want.items[i].value))
            assert_true(has_header(&vr.headers, want.items[i].name, want.items[i].value));
    assert_int_equal(vr.headers.n, want.n);

    edw_http_headers_cleanup(&want);
    edw_http_headers_cleanup(&original);
    free(want_creq);
    free(want_sts);
    free(want_sig);
    edw_sigv4_stages_cleanup(&st);
    vreq_cleanup(&vr);
    free(req_text);
    json_decref(ctx);
    free(ctx_text);
}

static void suite_missing(void **state)
{
    (void)state;
    fprintf(stderr, "SKIP: AWS SigV4 suite not found at '%s' (set EDW_VECTORS_DIR to the "
                    "folder holding aws-sigv4/)\n", s_suite);
    skip();
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The case folders, sorted (each holds a context.json). */
static size_t list_cases(char ***out)
{
    DIR *d = opendir(s_suite);
    size_t n = 0, cap = 0;
    char **names = NULL;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char probe[8192];
        snprintf(probe, sizeof(probe), "%s/%s/context.json", s_suite, e->d_name);
        FILE *f = e->d_name[0] != '.' ? fopen(probe, "r") : NULL;
        if (!f)
            continue;
        fclose(f);
        names = edw_xgrow(names, &cap, n + 1, sizeof(*names));
        names[n++] = edw_xstrdup(e->d_name);
    }
    if (d)
        closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
    *out = names;
    return n;
}

int main(void)
{
    const char *vectors = getenv("EDW_VECTORS_DIR");
    snprintf(s_suite, sizeof(s_suite), "%s/aws-sigv4", vectors ? vectors : "(unset)");
    char **names = NULL;
    size_t n = vectors ? list_cases(&names) : 0;
    if (n == 0) {
        const struct CMUnitTest missing[] = {cmocka_unit_test(suite_missing)};
        return cmocka_run_group_tests_name("sigv4_suite", missing, NULL, NULL);
    }
    if (n != SUITE_CASES)
        fprintf(stderr, "warning: expected %d cases in %s, found %zu\n", SUITE_CASES, s_suite,
                n);
    struct CMUnitTest *tests = edw_xcalloc(n, sizeof(*tests));
    for (size_t i = 0; i < n; i++) {
        tests[i].name = names[i];
        tests[i].test_func = run_case;
        tests[i].initial_state = names[i];
    }
    int failed = _cmocka_run_group_tests("sigv4_suite", tests, n, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(tests);
    return failed || n != SUITE_CASES;
}
