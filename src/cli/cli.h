/* SPDX-License-Identifier: Apache-2.0 */
/* What the subcommands share: configuration, the chosen backend, stop handling, output. */
#ifndef EDW_CLI_H
#define EDW_CLI_H

#include <stdbool.h>

#include "edw/backend.h"
#include "edw/buf.h"
#include "edw/config.h"
#include "edw/queue.h"
#include "edw/store.h"

/* Exit codes: 0 success, 1 the work failed (or verify found something missing), 2 usage or
 * configuration error. */
enum { EDW_EXIT_OK = 0, EDW_EXIT_FAIL = 1, EDW_EXIT_USAGE = 2 };

struct edw_cli {
    unsigned cmd;
    const char *name; /* "produce", ... */
    struct edw_config cfg;
    const struct edw_backend *backend;
    struct edw_backend_deps deps;
};

/* Parse environment and arguments for `cmd`. Returns -1 when the command should run, else an
 * exit code (help printed: 0; problems printed: 2). */
int edw_cli_init(struct edw_cli *cli, unsigned cmd, const char *name, int argc,
                 char *const *argv);
void edw_cli_cleanup(struct edw_cli *cli);

/* Open the backend's queue or store; on failure print the reason and return false. */
bool edw_cli_open_queue(struct edw_cli *cli, struct edw_queue **out);
bool edw_cli_open_store(struct edw_cli *cli, struct edw_store **out);

struct edw_obs_server;
/* Mark the configuration loaded (readiness) and, when --http-port is not 0, serve /metrics,
 * /healthz and /readyz on --http-addr. `*out` is NULL when the port is 0. Returns false,
 * with the reason printed, when the port cannot be served. Stop with edw_obs_server_stop. */
bool edw_cli_obs_start(const struct edw_cli *cli, struct edw_obs_server **out);

/* Print a failure as "edw NAME: message" on stderr. */
void edw_cli_fail(const struct edw_cli *cli, enum edw_err rc, const struct edw_error *err);

/* Write `json` (one object, no newline) as the last line of stdout when --json is set. */
void edw_cli_json(const struct edw_cli *cli, const struct edw_buf *json);

/* SIGTERM/SIGINT handling: the first asks for a graceful stop, a second Ctrl-C exits. */
void edw_cli_install_signals(void);
bool edw_cli_stop_requested(void *ctx);
/* How many stop signals have arrived (the demo escalates on each). */
unsigned edw_cli_stop_count(void);
/* Let a stop signal start the shutdown deadline (edw/shutdown.h): the signal's time plus
 * `seconds`. Commands without a grace never call it. */
void edw_cli_set_shutdown_grace(double seconds);
/* The number of Ctrl-C after which the process exits at once (default 2). */
void edw_cli_set_hard_exit_after(unsigned n);

struct edw_verify_report;
/* The readable form of a verify report (verify and the demo's ending). */
void edw_cli_print_report(const struct edw_verify_report *r);

int edw_cmd_produce(int argc, char **argv);
int edw_cmd_consume(int argc, char **argv);
int edw_cmd_verify(int argc, char **argv);
int edw_cmd_queue(int argc, char **argv);
int edw_cmd_table(int argc, char **argv);
int edw_cmd_config(int argc, char **argv);
int edw_cmd_version(int argc, char **argv);
int edw_cmd_demo(int argc, char **argv);

#endif
