/* SPDX-License-Identifier: Apache-2.0 */
/* The Azure Queue backend end to end against a scripted service: whatever status, headers
 * and body come back for queue metadata (depth: x-ms-approximate-messages-count), Get
 * Messages (receive: XML, base64 or plain text bodies) and Peek Messages on the poison queue
 * (our poison envelope), through the client's retry loop and error mapping. The input is a
 * list of replies separated by NUL bytes, each "STATUS\nName: value\n...\n\nBODY", answered
 * in order (then 599s). Byte 0 picks the receive encoding. Every call must end in a result
 * (no hang: the clock is fake and retries are bounded), and received messages are complete. */
#include <stdio.h>

#include "edw/config.h"
#include "edw/queue.h"
#include "fake_clock.h"
#include "fake_http.h"
#include "fuzz_common.h"

extern const struct edw_queue_ops edw_azure_queue_ops;

#define CONN                                                                                       \
    "AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2" \
    "UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;QueueEndpoint=http://fakeq/devstoreaccount1"

/* Queue one scripted reply parsed from `r`. */
static void push_reply(struct fake_http *fh, char *r)
{
    char *body = strstr(r, "\n\n");
    if (body) {
        *body = '\0';
        body += 2;
    }
    char *nl = strchr(r, '\n');
    if (nl)
        *nl++ = '\0';
    struct fake_http_scripted *s = fake_http_push(fh, strtol(r, NULL, 10), body);
    for (char *line = nl; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *colon = strchr(line, ':');
        if (colon) {
            *colon = '\0';
            edw_http_headers_add(&s->headers, line, colon[1] == ' ' ? colon + 2 : colon + 1);
        }
        line = next;
    }
}

static void check_batch(const struct edw_msg_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        FUZZ_CHECK(b->msgs[i].id && b->msgs[i].body);
        FUZZ_CHECK(b->msgs[i].body[b->msgs[i].body_len] == '\0');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size == 0)
        return 0;
    const uint8_t *input = data;
    size_t input_size = size;
    static const char *const encodings[] = {"auto", "none", "base64"};
    const char *encoding = encodings[data[0] % 3];
    data++;
    size--;

    struct fake_clock fc;
    fake_clock_init(&fc, 1795802120000000LL);
    struct fake_http fh;
    fake_http_init(&fh);
    char *r;
    for (int k = 0; k < 32 && (r = fuzz_take(&data, &size, '\0')); k++) {
        push_reply(&fh, r);
        free(r);
    }
    struct edw_config cfg;
    edw_config_init(&cfg);
    free(cfg.azure_connection_string);
    cfg.azure_connection_string = edw_xstrdup(CONN);
    free(cfg.azure_receive_encoding);
    cfg.azure_receive_encoding = edw_xstrdup(encoding);
    struct edw_backend_deps deps = {.clock = &fc.clock, .http = &fh.transport};
    void *q = NULL;
    struct edw_error err = {0};
    if (edw_azure_queue_ops.open(&cfg, &deps, &q, &err) != EDW_OK)
        abort(); /* the configuration is fixed and valid */

    struct edw_queue_depth d;
    (void)edw_azure_queue_ops.depth(q, &d, &err);
    struct edw_msg_batch b = {0};
    (void)edw_azure_queue_ops.receive(q, 32, 30, &b, &err);
    check_batch(&b);
    edw_msg_batch_cleanup(&b);
    memset(&b, 0, sizeof(b));
    (void)edw_azure_queue_ops.peek(q, true, 32, &b, &err);
    check_batch(&b);
    edw_msg_batch_cleanup(&b);
    /* The account key never shows in an error, unless the service itself sent it back (its
     * error code and message are quoted by design). */
    if (!fuzz_contains(input, input_size, "Eby8vdM02xNOcqFlqUwJ"))
        FUZZ_CHECK(!fuzz_leaks(err.message, "Eby8vdM02xNOcqFlqUwJ", 1));

    edw_azure_queue_ops.close(q);
    edw_config_cleanup(&cfg);
    fake_http_cleanup(&fh);
    return 0;
}
