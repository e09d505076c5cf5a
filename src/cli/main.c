/* SPDX-License-Identifier: Apache-2.0 */
/* Entry point: picks the subcommand. No business logic lives here. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} s_commands[] = {
    {"produce", edw_cmd_produce, "send sample-compatible messages as a run"},
    {"consume", edw_cmd_consume, "process messages: handler, result row, ack"},
    {"verify", edw_cmd_verify, "check a run: missing ids, redeliveries, latency"},
    {"demo", edw_cmd_demo, "the whole workflow on one machine, autoscaled like KEDA"},
    {"queue", edw_cmd_queue, "create | depth | peek | clear | send TEXT|-"},
    {"table", edw_cmd_table, "create | count"},
    {"config", edw_cmd_config, "print the effective configuration (secrets redacted)"},
    {"version", edw_cmd_version, "edw's version and its libcurl (system or lean build)"},
};

static int help(FILE *to, int code)
{
    fprintf(to, "usage: edw COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(s_commands) / sizeof(s_commands[0]); i++)
        fprintf(to, "  %-8s %s\n", s_commands[i].name, s_commands[i].summary);
    fprintf(to, "\n'edw COMMAND --help' lists the options of one command.\n"
                "Common: --backend sqlite|azure|aws (EDW_BACKEND), --json.\n");
    return code;
}

/* glibc gives the top of the heap back to the kernel whenever more than 128 KiB of it is free,
 * and the next batch faults the same pages in again: in the consumer's steady state that was
 * a brk() pair and a run of page faults every few messages (about 15 % of its CPU on SQLite).
 * Keep up to 4 MiB of free heap instead; the peak RSS is the same (those pages were in use a
 * moment before). Fixing the trim threshold also fixes the mmap threshold, so set that too. */
static void tune_malloc(void)
{
#if defined(M_TRIM_THRESHOLD) && defined(M_MMAP_THRESHOLD)
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    mallopt(M_TRIM_THRESHOLD, 4 << 20);
#endif
}

int main(int argc, char **argv)
{
    tune_malloc();
    if (argc < 2)
        return help(stderr, EDW_EXIT_USAGE);
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
        return help(stdout, EDW_EXIT_OK);
    for (size_t i = 0; i < sizeof(s_commands) / sizeof(s_commands[0]); i++) {
        if (strcmp(cmd, s_commands[i].name) == 0) {
            edw_cli_install_signals();
            return s_commands[i].run(argc - 2, argv + 2);
        }
    }
    fprintf(stderr, "edw: unknown command '%s'\n", cmd);
    return help(stderr, EDW_EXIT_USAGE);
}
