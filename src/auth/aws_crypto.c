/* SPDX-License-Identifier: Apache-2.0 */
/* OpenSSL libcrypto calls used by SigV4 and the SQS checksum. One-shot APIs only: nothing
 * here keeps state, so every function is thread-safe. */
#include "aws_crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

void edw_aws_sha256(const void *data, size_t len, unsigned char out[EDW_SHA256_LEN])
{
    SHA256(data, len, out);
}

void edw_aws_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                         unsigned char out[EDW_SHA256_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    /* HMAC() returns NULL only for an unavailable digest or a bad key length: both are
     * programming errors for SHA-256, and signing with garbage must never happen. */
    if (!HMAC(EVP_sha256(), key, (int)key_len, data, len, md, &md_len) ||
        md_len != EDW_SHA256_LEN)
        abort();
    memcpy(out, md, EDW_SHA256_LEN);
    OPENSSL_cleanse(md, sizeof(md));
}

void edw_aws_md5_hex(const void *data, size_t len, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!EVP_Digest(data, len, md, &md_len, EVP_md5(), NULL) || md_len != 16)
        abort();
    edw_aws_hex(md, 16, out);
}

void edw_aws_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void edw_aws_wipe(void *p, size_t n)
{
    if (p)
        OPENSSL_cleanse(p, n);
}
