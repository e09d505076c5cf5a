/* SPDX-License-Identifier: Apache-2.0 */
/* SQS JSON-protocol replies: ReceiveMessage (messages, attributes, MD5 checks), batch replies
 * (Successful/Failed), queue attributes, error bodies, plus what the backend reads out of
 * message bodies and attributes (the poison envelope, RedrivePolicy, queue URLs). The input
 * is one reply; its string members also serve as the envelope, policy and URL inputs, so the
 * fuzzer can reach those parsers through the same corpus. */
#include "aws_common.h"
#include "aws_sqs_parse.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    const char *text = (const char *)data;
    json_t *j = json_loadb(text, size, 0, NULL);

    struct edw_msg_batch b = {0};
    (void)edw_sqs_parse_messages(j, &b);
    for (size_t k = 0; k < b.n; k++) {
        FUZZ_CHECK(b.msgs[k].id && b.msgs[k].receipt && b.msgs[k].body);
        edw_sqs_unwrap_poison(&b.msgs[k]);
        FUZZ_CHECK(b.msgs[k].id && b.msgs[k].body);
        FUZZ_CHECK(b.msgs[k].body[b.msgs[k].body_len] == '\0');
    }
    edw_sqs_dedupe(&b, 0);
    for (size_t k = 0; k < b.n; k++)
        for (size_t m = k + 1; m < b.n; m++)
            FUZZ_CHECK(strcmp(b.msgs[k].id, b.msgs[m].id) != 0);
    edw_msg_batch_cleanup(&b);

    struct edw_sqs_batch_failure f;
    (void)edw_sqs_batch_ok(j, "e0");
    if (edw_sqs_batch_failed(j, "e1", &f))
        FUZZ_CHECK(f.code && f.message);
    const json_t *attrs = json_object_get(j, "Attributes");
    (void)edw_sqs_attr_u64(attrs, "ApproximateNumberOfMessages");
    (void)edw_sqs_attr_u64(attrs, "ApproximateNumberOfMessagesNotVisible");
    const char *policy = edw_aws_jget(attrs, "RedrivePolicy"); /* callers check for NULL */
    if (policy)
        free(edw_sqs_redrive_target(policy));
    const char *url = edw_aws_jget(j, "QueueUrl");
    if (url)
        free(edw_sqs_queue_name_from_url(url));
    json_decref(j);

    /* The raw bytes as a poison envelope (a body as SQS delivers it)... */
    struct edw_msg m = {.id = edw_xstrdup("m"), .body = fuzz_cstr(data, size), .body_len = size};
    edw_sqs_unwrap_poison(&m);
    FUZZ_CHECK(m.id && m.body && m.body[m.body_len] == '\0');
    edw_msg_cleanup(&m);

    /* ...and as an error reply, whatever the status. */
    struct edw_error e = {0};
    long status = size ? 400 + data[0] % 200 : 500;
    enum edw_err rc = edw_aws_parse_error(status, NULL, text, size, &e);
    FUZZ_CHECK(rc != EDW_OK);
    FUZZ_CHECK(strlen(e.code) < sizeof(e.code) && strlen(e.message) < sizeof(e.message));

    char *s = fuzz_cstr(data, size);
    free(edw_sqs_redrive_target(s));
    free(edw_sqs_queue_name_from_url(s));
    free(s);
    return 0;
}
