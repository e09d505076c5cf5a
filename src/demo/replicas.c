/* SPDX-License-Identifier: Apache-2.0 */
#include "replicas.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
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

/* fork + exec rather than posix_spawn, for two things the child must do to itself: leave the
 * terminal's process group (a Ctrl-C is for the supervisor, which then drains the consumers in
 * order) and ask to be sent SIGTERM if the supervisor dies, so no consumer outlives the demo. */
static void spawn_one(struct edw_replicas *r)
{
    if (r->n >= EDW_MAX_REPLICAS)
        return;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(0); /* the supervisor died before prctl took effect */
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
        if (r->log_fd >= 0)
            dup2(r->log_fd, STDERR_FILENO);
        execv(r->argv[0], r->argv);
        _exit(127);
    }
    if (pid < 0) {
        edw_error("demo", "cannot start a consumer: %s", strerror(errno));
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
