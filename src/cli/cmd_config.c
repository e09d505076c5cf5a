/* SPDX-License-Identifier: Apache-2.0 */
/* `edw config`: the effective configuration and where each value came from. Secrets are
 * printed as *** by edw_config_dump; this command never sees their values. */
#include <stdio.h>

#include "cli.h"

int edw_cmd_config(int argc, char **argv)
{
    struct edw_cli cli;
    int code = edw_cli_init(&cli, EDW_CMD_ALL, "config", argc, argv);
    if (code >= 0)
        goto out;
    struct edw_buf b;
    edw_buf_init(&b, 1 << 20);
    code = EDW_EXIT_FAIL;
    if (edw_config_dump(&cli.cfg, cli.cfg.json, &b) == EDW_OK) {
        fputs(edw_buf_cstr(&b), stdout);
        code = EDW_EXIT_OK;
    }
    edw_buf_cleanup(&b);
out:
    edw_cli_cleanup(&cli);
    return code;
}
