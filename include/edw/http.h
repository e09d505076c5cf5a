/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP as the network backends see it: a request description, a response, and a transport
 * vtable that performs a set of requests concurrently. The libcurl transport is the only code
 * that includes <curl/curl.h>; unit tests substitute a scripted fake. Signing happens before
 * `perform`, on the request description, so every retry is signed afresh. */
#ifndef EDW_HTTP_H
#define EDW_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "edw/buf.h"
#include "edw/err.h"

struct edw_http_header {
    char *name;  /* owned */
    char *value; /* owned */
};

struct edw_http_headers {
    struct edw_http_header *items;
    size_t n, cap;
};

struct edw_http_request {
    char method[16]; /* "GET", "PUT", "POST", "DELETE", "MERGE", "HEAD" */
    char *url;       /* owned; scheme://host[:port]/path?query, already percent-encoded */
    struct edw_http_headers headers;
    const char *body; /* borrowed; NULL for none */
    size_t body_len;
    long timeout_ms; /* whole request; 0: the transport's default */
    bool no_proxy;   /* connect directly even when a proxy is configured (IMDS) */
    /* The response headers the caller reads: a NULL-terminated list of names (compared
     * case-insensitively), borrowed; NULL keeps every header. Copying only these saves a
     * copy (two allocations) of each header the caller never looks at. */
    const char *const *keep_headers;
};

struct edw_http_response {
    long status; /* 0 when no response arrived (see transport_err) */
    struct edw_http_headers headers;
    struct edw_buf body;
    enum edw_err transport_err; /* EDW_OK, or EDW_ERR_TRANSIENT for connect/timeout/reset */
    char error[256];            /* transport failure text (never contains credentials) */
};

/* Requests and responses own their memory: init, then cleanup (NULL-safe, idempotent). */
void edw_http_request_init(struct edw_http_request *r, const char *method, const char *url);
void edw_http_request_cleanup(struct edw_http_request *r);
void edw_http_response_init(struct edw_http_response *r);
void edw_http_response_cleanup(struct edw_http_response *r);

/* Append a header (a repeated name is appended again, not replaced). */
void edw_http_headers_add(struct edw_http_headers *h, const char *name, const char *value);
/* The same with counted name and value (need not be NUL-terminated). */
void edw_http_headers_add_n(struct edw_http_headers *h, const char *name, size_t name_len,
                            const char *value, size_t value_len);
/* Replace the value of `name` (case-insensitive) or append it. */
void edw_http_headers_set(struct edw_http_headers *h, const char *name, const char *value);
/* Case-insensitive lookup; NULL when absent. Borrowed. */
const char *edw_http_headers_get(const struct edw_http_headers *h, const char *name);
void edw_http_headers_cleanup(struct edw_http_headers *h);

struct edw_http_transport_ops {
    /* Perform `n` requests concurrently and fill `resps` (initialised by the caller). The
     * return value is EDW_OK unless the transport itself is unusable; per-request failures
     * are in each response's `transport_err`. Blocks until all complete. */
    enum edw_err (*perform)(void *state, struct edw_http_request *const *reqs,
                            struct edw_http_response *const *resps, size_t n);
    void (*destroy)(void *state);
};

struct edw_http_transport {
    const struct edw_http_transport_ops *ops;
    void *state;
};

/* The whole-request timeout when neither the request nor the options set one. */
#define EDW_HTTP_DEFAULT_REQUEST_TIMEOUT_MS 30000L

/* How long data sent on a connection may stay unacknowledged by the peer's TCP before the
 * kernel closes the connection (TCP_USER_TIMEOUT on every socket the transport opens). */
#define EDW_HTTP_UNACKED_TIMEOUT_MS 10000u

struct edw_http_options {
    const char *ca_file;      /* extra CA bundle (EDW_CA_FILE); NULL: system store */
    long connect_timeout_ms;  /* default 5000 */
    long request_timeout_ms;  /* default EDW_HTTP_DEFAULT_REQUEST_TIMEOUT_MS */
    size_t max_connections;   /* per host; default 64 */
    size_t max_response_bytes; /* default 64 MiB */
    long wake_hold_max_us;     /* longest hold between two wake-ups while several answers are
                                * outstanding (edw/wake_hold.h); 0: the default, < 0: none */
};

/* The libcurl transport (HTTP/1.1 keep-alive pool, curl multi for concurrency, TLS always
 * verified, redirects never followed). Caller owns the result; edw_http_transport_destroy.
 * Not thread-safe: one transport per thread. */
EDW_NODISCARD enum edw_err edw_http_transport_curl_new(const struct edw_http_options *opts,
                                                       struct edw_http_transport **out,
                                                       struct edw_error *err);
void edw_http_transport_destroy(struct edw_http_transport *t);

/* The HTTP library built into edw: "libcurl/VERSION (system)" or "(lean: ...)", the build
 * chosen with -DEDW_CURL (docs/building.md). With `runtime`, libcurl's own curl_version()
 * instead of the version it was compiled against: that also names the TLS, zlib and other
 * libraries it links, but asks each of them for its version, which with Debian's libcurl
 * pages in code of ten libraries (about 1 MB of RSS): for `edw version`, not a consumer's
 * start-up. A static string; thread-safe. */
const char *edw_http_library(bool runtime);
/* "system" or "lean": how libcurl was built into edw (-DEDW_CURL). */
const char *edw_http_library_kind(void);

static inline enum edw_err edw_http_perform(struct edw_http_transport *t,
                                            struct edw_http_request *const *reqs,
                                            struct edw_http_response *const *resps, size_t n)
{
    return t->ops->perform(t->state, reqs, resps, n);
}

#endif
