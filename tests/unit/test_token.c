/* SPDX-License-Identifier: Apache-2.0 */
/* Token sources: the Entra reply parser, the token file reader, workload identity and managed
 * identity against the scripted transport, and the cache's refresh, backoff and fallback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../fakes/fake_clock.h"
#include "../fakes/fake_http.h"
#include "edw/token.h"

#define SEC 1000000LL
#define T0 (1800000000LL * SEC)

static char *temp_file(const char *content)
{
    char *path = strdup("/tmp/edw-test-token-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(content);
    assert_int_equal(write(fd, content, n), (ssize_t)n);
    close(fd);
    return path;
}

static void write_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static void test_url(void **state)
{
    (void)state;
    char *u = edw_entra_token_url("https://login.microsoftonline.com/", "tid");
    assert_string_equal(u, "https://login.microsoftonline.com/tid/oauth2/v2.0/token");
    free(u);
    u = edw_entra_token_url("https://127.0.0.1:9/x//", "/tid/");
    assert_string_equal(u, "https://127.0.0.1:9/x/tid/oauth2/v2.0/token");
    free(u);
    u = edw_entra_token_url(NULL, "t");
    assert_string_equal(u, "https://login.microsoftonline.com/t/oauth2/v2.0/token");
    free(u);
}

static void test_parse(void **state)
{
    (void)state;
    struct edw_token t;
    struct edw_error e = {0};
    const char *ok = "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,"
                     "\"access_token\":\"eyJ.abc.sig\"}";
    assert_int_equal(edw_entra_token_parse(200, ok, strlen(ok), T0, "te", &t, &e), EDW_OK);
    assert_string_equal(t.value, "eyJ.abc.sig");
    assert_int_equal(t.expires_at_us, T0 + 3599 * SEC);
    assert_int_equal(t.refresh_at_us, 0);
    edw_token_cleanup(&t);

    const char *mi = "{\"access_token\":\"mitok\",\"expires_in\":\"86399\",\"expires_on\":"
                     "\"1800086399\",\"resource\":\"https://storage.azure.com/\","
                     "\"token_type\":\"Bearer\",\"refresh_in\":43200}";
    assert_int_equal(edw_entra_token_parse(200, mi, strlen(mi), T0, "mi", &t, &e), EDW_OK);
    assert_int_equal(t.expires_at_us, T0 + 86399 * SEC);
    assert_int_equal(t.refresh_at_us, T0 + 43200 * SEC);
    edw_token_cleanup(&t);

    const char *on_only = "{\"access_token\":\"x\",\"expires_on\":\"1800000100\"}";
    assert_int_equal(edw_entra_token_parse(200, on_only, strlen(on_only), T0, "mi", &t, &e),
                     EDW_OK);
    assert_int_equal(t.expires_at_us, 1800000100LL * SEC);
    edw_token_cleanup(&t);

    const char *aad = "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS700024: "
                      "Client assertion is not within its valid time range. CANARY-DESC\","
                      "\"error_codes\":[700024]}";
    assert_int_equal(edw_entra_token_parse(400, aad, strlen(aad), T0, "te", &t, &e), EDW_ERR_AUTH);
    assert_null(t.value);
    assert_non_null(strstr(e.message, "AADSTS700024"));
    assert_non_null(strstr(e.message, "invalid_client"));
    assert_non_null(strstr(e.message, "stale"));
    assert_null(strstr(e.message, "CANARY"));
    assert_string_equal(e.code, "AADSTS700024");
    assert_int_equal(e.http_status, 400);

    assert_int_equal(edw_entra_token_parse(503, "oops", 4, T0, "te", &t, &e), EDW_ERR_TRANSIENT);
    assert_int_equal(edw_entra_token_parse(429, "", 0, T0, "te", &t, &e), EDW_ERR_THROTTLED);
    assert_int_equal(edw_entra_token_parse(200, "{garbage", 8, T0, "te", &t, &e),
                     EDW_ERR_TRANSIENT);
    assert_non_null(strstr(e.message, "not a JSON object"));
    const char *notok = "{\"expires_in\":10}";
    assert_int_equal(edw_entra_token_parse(200, notok, strlen(notok), T0, "te", &t, &e),
                     EDW_ERR_TRANSIENT);
    const char *noexp = "{\"access_token\":\"a\"}";
    assert_int_equal(edw_entra_token_parse(200, noexp, strlen(noexp), T0, "te", &t, &e),
                     EDW_ERR_TRANSIENT);
    const char *mac = "{\"access_token\":\"a\",\"expires_in\":10,\"token_type\":\"mac\"}";
    assert_int_equal(edw_entra_token_parse(200, mac, strlen(mac), T0, "te", &t, &e),
                     EDW_ERR_TRANSIENT);
    assert_null(t.value);

    /* Found by fuzzing (tests/fuzz/fuzz_token_json.c): absurd times overflowed the conversion
     * to microseconds (signed overflow, UB). They now count as absent. */
    const char *huge[] = {
        "{\"access_token\":\"a\",\"expires_in\":\"0\",\"expires_on\":\"17958885195555555555\"}",
        "{\"access_token\":\"a\",\"expires_in\":9223372036854775807}",
        "{\"access_token\":\"a\",\"expires_in\":1e300}",
        "{\"access_token\":\"a\",\"expires_on\":\"9223372036854775\"}",
    };
    for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        assert_int_equal(edw_entra_token_parse(200, huge[i], strlen(huge[i]), T0, "te", &t, &e),
                         EDW_ERR_TRANSIENT);
        assert_null(t.value);
        assert_non_null(strstr(e.message, "no valid expires_in or expires_on"));
    }
    const char *big_refresh = "{\"access_token\":\"a\",\"expires_in\":3600,"
                              "\"refresh_in\":9223372036854775807}";
    assert_int_equal(
        edw_entra_token_parse(200, big_refresh, strlen(big_refresh), T0, "te", &t, &e), EDW_OK);
    assert_int_equal(t.refresh_at_us, 0);
    edw_token_cleanup(&t);
}

static void test_read_file(void **state)
{
    (void)state;
    struct edw_error e = {0};
    char *tok = NULL;
    char *path = temp_file("CANARY-ASSERTION\n");
    assert_int_equal(edw_read_token_file(path, 64, &tok, &e), EDW_OK);
    assert_string_equal(tok, "CANARY-ASSERTION");
    free(tok);

    write_file(path, "");
    assert_int_equal(edw_read_token_file(path, 64, &tok, &e), EDW_ERR_AUTH);
    assert_non_null(strstr(e.message, "is empty"));
    assert_non_null(strstr(e.message, path));

    write_file(path, "CANARY-ASSERTION-THAT-IS-FAR-TOO-LONG-FOR-THE-LIMIT-OF-THIRTY-TWO");
    assert_int_equal(edw_read_token_file(path, 32, &tok, &e), EDW_ERR_AUTH);
    assert_null(tok);
    assert_non_null(strstr(e.message, "larger than 32 bytes"));
    assert_null(strstr(e.message, "CANARY"));

    unlink(path);
    assert_int_equal(edw_read_token_file(path, 64, &tok, &e), EDW_ERR_AUTH);
    assert_non_null(strstr(e.message, "cannot be opened"));
    free(path);
}

/* A token endpoint that checks the assertion against the file's current content. */
struct endpoint {
    const char *file;
    int issued;
    long fail_status; /* 0: succeed */
};

static void endpoint_fn(void *ctx, const struct fake_http_call *req, struct edw_http_response *resp)
{
    struct endpoint *ep = ctx;
    if (ep->fail_status) {
        fake_http_reply(resp, ep->fail_status,
                        "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS70021: "
                        "No matching federated identity record found\"}");
        return;
    }
    FILE *f = fopen(ep->file, "rb");
    char cur[256] = "";
    size_t n = f ? fread(cur, 1, sizeof(cur) - 1, f) : 0;
    if (f)
        fclose(f);
    while (n > 0 && cur[n - 1] == '\n')
        n--;
    cur[n] = '\0';
    char want[300];
    snprintf(want, sizeof(want), "&client_assertion=%s", cur);
    if (!strstr(req->body, want)) {
        fake_http_reply(resp, 401, "{\"error\":\"invalid_client\"}");
        return;
    }
    char body[200];
    snprintf(body, sizeof(body),
             "{\"token_type\":\"Bearer\",\"expires_in\":600,\"access_token\":\"at-%d\"}",
             ++ep->issued);
    fake_http_reply(resp, 200, body);
}

static void test_workload_identity(void **state)
{
    (void)state;
    struct fake_http h;
    fake_http_init(&h);
    char *path = temp_file("assertion-1\n");
    struct endpoint ep = {.file = path};
    fake_http_set_handler(&h, endpoint_fn, &ep);
    struct edw_token_source *src = NULL;
    struct edw_error e = {0};
    struct edw_entra_wi_options o = {.client_id = "cid 1",
                                     .tenant_id = "tid",
                                     .token_file = path,
                                     .authority_host = "https://127.0.0.1:1/",
                                     .http = &h.transport};
    assert_int_equal(edw_token_entra_wi_new(&o, &src, &e), EDW_OK);
    assert_string_equal(edw_token_source_kind(src), "workload-identity");
    struct edw_token t;
    assert_int_equal(edw_token_source_get(src, T0, &t, &e), EDW_OK);
    assert_string_equal(t.value, "at-1");
    assert_int_equal(t.expires_at_us, T0 + 600 * SEC);
    edw_token_cleanup(&t);
    assert_int_equal(h.ncalls, 1);
    assert_string_equal(h.calls[0].method, "POST");
    assert_string_equal(h.calls[0].url, "https://127.0.0.1:1/tid/oauth2/v2.0/token");
    assert_string_equal(fake_http_header(&h, 0, "Content-Type"),
                        "application/x-www-form-urlencoded");
    const char *b = h.calls[0].body;
    assert_non_null(strstr(b, "grant_type=client_credentials"));
    assert_non_null(strstr(b, "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-"
                              "assertion-type%3Ajwt-bearer"));
    assert_non_null(strstr(b, "client_id=cid%201"));
    assert_non_null(strstr(b, "scope=https%3A%2F%2Fstorage.azure.com%2F.default"));

    /* the kubelet rotates the file: the next exchange sends the new content */
    write_file(path, "assertion-2");
    assert_int_equal(edw_token_source_get(src, T0, &t, &e), EDW_OK);
    assert_string_equal(t.value, "at-2");
    edw_token_cleanup(&t);
    assert_non_null(strstr(h.calls[1].body, "client_assertion=assertion-2"));

    ep.fail_status = 400;
    assert_int_equal(edw_token_source_get(src, T0, &t, &e), EDW_ERR_AUTH);
    assert_non_null(strstr(e.message, "AADSTS70021"));
    assert_null(strstr(e.message, "assertion-2"));

    unlink(path);
    assert_int_equal(edw_token_source_get(src, T0, &t, &e), EDW_ERR_AUTH);
    assert_non_null(strstr(e.message, "cannot be opened"));
    assert_int_equal(h.ncalls, 3); /* no request without a token file */

    fake_http_push_failure(&h);
    write_file(path, "assertion-3");
    assert_int_equal(edw_token_source_get(src, T0, &t, &e), EDW_ERR_TRANSIENT);
    assert_non_null(strstr(e.message, "no reply"));
    unlink(path);

    edw_token_source_unref(src);
    struct edw_entra_wi_options bad = {.client_id = "c", .token_file = "/x", .http = &h.transport};
    assert_int_equal(edw_token_entra_wi_new(&bad, &src, &e), EDW_ERR_INVALID);
    assert_non_null(strstr(e.message, "AZURE_TENANT_ID"));
    free(path);
    fake_http_cleanup(&h);
}

static void test_managed_identity(void **state)
{
    (void)state;
    struct fake_http h;
    fake_http_init(&h);
    struct edw_token_source *src = NULL;
    struct edw_error e = {0};
    struct edw_managed_identity_options o = {.client_id = "uami", .http = &h.transport};
    assert_int_equal(edw_token_managed_identity_new(&o, &src, &e), EDW_OK);
    fake_http_push(&h, 200,
                   "{\"access_token\":\"mi-1\",\"expires_in\":\"86399\","
                   "\"expires_on\":\"1800086399\",\"token_type\":\"Bearer\"}");
    struct edw_token t;
    assert_int_equal(edw_token_source_get(src, T0, &t, &e), EDW_OK);
    assert_string_equal(t.value, "mi-1");
    edw_token_cleanup(&t);
    assert_string_equal(h.calls[0].method, "GET");
    assert_string_equal(h.calls[0].url,
                        "http://169.254.169.254/metadata/identity/oauth2/token?api-version="
                        "2018-02-01&resource=https%3A%2F%2Fstorage.azure.com%2F&client_id=uami");
    assert_string_equal(fake_http_header(&h, 0, "Metadata"), "true");
    assert_true(h.calls[0].no_proxy);
    fake_http_push(&h, 400,
                   "{\"error\":\"invalid_request\",\"error_description\":\"Identity "
                   "not found\"}");
    assert_int_equal(edw_token_source_get(src, T0, &t, &e), EDW_ERR_AUTH);
    assert_non_null(strstr(e.message, "managed identity assigned"));
    edw_token_source_unref(src);

    struct edw_managed_identity_options svc = {.identity_endpoint = "http://127.0.0.1:9/msi",
                                               .identity_header = "CANARY-HDR",
                                               .http = &h.transport};
    assert_int_equal(edw_token_managed_identity_new(&svc, &src, &e), EDW_OK);
    fake_http_push(&h, 200, "{\"access_token\":\"mi-2\",\"expires_on\":\"1800003600\"}");
    assert_int_equal(edw_token_source_get(src, T0, &t, &e), EDW_OK);
    assert_string_equal(t.value, "mi-2");
    edw_token_cleanup(&t);
    assert_string_equal(h.calls[2].url, "http://127.0.0.1:9/msi?api-version=2019-08-01&"
                                        "resource=https%3A%2F%2Fstorage.azure.com%2F");
    assert_string_equal(fake_http_header(&h, 2, "X-IDENTITY-HEADER"), "CANARY-HDR");
    assert_null(fake_http_header(&h, 2, "Metadata"));
    edw_token_source_unref(src);

    struct edw_managed_identity_options half = {.identity_endpoint = "http://x",
                                                .http = &h.transport};
    assert_int_equal(edw_token_managed_identity_new(&half, &src, &e), EDW_ERR_INVALID);
    assert_non_null(strstr(e.message, "IDENTITY_HEADER"));
    fake_http_cleanup(&h);
}

/* A scripted inner source for the cache tests. */
struct script_src {
    int calls;
    enum edw_err next_rc;
    int64_t lifetime_us;
};

static enum edw_err script_get(void *state, int64_t now_us, struct edw_token *out,
                               struct edw_error *err)
{
    struct script_src *s = state;
    s->calls++;
    if (s->next_rc)
        return edw_error_set(err, s->next_rc, "scripted failure %d", s->calls);
    char v[32];
    snprintf(v, sizeof(v), "tok-%d", s->calls);
    out->value = strdup(v);
    out->expires_at_us = now_us + s->lifetime_us;
    return EDW_OK;
}

static void script_destroy(void *state)
{
    (void)state;
}

static const struct edw_token_source_ops s_script_ops = {
    .kind = "script", .get = script_get, .destroy = script_destroy};

static enum edw_err cache_get(struct edw_token_source *c, struct fake_clock *fc, char *value,
                              size_t size, struct edw_error *e)
{
    struct edw_token t;
    enum edw_err rc = edw_token_source_get(c, fc->wall_us, &t, e);
    snprintf(value, size, "%s", rc ? "" : t.value);
    edw_token_cleanup(&t);
    return rc;
}

static void test_cache(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, T0);
    struct script_src s = {.lifetime_us = 3600 * SEC};
    struct edw_token_source *inner = edw_token_source_new(&s_script_ops, &s);
    struct edw_token_source *c = edw_token_cache_new(inner, &fc.clock, NULL);
    edw_token_source_unref(inner); /* the cache holds its own reference */
    char v[32];
    struct edw_error e = {0};
    assert_int_equal(cache_get(c, &fc, v, sizeof(v), &e), EDW_OK);
    assert_string_equal(v, "tok-1");
    fake_clock_advance(&fc, 3000 * SEC); /* 10 min left: still before the 5 min skew */
    assert_int_equal(cache_get(c, &fc, v, sizeof(v), &e), EDW_OK);
    assert_string_equal(v, "tok-1");
    assert_int_equal(s.calls, 1);
    fake_clock_advance(&fc, 301 * SEC); /* inside the skew: refresh */
    assert_int_equal(cache_get(c, &fc, v, sizeof(v), &e), EDW_OK);
    assert_string_equal(v, "tok-2");
    assert_int_equal(s.calls, 2);

    /* a failed refresh keeps the valid token and backs off */
    fake_clock_advance(&fc, 3400 * SEC);
    s.next_rc = EDW_ERR_TRANSIENT;
    assert_int_equal(cache_get(c, &fc, v, sizeof(v), &e), EDW_OK);
    assert_string_equal(v, "tok-2");
    assert_int_equal(s.calls, 3);
    assert_int_equal(cache_get(c, &fc, v, sizeof(v), &e), EDW_OK);
    assert_int_equal(s.calls, 3); /* within the backoff: not asked again */
    fake_clock_advance(&fc, 2 * SEC);
    assert_int_equal(cache_get(c, &fc, v, sizeof(v), &e), EDW_OK);
    assert_int_equal(s.calls, 4);

    /* once it has expired the error surfaces, and the backoff spares the endpoint */
    fake_clock_advance(&fc, 300 * SEC);
    assert_int_equal(cache_get(c, &fc, v, sizeof(v), &e), EDW_ERR_TRANSIENT);
    assert_int_equal(s.calls, 5);
    assert_non_null(strstr(e.message, "scripted failure 5"));
    assert_int_equal(cache_get(c, &fc, v, sizeof(v), &e), EDW_ERR_TRANSIENT);
    assert_int_equal(s.calls, 5);
    assert_non_null(strstr(e.message, "scripted failure 5"));
    s.next_rc = EDW_OK;
    fake_clock_advance(&fc, 30 * SEC);
    assert_int_equal(cache_get(c, &fc, v, sizeof(v), &e), EDW_OK);
    assert_string_equal(v, "tok-6");

    /* the service rejected it: invalidate fetches at once */
    edw_token_source_invalidate(c);
    assert_int_equal(cache_get(c, &fc, v, sizeof(v), &e), EDW_OK);
    assert_string_equal(v, "tok-7");
    edw_token_source_unref(c);
}

static void test_cache_short_and_long(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, T0);
    struct script_src s = {.lifetime_us = 20 * SEC}; /* shorter than twice the skew */
    struct edw_token_source *inner = edw_token_source_new(&s_script_ops, &s);
    struct edw_token_source *c = edw_token_cache_new(inner, &fc.clock, NULL);
    edw_token_source_unref(inner);
    char v[32];
    struct edw_error e = {0};
    assert_int_equal(cache_get(c, &fc, v, sizeof(v), &e), EDW_OK);
    fake_clock_advance(&fc, 9 * SEC);
    assert_int_equal(cache_get(c, &fc, v, sizeof(v), &e), EDW_OK);
    assert_int_equal(s.calls, 1);
    fake_clock_advance(&fc, 2 * SEC); /* past half-life */
    assert_int_equal(cache_get(c, &fc, v, sizeof(v), &e), EDW_OK);
    assert_int_equal(s.calls, 2);
    s.lifetime_us = 24 * 3600 * SEC; /* managed identity: half-life */
    edw_token_source_invalidate(c);
    assert_int_equal(cache_get(c, &fc, v, sizeof(v), &e), EDW_OK);
    fake_clock_advance(&fc, 11 * 3600 * SEC);
    assert_int_equal(cache_get(c, &fc, v, sizeof(v), &e), EDW_OK);
    assert_int_equal(s.calls, 3);
    fake_clock_advance(&fc, 2 * 3600 * SEC);
    assert_int_equal(cache_get(c, &fc, v, sizeof(v), &e), EDW_OK);
    assert_int_equal(s.calls, 4);
    edw_token_source_unref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_workload_identity),
        cmocka_unit_test(test_managed_identity),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_cache_short_and_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
