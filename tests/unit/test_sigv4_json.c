/* SPDX-License-Identifier: Apache-2.0 */
/* Our own SigV4 cases: SQS and DynamoDB JSON-protocol requests as edw sends them (X-Amz-Target,
 * application/x-amz-json-1.0, session tokens, non-ASCII bodies, a host with a port), with the
 * expected stages computed by an independent implementation, the AWS SDK for JavaScript v3's
 * signer (tests/interop/sigv4_oracle.mjs -> tests/vectors/aws-sigv4-json/cases.json).
 * Each case is checked twice: stage by stage through edw_sigv4_sign, and end to end through the
 * backend's request path (aws_common), where the bytes on the wire must match too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "aws_common.h"
#include "aws_fixture.h"
#include "edw/aws_credentials.h"
#include "edw/log.h"
#include "edw/sigv4.h"

#ifndef EDW_TEST_VECTORS
#error "EDW_TEST_VECTORS must name tests/vectors"
#endif

static json_t *s_cases;

static const char *str(json_t *c, const char *key)
{
    json_t *v = json_object_get(c, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t case_time(json_t *c)
{
    int64_t t = 0;
    assert_true(edw_aws_parse_iso8601(str(c, "time"), &t));
    return t;
}

static void stages(void **state)
{
    json_t *c = *state;
    struct edw_http_headers h = {0};
    edw_http_headers_add(&h, "Host", str(c, "host"));
    edw_http_headers_add(&h, "Content-Type", "application/x-amz-json-1.0");
    edw_http_headers_add(&h, "X-Amz-Target", str(c, "target"));
    const char *body = str(c, "body");
    struct edw_sigv4_request req = {"POST", "/", NULL, 0, &h, body, strlen(body)};
    struct edw_sigv4_credentials creds = {str(c, "access_key_id"), str(c, "secret_access_key"),
                                          str(c, "session_token")};
    struct edw_sigv4_options o = {&creds, str(c, "region"), str(c, "service"), case_time(c),
                                  true, false, false};
    struct edw_sigv4_stages st;
    edw_sigv4_stages_init(&st);
    assert_int_equal(edw_sigv4_sign(&o, &req, &st, NULL), EDW_OK);
    assert_string_equal(edw_buf_cstr(&st.canonical_request), str(c, "canonical_request"));
    assert_string_equal(edw_buf_cstr(&st.string_to_sign), str(c, "string_to_sign"));
    assert_string_equal(edw_buf_cstr(&st.authorization), str(c, "authorization"));
    assert_string_equal(edw_http_headers_get(&h, "X-Amz-Date"), str(c, "amz_date"));
    edw_sigv4_stages_cleanup(&st);
    edw_http_headers_cleanup(&h);
}

static void wire(void **state)
{
    json_t *c = *state;
    struct aws_fixture f;
    fixture_init(&f);
    char *endpoint = edw_xasprintf("http://%s", str(c, "host"));
    fixture_set(&f.cfg.aws_endpoint_url, endpoint);
    free(endpoint);
    fixture_set(&f.cfg.aws_region, str(c, "region"));
    fixture_set(&f.cfg.aws_access_key_id, str(c, "access_key_id"));
    fixture_set(&f.cfg.aws_secret_access_key, str(c, "secret_access_key"));
    fixture_set(&f.cfg.aws_session_token, str(c, "session_token"));
    f.clock.wall_us = case_time(c) * 1000000;
    struct edw_aws_client client;
    struct edw_error e = {0};
    assert_int_equal(edw_aws_client_init(&client, &f.cfg, &f.deps, str(c, "service"), &e), EDW_OK);
    json_t *body = json_loads(str(c, "body"), 0, NULL);
    assert_non_null(body);
    const char *op = strchr(str(c, "target"), '.') + 1;
    fake_http_push(&f.http, 200, "{}");
    assert_int_equal(edw_aws_call_one(&client, op, body, 0, NULL, &e), EDW_OK);
    assert_int_equal(f.http.ncalls, 1);
    assert_string_equal(f.http.calls[0].body, str(c, "body"));
    assert_string_equal(fake_http_header(&f.http, 0, "X-Amz-Target"), str(c, "target"));
    assert_string_equal(fake_http_header(&f.http, 0, "Host"), str(c, "host"));
    assert_string_equal(fake_http_header(&f.http, 0, "X-Amz-Date"), str(c, "amz_date"));
    assert_string_equal(fake_http_header(&f.http, 0, "Authorization"), str(c, "authorization"));
    const char *token = str(c, "session_token");
    if (token)
        assert_string_equal(fake_http_header(&f.http, 0, "X-Amz-Security-Token"), token);
    else
        assert_null(fake_http_header(&f.http, 0, "X-Amz-Security-Token"));
    edw_aws_client_cleanup(&client);
    fixture_cleanup(&f);
}

int main(void)
{
    g_edw_log_level = EDW_LOG_ERROR;
    json_error_t je;
    json_t *root = json_load_file(EDW_TEST_VECTORS "/aws-sigv4-json/cases.json", 0, &je);
    if (!root) {
        fprintf(stderr, "cannot read %s: %s\n", EDW_TEST_VECTORS "/aws-sigv4-json/cases.json",
                je.text);
        return 1;
    }
    s_cases = json_object_get(root, "cases");
    size_t n = json_array_size(s_cases);
    struct CMUnitTest *tests = edw_xcalloc(2 * n + 1, sizeof(*tests));
    char **names = edw_xcalloc(2 * n + 1, sizeof(*names));
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(s_cases, i);
        names[2 * i] = edw_xasprintf("%s/stages", str(c, "name"));
        names[2 * i + 1] = edw_xasprintf("%s/wire", str(c, "name"));
        tests[2 * i] = (struct CMUnitTest){.name = names[2 * i], .test_func = stages,
                                           .initial_state = c};
        tests[2 * i + 1] = (struct CMUnitTest){.name = names[2 * i + 1], .test_func = wire,
                                               .initial_state = c};
    }
    int failed = _cmocka_run_group_tests("sigv4_json", tests, 2 * n, NULL, NULL);
    for (size_t i = 0; i < 2 * n; i++)
        free(names[i]);
    free(names);
    free(tests);
    json_decref(root);
    return failed || n < 6;
}
