/* SPDX-License-Identifier: Apache-2.0 */
/* STS AssumeRoleWithWebIdentity replies (IRSA): the credentials XML or an <ErrorResponse>.
 * The first input byte picks the HTTP status. A success has all three credentials; a failure
 * has none and a message that never quotes the secret key or session token. */
#include <stdio.h>

#include "edw/aws_credentials.h"
#include "fuzz_common.h"

/* The text of the first <tag>...</tag> in `xml` as a new string, or NULL. */
static char *element(const char *xml, const char *tag)
{
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *a = strstr(xml, open);
    const char *b = a ? strstr(a, close) : NULL;
    return b ? edw_xstrndup(a + strlen(open), (size_t)(b - a) - strlen(open)) : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size == 0)
        return 0;
    static const long statuses[] = {200, 400, 403, 429, 500, 503};
    long status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
    char *xml = fuzz_cstr(data + 1, size - 1);
    struct edw_aws_creds c;
    struct edw_error e = {0};
    enum edw_err rc = edw_aws_sts_parse(status, xml, size - 1, &c, &e);
    if (rc == EDW_OK) {
        FUZZ_CHECK(c.access_key_id && c.secret_access_key && c.session_token);
        int64_t t;
        (void)edw_aws_parse_iso8601(xml, &t);
    } else {
        FUZZ_CHECK(!c.access_key_id && !c.secret_access_key && !c.session_token);
        FUZZ_CHECK(e.message[0] != '\0');
        char *secret = element(xml, "SecretAccessKey");
        char *token = element(xml, "SessionToken");
        /* The service's own <Code> and <Message> are quoted by design: a secret counts as
         * leaked only when it is not part of them too. */
        char *code = element(xml, "Code"), *message = element(xml, "Message");
        for (char *v = secret; v; v = v == secret ? token : NULL)
            if (!fuzz_leaks(code, v, 1) && !fuzz_leaks(message, v, 1))
                FUZZ_CHECK(!fuzz_leaks(e.message, v, 16));
        free(secret);
        free(token);
        free(code);
        free(message);
    }
    edw_aws_creds_cleanup(&c);
    free(xml);
    return 0;
}
