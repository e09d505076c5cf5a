/* SPDX-License-Identifier: Apache-2.0 */
/* The token source wrapper (reference counting), token helpers, the projected token file
 * reader and the pure parser of Entra / managed identity token replies. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edw/alloc.h"
#include "edw/token.h"

struct edw_token_source {
    const struct edw_token_source_ops *ops;
    void *state;
    atomic_uint refs;
};

void edw_token_cleanup(struct edw_token *t)
{
    if (!t)
        return;
    if (t->value) {
        explicit_bzero(t->value, strlen(t->value));
        free(t->value);
    }
    memset(t, 0, sizeof(*t));
}

void edw_token_copy(struct edw_token *dst, const struct edw_token *src)
{
    *dst = *src;
    dst->value = src->value ? edw_xstrdup(src->value) : NULL;
}

struct edw_token_source *edw_token_source_new(const struct edw_token_source_ops *ops, void *state)
{
    struct edw_token_source *s = edw_xcalloc(1, sizeof(*s));
    s->ops = ops;
    s->state = state;
    atomic_init(&s->refs, 1);
    return s;
}

struct edw_token_source *edw_token_source_ref(struct edw_token_source *s)
{
    atomic_fetch_add(&s->refs, 1);
    return s;
}

void edw_token_source_unref(struct edw_token_source *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    s->ops->destroy(s->state);
    free(s);
}

enum edw_err edw_token_source_get(struct edw_token_source *s, int64_t now_us, struct edw_token *out,
                                  struct edw_error *err)
{
    memset(out, 0, sizeof(*out));
    return s->ops->get(s->state, now_us, out, err);
}

void edw_token_source_invalidate(struct edw_token_source *s)
{
    if (s && s->ops->invalidate)
        s->ops->invalidate(s->state);
}

const char *edw_token_source_kind(const struct edw_token_source *s)
{
    return s->ops->kind;
}

char *edw_entra_token_url(const char *authority_host, const char *tenant_id)
{
    const char *a = authority_host && *authority_host ? authority_host : EDW_DEFAULT_AUTHORITY;
    size_t alen = strlen(a);
    while (alen > 0 && a[alen - 1] == '/')
        alen--;
    while (*tenant_id == '/')
        tenant_id++;
    size_t tlen = strlen(tenant_id);
    while (tlen > 0 && tenant_id[tlen - 1] == '/')
        tlen--;
    return edw_xasprintf("%.*s/%.*s/oauth2/v2.0/token", (int)alen, a, (int)tlen, tenant_id);
}

enum edw_err edw_read_named_token_file(const char *path, size_t max, const char *what,
                                       const char *open_hint, char **out, struct edw_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return edw_error_set(err, EDW_ERR_AUTH, "%s %s cannot be opened%s", what, path,
                             open_hint);
    char *buf = edw_xmalloc(max + 1);
    size_t n = fread(buf, 1, max + 1, f);
    bool failed = ferror(f) != 0;
    fclose(f);
    enum edw_err rc = EDW_OK;
    if (failed)
        rc = edw_error_set(err, EDW_ERR_AUTH, "%s %s cannot be read", what, path);
    else if (n > max)
        rc = edw_error_set(err, EDW_ERR_AUTH, "%s %s is larger than %zu bytes: not a token", what,
                           path, max);
    while (!rc && n > 0 && isspace((unsigned char)buf[n - 1]))
        n--;
    if (!rc && n == 0)
        rc = edw_error_set(err, EDW_ERR_AUTH, "%s %s is empty (not yet written by the kubelet?)",
                           what, path);
    if (!rc && memchr(buf, '\0', n))
        rc = edw_error_set(err, EDW_ERR_AUTH, "%s %s is not text", what, path);
    if (rc) {
        explicit_bzero(buf, max + 1);
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    return EDW_OK;
}

enum edw_err edw_read_token_file(const char *path, size_t max, char **out, struct edw_error *err)
{
    return edw_read_named_token_file(
        path, max, "federated token file",
        " (AZURE_FEDERATED_TOKEN_FILE; is the azure-identity-token volume mounted?)", out, err);
}

/* Largest magnitude of a time in seconds we accept (about 31700 years): both a lifetime
 * (expires_in) and a Unix time (expires_on) are far below it, and times it in microseconds
 * plus "now" cannot overflow int64_t. A reply beyond it is treated as having no such field. */
#define MAX_SECONDS 1000000000000LL

/* A number, or a string holding a whole number (managed identity sends strings), within
 * +-MAX_SECONDS. */
static bool json_seconds(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < -MAX_SECONDS || n > MAX_SECONDS)
            return false;
        *out = (int64_t)n;
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v); /* NaN fails both comparisons */
        if (!(d >= (double)-MAX_SECONDS && d <= (double)MAX_SECONDS))
            return false;
        *out = (int64_t)d;
        return true;
    }
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    char *end = NULL;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno || n < -MAX_SECONDS || n > MAX_SECONDS)
        return false;
    *out = n;
    return true;
}

/* "AADSTS70021" from a description, or "" (the rest of the description is not repeated). */
static void aadsts_code(const char *desc, char *code, size_t size)
{
    code[0] = '\0';
    const char *p = desc ? strstr(desc, "AADSTS") : NULL;
    if (!p)
        return;
    size_t n = 6;
    while (isdigit((unsigned char)p[n]) && n < 20)
        n++;
    snprintf(code, size, "%.*s", (int)n, p);
}

static const char *aadsts_hint(const char *code)
{
    static const struct {
        const char *code, *hint;
    } hints[] = {
        {"AADSTS700024", "the federated token is outside its validity period (stale token "
                         "file? clock skew?)"},
        {"AADSTS70021", "no federated identity credential matches the token's issuer and "
                        "subject (check the service account and the federated credential)"},
        {"AADSTS700016", "the client id is not known in this tenant (AZURE_CLIENT_ID)"},
        {"AADSTS90002", "the tenant was not found (AZURE_TENANT_ID)"},
        {"AADSTS50027", "the federated token is not a valid JWT"},
        {"AADSTS700211", "the token's issuer has no matching federated credential"},
    };
    for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
        if (strcmp(code, hints[i].code) == 0)
            return hints[i].hint;
    return NULL;
}

static enum edw_err parse_error(long status, json_t *root, const char *who, struct edw_error *err)
{
    enum edw_err cat = status == 429                    ? EDW_ERR_THROTTLED
                       : status >= 500 || status == 408 ? EDW_ERR_TRANSIENT
                                                        : EDW_ERR_AUTH;
    const char *error = NULL, *desc = NULL;
    if (json_is_object(root)) {
        error = json_string_value(json_object_get(root, "error"));
        desc = json_string_value(json_object_get(root, "error_description"));
        if (!desc) /* managed identity endpoints sometimes nest or use "message" */
            desc = json_string_value(json_object_get(root, "message"));
    }
    char code[24];
    aadsts_code(desc, code, sizeof(code));
    const char *hint = code[0] ? aadsts_hint(code) : NULL;
    char safe_error[48] = "";
    if (error) /* an OAuth error name: short ASCII; anything else is not echoed */
        for (size_t i = 0; error[i] && i + 1 < sizeof(safe_error); i++)
            safe_error[i] = isalnum((unsigned char)error[i]) || error[i] == '_' ? error[i] : '?';
    enum edw_err rc =
        edw_error_set(err, cat, "%s: HTTP %ld%s%s%s%s%s%s", who, status, safe_error[0] ? " " : "",
                      safe_error, code[0] ? " " : "", code, hint ? ": " : "", hint ? hint : "");
    if (err) {
        err->http_status = (int)status;
        snprintf(err->code, sizeof(err->code), "%s", code[0] ? code : safe_error);
    }
    return rc;
}

enum edw_err edw_entra_token_parse(long status, const char *body, size_t len, int64_t now_us,
                                   const char *who, struct edw_token *out, struct edw_error *err)
{
    memset(out, 0, sizeof(*out));
    json_error_t jerr;
    json_t *root = len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    enum edw_err rc = EDW_OK;
    if (status != 200) {
        rc = parse_error(status, root, who, err);
        goto out;
    }
    if (!json_is_object(root)) {
        rc = edw_error_set(err, EDW_ERR_TRANSIENT,
                           "%s: HTTP 200 but the reply is not a JSON "
                           "object",
                           who);
        goto out;
    }
    const char *tok = json_string_value(json_object_get(root, "access_token"));
    const char *type = json_string_value(json_object_get(root, "token_type"));
    int64_t expires_in = 0, expires_on = 0, refresh_in = 0;
    bool has_in = json_seconds(json_object_get(root, "expires_in"), &expires_in);
    bool has_on = json_seconds(json_object_get(root, "expires_on"), &expires_on);
    bool has_refresh = json_seconds(json_object_get(root, "refresh_in"), &refresh_in);
    if (!tok || !tok[0] || strpbrk(tok, " \r\n\t")) {
        rc = edw_error_set(err, EDW_ERR_TRANSIENT, "%s: the reply has no usable access_token", who);
    } else if (type && strcasecmp(type, "Bearer") != 0) {
        rc = edw_error_set(err, EDW_ERR_TRANSIENT, "%s: token_type is not Bearer", who);
    } else if ((!has_in || expires_in <= 0) && (!has_on || expires_on <= now_us / 1000000)) {
        rc = edw_error_set(err, EDW_ERR_TRANSIENT,
                           "%s: the reply has no valid expires_in or expires_on", who);
    } else {
        out->value = edw_xstrdup(tok);
        out->expires_at_us =
            has_in && expires_in > 0 ? now_us + expires_in * 1000000 : expires_on * 1000000;
        if (has_refresh && refresh_in > 0 && now_us + refresh_in * 1000000 < out->expires_at_us)
            out->refresh_at_us = now_us + refresh_in * 1000000;
    }
out:
    json_decref(root); /* jansson does not wipe; the reply buffer itself is wiped by callers */
    return rc;
}
