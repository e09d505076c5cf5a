/* SPDX-License-Identifier: Apache-2.0 */
/* Azure Queue XML: a QueueMessagesList (Get/Peek/Put Messages) and an <Error> body, both read
 * from whatever the service (or a man in the middle) sends. A parsed list must be complete
 * (every message has an id and text whose length is right); a failure must leave it empty.
 * The timestamps of each message go through the RFC 1123 parser as the backend does. */
#include "azure_common.h"
#include "edw/timefmt.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    const char *xml = (const char *)data; /* the parsers take (pointer, length) */
    struct edw_azure_qmsg_list l = {0};
    struct edw_error err = {0};
    enum edw_err rc = edw_azure_parse_messages(xml, size, &l, &err);
    if (rc == EDW_OK) {
        for (size_t i = 0; i < l.n; i++) {
            const struct edw_azure_qmsg *m = &l.items[i];
            FUZZ_CHECK(m->id && m->text);
            FUZZ_CHECK(m->text_len <= size);
            FUZZ_CHECK(m->text[m->text_len] == '\0');
            int64_t us;
            if (m->insertion_time)
                (void)edw_rfc1123_parse(m->insertion_time, &us);
            if (m->next_visible)
                (void)edw_rfc1123_parse(m->next_visible, &us);
        }
    } else {
        FUZZ_CHECK(rc == EDW_ERR_INVALID && l.n == 0);
        FUZZ_CHECK(memchr(err.message, '\0', sizeof(err.message)) != NULL);
    }
    edw_azure_qmsg_list_cleanup(&l);

    char code[64], msg[200];
    edw_azure_parse_error_xml(xml, size, code, sizeof(code), msg, sizeof(msg));
    FUZZ_CHECK(strlen(code) < sizeof(code) && strlen(msg) < sizeof(msg));
    return 0;
}
