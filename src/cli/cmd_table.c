/* SPDX-License-Identifier: Apache-2.0 */
/* `edw table create|count`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int edw_cmd_table(int argc, char **argv)
{
    struct edw_cli cli;
    int code = edw_cli_init(&cli, EDW_CMD_TABLE, "table", argc, argv);
    if (code >= 0)
        goto out;
    const char *verb = cli.cfg.nargs == 1 ? cli.cfg.args[0] : "";
    if (strcmp(verb, "create") != 0 && strcmp(verb, "count") != 0) {
        fprintf(stderr, "usage: edw table create|count [options]\n");
        code = EDW_EXIT_USAGE;
        goto out;
    }
    struct edw_store *s = NULL;
    struct edw_error err = {0};
    enum edw_err rc = EDW_OK;
    uint64_t n = 0;
    code = EDW_EXIT_FAIL;
    if (!edw_cli_open_store(&cli, &s))
        goto close;
    rc = strcmp(verb, "create") == 0 ? edw_store_create(s, &err) : edw_store_count(s, &n, &err);
    if (rc) {
        edw_cli_fail(&cli, rc, &err);
        goto close;
    }
    code = EDW_EXIT_OK;
    if (strcmp(verb, "create") == 0) {
        printf("table %s ready\n", cli.cfg.table_name);
        goto close;
    }
    printf("table %s: %llu rows\n", cli.cfg.table_name, (unsigned long long)n);
    struct edw_buf j;
    edw_buf_init(&j, 4096);
    if (edw_buf_appendf(&j, "{\"table\":\"%s\",\"count\":%llu}", cli.cfg.table_name,
                        (unsigned long long)n) == EDW_OK)
        edw_cli_json(&cli, &j);
    edw_buf_cleanup(&j);
close:
    edw_store_close(s);
out:
    edw_cli_cleanup(&cli);
    return code;
}
