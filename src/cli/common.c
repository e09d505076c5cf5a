/* SPDX-License-Identifier: Apache-2.0 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "edw/batch.h"
#include "edw/clock.h"
#include "edw/health.h"
#include "edw/log.h"
#include "edw/shutdown.h"

extern char **environ;

/* Lock-free atomics: safe in a signal handler, and read by every pipeline thread (a volatile
 * sig_atomic_t is only the former). */
static atomic_uint s_stop_signals;
static atomic_uint s_hard_exit_after = 2;
static _Atomic int64_t s_grace_us = -1; /* < 0: the command has no shutdown grace */

static void on_signal(int sig)
{
    unsigned n = atomic_fetch_add(&s_stop_signals, 1) + 1;
    int64_t grace = atomic_load(&s_grace_us);
    /* The grace counts from the signal, not from when a pipeline notices it (that can be a
     * backend call later). clock_gettime is async-signal-safe, the deadline a lock-free atomic. */
    if (n == 1 && grace >= 0)
        edw_shutdown_set_deadline(edw_clock_mono_us(edw_clock_system()) + grace);
    if (sig == SIGINT && n >= atomic_load(&s_hard_exit_after))
        _exit(130); /* impatient Ctrl-C: leases simply expire and are redelivered */
}

void edw_cli_set_shutdown_grace(double seconds)
{
    atomic_store(&s_grace_us, (int64_t)(seconds * 1e6));
}

void edw_cli_set_hard_exit_after(unsigned n)
{
    atomic_store(&s_hard_exit_after, n);
}

unsigned edw_cli_stop_count(void)
{
    return atomic_load(&s_stop_signals);
}

void edw_cli_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: sleeps end early so the stop is seen at once */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is an error return, never a death */
}

bool edw_cli_stop_requested(void *ctx)
{
    (void)ctx;
    return atomic_load(&s_stop_signals) > 0;
}

static int usage(const struct edw_cli *cli, FILE *to)
{
    struct edw_buf b;
    edw_buf_init(&b, 1 << 20);
    if (edw_config_usage(cli->cmd, &b) == EDW_OK)
        fprintf(to, "usage: edw %s [options]\n\noptions:\n%s", cli->name, edw_buf_cstr(&b));
    edw_buf_cleanup(&b);
    return to == stdout ? EDW_EXIT_OK : EDW_EXIT_USAGE;
}

/* At debug level, the effective configuration, one line per setting, secrets as ***. */
static void log_config(const struct edw_config *cfg)
{
    if (g_edw_log_level > EDW_LOG_DEBUG)
        return;
    struct edw_buf b;
    edw_buf_init(&b, 1 << 20);
    if (edw_config_dump(cfg, false, &b) == EDW_OK) {
        for (char *line = b.ptr, *end; line && *line; line = end + 1) {
            end = strchr(line, '\n');
            if (!end)
                break;
            edw_debug("config", "%.*s", (int)(end - line), line);
        }
    }
    edw_buf_cleanup(&b);
}

int edw_cli_init(struct edw_cli *cli, unsigned cmd, const char *name, int argc,
                 char *const *argv)
{
    memset(cli, 0, sizeof(*cli));
    cli->cmd = cmd;
    cli->name = name;
    edw_config_init(&cli->cfg);
    struct edw_config_source src = {getenv, environ};
    struct edw_buf problems;
    edw_buf_init(&problems, 1 << 20);
    enum edw_err rc = edw_config_load(&cli->cfg, cmd, &src, argc, argv, &problems);
    if (cli->cfg.help) {
        edw_buf_cleanup(&problems);
        return usage(cli, stdout);
    }
    if (rc) {
        fprintf(stderr, "edw %s: %s", name, edw_buf_cstr(&problems));
        fprintf(stderr, "run 'edw %s --help' for the options\n", name);
        edw_buf_cleanup(&problems);
        return EDW_EXIT_USAGE;
    }
    edw_buf_cleanup(&problems);
    enum edw_log_level level = EDW_LOG_INFO;
    if (edw_log_parse_level(cli->cfg.log_level, &level))
        g_edw_log_level = level;
    log_config(&cli->cfg);
    cli->backend = edw_backend_find(cli->cfg.backend);
    if (!cli->backend) {
        fprintf(stderr, "edw %s: backend '%s' is not available in this build (have: %s)\n",
                name, cli->cfg.backend, edw_backend_names());
        return EDW_EXIT_USAGE;
    }
    char why[256];
    if (edw_batch_check(cli->backend->queue, cli->cfg.batch,
                        (cmd & (EDW_CMD_PRODUCE | EDW_CMD_DEMO)) != 0,
                        (cmd & (EDW_CMD_CONSUME | EDW_CMD_DEMO)) != 0, why,
                        sizeof(why)) != EDW_OK) {
        fprintf(stderr, "edw %s: %s\n", name, why);
        return EDW_EXIT_USAGE;
    }
    cli->deps.clock = edw_clock_system();
    return -1;
}

void edw_cli_cleanup(struct edw_cli *cli)
{
    edw_config_cleanup(&cli->cfg);
}

void edw_cli_fail(const struct edw_cli *cli, enum edw_err rc, const struct edw_error *err)
{
    fprintf(stderr, "edw %s: %s\n", cli->name,
            err && err->message[0] ? err->message : edw_err_str(rc));
}

bool edw_cli_open_queue(struct edw_cli *cli, struct edw_queue **out)
{
    struct edw_error err = {0};
    enum edw_err rc = edw_queue_open(cli->backend->queue, &cli->cfg, &cli->deps, out, &err);
    if (rc)
        edw_cli_fail(cli, rc, &err);
    return rc == EDW_OK;
}

bool edw_cli_open_store(struct edw_cli *cli, struct edw_store **out)
{
    struct edw_error err = {0};
    enum edw_err rc = edw_store_open(cli->backend->store, &cli->cfg, &cli->deps, out, &err);
    if (rc)
        edw_cli_fail(cli, rc, &err);
    return rc == EDW_OK;
}

void edw_cli_json(const struct edw_cli *cli, const struct edw_buf *json)
{
    if (cli->cfg.json) {
        printf("%s\n", edw_buf_cstr(json));
        fflush(stdout);
    }
}

/* Liveness allows a worker loop to be this late: longer than any single backend call may
 * block (a busy SQLite lock, an HTTP timeout), and at least one lease length, since a loop
 * stuck that long is losing its leases anyway. */
static int64_t stall_allowance_us(const struct edw_config *c)
{
    int64_t us = 60 * 1000000LL;
    if (c->visibility_s * 1000000LL > us)
        us = c->visibility_s * 1000000LL;
    if (2 * c->sqlite_busy_timeout_ms * 1000LL > us)
        us = 2 * c->sqlite_busy_timeout_ms * 1000LL;
    return us;
}

bool edw_cli_obs_start(const struct edw_cli *cli, struct edw_obs_server **out)
{
    *out = NULL;
    edw_health_set_config_ok(true);
    if (cli->cfg.http_port == 0)
        return true;
    struct edw_obs_server_opts o = {
        .addr = cli->cfg.http_addr,
        .port = (unsigned)cli->cfg.http_port,
        .stall_us = stall_allowance_us(&cli->cfg),
        .failure_window_us = 30 * 1000000LL, /* a failed call stops counting after 30 s */
        .clock = cli->deps.clock,
    };
    struct edw_error err = {0};
    enum edw_err rc = edw_obs_server_start(&o, out, &err);
    if (rc) {
        edw_cli_fail(cli, rc, &err);
        return false;
    }
    edw_info("http", "serving /metrics, /healthz and /readyz on %s port %u", o.addr,
             edw_obs_server_port(*out));
    return true;
}
