/* SPDX-License-Identifier: Apache-2.0 */
/* The demo's "Deployment": a set of `edw consume` child processes that can be scaled up
 * (spawn) and down (SIGTERM, so they drain), with crashed replicas counted and reaped. */
#ifndef EDW_DEMO_REPLICAS_H
#define EDW_DEMO_REPLICAS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define EDW_MAX_REPLICAS 1000

struct edw_replica {
    pid_t pid;
    bool terminating; /* sent SIGTERM by a scale-in: not counted as running */
};

struct edw_replicas {
    char **argv;    /* borrowed: argv[0] is the edw executable */
    int log_fd;     /* children's stderr; stdout goes to /dev/null */
    struct edw_replica items[EDW_MAX_REPLICAS];
    size_t n;
    unsigned started, crashed;
};

void edw_replicas_init(struct edw_replicas *r, char **argv, int log_fd);

/* Start or gracefully stop replicas until `want` are running (newest stopped first). */
void edw_replicas_scale(struct edw_replicas *r, unsigned want);

/* Collect exited children. A replica that exits without having been told to is a crash. */
void edw_replicas_reap(struct edw_replicas *r);

unsigned edw_replicas_running(const struct edw_replicas *r); /* excluding terminating */
size_t edw_replicas_alive(const struct edw_replicas *r);     /* including terminating */

/* SIGTERM everyone and wait up to `grace_s`, then SIGKILL whoever is left. */
void edw_replicas_stop_all(struct edw_replicas *r, double grace_s);

#endif
