/* SPDX-License-Identifier: Apache-2.0 */
/* OpenSSL set-up of edw-net.so, run when the module is loaded (before the Shared Key/SigV4
 * code or libcurl first call into OpenSSL, each of which initialises it in full).
 *
 * A full initialisation loads OpenSSL's error strings and its table of legacy cipher names,
 * about 0.7 MB of resident memory per process (docs/BENCHMARKS.md, "Where the memory goes")
 * for things edw never uses: it reports curl_easy_strerror() text, not OpenSSL's error queue,
 * and TLS in OpenSSL 3 fetches its ciphers from the providers, not by legacy name. OpenSSL
 * runs each step once per process and a NO_ flag marks a step done without doing it, so
 * asking first wins over the full requests that follow.
 *
 * The legacy digest table stays: certificate chain verification looks digests up there (with
 * OPENSSL_INIT_NO_ADD_ALL_DIGESTS a CA-signed server certificate fails with "CA signature
 * digest algorithm too weak"; tests/integration/azure_tls_chain.sh). The configuration file
 * is still read, so system-wide OpenSSL policy applies to edw as to everything else. Errors
 * are left to the later calls, which initialise again and report them. */
#include <openssl/crypto.h>

/* A constructor: it runs when edw-net.so is loaded, before any other code of the module. */
__attribute__((constructor)) static void edw_openssl_init_lean(void)
{
    (void)OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS |
                              OPENSSL_INIT_NO_ADD_ALL_CIPHERS, NULL);
}
