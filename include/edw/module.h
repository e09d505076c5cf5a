/* SPDX-License-Identifier: Apache-2.0 */
/* Loadable parts of edw. The network stack (libcurl, OpenSSL libcrypto, expat: the Azure and
 * AWS backends) and the metrics/probe server (libmicrohttpd, which brings GnuTLS) are built
 * as shared modules that the binary dlopen()s only when a command needs them. Mapping those
 * libraries costs about 6 MB of resident memory before main() even runs, which an SQLite
 * consumer without /metrics never uses. Each module exports one descriptor; the binary exports
 * its own edw_* functions, which the module's code calls back into. */
#ifndef EDW_MODULE_H
#define EDW_MODULE_H

#include <stdbool.h>
#include <stddef.h>

#include "edw/backend.h"
#include "edw/err.h"
#include "edw/health.h"
#include "edw/token.h"

/* Changes whenever a descriptor below changes; a module from another build is refused. */
#define EDW_MODULE_ABI 3

/* edw-net.so: the backends that talk HTTP. */
struct edw_net_module {
    unsigned abi;
    const char *version; /* edw's version the module was built from */
    const struct edw_backend *backends;
    size_t n_backends;
    enum edw_azure_cred_kind (*azure_cred_choose)(const struct edw_config *cfg,
                                                  struct edw_buf *why);
    const char *(*azure_cred_name)(enum edw_azure_cred_kind k);
    const char *(*http_library)(bool runtime); /* edw_http_library() (edw/http.h) */
    const char *(*http_library_kind)(void);    /* "system" or "lean" */
};

/* edw-httpd.so: the /metrics, /healthz and /readyz endpoint (see edw/health.h). */
struct edw_httpd_module {
    unsigned abi;
    const char *version;
    enum edw_err (*start)(const struct edw_obs_server_opts *opts, struct edw_obs_server **out,
                          struct edw_error *err);
    unsigned (*port)(const struct edw_obs_server *s);
    void (*stop)(struct edw_obs_server *s);
    const char *(*server_library)(void);      /* edw_obs_server_library() (edw/health.h) */
    const char *(*server_library_kind)(void); /* "system" or "lean" */
};

/* The HTTP library edw-net.so was built with (edw_http_library() of edw/http.h), and its kind
 * ("system" or "lean"); NULL with `err` set when the module cannot be loaded. The binary's
 * forwarders (src/modules/net_client.c). Thread-safe. */
const char *edw_net_http_library(bool runtime, struct edw_error *err);
const char *edw_net_http_library_kind(struct edw_error *err);

/* The same for edw-httpd.so's HTTP server library (edw_obs_server_library() of edw/health.h);
 * src/modules/httpd_client.c. Thread-safe. */
const char *edw_httpd_server_library(struct edw_error *err);
const char *edw_httpd_server_library_kind(struct edw_error *err);

/* The symbol each module exports: "edw_module_<name>". */
#define EDW_MODULE_SYMBOL(name) edw_module_##name

/* Load module `name` ("net", "httpd") once per process and return its descriptor, or NULL
 * with `err` saying which files were tried and why they failed. Modules are looked up next
 * to the running binary, then in ../lib/edw relative to it. Never unloaded. Thread-safe. */
const void *edw_module_load(const char *name, struct edw_error *err);

#endif
