/* SPDX-License-Identifier: Apache-2.0 */
/* The few hash primitives SigV4 and SQS need, behind one file so only it includes OpenSSL.
 * All functions are pure and thread-safe. Private to src/ (not an interface between modules). */
#ifndef EDW_AWS_CRYPTO_H
#define EDW_AWS_CRYPTO_H

#include <stddef.h>

#define EDW_SHA256_LEN 32

/* SHA-256 of `len` bytes into `out`. */
void edw_aws_sha256(const void *data, size_t len, unsigned char out[EDW_SHA256_LEN]);

/* HMAC-SHA256 of `data` under `key` into `out` (`out` may alias `key`). */
void edw_aws_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                         unsigned char out[EDW_SHA256_LEN]);

/* Lowercase hex MD5 of `len` bytes (SQS reports MD5OfBody; it is a checksum, not security). */
void edw_aws_md5_hex(const void *data, size_t len, char out[33]);

/* Lowercase hex of `n` bytes; `out` holds 2n+1 bytes. */
void edw_aws_hex(const unsigned char *in, size_t n, char *out);

/* Overwrite `n` bytes in a way the compiler cannot drop (keys, secrets). NULL-safe. */
void edw_aws_wipe(void *p, size_t n);

#endif
