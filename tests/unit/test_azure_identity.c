/* SPDX-License-Identifier: Apache-2.0 */
/* The Azure credential chain and bearer auth in the REST client, over a scripted transport
 * that plays both the Entra token endpoint and the storage service. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "../fakes/fake_clock.h"
#include "../fakes/fake_http.h"
#include "azure_common.h"
#include "edw/config.h"
#include "edw/shutdown.h"
#include "edw/token.h"

static void set(char **field, const char *value)
{
    free(*field);
    *field = value ? strdup(value) : NULL;
}

static void test_chain(void **state)
{
    (void)state;
    struct edw_config cfg;
    edw_config_init(&cfg);
    struct edw_buf why;
    edw_buf_init(&why, 1024);
    assert_int_equal(edw_azure_cred_choose(&cfg, &why), EDW_AZURE_CRED_MANAGED_IDENTITY);
    assert_non_null(strstr(edw_buf_cstr(&why), "falling back to IMDS"));
    edw_buf_reset(&why);
    set(&cfg.azure_identity_endpoint, "http://127.0.0.1:1/msi");
    assert_int_equal(edw_azure_cred_choose(&cfg, &why), EDW_AZURE_CRED_MANAGED_IDENTITY);
    assert_non_null(strstr(edw_buf_cstr(&why), "IDENTITY_ENDPOINT is set"));
    edw_buf_reset(&why);
    set(&cfg.azure_identity_endpoint, NULL);
    set(&cfg.azure_client_id, "c");
    set(&cfg.azure_tenant_id, "t");
    assert_int_equal(edw_azure_cred_choose(&cfg, &why), EDW_AZURE_CRED_MANAGED_IDENTITY);
    assert_non_null(strstr(edw_buf_cstr(&why), "workload identity is incomplete"));
    edw_buf_reset(&why);
    set(&cfg.azure_federated_token_file, "/var/run/secrets/azure/tokens/azure-identity-token");
    assert_int_equal(edw_azure_cred_choose(&cfg, &why), EDW_AZURE_CRED_WORKLOAD_IDENTITY);
    edw_buf_reset(&why);
    set(&cfg.azure_connection_string, "AccountName=a;SharedAccessSignature=sv=1&sig=SECRETSIG");
    assert_int_equal(edw_azure_cred_choose(&cfg, &why), EDW_AZURE_CRED_SAS);
    assert_null(strstr(edw_buf_cstr(&why), "SECRETSIG"));
    edw_buf_reset(&why);
    set(&cfg.azure_account_key, "c2VjcmV0");
    assert_int_equal(edw_azure_cred_choose(&cfg, &why), EDW_AZURE_CRED_SHARED_KEY);
    assert_string_equal(edw_buf_cstr(&why), "EDW_AZURE_ACCOUNT_KEY is set");
    assert_string_equal(edw_azure_cred_name(EDW_AZURE_CRED_WORKLOAD_IDENTITY), "workload-identity");
    edw_buf_cleanup(&why);
    edw_config_cleanup(&cfg);
}

struct play {
    int tokens;       /* issued */
    int storage;      /* storage requests */
    int reject_next;  /* storage answers 401 this many times */
    bool token_fails; /* the token endpoint answers 400 AADSTS */
    char last_auth[64];
};

static void play_fn(void *ctx, const struct fake_http_call *req, struct edw_http_response *resp)
{
    struct play *p = ctx;
    if (strstr(req->url, "/oauth2/v2.0/token")) {
        if (p->token_fails) {
            fake_http_reply(resp, 400,
                            "{\"error\":\"invalid_client\",\"error_description\":"
                            "\"AADSTS70021: No matching federated identity record\"}");
            return;
        }
        char body[128];
        snprintf(body, sizeof(body), "{\"access_token\":\"tok-%d\",\"expires_in\":3600}",
                 ++p->tokens);
        fake_http_reply(resp, 200, body);
        return;
    }
    p->storage++;
    const char *auth = NULL;
    for (size_t i = 0; i < req->headers.n; i++)
        if (strcasecmp(req->headers.items[i].name, "Authorization") == 0)
            auth = req->headers.items[i].value;
    snprintf(p->last_auth, sizeof(p->last_auth), "%s", auth ? auth : "");
    if (p->reject_next > 0) {
        p->reject_next--;
        fake_http_reply(resp, 401,
                        "<?xml version=\"1.0\"?><Error><Code>InvalidAuthenticationInfo"
                        "</Code><Message>Token expired</Message></Error>");
        return;
    }
    fake_http_reply(resp, 200, "");
}

struct env {
    struct fake_clock fc;
    struct fake_http fh;
    struct edw_config cfg;
    struct edw_backend_deps deps;
    char *token_file;
    struct play play;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    fake_clock_init(&e->fc, 1800000000LL * 1000000);
    fake_http_init(&e->fh);
    fake_http_set_handler(&e->fh, play_fn, &e->play);
    edw_config_init(&e->cfg);
    e->token_file = strdup("/tmp/edw-test-azid-XXXXXX");
    int fd = mkstemp(e->token_file);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "projected\n", 10), 10);
    close(fd);
    set(&e->cfg.azure_queue_endpoint, "https://q.example/acct");
    set(&e->cfg.azure_table_endpoint, "https://t.example/acct");
    set(&e->cfg.azure_client_id, "cid");
    set(&e->cfg.azure_tenant_id, "tid");
    set(&e->cfg.azure_federated_token_file, e->token_file);
    set(&e->cfg.azure_authority_host, "https://login.example/");
    e->deps = (struct edw_backend_deps){.clock = &e->fc.clock, .http = &e->fh.transport};
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    unlink(e->token_file);
    free(e->token_file);
    edw_config_cleanup(&e->cfg);
    fake_http_cleanup(&e->fh);
    free(e);
    return 0;
}

static enum edw_err get_messages(struct edw_azure_client *c, struct edw_error *err)
{
    struct edw_azure_call call;
    edw_azure_call_init(&call, "GET", strdup("/q/messages?numofmessages=1"));
    enum edw_err rc = edw_azure_perform_one(c, &call, err);
    edw_azure_call_cleanup(&call);
    return rc;
}

static void test_bearer(void **state)
{
    struct env *e = *state;
    struct edw_azure_client c;
    struct edw_error err = {0};
    assert_int_equal(edw_azure_client_init(&c, EDW_AZURE_QUEUE, &e->cfg, &e->deps, &err), EDW_OK);
    assert_int_equal(c.conn.auth, EDW_AZURE_AUTH_BEARER);
    assert_int_equal(get_messages(&c, &err), EDW_OK);
    assert_string_equal(e->play.last_auth, "Bearer tok-1");
    size_t last = e->fh.ncalls - 1;
    assert_string_equal(fake_http_header(&e->fh, last, "x-ms-version"), "2019-02-02");
    assert_non_null(fake_http_header(&e->fh, last, "x-ms-date"));
    /* cached: no new exchange */
    assert_int_equal(get_messages(&c, &err), EDW_OK);
    assert_int_equal(e->play.tokens, 1);
    /* the service rejects the token: one fresh token, one more try */
    e->play.reject_next = 1;
    assert_int_equal(get_messages(&c, &err), EDW_OK);
    assert_int_equal(e->play.tokens, 2);
    assert_string_equal(e->play.last_auth, "Bearer tok-2");
    /* rejected twice: reported, not retried forever */
    e->play.reject_next = 5;
    int before = e->play.storage;
    assert_int_equal(get_messages(&c, &err), EDW_ERR_AUTH);
    assert_int_equal(e->play.storage - before, 2);
    assert_non_null(strstr(err.message, "HTTP 401 InvalidAuthenticationInfo"));
    assert_null(strstr(err.message, "tok-"));
    e->play.reject_next = 0;
    /* the token endpoint refuses: the call fails with the cause, storage is not asked */
    e->play.token_fails = true;
    edw_token_source_invalidate(c.token);
    before = e->play.storage;
    assert_int_equal(get_messages(&c, &err), EDW_ERR_AUTH);
    assert_int_equal(e->play.storage, before);
    assert_non_null(strstr(err.message, "AADSTS70021"));
    /* recovery after the backoff */
    e->play.token_fails = false;
    fake_clock_advance(&e->fc, 2 * 1000000);
    assert_int_equal(get_messages(&c, &err), EDW_OK);
    edw_azure_client_cleanup(&c);
}

/* The last request the client sent to the token endpoint. */
static const struct fake_http_call *last_exchange(const struct fake_http *fh)
{
    for (size_t i = fh->ncalls; i-- > 0;)
        if (strstr(fh->calls[i].url, "login.example"))
            return &fh->calls[i];
    return NULL;
}

/* A token exchange gets its own 10 s, but during a shutdown no more than the grace left. */
static void test_exchange_ends_with_the_grace(void **state)
{
    struct env *e = *state;
    struct edw_azure_client c;
    struct edw_error err = {0};
    assert_int_equal(edw_azure_client_init(&c, EDW_AZURE_QUEUE, &e->cfg, &e->deps, &err), EDW_OK);
    assert_int_equal(get_messages(&c, &err), EDW_OK);
    assert_non_null(last_exchange(&e->fh));
    assert_int_equal(last_exchange(&e->fh)->timeout_ms, 10000);
    /* The shutdown deadline is on the system's monotonic clock: 3 s from now. */
    edw_shutdown_set_deadline(edw_clock_mono_us(edw_clock_system()) + 3000000);
    edw_token_source_invalidate(c.token);
    assert_int_equal(get_messages(&c, &err), EDW_OK);
    long t = last_exchange(&e->fh)->timeout_ms;
    assert_true(t >= EDW_SHUTDOWN_MIN_REQUEST_MS && t <= 3000);
    edw_shutdown_reset();
    edw_azure_client_cleanup(&c);
}

static void test_https_only(void **state)
{
    struct env *e = *state;
    set(&e->cfg.azure_queue_endpoint, "http://127.0.0.1:10001/acct");
    struct edw_azure_client c;
    struct edw_error err = {0};
    assert_int_equal(edw_azure_client_init(&c, EDW_AZURE_QUEUE, &e->cfg, &e->deps, &err),
                     EDW_ERR_INVALID);
    assert_non_null(strstr(err.message, "only sent over HTTPS"));
    edw_azure_client_cleanup(&c);
    assert_int_equal(e->fh.ncalls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain),
        cmocka_unit_test_setup_teardown(test_bearer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_https_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exchange_ends_with_the_grace, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
