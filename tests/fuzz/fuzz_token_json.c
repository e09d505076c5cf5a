/* SPDX-License-Identifier: Apache-2.0 */
/* Token endpoint replies: Microsoft Entra ID (workload identity, v2 shape) and managed
 * identity (IMDS / IDENTITY_ENDPOINT, numbers as strings). The first input byte picks the HTTP
 * status, the rest is the body. A token that parses is usable (non-empty, expires after now,
 * refresh before expiry); a failure names no part of the access token. */
#include <jansson.h>

#include "edw/token.h"
#include "fuzz_common.h"

#define NOW_US 1795802120000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size == 0)
        return 0;
    static const long statuses[] = {200, 200, 200, 400, 401, 408, 429, 500, 503};
    long status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    struct edw_token t;
    struct edw_error e = {0};
    enum edw_err rc = edw_entra_token_parse(status, body, len, NOW_US, "token endpoint", &t, &e);
    if (rc == EDW_OK) {
        FUZZ_CHECK(status == 200);
        FUZZ_CHECK(t.value && t.value[0]);
        FUZZ_CHECK(t.expires_at_us > NOW_US);
        FUZZ_CHECK(t.refresh_at_us == 0 || (t.refresh_at_us > NOW_US &&
                                            t.refresh_at_us < t.expires_at_us));
    } else {
        FUZZ_CHECK(t.value == NULL);
        FUZZ_CHECK(e.message[0] != '\0');
        /* The access token must not show, unless it is also the service's own error name
         * (which is echoed, filtered to [A-Za-z0-9_]). */
        json_t *root = json_loadb(body, len, 0, NULL);
        const char *tok = json_string_value(json_object_get(root, "access_token"));
        const char *error = json_string_value(json_object_get(root, "error"));
        if (!fuzz_leaks(error, tok, 1) && fuzz_leaks(e.message, tok, 8)) {
            /* It could still be the message's own wording ("...expires_on"): parse again with
             * every copy of the token overwritten; a leak is gone then, wording stays. */
            char *masked = fuzz_cstr((const uint8_t *)body, len);
            size_t n = strlen(tok);
            for (char *p = strstr(masked, tok); p; p = strstr(p + n, tok))
                memset(p, 'A', n);
            struct edw_token t2;
            struct edw_error e2 = {0};
            (void)edw_entra_token_parse(status, masked, len, NOW_US, "token endpoint", &t2, &e2);
            FUZZ_CHECK(strstr(e2.message, tok) != NULL);
            edw_token_cleanup(&t2);
            free(masked);
        }
        json_decref(root);
    }
    edw_token_cleanup(&t);
    return 0;
}
