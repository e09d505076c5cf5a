/* SPDX-License-Identifier: Apache-2.0 */
/* `edw config`: the effective configuration and where each value came from. Secrets are
 * printed as *** by edw_config_dump; this command never sees their values. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "edw/token.h"

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
        if (!cli.cfg.json && cli.cfg.backend && strcmp(cli.cfg.backend, "azure") == 0) {
            /* which Azure credential the chain picks, and why (variable names, no values) */
            struct edw_buf why;
            edw_buf_init(&why, 1024);
            enum edw_azure_cred_kind k = edw_azure_cred_choose(&cli.cfg, &why);
            if (edw_buf_appendf(&b, "%-24s = %s  (%s)\n", "azure credential",
                                edw_azure_cred_name(k), edw_buf_cstr(&why)) != EDW_OK)
                b.len = 0;
            edw_buf_cleanup(&why);
        }
        fputs(edw_buf_cstr(&b), stdout);
        code = EDW_EXIT_OK;
    }
    edw_buf_cleanup(&b);
out:
    edw_cli_cleanup(&cli);
    return code;
}
