/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Signature Version 4 (header signing) as pure, staged functions.
 *
 * Every input is explicit, the time included, so each stage can be checked against the public
 * AWS test suite: canonical request -> string to sign -> signing key -> signature ->
 * Authorization header value. `edw_sigv4_sign` runs the stages in order and adds the headers
 * AWS expects; `edw_sigv4_sign_http` does the same for a transport request. Nothing here does
 * I/O or keeps state, so all functions are thread-safe. Secrets are never copied into the
 * outputs (only the access key id, which is not secret, appears in the Authorization value). */
#ifndef EDW_SIGV4_H
#define EDW_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edw/buf.h"
#include "edw/err.h"
#include "edw/http.h"

/* Borrowed credentials, as the signer sees them. */
struct edw_sigv4_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL or "" for long-term keys */
};

/* One query parameter, decoded (the signer encodes it). */
struct edw_sigv4_param {
    const char *name;
    const char *value; /* "" for a parameter without '=' */
};

/* What is signed. `headers` must hold every header that will be sent and should be signed,
 * Host included; `edw_sigv4_sign` adds X-Amz-Date (and X-Amz-Security-Token,
 * x-amz-content-sha256, Authorization as configured) to it. */
struct edw_sigv4_request {
    const char *method;
    const char *path; /* as in the request line, e.g. "/" (not yet canonicalised) */
    const struct edw_sigv4_param *query;
    size_t nquery;
    struct edw_http_headers *headers;
    const void *body; /* NULL for none */
    size_t body_len;
};

struct edw_sigv4_options {
    const struct edw_sigv4_credentials *creds;
    const char *region;  /* "us-east-1" */
    const char *service; /* "sqs", "dynamodb" */
    int64_t time_unix_s; /* signing time; AWS rejects clocks off by more than ~5 minutes */
    bool normalize_path; /* remove dot segments and empty segments: every service but S3 */
    bool add_content_sha256; /* send and sign x-amz-content-sha256 (S3; the suite's sign_body) */
    /* Add X-Amz-Security-Token after signing, unsigned (a few services want this; the suite's
     * omit_session_token). Normally false: the token is signed. */
    bool unsigned_session_token;
};

/* Every stage's output, for tests and debugging. init, then cleanup (NULL-safe). */
struct edw_sigv4_stages {
    struct edw_buf canonical_request;
    struct edw_buf signed_headers; /* "host;x-amz-date" */
    struct edw_buf string_to_sign;
    char signature[65];
    struct edw_buf authorization; /* the Authorization header value */
};

void edw_sigv4_stages_init(struct edw_sigv4_stages *s);
void edw_sigv4_stages_cleanup(struct edw_sigv4_stages *s);

/* "20150830T123600Z" for Unix seconds `t`. */
void edw_sigv4_amz_date(int64_t t, char out[17]);

/* Lowercase hex SHA-256 of the payload ("e3b0c442..." for an empty one). */
void edw_sigv4_payload_hash(const void *body, size_t len, char out[65]);

/* Stage 1: the canonical request and the signed-header list. `normalize_path` as in the
 * options. Headers are lowercased, trimmed, inner whitespace collapsed, repeated names joined
 * with ',', sorted; an Authorization header is never signed. Appends to both buffers;
 * EDW_ERR_INVALID when one would exceed its maximum. */
EDW_NODISCARD enum edw_err edw_sigv4_canonical_request(const struct edw_sigv4_request *req,
                                                       bool normalize_path,
                                                       const char *payload_hash,
                                                       struct edw_buf *creq,
                                                       struct edw_buf *signed_headers);

/* "20150830/us-east-1/service/aws4_request" (`date8` is the first 8 characters of the
 * X-Amz-Date). */
EDW_NODISCARD enum edw_err edw_sigv4_scope(const char *date8, const char *region,
                                           const char *service, struct edw_buf *out);

/* Stage 2: "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(creq)>". */
EDW_NODISCARD enum edw_err edw_sigv4_string_to_sign(const char *amz_date, const char *scope,
                                                    const struct edw_str creq,
                                                    struct edw_buf *out);

/* Stage 3: kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date8), region), service),
 * "aws4_request"). `key` is secret: wipe it after use. */
void edw_sigv4_signing_key(const char *secret, const char *date8, const char *region,
                           const char *service, unsigned char key[32]);

/* Stage 4: lowercase hex HMAC(key, string_to_sign). */
void edw_sigv4_signature(const unsigned char key[32], const struct edw_str sts, char out[65]);

/* Stage 5: "AWS4-HMAC-SHA256 Credential=<akid>/<scope>, SignedHeaders=<list>,
 * Signature=<hex>". */
EDW_NODISCARD enum edw_err edw_sigv4_authorization(const char *access_key_id, const char *scope,
                                                   const char *signed_headers,
                                                   const char *signature, struct edw_buf *out);

/* Run every stage and add the headers to `req->headers` (existing X-Amz-Date, token and
 * Authorization values are replaced, so a retried request can be signed again). `stages` may
 * be NULL. EDW_ERR_INVALID for missing credentials, region or service, or a missing Host. */
EDW_NODISCARD enum edw_err edw_sigv4_sign(const struct edw_sigv4_options *opts,
                                          struct edw_sigv4_request *req,
                                          struct edw_sigv4_stages *stages,
                                          struct edw_error *err);

/* Sign a transport request: the path and query come from its URL (which must be
 * percent-encoded already), Host is added from the URL when absent, the body is hashed. The
 * path is encoded once more for the canonical request, as AWS does for every service but S3;
 * query parameters are decoded and encoded again. */
EDW_NODISCARD enum edw_err edw_sigv4_sign_http(const struct edw_sigv4_options *opts,
                                               struct edw_http_request *req,
                                               struct edw_error *err);

#endif
