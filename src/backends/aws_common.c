/* SPDX-License-Identifier: Apache-2.0 */
/* The AWS JSON 1.0 protocol as SQS and DynamoDB speak it: POST / with
 * Content-Type application/x-amz-json-1.0 and X-Amz-Target "<prefix><Operation>", signed with
 * SigV4; errors as {"__type": "...#Code", "message": "..."} with a 4xx/5xx status. */
#include "aws_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "edw/alloc.h"
#include "edw/log.h"
#include "edw/metrics.h"
#include "edw/sigv4.h"

#define CONTENT_TYPE "application/x-amz-json-1.0"

void edw_aws_call_cleanup(struct edw_aws_call *c)
{
    if (!c)
        return;
    json_decref(c->in);
    json_decref(c->out);
    free(c->text);
    c->in = c->out = NULL;
    c->text = NULL;
}

json_t *edw_aws_jstr(const char *s, size_t len)
{
    return json_stringn(s, len); /* NULL for invalid UTF-8 */
}

/* Length of the valid UTF-8 sequence at `s` (at most `n` bytes), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned min;
    unsigned cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2, min = 0x80, cp = s[0] & 0x1fu;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3, min = 0x800, cp = s[0] & 0x0fu;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4, min = 0x10000, cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

json_t *edw_aws_jstr_lossy(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j)
        return j;
    struct edw_buf b;
    edw_buf_init(&b, 4 * n + 1);
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq(p + i, n - i);
        enum edw_err rc = len ? edw_buf_append(&b, p + i, len)
                              : edw_buf_append(&b, "\xef\xbf\xbd", 3); /* U+FFFD */
        if (rc)
            abort(); /* the buffer was sized for the worst case */
        i += len ? len : 1;
    }
    j = json_stringn(edw_buf_cstr(&b), b.len);
    edw_buf_cleanup(&b);
    return j;
}

const char *edw_aws_jget(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- endpoints ---- */

enum edw_err edw_aws_endpoint(const struct edw_config *cfg, const char *service, char **url_out,
                              struct edw_error *err)
{
    *url_out = NULL;
    const char *own = strcmp(service, "sqs") == 0 ? cfg->aws_endpoint_url_sqs
                                                  : cfg->aws_endpoint_url_dynamodb;
    const char *base = own && *own ? own : cfg->aws_endpoint_url;
    if (base && *base) {
        if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
            return edw_error_set(err, EDW_ERR_INVALID,
                                 "AWS endpoint '%s' for %s: expected http:// or https://", base,
                                 service);
        size_t len = strlen(base);
        while (len > 8 && base[len - 1] == '/')
            len--;
        *url_out = edw_xasprintf("%.*s/", (int)len, base);
        return EDW_OK;
    }
    if (!cfg->aws_region || !*cfg->aws_region)
        return edw_error_set(err, EDW_ERR_INVALID,
                             "AWS region is not set: set AWS_REGION (or AWS_DEFAULT_REGION)");
    bool china = strncmp(cfg->aws_region, "cn-", 3) == 0;
    *url_out = edw_xasprintf("https://%s.%s.amazonaws.com%s/", service, cfg->aws_region,
                             china ? ".cn" : "");
    return EDW_OK;
}

/* ---- errors ---- */

static bool in_list(const char *code, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(code, list[i]) == 0)
            return true;
    return false;
}

#define IN(code, list) in_list((code), (list), sizeof(list) / sizeof((list)[0]))

enum edw_err edw_aws_classify(long status, const char *code)
{
    /* The AWS SDKs' throttling codes, plus SQS's own. */
    static const char *const throttled[] = {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException",
        "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
        "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException", "KmsThrottled", "OverLimit"};
    static const char *const transient[] = {
        "ServiceUnavailable", "InternalServerError", "InternalFailure", "InternalError",
        "RequestTimeout", "RequestTimeoutException", "ServiceUnavailableException"};
    static const char *const auth[] = {
        "UnrecognizedClientException", "InvalidSignatureException", "SignatureDoesNotMatch",
        "ExpiredToken", "ExpiredTokenException", "AccessDenied", "AccessDeniedException",
        "InvalidClientTokenId", "MissingAuthenticationToken",
        "MissingAuthenticationTokenException", "IncompleteSignature",
        "IncompleteSignatureException", "RequestExpired", "InvalidSecurity",
        "AuthFailure", "NotAuthorized"};
    static const char *const not_found[] = {"QueueDoesNotExist", "NonExistentQueue",
                                            "AWS.SimpleQueueService.NonExistentQueue",
                                            "ResourceNotFoundException"};
    static const char *const conflict[] = {"ReceiptHandleIsInvalid", "MessageNotInflight",
                                           "ConditionalCheckFailedException",
                                           "TransactionConflictException"};
    if (code && *code) {
        if (IN(code, throttled))
            return EDW_ERR_THROTTLED;
        if (IN(code, transient))
            return EDW_ERR_TRANSIENT;
        if (IN(code, auth))
            return EDW_ERR_AUTH;
        if (IN(code, not_found))
            return EDW_ERR_NOT_FOUND;
        if (IN(code, conflict))
            return EDW_ERR_CONFLICT;
    }
    if (status == 429)
        return EDW_ERR_THROTTLED;
    if (status >= 500 || status == 408)
        return EDW_ERR_TRANSIENT;
    if (status == 401 || status == 403)
        return EDW_ERR_AUTH;
    if (status == 404)
        return EDW_ERR_NOT_FOUND;
    if (status >= 400)
        return EDW_ERR_INVALID;
    return EDW_ERR_FATAL;
}

/* The code part of "com.amazonaws.sqs#QueueDoesNotExist" or "Code:http://..." forms. */
static void copy_code(char *dst, size_t size, const char *type)
{
    const char *hash = strrchr(type, '#');
    const char *start = hash ? hash + 1 : type;
    size_t len = strcspn(start, ":");
    snprintf(dst, size, "%.*s", (int)len, start);
}

enum edw_err edw_aws_parse_error(long status, const struct edw_http_headers *headers,
                                 const char *body, size_t len, struct edw_error *err)
{
    char code[64] = "", message[200] = "";
    json_t *j = len ? json_loadb(body, len, 0, NULL) : NULL;
    const char *type = j ? edw_aws_jget(j, "__type") : NULL;
    if (!type && j)
        type = edw_aws_jget(j, "code");
    if (!type && headers)
        type = edw_http_headers_get(headers, "x-amzn-ErrorType");
    if (type)
        copy_code(code, sizeof(code), type);
    const char *msg = j ? edw_aws_jget(j, "message") : NULL;
    if (!msg && j)
        msg = edw_aws_jget(j, "Message");
    snprintf(message, sizeof(message), "%s", msg ? msg : "");
    json_decref(j);
    enum edw_err rc = edw_aws_classify(status, code);
    if (rc == EDW_ERR_INVALID && headers) {
        /* SQS also sends the legacy Query-protocol code, e.g.
         * "AWS.SimpleQueueService.NonExistentQueue;Sender". */
        const char *legacy = edw_http_headers_get(headers, "x-amzn-query-error");
        if (legacy) {
            char lc[96];
            snprintf(lc, sizeof(lc), "%.*s", (int)strcspn(legacy, ";"), legacy);
            enum edw_err lrc = edw_aws_classify(status, lc);
            rc = lrc != EDW_ERR_INVALID ? lrc : rc;
        }
    }
    if (err) {
        err->http_status = (int)status;
        snprintf(err->code, sizeof(err->code), "%s", code);
        edw_error_set(err, rc, "%s%s%s (HTTP %ld)", code[0] ? code : "error",
                      message[0] ? ": " : "", message, status);
    }
    return rc;
}

uint32_t edw_aws_retry_after_ms(const struct edw_http_headers *h)
{
    const char *v = h ? edw_http_headers_get(h, "Retry-After") : NULL;
    if (!v)
        return 0;
    char *end;
    unsigned long long s = strtoull(v, &end, 10);
    while (*end == ' ' || *end == '\t')
        end++;
    if (end == v || *end || *v == '-') /* an HTTP-date, or garbage: no hint */
        return 0;
    return s > 3600 ? 3600000u : (uint32_t)s * 1000u;
}

enum edw_op edw_aws_op_of(const char *action)
{
    static const struct {
        const char *action;
        enum edw_op op;
    } map[] = {
        {"ReceiveMessage", EDW_OP_RECEIVE},
        {"DeleteMessageBatch", EDW_OP_ACK},
        {"ChangeMessageVisibilityBatch", EDW_OP_EXTEND},
        {"ChangeMessageVisibility", EDW_OP_POISON}, /* only the poison move uses it alone */
        {"SendMessage", EDW_OP_POISON},             /* likewise: the poison copy */
        {"DeleteMessage", EDW_OP_POISON},
        {"SendMessageBatch", EDW_OP_SEND},
        {"GetQueueAttributes", EDW_OP_DEPTH},
        {"GetQueueUrl", EDW_OP_CREATE_QUEUE},
        {"CreateQueue", EDW_OP_CREATE_QUEUE},
        {"PurgeQueue", EDW_OP_CLEAR},
        {"BatchWriteItem", EDW_OP_UPSERT},
        {"PutItem", EDW_OP_RUN_SAVE},
        {"GetItem", EDW_OP_GET},
        {"Scan", EDW_OP_SCAN},
        {"CreateTable", EDW_OP_CREATE_TABLE},
        {"DescribeTable", EDW_OP_CREATE_TABLE},
    };
    for (size_t i = 0; action && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(action, map[i].action) == 0)
            return map[i].op;
    return EDW_OP_TRANSACTION; /* unreachable for the actions above; a visible odd label */
}

void edw_aws_note_retries(struct edw_aws_client *c, const char *action, size_t n,
                          enum edw_err reason)
{
    c->retries += n;
    enum edw_op op = edw_aws_op_of(action);
    for (size_t i = 0; i < n; i++)
        edw_metrics_backend_retry(EDW_AWS_BACKEND, op, reason);
}

/* ---- backoff ---- */

enum edw_retry_verdict edw_aws_backoff(struct edw_aws_client *c, unsigned attempt,
                                       bool throttled, int64_t start_us)
{
    int64_t delay = edw_retry_backoff_us(&c->retry, attempt, throttled, 0, &c->rng);
    enum edw_retry_verdict v =
        edw_retry_check(&c->retry, start_us, edw_clock_mono_us(c->clock), delay);
    if (v == EDW_RETRY_GO)
        edw_clock_sleep_us(c->clock, delay);
    return v;
}

/* ---- client ---- */

enum edw_err edw_aws_client_init(struct edw_aws_client *c, const struct edw_config *cfg,
                                 const struct edw_backend_deps *deps, const char *service,
                                 struct edw_error *err)
{
    memset(c, 0, sizeof(*c));
    bool sqs = strcmp(service, "sqs") == 0;
    c->service = sqs ? "sqs" : "dynamodb";
    c->label = sqs ? "SQS" : "DynamoDB";
    c->target_prefix = sqs ? "AmazonSQS." : "DynamoDB_20120810.";
    c->clock = deps->clock;
    c->retry = (struct edw_retry_policy){
        .max_attempts = 5, .base_us = 50000, .throttle_base_us = 250000, .cap_us = 5000000,
        /* The service's Retry-After, as the AWS SDKs honour it, but capped: the worker renews
         * no lease while a call sleeps (4 waits stay under 10 s). */
        .max_hint_us = 2000000,
        /* For the same reason one call ends within a quarter of the lease, and its further
         * retries are left to the worker, which renews while it backs off (as for Azure:
         * tests/unit/test_azure_retry_budget.c). */
        .budget_us = cfg->visibility_s > 0 ? cfg->visibility_s * 1000000 / 4 : 0};
    if (getrandom(&c->rng, sizeof(c->rng), 0) != sizeof(c->rng))
        c->rng = (uint64_t)edw_clock_mono_us(c->clock);
    if (!cfg->aws_region || !*cfg->aws_region)
        return edw_error_set(err, EDW_ERR_INVALID,
                             "AWS region is not set: set AWS_REGION (or AWS_DEFAULT_REGION)");
    c->region = edw_xstrdup(cfg->aws_region);
    enum edw_err rc = edw_aws_endpoint(cfg, service, &c->url, err);
    if (!rc && deps->http) {
        c->http = deps->http;
    } else if (!rc) {
        struct edw_http_options o = {0};
        rc = edw_http_transport_curl_new(&o, &c->http, err);
        c->own_http = rc == EDW_OK;
    }
    if (!rc) {
        struct edw_aws_cred_options co = {
            .access_key_id = cfg->aws_access_key_id,
            .secret_access_key = cfg->aws_secret_access_key,
            .session_token = cfg->aws_session_token,
            .role_arn = cfg->aws_role_arn,
            .token_file = cfg->aws_web_identity_token_file,
            .session_name = cfg->aws_role_session_name,
            .sts_endpoint = cfg->aws_sts_endpoint,
            .region = cfg->aws_region,
            .http = c->http,
            .clock = c->clock,
        };
        rc = edw_aws_cred_provider_new(&co, &c->creds, err);
    }
    if (rc)
        edw_aws_client_cleanup(c);
    return rc;
}

void edw_aws_client_cleanup(struct edw_aws_client *c)
{
    if (!c)
        return;
    edw_aws_cred_provider_destroy(c->creds);
    if (c->own_http)
        edw_http_transport_destroy(c->http);
    free(c->region);
    free(c->url);
    c->creds = NULL;
    c->http = NULL;
    c->region = c->url = NULL;
}

/* Build and sign the HTTP request for one call with `creds` at the current time. */
static enum edw_err build_request(struct edw_aws_client *c, struct edw_aws_call *call,
                                  const struct edw_aws_creds *creds, struct edw_http_request *req)
{
    edw_http_request_init(req, "POST", c->url);
    char target[128];
    snprintf(target, sizeof(target), "%s%s", c->target_prefix, call->op);
    edw_http_headers_add(&req->headers, "Content-Type", CONTENT_TYPE);
    edw_http_headers_add(&req->headers, "X-Amz-Target", target);
    req->body = call->text;
    req->body_len = strlen(call->text);
    /* During a shutdown no request may outlast the grace (an unreachable service would
     * otherwise hold each one for the whole transport timeout, a long poll for its wait). */
    req->timeout_ms = edw_retry_timeout_ms(edw_clock_mono_us(c->clock), call->timeout_ms);
    struct edw_sigv4_credentials sc = {creds->access_key_id, creds->secret_access_key,
                                       creds->session_token};
    struct edw_sigv4_options so = {
        .creds = &sc,
        .region = c->region,
        .service = c->service,
        .time_unix_s = edw_clock_wall_us(c->clock) / 1000000,
        .normalize_path = true,
    };
    return edw_sigv4_sign_http(&so, req, &call->err);
}

/* Turn a response into the call's result. */
static void take_response(struct edw_aws_client *c, struct edw_aws_call *call,
                          struct edw_http_response *resp)
{
    edw_error_clear(&call->err);
    json_decref(call->out);
    call->out = NULL;
    if (resp->transport_err) {
        call->rc = edw_error_set(&call->err, resp->transport_err, "%s %s: %s", c->label,
                                 call->op, resp->error);
        return;
    }
    if (resp->status >= 200 && resp->status < 300) {
        json_error_t je;
        call->out = json_loadb(resp->body.ptr ? resp->body.ptr : "{}",
                               resp->body.ptr ? resp->body.len : 2, 0, &je);
        call->rc = call->out && json_is_object(call->out)
                       ? EDW_OK
                       : edw_error_set(&call->err, EDW_ERR_TRANSIENT,
                                       "%s %s: response is not a JSON object (%s)", c->label,
                                       call->op, je.text);
        return;
    }
    struct edw_error e = {0};
    call->rc = edw_aws_parse_error(resp->status, &resp->headers, resp->body.ptr, resp->body.len,
                                   &e);
    e.retry_after_ms = edw_aws_retry_after_ms(&resp->headers);
    call->err = e;
    snprintf(call->err.message, sizeof(call->err.message), "%s %s: %.200s", c->label, call->op,
             e.message);
}

static bool expired_token(const struct edw_aws_call *call)
{
    return call->rc == EDW_ERR_AUTH &&
           (strcmp(call->err.code, "ExpiredToken") == 0 ||
            strcmp(call->err.code, "ExpiredTokenException") == 0 ||
            strcmp(call->err.code, "RequestExpired") == 0);
}

/* A retry is news for an operator (the service or the network is struggling) but not yet a
 * failure: one line per round, naming the first failed call; `what` says what happens next. */
static void log_round(const struct edw_aws_call *call, size_t n, unsigned next_attempt,
                      enum edw_log_level level, const char *what)
{
    struct edw_log_field f[6] = {{"backend", EDW_AWS_BACKEND, 0},
                                 {"operation", edw_op_name(edw_aws_op_of(call->op)), 0},
                                 {"error", edw_err_name(call->rc), 0},
                                 {"attempt", NULL, (long long)next_attempt}};
    size_t nf = 4;
    if (call->err.http_status)
        f[nf++] = (struct edw_log_field){"http_status", NULL, call->err.http_status};
    if (call->err.code[0])
        f[nf++] = (struct edw_log_field){"code", call->err.code, 0};
    EDW_LOG_FIELDS(level, "aws", f, nf, "%s %zu %s call(s)%s: %s",
                   level == EDW_LOG_INFO ? "retrying" : "not retrying", n, call->op, what,
                   call->err.message[0] ? call->err.message : edw_err_str(call->rc));
}

/* One round: sign and perform every call in `idx` concurrently. A call that cannot be signed
 * keeps that error and is not sent. */
static enum edw_err perform_round(struct edw_aws_client *c, struct edw_aws_call *calls,
                                  const size_t *idx, size_t n)
{
    struct edw_aws_creds creds;
    struct edw_error cerr = {0};
    enum edw_err rc = edw_aws_cred_provider_get(c->creds, &creds, &cerr);
    if (rc) {
        for (size_t i = 0; i < n; i++) {
            calls[idx[i]].rc = rc;
            calls[idx[i]].err = cerr;
        }
        return EDW_OK;
    }
    struct edw_http_request *reqs = edw_xcalloc(n, sizeof(*reqs));
    struct edw_http_response *resps = edw_xcalloc(n, sizeof(*resps));
    struct edw_http_request **rp = edw_xcalloc(n, sizeof(*rp));
    struct edw_http_response **sp = edw_xcalloc(n, sizeof(*sp));
    size_t *sent = edw_xcalloc(n, sizeof(*sent)); /* request j belongs to calls[sent[j]] */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        struct edw_aws_call *call = &calls[idx[i]];
        call->rc = build_request(c, call, &creds, &reqs[m]);
        if (call->rc) {
            edw_http_request_cleanup(&reqs[m]);
            continue;
        }
        edw_http_response_init(&resps[m]);
        rp[m] = &reqs[m];
        sp[m] = &resps[m];
        sent[m++] = idx[i];
    }
    edw_aws_creds_cleanup(&creds);
    rc = m ? edw_http_perform(c->http, rp, sp, m) : EDW_OK;
    c->requests += m;
    for (size_t j = 0; j < m; j++) {
        if (!rc)
            take_response(c, &calls[sent[j]], &resps[j]);
        edw_http_request_cleanup(&reqs[j]);
        edw_http_response_cleanup(&resps[j]);
    }
    free(reqs);
    free(resps);
    free(rp);
    free(sp);
    free(sent);
    return rc;
}

enum edw_err edw_aws_call_many(struct edw_aws_client *c, struct edw_aws_call *calls, size_t n)
{
    size_t *idx = edw_xcalloc(n ? n : 1, sizeof(*idx));
    size_t npending = 0;
    for (size_t i = 0; i < n; i++) {
        struct edw_aws_call *call = &calls[i];
        call->rc = EDW_OK;
        edw_error_clear(&call->err);
        /* json_pack() returns NULL for text that is not UTF-8: refuse, never send "{}". */
        if (!call->text && call->in)
            call->text = json_dumps(call->in, JSON_COMPACT);
        if (!call->text) {
            call->rc = edw_error_set(&call->err, EDW_ERR_INVALID,
                                     "%s %s: request could not be encoded (text that is not "
                                     "UTF-8?)",
                                     c->label, call->op);
            continue;
        }
        idx[npending++] = i;
    }
    bool refreshed = false;
    int64_t start_us = edw_clock_mono_us(c->clock);
    for (unsigned attempt = 0; npending > 0; attempt++) {
        enum edw_err rc = perform_round(c, calls, idx, npending);
        if (rc) {
            for (size_t i = 0; i < npending; i++)
                calls[idx[i]].rc = edw_error_set(&calls[idx[i]].err, rc,
                                                 "%s: HTTP transport unusable", c->label);
            break;
        }
        size_t again = 0;
        bool throttled = false, expired = false;
        int64_t hint_us = 0;
        for (size_t i = 0; i < npending; i++) {
            struct edw_aws_call *call = &calls[idx[i]];
            bool retry = edw_err_retryable(call->rc) || (!refreshed && expired_token(call));
            expired |= expired_token(call);
            throttled |= call->rc == EDW_ERR_THROTTLED;
            if (retry && (int64_t)call->err.retry_after_ms * 1000 > hint_us)
                hint_us = (int64_t)call->err.retry_after_ms * 1000;
            if (retry)
                idx[again++] = idx[i];
        }
        if (again == 0 || attempt + 1 >= c->retry.max_attempts)
            break;
        if (expired && !refreshed) {
            edw_aws_cred_provider_invalidate(c->creds);
            refreshed = true;
        }
        int64_t delay = edw_retry_backoff_us(&c->retry, attempt, throttled, hint_us, &c->rng);
        enum edw_retry_verdict v =
            edw_retry_check(&c->retry, start_us, edw_clock_mono_us(c->clock), delay);
        if (v == EDW_RETRY_SHUTDOWN) /* the calls fail with what they got; the caller logs it */
            log_round(&calls[idx[0]], again, attempt + 2, EDW_LOG_WARN,
                      " (shutting down, the grace period ends first)");
        if (v != EDW_RETRY_GO)
            break; /* out of time: each call keeps its last (retryable) failure */
        npending = again;
        for (size_t i = 0; i < again; i++)
            edw_aws_note_retries(c, calls[idx[i]].op, 1, calls[idx[i]].rc);
        char what[48];
        snprintf(what, sizeof(what), " in %lld ms", (long long)(delay / 1000));
        log_round(&calls[idx[0]], again, attempt + 2, EDW_LOG_INFO, what);
        edw_clock_sleep_us(c->clock, delay);
    }
    free(idx);
    for (size_t i = 0; i < n; i++)
        if (calls[i].rc)
            return calls[i].rc;
    return EDW_OK;
}

enum edw_err edw_aws_call_one(struct edw_aws_client *c, const char *op, json_t *in,
                              long timeout_ms, json_t **out, struct edw_error *err)
{
    struct edw_aws_call call = {.op = op, .in = in, .timeout_ms = timeout_ms};
    enum edw_err rc = edw_aws_call_many(c, &call, 1);
    if (rc == EDW_OK && out) {
        *out = call.out;
        call.out = NULL;
    } else if (out) {
        *out = NULL;
    }
    if (rc && err)
        *err = call.err;
    edw_aws_call_cleanup(&call);
    return rc;
}
