/* SPDX-License-Identifier: Apache-2.0 */
/* The one table of settings. Parsing, validation, --help and `edw config` all come from it.
 * Environment names keep the reference samples' spelling where one exists. */
#include <stddef.h>

#include "edw/config.h"

#define OFF(field) offsetof(struct edw_config, field)
#define NETWORK (EDW_CMD_ALL)
#define WORKER (EDW_CMD_CONSUME | EDW_CMD_DEMO)
#define LOAD (EDW_CMD_PRODUCE | EDW_CMD_DEMO)

const struct edw_setting edw_settings[] = {
    /* common */
    {"backend", "EDW_BACKEND", NULL, EDW_SET_ENUM, "sqlite", 0, 0, "sqlite|azure|aws",
     EDW_CMD_ALL, OFF(backend), "queue and table backend"},
    {"sqlite-path", "EDW_SQLITE_PATH", NULL, EDW_SET_STRING, "./edw.db", 0, 0, NULL, EDW_CMD_ALL,
     OFF(sqlite_path), "database file of the embedded backend (queue and results)"},
    {"queue", "EDW_QUEUE_NAME", "AZURE_QUEUE_NAME", EDW_SET_STRING, "edw-messages", 0, 0, NULL,
     EDW_CMD_ALL, OFF(queue_name), "queue name; the poison queue is <queue>-poison"},
    {"table", "EDW_TABLE_NAME", "AZURE_TABLE_NAME", EDW_SET_STRING, "edwresults", 0, 0, NULL,
     EDW_CMD_ALL, OFF(table_name), "result table name"},
    {"log-level", "EDW_LOG_LEVEL", NULL, EDW_SET_ENUM, "info", 0, 0, "debug|info|warn|error|off",
     EDW_CMD_ALL, OFF(log_level), "JSON log lines on stderr at or above this level"},
    {"json", NULL, NULL, EDW_SET_BOOL, "0", 0, 0, NULL, EDW_CMD_ALL, OFF(json),
     "print a one-line JSON summary as the last line of stdout"},
    {"help", NULL, NULL, EDW_SET_BOOL, "0", 0, 0, NULL, EDW_CMD_ALL, OFF(help),
     "show this help"},
    {"poison", NULL, NULL, EDW_SET_BOOL, "0", 0, 0, NULL, EDW_CMD_QUEUE, OFF(poison),
     "queue peek/clear: the poison queue instead of the main queue"},
    {"http-port", "EDW_HTTP_PORT", NULL, EDW_SET_INT, "0", 0, 65535, NULL, NETWORK,
     OFF(http_port), "metrics and health port (0 = off)"},
    {"shutdown-grace", "EDW_SHUTDOWN_GRACE", NULL, EDW_SET_DOUBLE, "25", 0, 3600, NULL, WORKER,
     OFF(shutdown_grace_s), "seconds to finish in-flight work after SIGTERM"},
    {"sqlite-busy-timeout", "EDW_SQLITE_BUSY_TIMEOUT_MS", NULL, EDW_SET_INT, "10000", 1, 600000,
     NULL, EDW_CMD_ALL, OFF(sqlite_busy_timeout_ms),
     "milliseconds to wait for the database write lock"},
    {"sqlite-sync", "EDW_SQLITE_SYNC", NULL, EDW_SET_ENUM, "normal", 0, 0, "normal|full",
     EDW_CMD_ALL, OFF(sqlite_sync),
     "normal survives process crashes; full also power loss (slower)"},
    /* produce */
    {"count", "EDW_COUNT", NULL, EDW_SET_INT, "1000", 0, 1e12, NULL, EDW_CMD_PRODUCE, OFF(count),
     "messages to send (0 with --duration: until the time is up)"},
    {"duration", "EDW_DURATION", NULL, EDW_SET_DOUBLE, "0", 0, 1e9, NULL, EDW_CMD_PRODUCE,
     OFF(duration_s), "seconds to send for (0 = until --count)"},
    {"rate", "EDW_RATE", NULL, EDW_SET_DOUBLE, "0", 0, 1e9, NULL, LOAD, OFF(rate),
     "messages per second (0 = as fast as possible; demo: peak of its profile, default 1000)"},
    {"batch", "EDW_BATCH", NULL, EDW_SET_INT, "32", 1, 1000, NULL,
     EDW_CMD_PRODUCE | EDW_CMD_CONSUME | EDW_CMD_DEMO, OFF(batch),
     "messages per send/receive call"},
    {"concurrency", "EDW_CONCURRENCY", NULL, EDW_SET_INT, "16", 1, 1024, NULL,
     EDW_CMD_PRODUCE | EDW_CMD_CONSUME | EDW_CMD_DEMO, OFF(concurrency),
     "handlers (or requests) in flight per process (demo default: 4)"},
    {"body-bytes", "EDW_BODY_BYTES", NULL, EDW_SET_INT, "0", 0, 1048576, NULL, EDW_CMD_PRODUCE,
     OFF(body_bytes), "pad each produced body to this size (0 = no padding)"},
    /* consume */
    {"visibility", "EDW_VISIBILITY", NULL, EDW_SET_INT, "30", 1, 43200, NULL, WORKER,
     OFF(visibility_s), "lease length in seconds; renewed while a handler runs"},
    {"max-dequeue", "EDW_MAX_DEQUEUE", NULL, EDW_SET_INT, "5", 1, 1000, NULL, WORKER,
     OFF(max_dequeue), "deliveries before a failing message goes to <queue>-poison"},
    {"handler", "EDW_HANDLER", NULL, EDW_SET_STRING, "record", 0, 0, NULL, WORKER, OFF(handler),
     "record | work:MS | exec:CMD (demo default: work:20)"},
    {"exit-when-idle", "EDW_EXIT_WHEN_IDLE", NULL, EDW_SET_DOUBLE, "0", 0, 1e9, NULL, WORKER,
     OFF(exit_when_idle_s), "exit after this many idle seconds (0 = never)"},
    {"max-body-bytes", "EDW_MAX_BODY_BYTES", NULL, EDW_SET_INT, "65536", 64, 16777216, NULL,
     WORKER, OFF(max_body_bytes), "larger bodies are poisoned"},
    {"poll-max", "EDW_POLL_MAX_MS", NULL, EDW_SET_INT, "500", 1, 60000, NULL, WORKER,
     OFF(poll_max_ms), "longest pause between polls of an empty queue (ms)"},
    {"retry-delay", "EDW_RETRY_DELAY", NULL, EDW_SET_INT, "1", 0, 3600, NULL, WORKER,
     OFF(retry_delay_s), "seconds before a failed message is retried (doubles each time)"},
    /* verify */
    {"expect", "EDW_EXPECT", NULL, EDW_SET_INT, "0", 0, 1e12, NULL, EDW_CMD_VERIFY, OFF(expect),
     "expected rows (0 = what the run sent)"},
    {"run", "EDW_RUN", NULL, EDW_SET_STRING, NULL, 0, 0, NULL, EDW_CMD_VERIFY, OFF(run),
     "run id to verify (default: the last run)"},
    /* demo */
    {"messages", "EDW_DEMO_MESSAGES", NULL, EDW_SET_INT, "6000", 1, 1e9, NULL, EDW_CMD_DEMO,
     OFF(messages), "messages the demo's load profile sends"},
    {"min-replicas", "EDW_MIN_REPLICAS", NULL, EDW_SET_INT, "0", 0, 1000, NULL, EDW_CMD_DEMO,
     OFF(min_replicas), "minReplicaCount (KEDA default 0)"},
    {"max-replicas", "EDW_MAX_REPLICAS", NULL, EDW_SET_INT, "8", 1, 1000, NULL, EDW_CMD_DEMO,
     OFF(max_replicas), "maxReplicaCount (KEDA default 100)"},
    {"queue-length", "EDW_QUEUE_LENGTH", NULL, EDW_SET_INT, "200", 1, 1e9, NULL, EDW_CMD_DEMO,
     OFF(queue_length), "target messages per replica (KEDA default 5)"},
    {"activation-queue-length", "EDW_ACTIVATION_QUEUE_LENGTH", NULL, EDW_SET_INT, "0", 0, 1e9,
     NULL, EDW_CMD_DEMO, OFF(activation_queue_length),
     "depth above which 0 -> 1 happens (KEDA default 0)"},
    {"polling-interval", "EDW_POLLING_INTERVAL", NULL, EDW_SET_DOUBLE, "1", 0.05, 3600, NULL,
     EDW_CMD_DEMO, OFF(polling_interval_s), "seconds between depth checks (KEDA default 30)"},
    {"cooldown-period", "EDW_COOLDOWN_PERIOD", NULL, EDW_SET_DOUBLE, "5", 0, 86400, NULL,
     EDW_CMD_DEMO, OFF(cooldown_period_s), "idle seconds before 1 -> 0 (KEDA default 300)"},
    {"stabilization-window", "EDW_STABILIZATION_WINDOW", NULL, EDW_SET_DOUBLE, "3", 0, 3600, NULL,
     EDW_CMD_DEMO, OFF(stabilization_window_s),
     "scale-down stabilisation window in seconds (HPA default 300)"},
    {"report", "EDW_REPORT", NULL, EDW_SET_STRING, NULL, 0, 0, NULL, EDW_CMD_DEMO, OFF(report),
     "write a self-contained HTML report to this file"},
    {NULL, NULL, NULL, EDW_SET_STRING, NULL, 0, 0, NULL, 0, 0, NULL},
};
