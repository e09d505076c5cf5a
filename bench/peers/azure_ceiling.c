/* SPDX-License-Identifier: Apache-2.0 */
/* Azurite's own ceiling per operation, each measured alone with the leanest client we have
 * (edw's Azure backend classes driven directly, 64 requests in flight), so the client's CPU
 * stays out of the emulator's way: receive (Get Messages of 32), delete, and $batch upsert
 * (rows of one partition). The queue must hold at least N messages; they are received and
 * deleted here. Prints one JSON object of messages (or rows) per second.
 * Usage: azure_ceiling N   (AZURE_STORAGE_CONNECTION_STRING, EDW_QUEUE_NAME, EDW_TABLE_NAME) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"
#include "edw/clock.h"
#include "edw/config.h"
#include "edw/queue.h"
#include "edw/store.h"

extern const struct edw_queue_ops edw_azure_queue_ops;
extern const struct edw_store_ops edw_azure_table_ops;

#define WIDTH 64

static double seconds(const struct edw_clock *c, int64_t since)
{
    return (double)(edw_clock_mono_us(c) - since) / 1e6;
}

static void set(char **field, const char *env)
{
    const char *v = getenv(env);
    if (v) {
        free(*field);
        *field = edw_xstrdup(v);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    size_t n = (size_t)atol(argv[1]);
    struct edw_config cfg;
    edw_config_init(&cfg);
    set(&cfg.azure_connection_string, "AZURE_STORAGE_CONNECTION_STRING");
    set(&cfg.queue_name, "EDW_QUEUE_NAME");
    set(&cfg.table_name, "EDW_TABLE_NAME");
    const struct edw_clock *clock = edw_clock_system();
    struct edw_backend_deps deps = {.clock = clock};
    void *q = NULL, *t = NULL;
    struct edw_error err = {0};
    if (edw_azure_queue_ops.open(&cfg, &deps, &q, &err) ||
        edw_azure_table_ops.open(&cfg, &deps, &t, &err)) {
        fprintf(stderr, "azure_ceiling: %s\n", err.message);
        return 1;
    }
    /* receive: Get Messages of 32, WIDTH/32... in flight (the backend fans max out) */
    struct edw_msg_batch got = {0};
    int64_t t0 = edw_clock_mono_us(clock);
    while (got.n < n) {
        size_t before = got.n;
        if (edw_azure_queue_ops.receive(q, 32 * 8, 600, &got, &err) || got.n == before)
            break;
    }
    double receive = (double)got.n / seconds(clock, t0);
    /* delete: WIDTH Delete Message in flight */
    struct edw_msg **p = edw_xcalloc(WIDTH, sizeof(*p));
    enum edw_err res[WIDTH];
    t0 = edw_clock_mono_us(clock);
    for (size_t i = 0; i < got.n; i += WIDTH) {
        size_t k = got.n - i < WIDTH ? got.n - i : WIDTH;
        for (size_t j = 0; j < k; j++)
            p[j] = &got.msgs[i + j];
        /* delete_messages fetches ahead only after a full receive; none happened since the
         * loop above ended on a partial or empty one, or the queue is empty by now */
        if (edw_azure_queue_ops.ack(q, p, k, res, &err))
            break;
    }
    double del = (double)got.n / seconds(clock, t0);
    /* $batch upsert: blocks of 100 rows of one partition, 10 batches in flight */
    size_t rows_n = n;
    struct edw_row *rows = edw_xcalloc(rows_n, sizeof(*rows));
    char (*keys)[48] = edw_xcalloc(rows_n, sizeof(*keys));
    for (size_t i = 0; i < rows_n; i++) {
        snprintf(keys[i], sizeof(keys[i]), "ceiling-%zu", i + 1);
        rows[i] = (struct edw_row){keys[i], "Scale Test Message : COUNT 1",
                                   "2026-11-27 18:00:00.000000", "2026-11-27 18:00:01.000000",
                                   1.5, 1};
    }
    t0 = edw_clock_mono_us(clock);
    for (size_t i = 0; i < rows_n; i += 1000) {
        size_t k = rows_n - i < 1000 ? rows_n - i : 1000;
        if (edw_azure_table_ops.upsert(t, rows + i, k, &err))
            break;
    }
    double batch = (double)rows_n / seconds(clock, t0);
    printf("{\"receive\":%.1f,\"delete\":%.1f,\"batch_upsert\":%.1f,\"received\":%zu}\n", receive,
           del, batch, got.n);
    edw_msg_batch_cleanup(&got);
    free(p);
    free(rows);
    free(keys);
    edw_azure_queue_ops.close(q);
    edw_azure_table_ops.close(t);
    edw_config_cleanup(&cfg);
    return 0;
}
