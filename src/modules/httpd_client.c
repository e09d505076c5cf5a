/* SPDX-License-Identifier: Apache-2.0 */
/* The binary's side of edw/health.h's HTTP endpoint: the same three functions, forwarded to
 * edw-httpd.so, which is loaded on the first start (only when a port is configured). */
#include "edw/module.h"

static const struct edw_httpd_module *s_httpd;

enum edw_err edw_obs_server_start(const struct edw_obs_server_opts *opts,
                                  struct edw_obs_server **out, struct edw_error *err)
{
    *out = NULL;
    if (!s_httpd) {
        s_httpd = edw_module_load("httpd", err);
        if (!s_httpd)
            return EDW_ERR_FATAL;
    }
    return s_httpd->start(opts, out, err);
}

unsigned edw_obs_server_port(const struct edw_obs_server *s)
{
    return s_httpd->port(s);
}

void edw_obs_server_stop(struct edw_obs_server *s)
{
    if (s)
        s_httpd->stop(s);
}

const char *edw_httpd_server_library(struct edw_error *err)
{
    const struct edw_httpd_module *m = edw_module_load("httpd", err);
    return m ? m->server_library() : NULL;
}

const char *edw_httpd_server_library_kind(struct edw_error *err)
{
    const struct edw_httpd_module *m = edw_module_load("httpd", err);
    return m ? m->server_library_kind() : NULL;
}
