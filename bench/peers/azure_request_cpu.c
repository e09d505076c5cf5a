/* SPDX-License-Identifier: Apache-2.0 */
/* CPU time of edw's own Azure request path per Delete Message: the queue backend's ack of
 * batches of 32 messages (request building, Shared Key signing, the retry client's bookkeeping,
 * judging the replies, and the Get Messages fetched ahead with them), through a transport that
 * answers at once in memory (204 for a delete, an empty message list for a get), so neither
 * libcurl nor the kernel is counted. Prints microseconds of process CPU per delete.
 * Usage: azure_request_cpu ROUNDS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edw/alloc.h"
#include "edw/clock.h"
#include "edw/config.h"
#include "edw/http.h"
#include "edw/queue.h"

extern const struct edw_queue_ops edw_azure_queue_ops;

#define N 32
#define EMPTY_LIST                                                                           \
    "<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessagesList></QueueMessagesList>"

static enum edw_err answer(void *state, struct edw_http_request *const *reqs,
                           struct edw_http_response *const *resps, size_t n)
{
    (void)state;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(reqs[i]->method, "GET") == 0) {
            resps[i]->status = 200;
            if (edw_buf_append_str(&resps[i]->body, EMPTY_LIST))
                return EDW_ERR_FATAL;
        } else {
            resps[i]->status = 204;
        }
    }
    return EDW_OK;
}

static void nothing(void *state)
{
    (void)state;
}

static const struct edw_http_transport_ops s_ops = {answer, nothing};

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    int rounds = atoi(argv[1]);
    struct edw_config cfg;
    edw_config_init(&cfg);
    free(cfg.azure_connection_string);
    cfg.azure_connection_string = edw_xstrdup("UseDevelopmentStorage=true");
    struct edw_http_transport http = {&s_ops, NULL};
    struct edw_backend_deps deps = {.clock = edw_clock_system(), .http = &http};
    void *q = NULL;
    struct edw_error err = {0};
    if (edw_azure_queue_ops.open(&cfg, &deps, &q, &err)) {
        fprintf(stderr, "azure_request_cpu: %s\n", err.message);
        return 1;
    }
    struct edw_msg msgs[N];
    struct edw_msg *p[N];
    enum edw_err res[N];
    memset(msgs, 0, sizeof(msgs));
    for (int i = 0; i < N; i++) {
        char id[64];
        snprintf(id, sizeof(id), "6b0e1a4e-5a3b-4d6e-9a57-2f1c3b2d8e%02d", i);
        msgs[i].id = edw_xstrdup(id);
        msgs[i].receipt = edw_xstrdup("AgAAAAMAAAAAAAAA+z/Xq1bI3AE=");
        p[i] = &msgs[i];
    }
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    for (int r = 0; r < rounds; r++) {
        if (edw_azure_queue_ops.ack(q, p, N, res, &err)) {
            fprintf(stderr, "azure_request_cpu: %s\n", err.message);
            return 1;
        }
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("%.2f\n", s * 1e6 / ((double)rounds * N));
    edw_azure_queue_ops.close(q);
    for (int i = 0; i < N; i++) {
        free(msgs[i].id);
        free(msgs[i].receipt);
    }
    edw_config_cleanup(&cfg);
    return 0;
}
