/* SPDX-License-Identifier: Apache-2.0 */
/* The metrics and probe endpoint on libmicrohttpd's own thread. Every request is answered
 * from the atomic state in metrics.c and health.c, so serving never waits for the worker. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"
#include "edw/health.h"
#include "edw/log.h"
#include "edw/metrics.h"

/* A scrape of every series of eight backends stays far below this. */
#define MAX_BODY (4u << 20)

struct edw_obs_server {
    struct MHD_Daemon *daemon;
    struct edw_obs_server_opts opts;
    unsigned port;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             struct edw_buf *body)
{
    size_t len = body->len;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, edw_buf_steal(body), MHD_RESPMEM_MUST_FREE);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* 200 "ok" or 503 with the reason already in `body`. */
static unsigned probe(bool ok, struct edw_buf *body)
{
    if (!ok)
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    enum edw_err ignored = edw_buf_append_str(body, "ok\n");
    (void)ignored;
    return MHD_HTTP_OK;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)con_cls;
    const struct edw_obs_server *s = cls;
    struct edw_buf body;
    edw_buf_init(&body, MAX_BODY);
    const char *text = "text/plain; charset=utf-8";
    unsigned status = MHD_HTTP_OK;
    int64_t now = edw_clock_mono_us(s->opts.clock);
    enum edw_err err = EDW_OK;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        err = edw_buf_append_str(&body, "only GET and HEAD\n");
    } else if (strcmp(url, "/metrics") == 0) {
        text = "text/plain; version=0.0.4; charset=utf-8";
        err = edw_metrics_render(&body);
        if (err) {
            edw_buf_cleanup(&body);
            status = MHD_HTTP_INTERNAL_SERVER_ERROR;
            edw_error("http", "metrics do not fit in %u bytes", MAX_BODY);
        }
    } else if (strcmp(url, "/healthz") == 0 || strcmp(url, "/livez") == 0) {
        status = probe(edw_health_live(now, s->opts.stall_us, &body), &body);
    } else if (strcmp(url, "/readyz") == 0) {
        status = probe(edw_health_ready(now, s->opts.failure_window_us, &body), &body);
    } else {
        status = MHD_HTTP_NOT_FOUND;
        err = edw_buf_append_str(&body, "not found: try /metrics, /healthz or /readyz\n");
    }
    (void)err; /* the short fixed texts always fit */
    return reply(c, status, text, &body);
}

/* libmicrohttpd's own diagnostics (bind failures, ...) become JSON log lines. */
EDW_PRINTF(2, 0)
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    edw_warn("http", "%s", line);
}

/* Fill `ss` from a numeric address; returns the MHD flag for its family, or -1. */
static int parse_addr(const char *addr, unsigned port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        return 0;
    }
    if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        return MHD_USE_IPv6;
    }
    return -1;
}

enum edw_err edw_obs_server_start(const struct edw_obs_server_opts *opts,
                                  struct edw_obs_server **out, struct edw_error *err)
{
    *out = NULL;
    struct sockaddr_storage ss;
    int family = parse_addr(opts->addr, opts->port, &ss);
    if (family < 0)
        return edw_error_set(err, EDW_ERR_INVALID,
                             "http address '%s' is not a numeric IPv4 or IPv6 address", opts->addr);
    struct edw_obs_server *s = edw_xcalloc(1, sizeof(*s));
    s->opts = *opts;
    /* The server thread inherits this mask: stop signals go to the worker threads, whose
     * sleeps they are meant to interrupt. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    s->daemon = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | (unsigned)family, (uint16_t)opts->port,
        NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, 64u,
        MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!s->daemon) {
        free(s);
        return edw_error_set(err, EDW_ERR_INVALID, "cannot serve http on %s port %u", opts->addr,
                             opts->port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info && info->port ? info->port : opts->port;
    *out = s;
    return EDW_OK;
}

unsigned edw_obs_server_port(const struct edw_obs_server *s)
{
    return s->port;
}

void edw_obs_server_stop(struct edw_obs_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon);
    free(s);
}

#ifndef EDW_MHD_KIND /* set by cmake/Mhd.cmake */
#define EDW_MHD_KIND "system"
#define EDW_MHD_DESC "system"
#endif

static pthread_once_t s_library_once = PTHREAD_ONCE_INIT;
static char s_library[256];
static void library_init(void)
{
    snprintf(s_library, sizeof(s_library), "libmicrohttpd/%s (%s)", MHD_get_version(),
             EDW_MHD_DESC);
}

const char *edw_obs_server_library(void)
{
    pthread_once(&s_library_once, library_init);
    return s_library;
}

const char *edw_obs_server_library_kind(void)
{
    return EDW_MHD_KIND;
}
