/* SPDX-License-Identifier: Apache-2.0 */
/* CPU time the libcurl transport spends per request: ROUNDS rounds of N concurrent DELETEs
 * (shaped like Azure's Delete Message, signed headers included) against a local server that
 * answers at once (bench/peers/instant_server.mjs). Prints microseconds of process CPU.
 * Usage: transport_cpu PORT ROUNDS N */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "edw/http.h"

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    struct edw_http_transport *t = NULL;
    struct edw_error err = {0};
    if (edw_http_transport_curl_new(NULL, &t, &err) != EDW_OK)
        return 1;
    int rounds = atoi(argv[2]), n = atoi(argv[3]);
    char url[160];
    snprintf(url, sizeof(url),
             "http://127.0.0.1:%s/devstoreaccount1/q/messages/6b0e1a4e?popreceipt=AgAAAAMAAAA%%3D",
             argv[1]);
    struct edw_http_request *reqs = calloc((size_t)n, sizeof(*reqs));
    struct edw_http_response *resps = calloc((size_t)n, sizeof(*resps));
    struct edw_http_request **rp = calloc((size_t)n, sizeof(*rp));
    struct edw_http_response **sp = calloc((size_t)n, sizeof(*sp));
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < n; i++) {
            edw_http_request_init(&reqs[i], "DELETE", url);
            edw_http_headers_add(&reqs[i].headers, "x-ms-date", "Fri, 27 Nov 2026 17:55:20 GMT");
            edw_http_headers_add(&reqs[i].headers, "x-ms-version", "2019-02-02");
            edw_http_headers_add(&reqs[i].headers, "Authorization",
                                 "SharedKey devstoreaccount1:E6l733zBiLAQ1XmvBSxSZObYc1suNSeaegX2s9zGGBU=");
            edw_http_response_init(&resps[i]);
            rp[i] = &reqs[i];
            sp[i] = &resps[i];
        }
        if (edw_http_perform(t, rp, sp, (size_t)n) != EDW_OK)
            return 1;
        for (int i = 0; i < n; i++) {
            if (resps[i].status != 204) {
                fprintf(stderr, "status %ld: %s\n", resps[i].status, resps[i].error);
                return 1;
            }
            edw_http_request_cleanup(&reqs[i]);
            edw_http_response_cleanup(&resps[i]);
        }
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("%.1f\n", s * 1e6 / (rounds * n));
    edw_http_transport_destroy(t);
    free(reqs);
    free(resps);
    free(rp);
    free(sp);
    return 0;
}
