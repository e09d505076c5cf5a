/* SPDX-License-Identifier: Apache-2.0 */
/* Azure Storage connection strings ("Key=Value;..."), as a user pastes them into
 * AZURE_STORAGE_CONNECTION_STRING. A failure's message must never quote the account key or
 * the SAS token (it names the key instead). */
#include "azure_common.h"
#include "fuzz_common.h"

/* The value of `name` in the connection string (first occurrence), as a new string. */
static char *value_of(const char *text, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = text; p && *p;) {
        const char *semi = strchr(p, ';');
        size_t n = semi ? (size_t)(semi - p) : strlen(p);
        if (n > nl && strncmp(p, name, nl) == 0 && p[nl] == '=')
            return edw_xstrndup(p + nl + 1, n - nl - 1);
        p = semi ? semi + 1 : NULL;
    }
    return NULL;
}

/* The error message of parsing `text`, written into `msg`. */
static enum edw_err parse_msg(const char *text, char msg[256])
{
    struct edw_azure_conn c;
    struct edw_error err = {0};
    enum edw_err rc = edw_azure_conn_parse(text, &c, &err);
    edw_azure_conn_cleanup(&c);
    memcpy(msg, err.message, 256);
    return rc;
}

/* Whether the message quotes secret `v` of `text`: it contains `v`, and it no longer does when
 * every occurrence of `v` in the input is overwritten (so `v` did not come from the message's
 * own wording). Short values could occur by chance: only ones of 12 bytes or more count. */
static bool leaked(const char *text, const char *msg, const char *v)
{
    if (!fuzz_leaks(msg, v, 12))
        return false;
    char *masked = edw_xstrdup(text);
    size_t n = strlen(v);
    for (char *p = strstr(masked, v); p; p = strstr(p + n, v))
        memset(p, 'A', n);
    char again[256];
    (void)parse_msg(masked, again);
    bool still = strstr(again, v) != NULL;
    free(masked);
    return !still;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    char *text = fuzz_cstr(data, size);
    struct edw_azure_conn c;
    struct edw_error err = {0};
    enum edw_err rc = edw_azure_conn_parse(text, &c, &err);
    if (rc == EDW_OK) {
        FUZZ_CHECK(c.key_len == 0 || c.key != NULL);
    } else {
        FUZZ_CHECK(rc == EDW_ERR_INVALID && err.message[0] != '\0');
        char *key = value_of(text, "AccountKey");
        char *sas = value_of(text, "SharedAccessSignature");
        FUZZ_CHECK(!leaked(text, err.message, key));
        FUZZ_CHECK(!leaked(text, err.message, sas));
        free(key);
        free(sas);
    }
    edw_azure_conn_cleanup(&c);
    free(text);
    return 0;
}
