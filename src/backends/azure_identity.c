/* SPDX-License-Identifier: Apache-2.0 */
/* The Azure credential chain and the token sources the Queue and Table clients share.
 *
 * Like the Azure SDKs' default chain: an explicit key or SAS (connection string or settings)
 * wins; else workload identity when AZURE_CLIENT_ID, AZURE_TENANT_ID and
 * AZURE_FEDERATED_TOKEN_FILE are set (the AKS webhook sets them); else managed identity
 * (IDENTITY_ENDPOINT when set, else IMDS). Every client of the process with the same identity
 * shares one cached source, so queue, table and all pipelines fetch one token, not one each. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "azure_common.h"
#include "edw/alloc.h"
#include "edw/config.h"
#include "edw/log.h"
#include "edw/token.h"

static bool set(const char *s)
{
    return s && *s;
}

const char *edw_azure_cred_name(enum edw_azure_cred_kind k)
{
    switch (k) {
    case EDW_AZURE_CRED_SHARED_KEY:
        return "shared-key";
    case EDW_AZURE_CRED_SAS:
        return "sas";
    case EDW_AZURE_CRED_WORKLOAD_IDENTITY:
        return "workload-identity";
    case EDW_AZURE_CRED_MANAGED_IDENTITY:
        return "managed-identity";
    case EDW_AZURE_CRED_NONE:
        break;
    }
    return "none";
}

static void why(struct edw_buf *b, const char *text)
{
    if (b && edw_buf_append_str(b, text) != EDW_OK)
        b->len = 0;
}

enum edw_azure_cred_kind edw_azure_cred_choose(const struct edw_config *cfg, struct edw_buf *w)
{
    bool cs_key = false, cs_sas = false, cs_dev = false;
    if (set(cfg->azure_connection_string)) {
        struct edw_azure_conn c;
        struct edw_error err;
        if (edw_azure_conn_parse(cfg->azure_connection_string, &c, &err) == EDW_OK) {
            cs_key = c.key != NULL;
            cs_sas = set(c.sas);
            cs_dev = c.development;
        }
        edw_azure_conn_cleanup(&c);
    }
    if (set(cfg->azure_account_key) || cs_key || cs_dev) {
        why(w, set(cfg->azure_account_key) ? "EDW_AZURE_ACCOUNT_KEY is set"
               : cs_key                    ? "the connection string has an AccountKey"
                                           : "the connection string uses development storage");
        return EDW_AZURE_CRED_SHARED_KEY;
    }
    if (set(cfg->azure_sas_token) || cs_sas) {
        why(w, set(cfg->azure_sas_token) ? "EDW_AZURE_SAS_TOKEN is set"
                                         : "the connection string has a SharedAccessSignature");
        return EDW_AZURE_CRED_SAS;
    }
    if (set(cfg->azure_client_id) && set(cfg->azure_tenant_id) &&
        set(cfg->azure_federated_token_file)) {
        why(w, "no key or SAS; AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE "
               "are set");
        return EDW_AZURE_CRED_WORKLOAD_IDENTITY;
    }
    if (set(cfg->azure_identity_endpoint))
        why(w, "no key, SAS or workload identity variables; IDENTITY_ENDPOINT is set");
    else
        why(w, set(cfg->azure_federated_token_file) || set(cfg->azure_tenant_id)
                   ? "no key or SAS, and workload identity is incomplete (it needs "
                     "AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE); "
                     "falling back to IMDS"
                   : "no key, SAS or workload identity variables; falling back to IMDS");
    return EDW_AZURE_CRED_MANAGED_IDENTITY;
}

/* --- shared sources --- */

#define MAX_SHARED 8

struct shared_source {
    char *key;
    struct edw_token_source *src;
    unsigned users;
};

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shared_source s_shared[MAX_SHARED];

static char *identity_key(const struct edw_config *cfg, enum edw_azure_cred_kind kind)
{
    const char *n = "";
    return edw_xasprintf("%d|%s|%s|%s|%s|%s|%s", (int)kind,
                         set(cfg->azure_client_id) ? cfg->azure_client_id : n,
                         set(cfg->azure_tenant_id) ? cfg->azure_tenant_id : n,
                         set(cfg->azure_federated_token_file) ? cfg->azure_federated_token_file : n,
                         set(cfg->azure_authority_host) ? cfg->azure_authority_host : n,
                         set(cfg->azure_identity_endpoint) ? cfg->azure_identity_endpoint : n,
                         set(cfg->ca_file) ? cfg->ca_file : n);
}

/* A new uncached source of `kind`. `http` NULL: a libcurl transport of its own. */
static enum edw_err make_source(const struct edw_config *cfg, enum edw_azure_cred_kind kind,
                                struct edw_http_transport *http, struct edw_token_source **out,
                                struct edw_error *err)
{
    bool owns = http == NULL;
    if (!http) {
        struct edw_http_options opts = {.ca_file = cfg->ca_file};
        enum edw_err rc = edw_http_transport_curl_new(&opts, &http, err);
        if (rc)
            return rc;
    }
    if (kind == EDW_AZURE_CRED_WORKLOAD_IDENTITY) {
        struct edw_entra_wi_options o = {.client_id = cfg->azure_client_id,
                                         .tenant_id = cfg->azure_tenant_id,
                                         .token_file = cfg->azure_federated_token_file,
                                         .authority_host = cfg->azure_authority_host,
                                         .http = http,
                                         .owns_http = owns};
        return edw_token_entra_wi_new(&o, out, err);
    }
    struct edw_managed_identity_options o = {.client_id = cfg->azure_client_id,
                                             .identity_endpoint = cfg->azure_identity_endpoint,
                                             .identity_header = cfg->azure_identity_header,
                                             .http = http,
                                             .owns_http = owns};
    return edw_token_managed_identity_new(&o, out, err);
}

enum edw_err edw_azure_token_acquire(const struct edw_config *cfg, struct edw_http_transport *http,
                                     const struct edw_clock *clock, struct edw_token_source **out,
                                     struct edw_error *err)
{
    *out = NULL;
    struct edw_buf reason;
    edw_buf_init(&reason, 1024);
    enum edw_azure_cred_kind kind = edw_azure_cred_choose(cfg, &reason);
    enum edw_err rc = EDW_OK;
    if (kind != EDW_AZURE_CRED_WORKLOAD_IDENTITY && kind != EDW_AZURE_CRED_MANAGED_IDENTITY) {
        rc = edw_error_set(err, EDW_ERR_INVALID, "no token credential is configured");
        goto out;
    }
    if (http) { /* injected (tests): a private cached source on that transport */
        struct edw_token_source *inner = NULL;
        rc = make_source(cfg, kind, http, &inner, err);
        if (!rc)
            *out = edw_token_cache_new(inner, clock, NULL);
        edw_token_source_unref(inner);
        goto out;
    }
    char *key = identity_key(cfg, kind);
    pthread_mutex_lock(&s_lock);
    struct shared_source *free_slot = NULL;
    for (size_t i = 0; i < MAX_SHARED && !*out; i++) {
        if (s_shared[i].key && strcmp(s_shared[i].key, key) == 0) {
            s_shared[i].users++;
            *out = edw_token_source_ref(s_shared[i].src);
        } else if (!s_shared[i].key && !free_slot) {
            free_slot = &s_shared[i];
        }
    }
    if (!*out) {
        struct edw_token_source *inner = NULL;
        rc = make_source(cfg, kind, NULL, &inner, err);
        if (!rc) {
            struct edw_token_cache_options co = {.report_health = true};
            *out = edw_token_cache_new(inner, clock, &co);
            edw_token_source_unref(inner);
            edw_info("azure", "credential: %s (%s)", edw_azure_cred_name(kind),
                     edw_buf_cstr(&reason));
            if (free_slot) {
                free_slot->key = key;
                key = NULL;
                free_slot->src = edw_token_source_ref(*out);
                free_slot->users = 1;
            }
        }
    }
    pthread_mutex_unlock(&s_lock);
    free(key);
out:
    edw_buf_cleanup(&reason);
    return rc;
}

void edw_azure_token_release(struct edw_token_source *src)
{
    if (!src)
        return;
    pthread_mutex_lock(&s_lock);
    for (size_t i = 0; i < MAX_SHARED; i++) {
        if (s_shared[i].src == src && --s_shared[i].users == 0) {
            edw_token_source_unref(s_shared[i].src);
            free(s_shared[i].key);
            memset(&s_shared[i], 0, sizeof(s_shared[i]));
        }
    }
    pthread_mutex_unlock(&s_lock);
    edw_token_source_unref(src);
}
