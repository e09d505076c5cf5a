/* SPDX-License-Identifier: Apache-2.0 */
/* Azure Table $batch replies: multipart/mixed with a nested changeset, each part an HTTP
 * response. The input is the reply's Content-Type header, a newline, then the body. A parsed
 * reply reports a sane status and index; broken framing is EDW_ERR_INVALID. */
#include "azure_common.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    char *ctype = fuzz_take(&data, &size, '\n');
    if (!ctype)
        return 0;
    /* The body is passed with its length and no terminator, as the transport's buffer would
     * be if it were not NUL-terminated: a copy of exactly `size` bytes lets ASan see any
     * read past the end. */
    char *body = edw_xmalloc(size ? size : 1);
    if (size)
        memcpy(body, data, size);
    struct edw_azure_batch_result r;
    memset(&r, 0xa5, sizeof(r));
    enum edw_err rc = edw_azure_parse_batch(ctype, body, size, &r);
    if (rc == EDW_OK) {
        FUZZ_CHECK(r.status == 0 || (r.status >= 100 && r.status <= 999));
        FUZZ_CHECK(r.index >= -1);
        FUZZ_CHECK(strlen(r.code) < sizeof(r.code) && strlen(r.message) < sizeof(r.message));
    } else {
        FUZZ_CHECK(rc == EDW_ERR_INVALID);
    }
    free(body);
    free(ctype);
    return 0;
}
