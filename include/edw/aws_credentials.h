/* SPDX-License-Identifier: Apache-2.0 */
/* AWS credentials for SigV4: static keys from the environment, or IAM roles for service
 * accounts (IRSA: the projected service-account token exchanged with STS
 * AssumeRoleWithWebIdentity). Temporary credentials are cached and refreshed `refresh_skew_s`
 * before they expire; the token file is re-read on every exchange because the kubelet rotates
 * it. Secrets never reach a log line or an error message. */
#ifndef EDW_AWS_CREDENTIALS_H
#define EDW_AWS_CREDENTIALS_H

#include <stddef.h>
#include <stdint.h>

#include "edw/clock.h"
#include "edw/err.h"
#include "edw/http.h"

/* Owned credentials. The secret and token are wiped by cleanup. */
struct edw_aws_creds {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;       /* NULL for long-term keys */
    int64_t expires_at_unix_s; /* 0: they do not expire */
};

/* Wipe and free; leaves `c` zeroed. NULL-safe, idempotent. */
void edw_aws_creds_cleanup(struct edw_aws_creds *c);
/* Deep copy into an empty `dst`. */
void edw_aws_creds_copy(struct edw_aws_creds *dst, const struct edw_aws_creds *src);

/* Largest web identity token we read; a bigger file is an error, never truncated. */
#define EDW_AWS_MAX_TOKEN_BYTES (64u * 1024u)

struct edw_aws_cred_options {
    /* static keys: used when both are set */
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;
    /* IRSA: used when both are set and no static keys are */
    const char *role_arn;
    const char *token_file;
    const char *session_name; /* NULL: "edw-<unix seconds>" */
    const char *sts_endpoint; /* NULL: https://sts.<region>.amazonaws.com */
    const char *region;
    int64_t refresh_skew_s;   /* refresh this long before expiry; 0: 300 */
    struct edw_http_transport *http; /* borrowed; for STS */
    const struct edw_clock *clock;   /* borrowed */
};

struct edw_aws_cred_provider;

/* Choose the credential source from `o` (static keys first, then IRSA, as the AWS SDKs do).
 * No network I/O. EDW_ERR_INVALID with a message naming the variables when there is none.
 * Caller owns `*out`; release with edw_aws_cred_provider_destroy. */
EDW_NODISCARD enum edw_err edw_aws_cred_provider_new(const struct edw_aws_cred_options *o,
                                                     struct edw_aws_cred_provider **out,
                                                     struct edw_error *err);
void edw_aws_cred_provider_destroy(struct edw_aws_cred_provider *p);

/* "static" or "web-identity". */
const char *edw_aws_cred_provider_kind(const struct edw_aws_cred_provider *p);

/* Current credentials, copied into the empty `out` (caller cleans up). For IRSA this
 * exchanges the token when nothing is cached or the cache expires within the skew; when a
 * refresh fails but the cached credentials are still valid they are returned (and the
 * refresh is tried again later). Blocks on STS. Thread-safe (one refresher at a time). */
EDW_NODISCARD enum edw_err edw_aws_cred_provider_get(struct edw_aws_cred_provider *p,
                                                     struct edw_aws_creds *out,
                                                     struct edw_error *err);

/* Forget cached temporary credentials (the service said they expired or are invalid). */
void edw_aws_cred_provider_invalidate(struct edw_aws_cred_provider *p);

/* Parse an STS AssumeRoleWithWebIdentity response (pure, no I/O). A success fills `out`; an
 * <ErrorResponse> returns its category (throttling, IDPCommunicationError and
 * InvalidIdentityToken are EDW_ERR_TRANSIENT, as the AWS SDKs retry them) with the code and
 * message in `err`. `status` is the HTTP status. */
EDW_NODISCARD enum edw_err edw_aws_sts_parse(long status, const char *xml, size_t len,
                                             struct edw_aws_creds *out, struct edw_error *err);

/* Read a token file whole: at most `max` bytes, trailing whitespace trimmed. A larger or
 * empty file is an error (EDW_ERR_AUTH, the path named; the contents never). */
EDW_NODISCARD enum edw_err edw_aws_read_token_file(const char *path, size_t max, char **out,
                                                   struct edw_error *err);

/* "2026-11-27T18:00:00Z" (fractional seconds allowed) to Unix seconds; false if malformed. */
bool edw_aws_parse_iso8601(const char *text, int64_t *out);

#endif
