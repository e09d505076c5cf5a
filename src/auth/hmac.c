/* SPDX-License-Identifier: Apache-2.0 */
/* The crypto primitives the signers need, on OpenSSL libcrypto. The only file in src/auth
 * that includes OpenSSL headers. Base64 is written out here rather than taken from
 * EVP_EncodeBlock because the decoder must be strict (EVP accepts whitespace and trailing
 * garbage), and the queue's "auto" encoding relies on rejecting anything that is not
 * canonical base64. */
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

#include "edw/auth.h"

void edw_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                     unsigned char out[EDW_SHA256_LEN])
{
    unsigned int n = 0;
    /* HMAC() with a caller buffer is thread-safe and allocation-free on OpenSSL 3. */
    if (!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &n) || n != EDW_SHA256_LEN)
        abort(); /* libcrypto unusable: nothing sensible to continue with */
}

struct edw_hmac_key {
    EVP_MAC_CTX *ctx; /* keyed; re-initialised (same key) for every message */
};

struct edw_hmac_key *edw_hmac_key_new(const void *key, size_t key_len)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac); /* the context holds its own reference */
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    /* An empty key is legal HMAC; libcrypto wants a non-NULL pointer for it. */
    static const unsigned char none[1];
    if (!ctx || !EVP_MAC_init(ctx, key_len ? key : none, key_len, params))
        abort(); /* libcrypto unusable: nothing sensible to continue with */
    struct edw_hmac_key *k = malloc(sizeof(*k));
    if (!k)
        abort();
    k->ctx = ctx;
    return k;
}

void edw_hmac_key_free(struct edw_hmac_key *k)
{
    if (!k)
        return;
    EVP_MAC_CTX_free(k->ctx); /* cleanses the key and pads */
    free(k);
}

void edw_hmac_key_sign(struct edw_hmac_key *k, const void *msg, size_t msg_len,
                       unsigned char out[EDW_SHA256_LEN])
{
    size_t n = 0;
    /* init without a key starts a new message under the key already set */
    if (!EVP_MAC_init(k->ctx, NULL, 0, NULL) || !EVP_MAC_update(k->ctx, msg, msg_len) ||
        !EVP_MAC_final(k->ctx, out, &n, EDW_SHA256_LEN) || n != EDW_SHA256_LEN)
        abort();
}

static const char s_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

enum edw_err edw_base64_encode(const void *data, size_t len, struct edw_buf *out)
{
    const unsigned char *p = data;
    char quad[4];
    enum edw_err err = EDW_OK;
    for (size_t i = 0; i < len && !err; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        quad[0] = s_alphabet[(v >> 18) & 63];
        quad[1] = s_alphabet[(v >> 12) & 63];
        quad[2] = i + 1 < len ? s_alphabet[(v >> 6) & 63] : '=';
        quad[3] = i + 2 < len ? s_alphabet[v & 63] : '=';
        err = edw_buf_append(out, quad, 4);
    }
    return err;
}

/* 0..63 for an alphabet character, -1 otherwise. */
static int sextet(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

bool edw_base64_valid(const char *text, size_t len)
{
    const unsigned char *t = (const unsigned char *)text;
    if (len % 4 != 0)
        return false;
    size_t pad = 0;
    if (len >= 1 && t[len - 1] == '=')
        pad++;
    if (len >= 2 && t[len - 2] == '=')
        pad++;
    for (size_t i = 0; i < len - pad; i++)
        if (sextet(t[i]) < 0)
            return false;
    /* Canonical form only: the bits dropped by the padding must be zero. */
    if (pad == 1 && (sextet(t[len - 2]) & 3))
        return false;
    if (pad == 2 && (sextet(t[len - 3]) & 15))
        return false;
    return true;
}

enum edw_err edw_base64_decode(const char *text, size_t len, struct edw_buf *out)
{
    if (!edw_base64_valid(text, len))
        return EDW_ERR_INVALID;
    const unsigned char *t = (const unsigned char *)text;
    enum edw_err err = EDW_OK;
    for (size_t i = 0; i < len && !err; i += 4) {
        unsigned v = 0;
        size_t got = 0;
        for (size_t k = 0; k < 4; k++) {
            int s = t[i + k] == '=' ? 0 : sextet(t[i + k]);
            if (t[i + k] != '=')
                got++;
            v = (v << 6) | (unsigned)s;
        }
        unsigned char bytes[3] = {(unsigned char)(v >> 16), (unsigned char)(v >> 8),
                                  (unsigned char)v};
        err = edw_buf_append(out, bytes, got - 1);
    }
    return err;
}
