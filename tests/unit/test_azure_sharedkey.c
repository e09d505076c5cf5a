/* SPDX-License-Identifier: Apache-2.0 */
/* Shared Key signing against our vectors (tests/vectors/azure-sharedkey, see its README for
 * where each expected value came from), plus the HMAC and base64 primitives against their
 * RFC test vectors. */
#include <dirent.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edw/alloc.h"
#include "edw/auth.h"

#ifndef EDW_AZURE_VECTORS
#error "EDW_AZURE_VECTORS must name tests/vectors/azure-sharedkey"
#endif

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct edw_buf b;
    edw_buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_int_equal(edw_buf_append(&b, chunk, n), EDW_OK);
    fclose(f);
    return edw_buf_steal(&b);
}

/* Build the request of one vector; fill scheme/account/key. */
static void load_request(json_t *in, struct edw_http_request *req, enum edw_azure_sk_scheme *scheme,
                         struct edw_buf *key)
{
    edw_http_request_init(req, json_string_value(json_object_get(in, "method")),
                          json_string_value(json_object_get(in, "url")));
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(in, "headers"), i, h)
    {
        edw_http_headers_add(&req->headers, json_string_value(json_array_get(h, 0)),
                             json_string_value(json_array_get(h, 1)));
    }
    req->body_len = (size_t)json_integer_value(json_object_get(in, "body_len"));
    *scheme = strcmp(json_string_value(json_object_get(in, "scheme")), "table") == 0
                  ? EDW_AZURE_SK_TABLE
                  : EDW_AZURE_SK_QUEUE;
    const char *b64 = json_string_value(json_object_get(in, "key"));
    assert_int_equal(edw_base64_decode(b64, strlen(b64), key), EDW_OK);
}

static void check_case(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.json", dir, name);
    json_error_t jerr;
    json_t *in = json_load_file(path, 0, &jerr);
    assert_non_null(in);
    snprintf(path, sizeof(path), "%s/%s.sts", dir, name);
    char *want_sts = slurp(path);
    snprintf(path, sizeof(path), "%s/%s.auth", dir, name);
    char *want_auth = slurp(path);
    assert_non_null(want_sts);
    assert_non_null(want_auth);

    struct edw_http_request req;
    enum edw_azure_sk_scheme scheme;
    struct edw_buf key, sts;
    edw_buf_init(&key, 1024);
    edw_buf_init(&sts, 1 << 20);
    load_request(in, &req, &scheme, &key);
    const char *account = json_string_value(json_object_get(in, "account"));
    assert_int_equal(edw_azure_string_to_sign(scheme, account, &req, &sts), EDW_OK);
    if (strcmp(edw_buf_cstr(&sts), want_sts) != 0)
        print_error("vector %s: string-to-sign\n got: %s\nwant: %s\n", name, edw_buf_cstr(&sts),
                    want_sts);
    assert_string_equal(edw_buf_cstr(&sts), want_sts);
    assert_int_equal(edw_azure_sharedkey_authorize(scheme, account,
                                                   (const unsigned char *)key.ptr, key.len, &req),
                     EDW_OK);
    assert_string_equal(edw_http_headers_get(&req.headers, "Authorization"), want_auth);

    edw_http_request_cleanup(&req);
    edw_buf_cleanup(&key);
    edw_buf_cleanup(&sts);
    free(want_sts);
    free(want_auth);
    json_decref(in);
}

static void test_vectors(void **state)
{
    (void)state;
    DIR *d = opendir(EDW_AZURE_VECTORS);
    assert_non_null(d);
    size_t cases = 0, queue = 0, table = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char name[256];
        snprintf(name, sizeof(name), "%.*s", (int)(len - 5), e->d_name);
        check_case(EDW_AZURE_VECTORS, name);
        cases++;
        queue += strncmp(name, "queue-", 6) == 0;
        table += strncmp(name, "table-", 6) == 0;
    }
    closedir(d);
    assert_true(queue >= 5); /* a vanished directory must not pass as "no failures" */
    assert_true(table >= 5);
    assert_int_equal(cases, queue + table);
}

static void test_sign_changes_with_date(void **state)
{
    (void)state;
    unsigned char key[32] = {1, 2, 3};
    struct edw_http_request a, b;
    edw_http_request_init(&a, "GET", "https://acct.queue.core.windows.net/q/messages");
    edw_http_request_init(&b, "GET", "https://acct.queue.core.windows.net/q/messages");
    edw_http_headers_add(&a.headers, "x-ms-date", "Fri, 27 Nov 2026 17:55:20 GMT");
    edw_http_headers_add(&b.headers, "x-ms-date", "Fri, 27 Nov 2026 17:55:21 GMT");
    assert_int_equal(edw_azure_sharedkey_authorize(EDW_AZURE_SK_QUEUE, "acct", key, 32, &a), 0);
    assert_int_equal(edw_azure_sharedkey_authorize(EDW_AZURE_SK_QUEUE, "acct", key, 32, &b), 0);
    assert_string_not_equal(edw_http_headers_get(&a.headers, "Authorization"),
                            edw_http_headers_get(&b.headers, "Authorization"));
    /* Signing twice replaces the header rather than adding a second one. */
    assert_int_equal(edw_azure_sharedkey_authorize(EDW_AZURE_SK_QUEUE, "acct", key, 32, &a), 0);
    size_t n = 0;
    for (size_t i = 0; i < a.headers.n; i++)
        n += strcmp(a.headers.items[i].name, "Authorization") == 0;
    assert_int_equal(n, 1);
    edw_http_request_cleanup(&a);
    edw_http_request_cleanup(&b);
}

static void test_bad_url(void **state)
{
    (void)state;
    struct edw_http_request r;
    struct edw_buf out;
    edw_buf_init(&out, 1024);
    edw_http_request_init(&r, "GET", "no-scheme/path");
    assert_int_equal(edw_azure_string_to_sign(EDW_AZURE_SK_QUEUE, "a", &r, &out),
                     EDW_ERR_INVALID);
    edw_http_request_cleanup(&r);
    edw_buf_cleanup(&out);
}

/* RFC 4231 test case 2. */
/* More query parameters and x-ms-* headers than the signer keeps without allocating: they
 * are still canonicalised (decoded, lowercased, collapsed) and sorted. */
static void test_many_parts(void **state)
{
    (void)state;
    struct edw_buf url, want, out;
    edw_buf_init(&url, 1u << 16);
    edw_buf_init(&want, 1u << 16);
    edw_buf_init(&out, 1u << 16);
    assert_int_equal(edw_buf_append_str(&url, "https://a.queue.core.windows.net/q?"), EDW_OK);
    for (int i = 39; i >= 0; i--)
        assert_int_equal(edw_buf_appendf(&url, "P%02d=v%%20%d%s", i, i, i ? "&" : ""), EDW_OK);
    struct edw_http_request r;
    edw_http_request_init(&r, "GET", edw_buf_cstr(&url));
    assert_int_equal(edw_buf_append_str(&want, "GET\n\n\n\n\n\n\n\n\n\n\n\n"), EDW_OK);
    for (int i = 24; i >= 0; i--) {
        char name[32], value[32];
        snprintf(name, sizeof(name), "X-MS-Meta-K%02d", i);
        snprintf(value, sizeof(value), "  a \t b%d  ", i);
        edw_http_headers_add(&r.headers, name, value);
    }
    for (int i = 0; i < 25; i++)
        assert_int_equal(edw_buf_appendf(&want, "x-ms-meta-k%02d:a b%d\n", i, i), EDW_OK);
    assert_int_equal(edw_buf_append_str(&want, "/a/q"), EDW_OK);
    for (int i = 0; i < 40; i++)
        assert_int_equal(edw_buf_appendf(&want, "\np%02d:v %d", i, i), EDW_OK);
    assert_int_equal(edw_azure_string_to_sign(EDW_AZURE_SK_QUEUE, "a", &r, &out), EDW_OK);
    assert_string_equal(edw_buf_cstr(&out), edw_buf_cstr(&want));
    edw_http_request_cleanup(&r);
    edw_buf_cleanup(&url);
    edw_buf_cleanup(&want);
    edw_buf_cleanup(&out);
}

static void test_hmac_rfc4231(void **state)
{
    (void)state;
    unsigned char mac[EDW_SHA256_LEN];
    const char *data = "what do ya want for nothing?";
    edw_hmac_sha256("Jefe", 4, data, strlen(data), mac);
    static const unsigned char want[] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
        0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    assert_memory_equal(mac, want, sizeof(want));
    /* A prepared key gives the same MAC, message after message. */
    struct edw_hmac_key *k = edw_hmac_key_new("Jefe", 4);
    for (int i = 0; i < 3; i++) {
        memset(mac, 0, sizeof(mac));
        edw_hmac_key_sign(k, data, strlen(data), mac);
        assert_memory_equal(mac, want, sizeof(want));
    }
    edw_hmac_key_free(k);
}

/* Signing with a prepared key is signing with the raw key. */
static void test_authorize_with_prepared_key(void **state)
{
    (void)state;
    unsigned char key[32] = {7, 1, 9};
    struct edw_hmac_key *k = edw_hmac_key_new(key, sizeof(key));
    for (int scheme = EDW_AZURE_SK_QUEUE; scheme <= EDW_AZURE_SK_TABLE; scheme++) {
        struct edw_http_request a, b;
        edw_http_request_init(&a, "DELETE", "http://127.0.0.1:1/acct/q/messages/1?popreceipt=x");
        edw_http_request_init(&b, "DELETE", "http://127.0.0.1:1/acct/q/messages/1?popreceipt=x");
        edw_http_headers_add(&a.headers, "x-ms-date", "Fri, 27 Nov 2026 17:55:20 GMT");
        edw_http_headers_add(&b.headers, "x-ms-date", "Fri, 27 Nov 2026 17:55:20 GMT");
        assert_int_equal(edw_azure_sharedkey_authorize((enum edw_azure_sk_scheme)scheme, "acct",
                                                       key, sizeof(key), &a),
                         0);
        assert_int_equal(edw_azure_sharedkey_authorize_with((enum edw_azure_sk_scheme)scheme,
                                                            "acct", k, &b),
                         0);
        assert_string_equal(edw_http_headers_get(&a.headers, "Authorization"),
                            edw_http_headers_get(&b.headers, "Authorization"));
        edw_http_request_cleanup(&a);
        edw_http_request_cleanup(&b);
    }
    edw_hmac_key_free(k);
}

/* RFC 4648 section 10, both ways, plus what a strict decoder must refuse. */
static void test_base64(void **state)
{
    (void)state;
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                      "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        struct edw_buf b;
        edw_buf_init(&b, 64);
        assert_int_equal(edw_base64_encode(plain[i], strlen(plain[i]), &b), EDW_OK);
        assert_string_equal(edw_buf_cstr(&b), enc[i]);
        edw_buf_reset(&b);
        assert_int_equal(edw_base64_decode(enc[i], strlen(enc[i]), &b), EDW_OK);
        assert_int_equal(b.len, strlen(plain[i]));
        assert_memory_equal(edw_buf_cstr(&b), plain[i], b.len);
        edw_buf_cleanup(&b);
    }
    static const char *const bad[] = {"Zg=",  "Zg", "Z===", "Zm9v\n", "Zh==", "Zm8 ",
                                      "{\"a\"", "Zg==Zg==", "=Zg="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct edw_buf b;
        edw_buf_init(&b, 64);
        assert_false(edw_base64_valid(bad[i], strlen(bad[i])));
        assert_int_equal(edw_base64_decode(bad[i], strlen(bad[i]), &b), EDW_ERR_INVALID);
        assert_int_equal(b.len, 0);
        edw_buf_cleanup(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),       cmocka_unit_test(test_sign_changes_with_date),
        cmocka_unit_test(test_bad_url),       cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_many_parts),
        cmocka_unit_test(test_base64),       cmocka_unit_test(test_authorize_with_prepared_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
