/* SPDX-License-Identifier: Apache-2.0 */
/* `edw version`: edw's version and the libraries it talks HTTP with (edw-net.so's libcurl,
 * its TLS library, and whether libcurl is the system's or the lean build; the same for
 * edw-httpd.so's libmicrohttpd; docs/building.md).
 * Needs no configuration: it reads no EDW_* variable. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "edw/module.h"

static int usage(FILE *to, int code)
{
    fprintf(to, "usage: edw version [--json]\n\n"
                "Print edw's version and the libcurl (with its TLS library) that edw-net.so,\n"
                "the module of the Azure and AWS backends, was built with: \"system\" (the\n"
                "distribution's shared libcurl) or \"lean\" (Debian's curl source, HTTP and\n"
                "HTTPS only, linked into the module); the same for the libmicrohttpd of\n"
                "edw-httpd.so, the /metrics and probe server (\"lean\": HTTP only, no GnuTLS).\n");
    return code;
}

int edw_cmd_version(int argc, char **argv)
{
    bool json = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return usage(stdout, EDW_EXIT_OK);
        } else {
            fprintf(stderr, "edw version: unknown argument '%s'\n", argv[i]);
            return usage(stderr, EDW_EXIT_USAGE);
        }
    }
    struct edw_error err = {0};
    const char *lib = edw_net_http_library(true, &err);
    const char *kind = lib ? edw_net_http_library_kind(&err) : NULL;
    printf("edw %s\n", EDW_VERSION);
    if (lib)
        printf("edw-net.so: %s\n", lib);
    else
        printf("edw-net.so: not available (%s)\n", err.message);
    struct edw_error srv_err = {0};
    const char *srv = edw_httpd_server_library(&srv_err);
    const char *srv_kind = srv ? edw_httpd_server_library_kind(&srv_err) : NULL;
    if (srv)
        printf("edw-httpd.so: %s\n", srv);
    else
        printf("edw-httpd.so: not available (%s)\n", srv_err.message);
    if (!json)
        return EDW_EXIT_OK;

    struct edw_buf j;
    edw_buf_init(&j, 4096);
    enum edw_err rc = edw_buf_appendf(&j, "{\"version\":\"%s\",\"libcurl\":%s", EDW_VERSION,
                                      lib ? "\"" : "null");
    if (rc == EDW_OK && lib) {
        rc = edw_buf_append_json_str(&j, lib, strlen(lib));
        if (rc == EDW_OK)
            rc = edw_buf_appendf(&j, "\"");
    }
    if (rc == EDW_OK)
        rc = edw_buf_appendf(&j, ",\"libcurl_build\":%s%s%s", kind ? "\"" : "",
                             kind ? kind : "null", kind ? "\"" : "");
    if (rc == EDW_OK)
        rc = edw_buf_appendf(&j, ",\"libmicrohttpd\":%s", srv ? "\"" : "null");
    if (rc == EDW_OK && srv) {
        rc = edw_buf_append_json_str(&j, srv, strlen(srv));
        if (rc == EDW_OK)
            rc = edw_buf_appendf(&j, "\"");
    }
    if (rc == EDW_OK)
        rc = edw_buf_appendf(&j, ",\"libmicrohttpd_build\":%s%s%s}", srv_kind ? "\"" : "",
                             srv_kind ? srv_kind : "null", srv_kind ? "\"" : "");
    if (rc == EDW_OK)
        printf("%s\n", edw_buf_cstr(&j));
    edw_buf_cleanup(&j);
    return rc == EDW_OK ? EDW_EXIT_OK : EDW_EXIT_FAIL;
}
