/* SPDX-License-Identifier: Apache-2.0 */
/* Request signing as pure functions over a transport-agnostic request description, plus the
 * few crypto primitives they need (HMAC-SHA256, base64; OpenSSL behind src/auth/hmac.c).
 * Nothing here does I/O or reads the clock: the caller puts x-ms-date on the request first,
 * so every stage can be tested against fixed vectors. */
#ifndef EDW_AUTH_H
#define EDW_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "edw/buf.h"
#include "edw/err.h"
#include "edw/http.h"

#define EDW_SHA256_LEN 32

/* HMAC-SHA256 of `msg` under `key`. Cannot fail (aborts if libcrypto is unusable). */
void edw_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                     unsigned char out[EDW_SHA256_LEN]);

/* A key set up once for many HMAC-SHA256 computations: libcrypto's MAC and digest are looked
 * up and the key's inner and outer pads computed once, not per message. Owned by the caller
 * (edw_hmac_key_free, NULL-safe; the key material is wiped by libcrypto). Not thread-safe:
 * one per thread (each Azure client has its own). Aborts if libcrypto is unusable. */
struct edw_hmac_key;
struct edw_hmac_key *edw_hmac_key_new(const void *key, size_t key_len);
void edw_hmac_key_free(struct edw_hmac_key *k);
/* HMAC-SHA256 of `msg` under the prepared key; the same result as edw_hmac_sha256. */
void edw_hmac_key_sign(struct edw_hmac_key *k, const void *msg, size_t msg_len,
                       unsigned char out[EDW_SHA256_LEN]);

/* Append standard base64 (with padding) of `data`. EDW_ERR_INVALID only when `out` is full. */
EDW_NODISCARD enum edw_err edw_base64_encode(const void *data, size_t len, struct edw_buf *out);

/* Strictly decode standard base64 (padding required, no whitespace) and append the bytes.
 * Malformed input: EDW_ERR_INVALID and `out` is unchanged (it is validated first). An
 * overflowing `out` is emptied, as edw_buf_append does. */
EDW_NODISCARD enum edw_err edw_base64_decode(const char *text, size_t len, struct edw_buf *out);

/* True when `text` is well-formed standard base64 as edw_base64_decode accepts it. */
bool edw_base64_valid(const char *text, size_t len);

/* The two Azure Shared Key canonicalisations ("Authorize with Shared Key", Microsoft Learn):
 *  - EDW_AZURE_SK_QUEUE (also Blob/File): VERB, eleven standard headers, the canonicalized
 *    x-ms-* headers, then "/account/path" and every query parameter ("\nname:value", names
 *    lowercased and sorted, values URL-decoded, repeated names comma-joined);
 *  - EDW_AZURE_SK_TABLE ("Shared Key for Table"): VERB, Content-MD5, Content-Type, the date
 *    (x-ms-date if present, else Date), then "/account/path" plus "?comp=..." only. */
enum edw_azure_sk_scheme { EDW_AZURE_SK_QUEUE, EDW_AZURE_SK_TABLE };

/* Build the string-to-sign for `req` (method, url, headers and body_len are read; the URL's
 * path is signed exactly as it will be sent). Appends to `out`, which the caller owns.
 * EDW_ERR_INVALID when the URL has no scheme/host or `out` overflows. Thread-safe. */
EDW_NODISCARD enum edw_err edw_azure_string_to_sign(enum edw_azure_sk_scheme scheme,
                                                    const char *account,
                                                    const struct edw_http_request *req,
                                                    struct edw_buf *out);

/* Base64(HMAC-SHA256(key, string_to_sign)) appended to `out`. */
EDW_NODISCARD enum edw_err edw_azure_sign(const unsigned char *key, size_t key_len,
                                          const char *string_to_sign, size_t len,
                                          struct edw_buf *out);

/* Sign `req` in place: sets "Authorization: SharedKey account:signature". The request must
 * already carry x-ms-date and x-ms-version. `key` is the decoded account key (a secret: it is
 * never copied anywhere but the HMAC). EDW_ERR_INVALID on a malformed URL. */
EDW_NODISCARD enum edw_err edw_azure_sharedkey_authorize(enum edw_azure_sk_scheme scheme,
                                                         const char *account,
                                                         const unsigned char *key,
                                                         size_t key_len,
                                                         struct edw_http_request *req);

/* The same with a key prepared by edw_hmac_key_new (no per-request key set-up). Thread-safe
 * as far as `key` is: one caller at a time per key. */
EDW_NODISCARD enum edw_err edw_azure_sharedkey_authorize_with(enum edw_azure_sk_scheme scheme,
                                                              const char *account,
                                                              struct edw_hmac_key *key,
                                                              struct edw_http_request *req);

#endif
