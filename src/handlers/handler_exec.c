/* SPDX-License-Identifier: Apache-2.0 */
/* `exec:CMD`: runs `/bin/sh -c CMD` per message with the body on stdin. Its stdout (one
 * trailing newline trimmed, at most EXEC_MAX_OUTPUT bytes) is stored as `data`; a non-zero
 * exit is a failure and the message is retried, then poisoned. stdin and stdout are pumped
 * together with poll() so a command that writes before reading cannot deadlock us. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "edw/alloc.h"
#include "edw/buf.h"
#include "edw/handler.h"

#define EXEC_MAX_OUTPUT (1024 * 1024)

extern char **environ;

struct exec_state {
    char *command;
};

struct child {
    pid_t pid;
    int in_fd;  /* our end of the child's stdin, -1 once closed */
    int out_fd; /* our end of the child's stdout, -1 at EOF */
};

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static int spawn(const char *command, struct child *c, char *error, size_t error_size)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    int rc = -1;
    /* Close-on-exec, or children spawned at the same time by other pool threads would inherit
     * each other's pipe ends and never see EOF. dup2 in the child clears the flag on 0 and 1. */
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
        snprintf(error, error_size, "pipe: %s", strerror(errno));
        goto out_close;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    char *argv[] = {"/bin/sh", "-c", (char *)command, NULL};
    rc = posix_spawn(&c->pid, "/bin/sh", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        snprintf(error, error_size, "cannot start /bin/sh: %s", strerror(rc));
        rc = -1;
        goto out_close;
    }
    c->in_fd = in[1];
    c->out_fd = out[0];
    in[1] = out[0] = -1;
    fcntl(c->in_fd, F_SETFL, O_NONBLOCK);
    fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
out_close:
    close_fd(&in[0]);
    close_fd(&in[1]);
    close_fd(&out[0]);
    close_fd(&out[1]);
    return rc;
}

/* Feed stdin and drain stdout until the child closes stdout, the output grows past the
 * limit, or `cancel` is set. Returns false (with `error`) on the last two. */
static bool pump(struct child *c, const char *body, size_t body_len, const atomic_bool *cancel,
                 struct edw_buf *output, char *error, size_t error_size)
{
    size_t written = 0;
    if (body_len == 0)
        close_fd(&c->in_fd);
    while (c->out_fd >= 0) {
        if (atomic_load(cancel)) {
            snprintf(error, error_size, "cancelled by shutdown");
            return false;
        }
        struct pollfd pfd[2] = {{c->out_fd, POLLIN, 0}, {c->in_fd, POLLOUT, 0}};
        if (poll(pfd, c->in_fd >= 0 ? 2 : 1, 100) < 0 && errno != EINTR)
            break;
        if (c->in_fd >= 0 && pfd[1].revents) {
            ssize_t n = write(c->in_fd, body + written, body_len - written);
            if (n > 0)
                written += (size_t)n;
            if ((n < 0 && errno != EAGAIN) || written == body_len)
                close_fd(&c->in_fd); /* done, or the command stopped reading (EPIPE) */
        }
        if (pfd[0].revents) {
            char chunk[4096];
            ssize_t n = read(c->out_fd, chunk, sizeof(chunk));
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                close_fd(&c->out_fd);
            else if (n > 0 && edw_buf_append(output, chunk, (size_t)n) != EDW_OK) {
                snprintf(error, error_size, "command output is larger than %d bytes",
                         EXEC_MAX_OUTPUT);
                return false;
            }
        }
    }
    return true;
}

static void finish(struct child *c, bool pumped, struct edw_buf *output,
                   struct edw_handler_result *out)
{
    int status = 0;
    close_fd(&c->in_fd);
    close_fd(&c->out_fd);
    if (!pumped)
        kill(c->pid, SIGKILL);
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!pumped)
        return;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        if (output->len && output->ptr[output->len - 1] == '\n')
            output->ptr[--output->len] = '\0';
        if (output->ptr && memchr(output->ptr, '\0', output->len)) {
            snprintf(out->error, sizeof(out->error), "command output contains a NUL byte");
            return;
        }
        out->ok = true;
        out->data = edw_buf_steal(output);
    } else if (WIFEXITED(status)) {
        snprintf(out->error, sizeof(out->error), "command exited with status %d",
                 WEXITSTATUS(status));
    } else {
        snprintf(out->error, sizeof(out->error), "command killed by signal %d",
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
}

static void run(const struct edw_handler *h, const struct edw_payload *p, const char *body,
                size_t body_len, const atomic_bool *cancel, struct edw_handler_result *out)
{
    (void)p;
    const struct exec_state *st = h->state;
    struct child c = {.pid = -1, .in_fd = -1, .out_fd = -1};
    struct edw_buf output;
    edw_buf_init(&output, EXEC_MAX_OUTPUT);
    out->ok = false;
    if (spawn(st->command, &c, out->error, sizeof(out->error)) == 0) {
        bool pumped = pump(&c, body, body_len, cancel, &output, out->error, sizeof(out->error));
        finish(&c, pumped, &output, out);
    }
    edw_buf_cleanup(&output);
}

static void destroy(struct edw_handler *h)
{
    if (!h)
        return;
    struct exec_state *st = h->state;
    if (st)
        free(st->command);
    free(st);
    free(h);
}

struct edw_handler *edw_handler_exec_new(const char *command)
{
    struct edw_handler *h = edw_xcalloc(1, sizeof(*h));
    struct exec_state *st = edw_xcalloc(1, sizeof(*st));
    st->command = edw_xstrdup(command);
    h->name = "exec";
    h->blocking = true;
    h->run = run;
    h->destroy = destroy;
    h->state = st;
    return h;
}
