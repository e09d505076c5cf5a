/* SPDX-License-Identifier: Apache-2.0 */
/* Bearer token sources for Azure Storage (Microsoft Entra ID): workload identity (a projected
 * Kubernetes service-account token exchanged for an access token), managed identity (IMDS or
 * the IDENTITY_ENDPOINT service), and a cache that wraps either one and refreshes ahead of
 * expiry. All I/O goes through an injected HTTP transport and clock, so unit tests play the
 * token endpoint and never sleep. Tokens are secrets: they never reach a log line or an error
 * message, and are wiped when freed. Design notes: docs/identity.md. */
#ifndef EDW_TOKEN_H
#define EDW_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edw/buf.h"
#include "edw/clock.h"
#include "edw/err.h"
#include "edw/http.h"

struct edw_config;

/* The scope (v2 endpoint) and resource (managed identity) of Azure Storage. */
#define EDW_STORAGE_SCOPE "https://storage.azure.com/.default"
#define EDW_STORAGE_RESOURCE "https://storage.azure.com/"
#define EDW_DEFAULT_AUTHORITY "https://login.microsoftonline.com/"
#define EDW_IMDS_TOKEN_URL "http://169.254.169.254/metadata/identity/oauth2/token"

/* Largest projected token we read. Real ones are 1-2 KiB; a bigger file is an error, never
 * truncated (a cut token would fail later with a confusing AADSTS error). */
#define EDW_MAX_FEDERATED_TOKEN_BYTES (16u * 1024u)

/* An access token. `value` is owned and secret (wiped by edw_token_cleanup). Times are wall
 * clock microseconds; `refresh_at_us` is 0 when the issuer gave no hint. */
struct edw_token {
    char *value;
    int64_t expires_at_us;
    int64_t refresh_at_us;
};

/* Wipe and free; leaves `t` zeroed. NULL-safe, idempotent. */
void edw_token_cleanup(struct edw_token *t);
/* Deep copy into an empty `dst`. */
void edw_token_copy(struct edw_token *dst, const struct edw_token *src);

/* A token source implementation. `get` fetches a token valid at `now_us` (wall clock) into
 * the empty `out`; on failure it fills `err` (never with a secret) and returns the category:
 * EDW_ERR_AUTH for what retrying cannot fix without an operator (bad file, AADSTS rejection),
 * EDW_ERR_TRANSIENT/THROTTLED for what may pass. `invalidate` (may be NULL) forgets any
 * cached token. `destroy` frees `state`. */
struct edw_token_source_ops {
    const char *kind; /* "workload-identity", "managed-identity", "cache", ... */
    enum edw_err (*get)(void *state, int64_t now_us, struct edw_token *out, struct edw_error *err);
    void (*invalidate)(void *state);
    void (*destroy)(void *state);
};

/* A reference-counted token source. Thread-safe when its implementation is (all in this
 * file are: the cache serialises refreshes, the others keep no mutable state but their
 * transport, which the cache's single refresher uses alone). */
struct edw_token_source;

/* Wrap `state` (taken over) with one reference held by the caller. */
struct edw_token_source *edw_token_source_new(const struct edw_token_source_ops *ops, void *state);
/* Add a reference; returns `s`. */
struct edw_token_source *edw_token_source_ref(struct edw_token_source *s);
/* Drop a reference; the last one destroys the source. NULL-safe. */
void edw_token_source_unref(struct edw_token_source *s);
/* See struct edw_token_source_ops. */
EDW_NODISCARD enum edw_err edw_token_source_get(struct edw_token_source *s, int64_t now_us,
                                                struct edw_token *out, struct edw_error *err);
void edw_token_source_invalidate(struct edw_token_source *s);
const char *edw_token_source_kind(const struct edw_token_source *s);

/* --- workload identity --- */

struct edw_entra_wi_options {
    const char *client_id;      /* AZURE_CLIENT_ID */
    const char *tenant_id;      /* AZURE_TENANT_ID */
    const char *token_file;     /* AZURE_FEDERATED_TOKEN_FILE, re-read on every exchange */
    const char *authority_host; /* AZURE_AUTHORITY_HOST; NULL: EDW_DEFAULT_AUTHORITY */
    const char *scope;          /* NULL: EDW_STORAGE_SCOPE */
    struct edw_http_transport *http;
    bool owns_http; /* destroy `http` with the source (also when _new fails) */
};

/* A source that reads the token file and POSTs the client-assertion exchange to
 * {authority}{tenant}/oauth2/v2.0/token. No I/O here. EDW_ERR_INVALID naming the missing
 * variable. */
EDW_NODISCARD enum edw_err edw_token_entra_wi_new(const struct edw_entra_wi_options *o,
                                                  struct edw_token_source **out,
                                                  struct edw_error *err);

/* "{authority}/{tenant}/oauth2/v2.0/token" with single slashes. Caller frees. */
char *edw_entra_token_url(const char *authority_host, const char *tenant_id);

/* Read a projected token file whole: at most `max` bytes, trailing whitespace trimmed. A
 * missing, unreadable, empty, binary or larger file is EDW_ERR_AUTH with the path and the
 * cause named, never the contents. Caller owns `*out` (a secret: wipe before free). */
EDW_NODISCARD enum edw_err edw_read_token_file(const char *path, size_t max, char **out,
                                               struct edw_error *err);

/* The same for any projected token file (Entra's federated token, AWS's web identity token):
 * `what` names it in errors ("web identity token file"), `open_hint` is appended when it
 * cannot be opened (" (AWS_WEB_IDENTITY_TOKEN_FILE)", or ""). */
EDW_NODISCARD enum edw_err edw_read_named_token_file(const char *path, size_t max,
                                                     const char *what, const char *open_hint,
                                                     char **out, struct edw_error *err);

/* Parse a token endpoint reply (pure). Accepts the v2 shape ({"access_token","expires_in":
 * number,"refresh_in"?}) and the managed identity shape (expires_in/expires_on as strings).
 * Errors: {"error","error_description":"AADSTS70021: ..."} is reported by HTTP status, error
 * and AADSTS code only (the description may quote identifiers); 429 and 5xx are retryable,
 * other 4xx EDW_ERR_AUTH, a 200 that is not a usable token EDW_ERR_TRANSIENT. `who` names the
 * endpoint in messages ("token endpoint", "managed identity"). */
EDW_NODISCARD enum edw_err edw_entra_token_parse(long status, const char *body, size_t len,
                                                 int64_t now_us, const char *who,
                                                 struct edw_token *out, struct edw_error *err);

/* --- managed identity --- */

struct edw_managed_identity_options {
    const char *client_id;         /* user-assigned identity; NULL: the system identity */
    const char *identity_endpoint; /* IDENTITY_ENDPOINT; NULL: IMDS */
    const char *identity_header;   /* IDENTITY_HEADER (secret); needed with the endpoint */
    const char *imds_url;          /* NULL: EDW_IMDS_TOKEN_URL (tests point it elsewhere) */
    const char *resource;          /* NULL: EDW_STORAGE_RESOURCE */
    struct edw_http_transport *http;
    bool owns_http; /* destroy `http` with the source (also when _new fails) */
};

/* IMDS: GET {imds}?api-version=2018-02-01&resource=...[&client_id=] with "Metadata: true".
 * IDENTITY_ENDPOINT: GET {endpoint}?api-version=2019-08-01&resource=...[&client_id=] with
 * "X-IDENTITY-HEADER". */
EDW_NODISCARD enum edw_err
edw_token_managed_identity_new(const struct edw_managed_identity_options *o,
                               struct edw_token_source **out, struct edw_error *err);

/* --- cache --- */

struct edw_token_cache_options {
    int64_t skew_us;         /* refresh this long before expiry; 0: 5 minutes */
    int64_t min_valid_us;    /* a token closer to expiry is not used; 0: 5 s */
    int64_t backoff_base_us; /* first pause after a failed fetch; 0: 1 s */
    int64_t backoff_cap_us;  /* longest pause; 0: 30 s */
    bool report_health;      /* feed edw_health_set_credentials / edw_metrics_token_refresh */
};

/* Wrap `inner` (a reference is taken): tokens are fetched once and refreshed ahead of
 * expiry — at the issuer's refresh_in, else at half the lifetime for long-lived tokens or
 * when the lifetime is shorter than twice the skew, else `skew` before expiry. One caller
 * refreshes at a time; others keep using a still-valid token meanwhile (or wait when there is
 * none). A failed refresh keeps the valid token and is retried after a backoff; with no valid
 * token the last error is returned until the backoff ends. `clock` is borrowed. */
struct edw_token_source *edw_token_cache_new(struct edw_token_source *inner,
                                             const struct edw_clock *clock,
                                             const struct edw_token_cache_options *o);

/* --- the Azure credential chain --- */

enum edw_azure_cred_kind {
    EDW_AZURE_CRED_NONE,
    EDW_AZURE_CRED_SHARED_KEY,
    EDW_AZURE_CRED_SAS,
    EDW_AZURE_CRED_WORKLOAD_IDENTITY,
    EDW_AZURE_CRED_MANAGED_IDENTITY,
};

/* Which credential the Azure backend will use for `cfg`, like the SDKs' default chain: a
 * connection string / account key / SAS when given, else workload identity when
 * AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE are set, else managed
 * identity. Appends a one-line reason to `why` (may be NULL) naming variables, never values.
 * No I/O. */
enum edw_azure_cred_kind edw_azure_cred_choose(const struct edw_config *cfg, struct edw_buf *why);
const char *edw_azure_cred_name(enum edw_azure_cred_kind k);

#endif
