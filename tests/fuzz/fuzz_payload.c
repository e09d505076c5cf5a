/* SPDX-License-Identifier: Apache-2.0 */
/* Message bodies as the worker parses them ({"msg", "srcStamp", "id"}): any bytes a producer
 * (or anyone with send rights on the queue) puts on the queue. A body either parses into a
 * complete payload, or is refused with a reason that is what an operator reads in the poison
 * queue: non-empty and NUL-terminated. */
#include "edw/payload.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    /* An exact-size copy: a read past the body's end is caught by ASan. */
    char *body = edw_xmalloc(size ? size : 1);
    if (size)
        memcpy(body, data, size);
    struct edw_payload p;
    char reason[256];
    memset(reason, 'x', sizeof(reason));
    size_t max = size && data[0] == '{' ? 1 << 20 : size / 2; /* also the size limit path */
    enum edw_err rc = edw_payload_parse(body, size, max, &p, reason, sizeof(reason));
    if (rc == EDW_OK) {
        FUZZ_CHECK(p.msg && p.src_stamp);
        FUZZ_CHECK(!p.id || (p.id[0] && strlen(p.id) <= EDW_PAYLOAD_MAX_ID));
        FUZZ_CHECK(!strchr(p.id ? p.id : "", '/'));
    } else {
        FUZZ_CHECK(rc == EDW_ERR_INVALID);
        FUZZ_CHECK(memchr(reason, '\0', sizeof(reason)) && reason[0] != '\0');
        FUZZ_CHECK(!p.msg && !p.src_stamp && !p.id);
    }
    edw_payload_cleanup(&p);
    free(body);
    return 0;
}
