/* SPDX-License-Identifier: Apache-2.0 */
/* Azure connection settings and the REST client shared by the Queue and Table backends.
 *
 * The client turns a set of calls into signed requests, runs them concurrently through the
 * injected transport, and retries the ones that failed transiently: connection errors, 408,
 * 429, 500, 502, 503, 504. Each retry is a new request with a fresh x-ms-date and signature,
 * after an exponential backoff with jitter that is never shorter than the service's Retry-After. The
 * sleep goes through the injected clock, so unit tests run the whole policy without waiting.
 * Other 4xx replies are final and reported with the service's error code. */
#include "azure_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "edw/alloc.h"
#include "edw/config.h"
#include "edw/log.h"
#include "edw/metrics.h"
#include "edw/retry.h"
#include "edw/timefmt.h"
#include "edw/token.h"

/* --- connection settings --- */

static void wipe_free(void *p, size_t len)
{
    if (!p)
        return;
    explicit_bzero(p, len);
    free(p);
}

void edw_azure_conn_cleanup(struct edw_azure_conn *c)
{
    if (!c)
        return;
    free(c->account);
    wipe_free(c->key, c->key_len);
    if (c->sas)
        wipe_free(c->sas, strlen(c->sas));
    free(c->queue_endpoint);
    free(c->table_endpoint);
    free(c->protocol);
    free(c->endpoint_suffix);
    memset(c, 0, sizeof(*c));
}

static enum edw_err set_key(struct edw_azure_conn *c, const char *b64, const char *where,
                            struct edw_error *err)
{
    struct edw_buf key;
    edw_buf_init(&key, 1024);
    if (edw_base64_decode(b64, strlen(b64), &key) != EDW_OK || key.len == 0) {
        edw_buf_cleanup(&key);
        return edw_error_set(err, EDW_ERR_INVALID, "%s is not a valid base64 account key",
                             where);
    }
    wipe_free(c->key, c->key_len);
    c->key_len = key.len;
    c->key = (unsigned char *)edw_buf_steal(&key);
    return EDW_OK;
}

static void set_str(char **field, const char *value)
{
    free(*field);
    *field = edw_xstrdup(value);
}

static void set_sas(struct edw_azure_conn *c, const char *value)
{
    if (value[0] == '?')
        value++;
    if (c->sas)
        wipe_free(c->sas, strlen(c->sas));
    c->sas = edw_xstrdup(value);
}

/* Endpoints are stored without a trailing '/', so paths can be appended directly. */
static void set_endpoint(char **field, const char *value)
{
    size_t len = strlen(value);
    while (len > 0 && value[len - 1] == '/')
        len--;
    free(*field);
    *field = edw_xstrndup(value, len);
}

static char *trimmed(const char *s, size_t len)
{
    while (len > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
                       s[len - 1] == '\r'))
        len--;
    return edw_xstrndup(s, len);
}

/* Apply one "Key=Value" part. Values are never quoted back: they may be secrets. */
static enum edw_err conn_part(struct edw_azure_conn *c, const char *k, const char *v,
                              struct edw_error *err)
{
    static const char *const ignored[] = {"BlobEndpoint", "FileEndpoint",
                                          "BlobSecondaryEndpoint", "QueueSecondaryEndpoint",
                                          "TableSecondaryEndpoint", "FileSecondaryEndpoint",
                                          "DevelopmentStorageProxyUri"};
    if (strcasecmp(k, "AccountName") == 0)
        set_str(&c->account, v);
    else if (strcasecmp(k, "AccountKey") == 0)
        return set_key(c, v, "AccountKey in the connection string", err);
    else if (strcasecmp(k, "SharedAccessSignature") == 0)
        set_sas(c, v);
    else if (strcasecmp(k, "QueueEndpoint") == 0)
        set_endpoint(&c->queue_endpoint, v);
    else if (strcasecmp(k, "TableEndpoint") == 0)
        set_endpoint(&c->table_endpoint, v);
    else if (strcasecmp(k, "DefaultEndpointsProtocol") == 0) {
        if (strcasecmp(v, "http") != 0 && strcasecmp(v, "https") != 0)
            return edw_error_set(err, EDW_ERR_INVALID,
                                 "DefaultEndpointsProtocol in the connection string must be "
                                 "http or https");
        set_str(&c->protocol, strcasecmp(v, "http") == 0 ? "http" : "https");
    } else if (strcasecmp(k, "EndpointSuffix") == 0)
        set_str(&c->endpoint_suffix, v);
    else if (strcasecmp(k, "UseDevelopmentStorage") == 0)
        c->development = strcasecmp(v, "true") == 0;
    else {
        for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
            if (strcasecmp(k, ignored[i]) == 0)
                return EDW_OK; /* other services' settings: valid, not ours */
        /* Never quote it: a malformed connection string may have a key where a secret was. */
        return edw_error_set(err, EDW_ERR_INVALID,
                             "connection string: a part is not a known Key=value setting "
                             "(expected AccountName, AccountKey, SharedAccessSignature, "
                             "QueueEndpoint, TableEndpoint, DefaultEndpointsProtocol, "
                             "EndpointSuffix or UseDevelopmentStorage; the part is not shown "
                             "because connection strings hold secrets)");
    }
    return EDW_OK;
}

enum edw_err edw_azure_conn_parse(const char *text, struct edw_azure_conn *out,
                                  struct edw_error *err)
{
    memset(out, 0, sizeof(*out));
    enum edw_err rc = EDW_OK;
    const char *p = text;
    for (unsigned part = 1; *p && !rc; part++) {
        size_t len = strcspn(p, ";");
        char *seg = trimmed(p, len);
        p += len;
        if (*p == ';')
            p++;
        if (seg[0] != '\0') {
            char *eq = strchr(seg, '=');
            if (!eq || eq == seg) {
                rc = edw_error_set(err, EDW_ERR_INVALID,
                                   "connection string: part %u is not Key=Value", part);
            } else {
                *eq = '\0';
                char *key = trimmed(seg, strlen(seg));
                char *value = trimmed(eq + 1, strlen(eq + 1));
                rc = conn_part(out, key, value, err);
                free(key);
                explicit_bzero(value, strlen(value));
                free(value);
            }
        }
        explicit_bzero(seg, strlen(seg));
        free(seg);
    }
    return rc;
}

static char *derive_endpoint(const struct edw_azure_conn *c, const char *service)
{
    return edw_xasprintf("%s://%s.%s.%s", c->protocol ? c->protocol : "https", c->account,
                         service, c->endpoint_suffix ? c->endpoint_suffix : "core.windows.net");
}

static bool endpoint_ok(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 ? url[7] != '\0'
                                                : strncasecmp(url, "https://", 8) == 0 &&
                                                      url[8] != '\0';
}

/* UseDevelopmentStorage=true: Azurite's documented account, key and default ports. */
static enum edw_err apply_development(struct edw_azure_conn *c, struct edw_error *err)
{
    if (!c->account)
        set_str(&c->account, EDW_AZURITE_ACCOUNT);
    if (!c->queue_endpoint)
        set_endpoint(&c->queue_endpoint, "http://127.0.0.1:10001/" EDW_AZURITE_ACCOUNT);
    if (!c->table_endpoint)
        set_endpoint(&c->table_endpoint, "http://127.0.0.1:10002/" EDW_AZURITE_ACCOUNT);
    return c->key ? EDW_OK : set_key(c, EDW_AZURITE_KEY, "the development storage key", err);
}

static enum edw_err choose_auth(struct edw_azure_conn *c, struct edw_error *err)
{
    if (c->key) {
        if (!c->account)
            return edw_error_set(err, EDW_ERR_INVALID,
                                 "an Azure account key needs the account name "
                                 "(AZURE_STORAGE_ACCOUNT_NAME or AccountName=)");
        c->auth = EDW_AZURE_AUTH_SHARED_KEY;
    } else if (c->sas && c->sas[0]) {
        c->auth = EDW_AZURE_AUTH_SAS;
    } else {
        /* No key or SAS: an Entra token (workload or managed identity, see azure_identity.c) */
        c->auth = EDW_AZURE_AUTH_BEARER;
    }
    (void)err;
    return EDW_OK;
}

enum edw_err edw_azure_conn_from_config(const struct edw_config *cfg,
                                        struct edw_azure_conn *out, struct edw_error *err)
{
    enum edw_err rc = EDW_OK;
    memset(out, 0, sizeof(*out));
    if (cfg->azure_connection_string && cfg->azure_connection_string[0])
        rc = edw_azure_conn_parse(cfg->azure_connection_string, out, err);
    if (!rc && cfg->azure_account && cfg->azure_account[0])
        set_str(&out->account, cfg->azure_account);
    if (!rc && cfg->azure_account_key && cfg->azure_account_key[0])
        rc = set_key(out, cfg->azure_account_key, "EDW_AZURE_ACCOUNT_KEY", err);
    if (!rc && cfg->azure_sas_token && cfg->azure_sas_token[0])
        set_sas(out, cfg->azure_sas_token);
    if (!rc && cfg->azure_queue_endpoint && cfg->azure_queue_endpoint[0])
        set_endpoint(&out->queue_endpoint, cfg->azure_queue_endpoint);
    if (!rc && cfg->azure_table_endpoint && cfg->azure_table_endpoint[0])
        set_endpoint(&out->table_endpoint, cfg->azure_table_endpoint);
    if (!rc && out->development)
        rc = apply_development(out, err);
    if (!rc && (!out->queue_endpoint || !out->table_endpoint) && !out->account)
        rc = edw_error_set(err, EDW_ERR_INVALID,
                           "no Azure account: set AZURE_STORAGE_ACCOUNT_NAME, a connection "
                           "string, or EDW_AZURE_QUEUE_ENDPOINT and EDW_AZURE_TABLE_ENDPOINT");
    if (!rc && !out->queue_endpoint)
        out->queue_endpoint = derive_endpoint(out, "queue");
    if (!rc && !out->table_endpoint)
        out->table_endpoint = derive_endpoint(out, "table");
    if (!rc && (!endpoint_ok(out->queue_endpoint) || !endpoint_ok(out->table_endpoint)))
        rc = edw_error_set(err, EDW_ERR_INVALID,
                           "Azure endpoints must be http:// or https:// URLs (queue '%.80s', "
                           "table '%.80s')",
                           out->queue_endpoint, out->table_endpoint);
    if (!rc)
        rc = choose_auth(out, err);
    return rc;
}

/* --- small pure helpers --- */

uint64_t edw_azure_rand(uint64_t *state)
{
    return edw_retry_rand(state);
}

/* Decode one UTF-8 sequence; returns its length and the code point, 0 when invalid. */
static size_t utf8_next(const unsigned char *s, size_t len, unsigned *cp_out)
{
    unsigned char c = s[0];
    size_t n;
    unsigned cp;
    if (c < 0x80) {
        *cp_out = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (n > len)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *cp_out = cp;
    return n;
}

enum edw_err edw_azure_xml_escape(struct edw_buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    enum edw_err err = EDW_OK;
    size_t i = 0;
    while (i < len && !err) {
        unsigned cp = 0;
        size_t n = utf8_next(p + i, len - i, &cp);
        if (n == 0 || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xfffe ||
            cp == 0xffff)
            return EDW_ERR_INVALID;
        if (cp == '&')
            err = edw_buf_append_str(out, "&amp;");
        else if (cp == '<')
            err = edw_buf_append_str(out, "&lt;");
        else if (cp == '>')
            err = edw_buf_append_str(out, "&gt;");
        else if (cp == '\r') /* a raw CR would be normalised to LF by the service's parser */
            err = edw_buf_append_str(out, "&#13;");
        else
            err = edw_buf_append(out, s + i, n);
        i += n;
    }
    return err;
}

/* --- errors and retry decisions --- */

enum edw_err edw_azure_classify(long status, const char *code)
{
    if (status >= 200 && status < 300)
        return EDW_OK;
    if (code && strcmp(code, "PopReceiptMismatch") == 0)
        return EDW_ERR_CONFLICT;
    switch (status) {
    case 0:
    case 408:
    case 500:
    case 502:
    case 504:
        return EDW_ERR_TRANSIENT;
    case 429:
    case 503:
        return EDW_ERR_THROTTLED;
    case 401:
    case 403:
        return EDW_ERR_AUTH;
    case 404:
        return EDW_ERR_NOT_FOUND;
    case 409:
    case 412:
        return EDW_ERR_CONFLICT;
    default:
        break;
    }
    if (status >= 400 && status < 500)
        return EDW_ERR_INVALID;
    return EDW_ERR_FATAL;
}

bool edw_azure_retryable(long status, enum edw_err transport_err)
{
    if (status == 0)
        return transport_err == EDW_ERR_TRANSIENT;
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
           status == 504;
}

static int64_t parse_nonneg(const char *v, int64_t scale)
{
    char *end = NULL;
    if (!v)
        return 0;
    long long n = strtoll(v, &end, 10);
    if (end == v || *end != '\0' || n < 0 || n > 86400000)
        return 0;
    return (int64_t)n * scale;
}

int64_t edw_azure_retry_after_us(const struct edw_http_headers *h)
{
    int64_t us = parse_nonneg(edw_http_headers_get(h, "retry-after-ms"), 1000);
    if (!us)
        us = parse_nonneg(edw_http_headers_get(h, "x-ms-retry-after-ms"), 1000);
    if (!us)
        us = parse_nonneg(edw_http_headers_get(h, "Retry-After"), 1000000);
    return us;
}

void edw_azure_fill_error(struct edw_error *err, const char *service, const char *method,
                          const char *path, const struct edw_http_response *resp)
{
    if (!err)
        return;
    char code[64] = "", message[200] = "";
    const char *hdr = edw_http_headers_get(&resp->headers, "x-ms-error-code");
    const char *body = edw_buf_cstr(&resp->body);
    if (resp->body.len && body[0] == '<')
        edw_azure_parse_error_xml(body, resp->body.len, code, sizeof(code), message,
                                  sizeof(message));
    else if (resp->body.len && body[0] == '{')
        edw_azure_parse_error_json(body, resp->body.len, code, sizeof(code), message,
                                   sizeof(message));
    if (hdr)
        snprintf(code, sizeof(code), "%s", hdr);
    message[strcspn(message, "\r\n")] = '\0'; /* Azure appends RequestId/Time lines */
    err->http_status = (int)resp->status;
    err->retry_after_ms = (uint32_t)(edw_azure_retry_after_us(&resp->headers) / 1000);
    snprintf(err->code, sizeof(err->code), "%s", code);
    int plen = (int)strcspn(path, "?"); /* the query may carry a SAS: never shown */
    const char *hint = strcmp(code, "QueueNotFound") == 0   ? " (create it: edw queue create)"
                       : strcmp(code, "TableNotFound") == 0 ? " (create it: edw table create)"
                                                            : "";
    struct edw_buf b;
    edw_buf_init(&b, 4096);
    enum edw_err rc = resp->status == 0
                          ? edw_buf_appendf(&b, "azure %s %s %.*s: %s", service, method, plen,
                                            path, resp->error[0] ? resp->error : "no response")
                          : edw_buf_appendf(&b, "azure %s %s %.*s: HTTP %ld %s%s%s%s", service,
                                            method, plen, path, resp->status,
                                            code[0] ? code : "(no code)", hint,
                                            message[0] ? ": " : "", message);
    size_t n = rc ? 0 : b.len < sizeof(err->message) - 1 ? b.len : sizeof(err->message) - 1;
    memcpy(err->message, edw_buf_cstr(&b), n);
    err->message[n] = '\0';
    edw_buf_cleanup(&b);
}

/* --- the client --- */

enum edw_err edw_azure_client_init(struct edw_azure_client *c, enum edw_azure_service service,
                                   const struct edw_config *cfg,
                                   const struct edw_backend_deps *deps, struct edw_error *err)
{
    memset(c, 0, sizeof(*c));
    c->service = service;
    c->clock = deps->clock;
    c->retry = (struct edw_retry_policy){
        .max_attempts = 5, .base_us = 400000, .cap_us = 8000000,
        /* No lease is renewed while a call sleeps: a longer Retry-After is left to the
         * worker's own backoff, which renews leases while it waits. */
        .max_hint_us = 2000000,
        /* For the same reason a call ends within a quarter of the lease, retries and all:
         * the worker renews leases that have less than a third left, so a call that ran
         * longer (four waits of an outage add up to 3 to 6 s) outlived leases taken 3 s
         * before; another consumer then got those messages too. Its retries are left to
         * the worker, which renews leases while it backs off. */
        .budget_us = cfg->visibility_s > 0 ? cfg->visibility_s * 1000000 / 4 : 0};
    if (getrandom(&c->rng, sizeof(c->rng), 0) != (ssize_t)sizeof(c->rng))
        c->rng = (uint64_t)edw_clock_mono_us(c->clock) ^ (uint64_t)(uintptr_t)c;
    enum edw_err rc = edw_azure_conn_from_config(cfg, &c->conn, err);
    if (rc)
        return rc;
    c->endpoint = service == EDW_AZURE_QUEUE ? c->conn.queue_endpoint : c->conn.table_endpoint;
    if (c->conn.auth == EDW_AZURE_AUTH_SHARED_KEY)
        c->hmac = edw_hmac_key_new(c->conn.key, c->conn.key_len);
    if (c->conn.auth == EDW_AZURE_AUTH_BEARER) {
        /* A bearer token is a credential anyone on the path could replay: never over HTTP. */
        if (strncasecmp(c->endpoint, "https://", 8) != 0)
            return edw_error_set(err, EDW_ERR_INVALID,
                                 "no Azure key or SAS is set, so an Entra token would be used, "
                                 "and tokens are only sent over HTTPS: the %s endpoint %.80s is "
                                 "not https:// (set an https endpoint, or a key/SAS)",
                                 service == EDW_AZURE_QUEUE ? "queue" : "table", c->endpoint);
        rc = edw_azure_token_acquire(cfg, deps->http, c->clock, &c->token, err);
        if (rc)
            return rc;
    }
    if (deps->http) {
        c->http = deps->http;
        return EDW_OK;
    }
    struct edw_http_options opts = {.ca_file = cfg->ca_file};
    rc = edw_http_transport_curl_new(&opts, &c->http, err);
    c->owns_http = rc == EDW_OK;
    return rc;
}

void edw_azure_client_cleanup(struct edw_azure_client *c)
{
    if (!c)
        return;
    if (c->owns_http)
        edw_http_transport_destroy(c->http);
    edw_azure_token_release(c->token);
    edw_hmac_key_free(c->hmac);
    edw_azure_conn_cleanup(&c->conn);
    memset(c, 0, sizeof(*c));
}

void edw_azure_call_init(struct edw_azure_call *call, const char *method, char *path)
{
    memset(call, 0, sizeof(*call));
    call->method = method;
    call->path = path;
    edw_http_response_init(&call->resp);
}

void edw_azure_call_cleanup(struct edw_azure_call *call)
{
    if (!call)
        return;
    free(call->path);
    edw_http_headers_cleanup(&call->headers);
    edw_http_response_cleanup(&call->resp);
    memset(call, 0, sizeof(*call));
}

/* The response headers the Azure backends read (errors, retry hints, Update Message's new
 * receipt, the queue depth, table paging and the $batch reply's boundary); the transport copies
 * only these. Add a name here before reading a new header. */
static const char *const s_keep_headers[] = {
    "x-ms-error-code", "retry-after-ms", "x-ms-retry-after-ms", "Retry-After",
    "x-ms-popreceipt", "x-ms-time-next-visible", "x-ms-approximate-messages-count",
    "x-ms-continuation-NextPartitionKey", "x-ms-continuation-NextRowKey", "Content-Type",
    NULL};

/* Build the wire request for one attempt: URL (plus the SAS), date, version, headers, then
 * the signature over exactly that. */
static enum edw_err build(struct edw_azure_client *c, const struct edw_azure_call *call,
                          const char *bearer, struct edw_http_request *req)
{
    /* The URL is assembled in place (no printf, no second copy): a request is made per
     * message, so this path is the consumer's busiest. */
    struct edw_buf url;
    edw_buf_init(&url, (size_t)1 << 30);
    bool sas = c->conn.auth == EDW_AZURE_AUTH_SAS;
    if (edw_buf_append_str(&url, c->endpoint) || edw_buf_append_str(&url, call->path) ||
        (sas && (edw_buf_append_str(&url, strchr(call->path, '?') ? "&" : "?") ||
                 edw_buf_append_str(&url, c->conn.sas))))
        abort(); /* no practical limit */
    memset(req, 0, sizeof(*req));
    snprintf(req->method, sizeof(req->method), "%s", call->method);
    req->url = edw_buf_steal(&url);
    /* The date changes once a second: format it then, not per request. */
    int64_t now_s = edw_clock_wall_us(c->clock) / 1000000;
    if (now_s != c->date_s || !c->date[0]) {
        edw_rfc1123_format(now_s * 1000000, c->date);
        c->date_s = now_s;
    }
    edw_http_headers_add(&req->headers, "x-ms-date", c->date);
    edw_http_headers_add(&req->headers, "x-ms-version", EDW_AZURE_VERSION);
    if (call->content_type)
        edw_http_headers_add(&req->headers, "Content-Type", call->content_type);
    for (size_t i = 0; i < call->headers.n; i++)
        edw_http_headers_add(&req->headers, call->headers.items[i].name,
                             call->headers.items[i].value);
    req->body = call->body;
    req->body_len = call->body_len;
    req->keep_headers = s_keep_headers;
    if (bearer) {
        char *h = edw_xasprintf("Bearer %s", bearer);
        edw_http_headers_add(&req->headers, "Authorization", h);
        explicit_bzero(h, strlen(h));
        free(h);
    }
    if (c->conn.auth != EDW_AZURE_AUTH_SHARED_KEY)
        return EDW_OK;
    return edw_azure_sharedkey_authorize_with(
        c->service == EDW_AZURE_TABLE ? EDW_AZURE_SK_TABLE : EDW_AZURE_SK_QUEUE, c->conn.account,
        c->hmac, req);
}

static const char *service_name(const struct edw_azure_client *c)
{
    return c->service == EDW_AZURE_TABLE ? "table" : "queue";
}

/* Judge one attempt. Returns true when the call should be tried again. */
static bool judge(struct edw_azure_client *c, struct edw_azure_call *call)
{
    struct edw_http_response *r = &call->resp;
    call->attempts++;
    enum edw_err rc;
    if (r->status >= 200 && r->status < 300) {
        edw_error_clear(&call->err);
        rc = call->check ? call->check(r, call->check_ctx, &call->err) : EDW_OK;
    } else {
        edw_azure_fill_error(&call->err, service_name(c), call->method, call->path, r);
        rc = r->status == 0 ? (r->transport_err ? r->transport_err : EDW_ERR_TRANSIENT)
                            : edw_azure_classify(r->status, call->err.code);
        if (!edw_azure_retryable(r->status, r->transport_err) && edw_err_retryable(rc))
            rc = EDW_ERR_FATAL; /* e.g. 501: a 5xx that retrying cannot fix */
    }
    call->result = rc;
    bool again = edw_err_retryable(rc) && call->attempts < c->retry.max_attempts;
    bool token_rejected = r->status == 401 ||
                          (r->status == 403 &&
                           (strcmp(call->err.code, "AuthenticationFailed") == 0 ||
                            strcmp(call->err.code, "InvalidAuthenticationInfo") == 0));
    if (token_rejected && c->token && call->attempts == 1) {
        /* The token was revoked or expired early (Azure answers 401, Azurite 403
         * AuthenticationFailed; a missing role is 403 AuthorizationPermissionMismatch and is
         * not retried): fetch a new one and try once more. */
        edw_token_source_invalidate(c->token);
        again = true;
    }
    if (again && (r->status == 0 || r->status == 500 || r->status == 504))
        call->ambiguous = true; /* the service may have applied it before failing */
    return again;
}

/* One line about a failed attempt of `call`: "<what>: <the service's error>", with fields. */
static void log_attempt(const struct edw_azure_client *c, const struct edw_azure_call *call,
                        enum edw_log_level level, const char *what)
{
    struct edw_log_field f[] = {
        {"backend", "azure", 0},
        {"operation", edw_op_name(edw_azure_op_of(c->service, call->method, call->path)), 0},
        {"status", NULL, call->resp.status},
        {"attempt", NULL, (long long)call->attempts},
        {"code", call->err.code[0] ? call->err.code : "-", 0}};
    EDW_LOG_FIELDS(level, "azure", f, 5, "%s: %s", what,
                   call->err.message[0] ? call->err.message : edw_err_str(call->result));
}

static void log_retry(const struct edw_azure_client *c, const struct edw_azure_call *call,
                      int64_t delay_us)
{
    char what[64];
    snprintf(what, sizeof(what), "retrying in %lld ms", (long long)(delay_us / 1000));
    log_attempt(c, call, EDW_LOG_INFO, what);
}

/* `n` calls failed and would be retried but for the shutdown deadline. */
static void log_no_retry(const struct edw_azure_client *c, const struct edw_azure_call *call,
                         size_t n)
{
    char what[96];
    snprintf(what, sizeof(what),
             "not retried (%zu call%s): shutting down, the grace period ends first", n,
             n == 1 ? "" : "s");
    log_attempt(c, call, EDW_LOG_WARN, what);
}

enum edw_op edw_azure_op_of(enum edw_azure_service service, const char *method,
                            const char *path)
{
    const char *q = strchr(path, '?');
    size_t len = q ? (size_t)(q - path) : strlen(path);
    if (service == EDW_AZURE_TABLE) {
        if (strcmp(method, "GET") == 0)
            return EDW_OP_SCAN; /* queries and point reads */
        return strncmp(path, "/Tables", len > 7 ? len : 7) == 0 ? EDW_OP_CREATE_TABLE
                                                                  : EDW_OP_UPSERT;
    }
    const char *msgs = strstr(path, "/messages");
    bool one = msgs && (size_t)(msgs - path) + 9 < len; /* /messages/<id> */
    if (!msgs || (size_t)(msgs - path) >= len)
        return strcmp(method, "GET") == 0 ? EDW_OP_DEPTH : EDW_OP_CREATE_QUEUE;
    if (strcmp(method, "POST") == 0)
        return EDW_OP_SEND; /* also the poison copy */
    if (strcmp(method, "PUT") == 0)
        return EDW_OP_EXTEND;
    if (strcmp(method, "DELETE") == 0)
        return one ? EDW_OP_ACK : EDW_OP_CLEAR;
    return q && strstr(q, "peekonly=true") ? EDW_OP_PEEK : EDW_OP_RECEIVE;
}

enum edw_err edw_azure_perform(struct edw_azure_client *c, struct edw_azure_call *calls,
                               size_t n)
{
    size_t *todo = edw_xcalloc(n ? n : 1, sizeof(*todo));
    struct edw_http_request *reqs = edw_xcalloc(n ? n : 1, sizeof(*reqs));
    struct edw_http_request **reqp = edw_xcalloc(n ? n : 1, sizeof(*reqp));
    struct edw_http_response **respp = edw_xcalloc(n ? n : 1, sizeof(*respp));
    size_t ntodo = 0;
    enum edw_err rc = EDW_OK;
    int64_t start_us = edw_clock_mono_us(c->clock);
    for (size_t i = 0; i < n; i++) {
        calls[i].attempts = 0;
        calls[i].ambiguous = false;
        todo[ntodo++] = i;
    }
    while (ntodo > 0 && !rc) {
        struct edw_token tok = {0};
        if (c->token) {
            struct edw_error terr = {0};
            enum edw_err trc =
                edw_token_source_get(c->token, edw_clock_wall_us(c->clock), &tok, &terr);
            if (trc) { /* each call fails with the cause; the caller retries later */
                for (size_t k = 0; k < ntodo; k++) {
                    calls[todo[k]].result = trc;
                    calls[todo[k]].err = terr;
                }
                break;
            }
        }
        for (size_t k = 0; k < ntodo && !rc; k++) {
            struct edw_azure_call *call = &calls[todo[k]];
            edw_http_response_cleanup(&call->resp);
            edw_http_response_init(&call->resp);
            rc = build(c, call, tok.value, &reqs[k]);
            /* During a shutdown no request may outlast the grace (an unreachable service
             * would otherwise hold each one for the whole transport timeout). */
            reqs[k].timeout_ms =
                edw_retry_timeout_ms(edw_clock_mono_us(c->clock), reqs[k].timeout_ms);
            reqp[k] = &reqs[k];
            respp[k] = &call->resp;
        }
        edw_token_cleanup(&tok);
        if (!rc)
            rc = edw_http_perform(c->http, reqp, respp, ntodo);
        c->requests += ntodo;
        for (size_t k = 0; k < ntodo; k++)
            edw_http_request_cleanup(&reqs[k]);
        if (rc)
            break;
        size_t next = 0;
        int64_t delay = 0, first_delay = 0;
        for (size_t k = 0; k < ntodo; k++) {
            struct edw_azure_call *call = &calls[todo[k]];
            if (!judge(c, call))
                continue;
            int64_t d = edw_retry_backoff_us(&c->retry, call->attempts - 1, false,
                                             edw_azure_retry_after_us(&call->resp.headers),
                                             &c->rng);
            if (d > delay)
                delay = d;
            if (next == 0)
                first_delay = d;
            todo[next++] = todo[k];
        }
        enum edw_retry_verdict v = next > 0 ? edw_retry_check(&c->retry, start_us,
                                                              edw_clock_mono_us(c->clock), delay)
                                            : EDW_RETRY_GO;
        if (v == EDW_RETRY_BUDGET)
            next = 0; /* out of time: each call keeps its last (retryable) failure */
        if (v == EDW_RETRY_SHUTDOWN) {
            /* Shutting down, and the grace ends before another try: the calls fail with
             * what they got (the caller logs it), so the process can exit in time. */
            log_no_retry(c, &calls[todo[0]], next);
            break;
        }
        for (size_t k = 0; k < next; k++) {
            struct edw_azure_call *call = &calls[todo[k]];
            if (k == 0)
                log_retry(c, call, first_delay);
            edw_metrics_backend_retry("azure", edw_azure_op_of(c->service, call->method,
                                                               call->path),
                                      call->result);
        }
        c->retries += next;
        ntodo = next;
        if (ntodo > 0)
            edw_clock_sleep_us(c->clock, delay);
    }
    if (rc) {
        for (size_t i = 0; i < n; i++) {
            if (calls[i].attempts == 0 || calls[i].result != EDW_OK) {
                calls[i].result = rc;
                edw_error_set(&calls[i].err, rc, "azure %s: the HTTP transport failed",
                              service_name(c));
            }
        }
    }
    free(todo);
    free(reqs);
    free(reqp);
    free(respp);
    return rc;
}

enum edw_err edw_azure_perform_one(struct edw_azure_client *c, struct edw_azure_call *call,
                                   struct edw_error *err)
{
    enum edw_err rc = edw_azure_perform(c, call, 1);
    if (!rc)
        rc = call->result;
    if (rc && err)
        *err = call->err;
    return rc;
}
