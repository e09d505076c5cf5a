/* SPDX-License-Identifier: Apache-2.0 */
#include "replicas.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "edw/log.h"

extern char **environ;

void edw_replicas_init(struct edw_replicas *r, char **argv, int log_fd)
{
    memset(r, 0, sizeof(*r));
    r->argv = argv;
    r->log_fd = log_fd;
}

static void spawn_one(struct edw_replicas *r)
{
    if (r->n >= EDW_MAX_REPLICAS)
        return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    if (r->log_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, r->log_fd, STDERR_FILENO);
    pid_t pid;
    int rc = posix_spawn(&pid, r->argv[0], &fa, NULL, r->argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        edw_error("demo", "cannot start a consumer (%s): %s", r->argv[0], strerror(rc));
        return;
    }
    r->items[r->n++] = (struct edw_replica){pid, false};
    r->started++;
}

unsigned edw_replicas_running(const struct edw_replicas *r)
{
    unsigned n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += !r->items[i].terminating;
    return n;
}

size_t edw_replicas_alive(const struct edw_replicas *r)
{
    return r->n;
}

void edw_replicas_scale(struct edw_replicas *r, unsigned want)
{
    unsigned running = edw_replicas_running(r);
    for (; running < want; running++)
        spawn_one(r);
    for (size_t i = r->n; i-- > 0 && running > want;) {
        if (!r->items[i].terminating) {
            kill(r->items[i].pid, SIGTERM);
            r->items[i].terminating = true;
            running--;
        }
    }
}

void edw_replicas_reap(struct edw_replicas *r)
{
    for (size_t i = 0; i < r->n;) {
        int status;
        pid_t got = waitpid(r->items[i].pid, &status, WNOHANG);
        if (got != r->items[i].pid) {
            i++;
            continue;
        }
        if (!r->items[i].terminating) {
            r->crashed++;
            edw_warn("demo", "consumer %ld died (%s %d); its leased messages return after the "
                             "visibility timeout",
                     (long)got, WIFSIGNALED(status) ? "signal" : "exit status",
                     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        }
        r->items[i] = r->items[--r->n];
    }
}

void edw_replicas_stop_all(struct edw_replicas *r, double grace_s)
{
    for (size_t i = 0; i < r->n; i++) {
        if (!r->items[i].terminating)
            kill(r->items[i].pid, SIGTERM);
        r->items[i].terminating = true;
    }
    struct timespec step = {0, 20 * 1000000L};
    for (double waited = 0; r->n > 0 && waited < grace_s; waited += 0.02) {
        edw_replicas_reap(r);
        if (r->n)
            nanosleep(&step, NULL);
    }
    for (size_t i = 0; i < r->n; i++)
        kill(r->items[i].pid, SIGKILL);
    while (r->n > 0) {
        edw_replicas_reap(r);
        if (r->n)
            nanosleep(&step, NULL);
    }
}
