/* SPDX-License-Identifier: Apache-2.0 */
/* AWS credential sources: static keys, and IRSA (web identity token -> STS
 * AssumeRoleWithWebIdentity, Query protocol, unsigned) with a cache that refreshes ahead of
 * expiry. The STS response parser is pure and separate, so it can be unit-tested and fuzzed. */
#include "edw/aws_credentials.h"

#include <expat.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_crypto.h"
#include "edw/alloc.h"
#include "edw/log.h"
#include "edw/retry.h"
#include "edw/shutdown.h"
#include "edw/timefmt.h"
#include "edw/token.h"
#include "edw/urlencode.h"

#define STS_ATTEMPTS 3
#define FAILED_REFRESH_PAUSE_S 30 /* with valid cached credentials, retry a failed refresh */
#define FIELD_MAX (64u * 1024u)   /* longest STS text field we accept */

enum provider_kind { KIND_STATIC, KIND_WEB_IDENTITY };

struct edw_aws_cred_provider {
    enum provider_kind kind;
    struct edw_aws_creds cached;
    char *role_arn;
    char *token_file;
    char *session_name;
    char *sts_url;
    int64_t skew_s;
    int64_t next_try_s; /* after a failed refresh while the cache was still valid */
    struct edw_http_transport *http;
    const struct edw_clock *clock;
    pthread_mutex_t lock;
};

static void free_secret(char **s)
{
    if (*s) {
        edw_aws_wipe(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

void edw_aws_creds_cleanup(struct edw_aws_creds *c)
{
    if (!c)
        return;
    free(c->access_key_id);
    free_secret(&c->secret_access_key);
    free_secret(&c->session_token);
    memset(c, 0, sizeof(*c));
}

void edw_aws_creds_copy(struct edw_aws_creds *dst, const struct edw_aws_creds *src)
{
    dst->access_key_id = src->access_key_id ? edw_xstrdup(src->access_key_id) : NULL;
    dst->secret_access_key = src->secret_access_key ? edw_xstrdup(src->secret_access_key) : NULL;
    dst->session_token = src->session_token ? edw_xstrdup(src->session_token) : NULL;
    dst->expires_at_unix_s = src->expires_at_unix_s;
}

static bool set(const char *s)
{
    return s && *s;
}

static char *default_sts_url(const char *region)
{
    if (!set(region))
        return edw_xstrdup("https://sts.amazonaws.com/");
    bool china = strncmp(region, "cn-", 3) == 0;
    return edw_xasprintf("https://sts.%s.amazonaws.com%s/", region, china ? ".cn" : "");
}

/* An endpoint given without a path gets "/" (the Query protocol posts to the root). */
static char *with_root_path(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    return strchr(p, '/') ? edw_xstrdup(url) : edw_xasprintf("%s/", url);
}

enum edw_err edw_aws_cred_provider_new(const struct edw_aws_cred_options *o,
                                       struct edw_aws_cred_provider **out,
                                       struct edw_error *err)
{
    *out = NULL;
    struct edw_aws_cred_provider *p = edw_xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
    p->clock = o->clock;
    p->http = o->http;
    p->skew_s = o->refresh_skew_s > 0 ? o->refresh_skew_s : 300;
    if (set(o->access_key_id) && set(o->secret_access_key)) {
        p->kind = KIND_STATIC;
        p->cached.access_key_id = edw_xstrdup(o->access_key_id);
        p->cached.secret_access_key = edw_xstrdup(o->secret_access_key);
        if (set(o->session_token))
            p->cached.session_token = edw_xstrdup(o->session_token);
    } else if (set(o->role_arn) && set(o->token_file)) {
        p->kind = KIND_WEB_IDENTITY;
        p->role_arn = edw_xstrdup(o->role_arn);
        p->token_file = edw_xstrdup(o->token_file);
        p->session_name =
            set(o->session_name)
                ? edw_xstrdup(o->session_name)
                : edw_xasprintf("edw-%lld",
                                (long long)(edw_clock_wall_us(o->clock) / 1000000));
        p->sts_url =
            set(o->sts_endpoint) ? with_root_path(o->sts_endpoint) : default_sts_url(o->region);
    } else {
        edw_aws_cred_provider_destroy(p);
        if (set(o->access_key_id) != set(o->secret_access_key))
            return edw_error_set(err, EDW_ERR_INVALID,
                                 "AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                                 "must be set together");
        return edw_error_set(err, EDW_ERR_INVALID,
                             "no AWS credentials: set AWS_ACCESS_KEY_ID and "
                             "AWS_SECRET_ACCESS_KEY, or AWS_ROLE_ARN and "
                             "AWS_WEB_IDENTITY_TOKEN_FILE (IAM roles for service accounts)");
    }
    *out = p;
    return EDW_OK;
}

void edw_aws_cred_provider_destroy(struct edw_aws_cred_provider *p)
{
    if (!p)
        return;
    edw_aws_creds_cleanup(&p->cached);
    free(p->role_arn);
    free(p->token_file);
    free(p->session_name);
    free(p->sts_url);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

const char *edw_aws_cred_provider_kind(const struct edw_aws_cred_provider *p)
{
    return p->kind == KIND_STATIC ? "static" : "web-identity";
}

void edw_aws_cred_provider_invalidate(struct edw_aws_cred_provider *p)
{
    pthread_mutex_lock(&p->lock);
    if (p->kind == KIND_WEB_IDENTITY) {
        edw_aws_creds_cleanup(&p->cached);
        p->next_try_s = 0;
    }
    pthread_mutex_unlock(&p->lock);
}

enum edw_err edw_aws_read_token_file(const char *path, size_t max, char **out,
                                     struct edw_error *err)
{
    return edw_read_named_token_file(path, max, "web identity token file",
                                     " (AWS_WEB_IDENTITY_TOKEN_FILE)", out, err);
}

bool edw_aws_parse_iso8601(const char *text, int64_t *out)
{
    /* Reuse the stamp parser: "YYYY-MM-DDTHH:MM:SS[.f]Z" differs only in 'T' and 'Z'. */
    char tmp[40];
    size_t len = strlen(text);
    if (len < 20 || len >= sizeof(tmp) || text[10] != 'T' || text[len - 1] != 'Z')
        return false;
    memcpy(tmp, text, len - 1);
    tmp[len - 1] = '\0';
    tmp[10] = ' ';
    if (len - 1 > 26 && tmp[19] == '.')
        tmp[26] = '\0'; /* microseconds are plenty: drop further fraction digits */
    int64_t us = 0;
    if (!edw_stamp_parse(tmp, &us))
        return false;
    *out = us / 1000000;
    return true;
}

/* ---- STS response parsing (expat) ---- */

enum sts_field { F_NONE = -1, F_AKID, F_SECRET, F_TOKEN, F_EXPIRATION, F_CODE, F_MESSAGE, F_N };

struct sts_parse {
    XML_Parser xp;
    bool in_creds, in_error, too_big, doctype;
    enum sts_field field;
    struct edw_buf text[F_N];
};

static const char *local_name(const char *name)
{
    const char *colon = strrchr(name, ':');
    return colon ? colon + 1 : name;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    (void)attrs;
    struct sts_parse *s = ud;
    const char *n = local_name(name);
    static const char *const cred_fields[] = {"AccessKeyId", "SecretAccessKey", "SessionToken",
                                              "Expiration"};
    if (strcmp(n, "Credentials") == 0)
        s->in_creds = true;
    else if (strcmp(n, "Error") == 0)
        s->in_error = true;
    s->field = F_NONE;
    for (int i = 0; s->in_creds && i < 4; i++)
        if (strcmp(n, cred_fields[i]) == 0)
            s->field = (enum sts_field)i;
    if (s->in_error && strcmp(n, "Code") == 0)
        s->field = F_CODE;
    if (s->in_error && strcmp(n, "Message") == 0)
        s->field = F_MESSAGE;
    if (s->field != F_NONE)
        edw_buf_reset(&s->text[s->field]);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct sts_parse *s = ud;
    const char *n = local_name(name);
    if (strcmp(n, "Credentials") == 0)
        s->in_creds = false;
    else if (strcmp(n, "Error") == 0)
        s->in_error = false;
    s->field = F_NONE;
}

static void XMLCALL on_text(void *ud, const XML_Char *text, int len)
{
    struct sts_parse *s = ud;
    if (s->field == F_NONE || len <= 0)
        return;
    if (edw_buf_append(&s->text[s->field], text, (size_t)len) != EDW_OK) {
        s->too_big = true;
        XML_StopParser(s->xp, XML_FALSE);
    }
}

/* A DOCTYPE has no place in an STS answer; refusing it rules out entity expansion tricks. */
static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    struct sts_parse *s = ud;
    s->doctype = true;
    XML_StopParser(s->xp, XML_FALSE);
}

static enum edw_err sts_error_category(long status, const char *code)
{
    static const char *const retry[] = {"Throttling", "ThrottlingException",
                                        "IDPCommunicationError", "InvalidIdentityToken",
                                        "RequestLimitExceeded", "ServiceUnavailable",
                                        "InternalFailure"};
    for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
        if (strcmp(code, retry[i]) == 0)
            return strncmp(code, "Throttl", 7) == 0 ? EDW_ERR_THROTTLED : EDW_ERR_TRANSIENT;
    if (status >= 500)
        return EDW_ERR_TRANSIENT;
    if (strcmp(code, "InvalidParameterValue") == 0 || strcmp(code, "ValidationError") == 0 ||
        strcmp(code, "MalformedPolicyDocument") == 0)
        return EDW_ERR_INVALID;
    return EDW_ERR_AUTH; /* AccessDenied, ExpiredTokenException, IDPRejectedClaim, ... */
}

static enum edw_err sts_result(struct sts_parse *s, long status, struct edw_aws_creds *out,
                               struct edw_error *err)
{
    const char *code = edw_buf_cstr(&s->text[F_CODE]);
    if (*code)
        return edw_error_set(err, sts_error_category(status, code),
                             "STS AssumeRoleWithWebIdentity failed (HTTP %ld): %s: %.160s",
                             status, code, edw_buf_cstr(&s->text[F_MESSAGE]));
    if (status != 200)
        return edw_error_set(err, status >= 500 ? EDW_ERR_TRANSIENT : EDW_ERR_AUTH,
                             "STS AssumeRoleWithWebIdentity failed with HTTP %ld", status);
    for (int i = F_AKID; i <= F_EXPIRATION; i++)
        if (s->text[i].len == 0)
            return edw_error_set(err, EDW_ERR_FATAL,
                                 "STS response has no Credentials (AccessKeyId, "
                                 "SecretAccessKey, SessionToken, Expiration)");
    int64_t expires = 0;
    if (!edw_aws_parse_iso8601(edw_buf_cstr(&s->text[F_EXPIRATION]), &expires))
        return edw_error_set(err, EDW_ERR_FATAL, "STS response: bad Expiration '%.40s'",
                             edw_buf_cstr(&s->text[F_EXPIRATION]));
    out->access_key_id = edw_xstrdup(edw_buf_cstr(&s->text[F_AKID]));
    out->secret_access_key = edw_xstrdup(edw_buf_cstr(&s->text[F_SECRET]));
    out->session_token = edw_xstrdup(edw_buf_cstr(&s->text[F_TOKEN]));
    out->expires_at_unix_s = expires;
    return EDW_OK;
}

enum edw_err edw_aws_sts_parse(long status, const char *xml, size_t len,
                               struct edw_aws_creds *out, struct edw_error *err)
{
    memset(out, 0, sizeof(*out));
    struct sts_parse s = {.field = F_NONE};
    for (int i = 0; i < F_N; i++)
        edw_buf_init(&s.text[i], FIELD_MAX);
    s.xp = XML_ParserCreate(NULL);
    if (!s.xp)
        abort(); /* out of memory */
    XML_SetUserData(s.xp, &s);
    XML_SetElementHandler(s.xp, on_start, on_end);
    XML_SetCharacterDataHandler(s.xp, on_text);
    XML_SetStartDoctypeDeclHandler(s.xp, on_doctype);
    enum edw_err rc = EDW_OK;
    if (len > INT32_MAX || XML_Parse(s.xp, xml, (int)len, XML_TRUE) != XML_STATUS_OK) {
        if (status >= 500)
            rc = edw_error_set(err, EDW_ERR_TRANSIENT, "STS answered HTTP %ld", status);
        else
            rc = edw_error_set(err, EDW_ERR_FATAL, "STS response (HTTP %ld) is not valid XML%s",
                               status, s.too_big   ? ": a field is too large"
                                       : s.doctype ? ": DOCTYPE refused"
                                                   : "");
    } else {
        rc = sts_result(&s, status, out, err);
    }
    XML_ParserFree(s.xp);
    for (int i = 0; i < F_N; i++) {
        if (s.text[i].ptr)
            edw_aws_wipe(s.text[i].ptr, s.text[i].cap);
        edw_buf_cleanup(&s.text[i]);
    }
    return rc;
}

/* ---- the exchange ---- */

static enum edw_err build_form(const struct edw_aws_cred_provider *p, const char *token,
                               struct edw_buf *body)
{
    enum edw_err rc = edw_buf_append_str(
        body, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=");
    if (!rc)
        rc = edw_url_encode(body, p->role_arn, strlen(p->role_arn), NULL);
    if (!rc)
        rc = edw_buf_append_str(body, "&RoleSessionName=");
    if (!rc)
        rc = edw_url_encode(body, p->session_name, strlen(p->session_name), NULL);
    if (!rc)
        rc = edw_buf_append_str(body, "&WebIdentityToken=");
    if (!rc)
        rc = edw_url_encode(body, token, strlen(token), NULL);
    return rc;
}

static enum edw_err sts_once(struct edw_aws_cred_provider *p, const struct edw_buf *body,
                             struct edw_aws_creds *out, struct edw_error *err)
{
    struct edw_http_request req;
    struct edw_http_response resp;
    edw_http_request_init(&req, "POST", p->sts_url);
    edw_http_response_init(&resp);
    resp.body.max = 1u << 20;
    edw_http_headers_add(&req.headers, "Content-Type",
                         "application/x-www-form-urlencoded; charset=utf-8");
    edw_http_headers_add(&req.headers, "Accept", "application/xml");
    req.body = body->ptr;
    req.body_len = body->len;
    /* A refresh during a shutdown must not outlast the grace either (edw/retry.h). */
    req.timeout_ms = edw_retry_timeout_ms(edw_clock_mono_us(p->clock), 0);
    struct edw_http_request *rq = &req;
    struct edw_http_response *rs = &resp;
    enum edw_err rc = edw_http_perform(p->http, &rq, &rs, 1);
    if (!rc && resp.transport_err)
        rc = edw_error_set(err, resp.transport_err, "STS %s: %s", p->sts_url, resp.error);
    else if (!rc)
        rc = edw_aws_sts_parse(resp.status, edw_buf_cstr(&resp.body), resp.body.len, out, err);
    else
        edw_error_set(err, rc, "HTTP transport unusable");
    if (resp.body.ptr)
        edw_aws_wipe(resp.body.ptr, resp.body.len);
    edw_http_response_cleanup(&resp);
    edw_http_request_cleanup(&req);
    return rc;
}

/* Read the (possibly rotated) token and exchange it, retrying what STS says is retryable. */
static enum edw_err exchange(struct edw_aws_cred_provider *p, struct edw_aws_creds *out,
                             struct edw_error *err)
{
    char *token = NULL;
    enum edw_err rc = edw_aws_read_token_file(p->token_file, EDW_AWS_MAX_TOKEN_BYTES, &token, err);
    if (rc)
        return rc;
    struct edw_buf body;
    edw_buf_init(&body, 4 * EDW_AWS_MAX_TOKEN_BYTES);
    rc = build_form(p, token, &body);
    edw_aws_wipe(token, strlen(token));
    free(token);
    if (rc) {
        edw_buf_cleanup(&body);
        return edw_error_set(err, rc, "web identity token too large");
    }
    for (int attempt = 0; attempt < STS_ATTEMPTS; attempt++) {
        rc = sts_once(p, &body, out, err);
        int64_t delay = (int64_t)200000 << attempt;
        if (!edw_err_retryable(rc) || attempt + 1 == STS_ATTEMPTS ||
            !edw_shutdown_may_retry(edw_clock_mono_us(p->clock), delay))
            break;
        edw_clock_sleep_us(p->clock, delay);
    }
    edw_aws_wipe(body.ptr, body.len);
    edw_buf_cleanup(&body);
    return rc;
}

static void log_assumed(const struct edw_aws_cred_provider *p)
{
    char when[25];
    edw_iso8601_ms(p->cached.expires_at_unix_s * 1000000, when);
    /* The access key id identifies the session in CloudTrail; it is not a secret. */
    edw_info("aws", "assumed role %s (web identity): access key %s, expires %s", p->role_arn,
             p->cached.access_key_id, when);
}

enum edw_err edw_aws_cred_provider_get(struct edw_aws_cred_provider *p, struct edw_aws_creds *out,
                                       struct edw_error *err)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&p->lock);
    enum edw_err rc = EDW_OK;
    if (p->kind == KIND_WEB_IDENTITY) {
        int64_t now = edw_clock_wall_us(p->clock) / 1000000;
        bool cached = p->cached.access_key_id != NULL;
        bool valid = cached && now + 10 < p->cached.expires_at_unix_s;
        bool fresh = cached && now < p->cached.expires_at_unix_s - p->skew_s;
        if (!fresh && (!valid || now >= p->next_try_s)) {
            struct edw_aws_creds next;
            rc = exchange(p, &next, err);
            if (!rc) {
                edw_aws_creds_cleanup(&p->cached);
                p->cached = next;
                p->next_try_s = 0;
                log_assumed(p);
            } else if (valid) {
                edw_warn("aws", "refreshing the assumed role failed (%s); using the cached "
                                "credentials, retrying in %d s",
                         err && err->message[0] ? err->message : edw_err_str(rc),
                         FAILED_REFRESH_PAUSE_S);
                p->next_try_s = now + FAILED_REFRESH_PAUSE_S;
                rc = EDW_OK;
            }
        }
    }
    if (!rc)
        edw_aws_creds_copy(out, &p->cached);
    pthread_mutex_unlock(&p->lock);
    return rc;
}
