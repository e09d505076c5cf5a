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
        if (cli.cfg.backend && strcmp(cli.cfg.backend, "azure") == 0) {
            /* which Azure credential the chain picks, and why (variable names, no values;
             * the reason holds no quote or backslash, so it is valid JSON text as is) */
            struct edw_buf why;
            edw_buf_init(&why, 1024);
            enum edw_azure_cred_kind k = edw_azure_cred_choose(&cli.cfg, &why);
            enum edw_err rc;
            if (cli.cfg.json && b.len >= 2) {
                b.len -= 2; /* reopen the object: drop "}\n" */
                rc = edw_buf_appendf(&b, ",\"azure_credential\":\"%s\","
                                         "\"azure_credential_reason\":\"%s\"}\n",
                                     edw_azure_cred_name(k), edw_buf_cstr(&why));
            } else {
                rc = edw_buf_appendf(&b, "%-24s = %s  (%s)\n", "azure credential",
                                     edw_azure_cred_name(k), edw_buf_cstr(&why));
            }
            if (rc != EDW_OK)
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
