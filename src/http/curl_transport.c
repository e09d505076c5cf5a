/* SPDX-License-Identifier: Apache-2.0 */
/* The libcurl transport: the only file that includes <curl/curl.h>. One multi handle per
 * transport keeps a keep-alive connection cache across calls; each perform() runs its
 * requests concurrently on it. TLS peer and host verification are always on; redirects are
 * never followed (a signed request must not be replayed to another host).
 *
 * The requests are driven with curl_multi_socket_action(): curl tells us which sockets to
 * watch, one poll() waits for all of them, and curl then works only on the sockets that are
 * ready. curl_multi_perform() would instead visit every transfer (and poll its socket) each
 * time any one response arrives, which is quadratic in the requests in flight when a server
 * answers them one at a time, as the emulators do. */
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edw/alloc.h"
#include "edw/http.h"

struct curl_transport {
    CURLM *multi;
    struct edw_http_options opts;
    char *ca_file;
    struct pollfd *watch; /* the sockets curl asked us to watch (CURLMOPT_SOCKETFUNCTION) */
    size_t nwatch, capwatch;
    long long deadline_ms; /* curl's next timeout (monotonic ms); -1: none */
};

struct transfer {
    CURL *easy;
    struct curl_slist *headers;
    struct edw_http_response *resp;
};

static pthread_once_t s_global_once = PTHREAD_ONCE_INIT;
static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct edw_http_response *r = arg;
    size_t n = size * nmemb;
    if (edw_buf_append(&r->body, data, n) != EDW_OK) {
        snprintf(r->error, sizeof(r->error), "response body larger than %zu bytes", r->body.max);
        return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

/* Collect "Name: value" lines; a new status line (after 100 Continue) starts over. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct edw_http_response *r = arg;
    size_t n = size * nmemb, len = n;
    while (len && (data[len - 1] == '\r' || data[len - 1] == '\n'))
        len--;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        edw_http_headers_cleanup(&r->headers);
        return n;
    }
    char *colon = memchr(data, ':', len);
    if (!colon)
        return n;
    char *name = edw_xstrndup(data, (size_t)(colon - data));
    const char *v = colon + 1;
    while (v < data + len && (*v == ' ' || *v == '\t'))
        v++;
    char *value = edw_xstrndup(v, (size_t)(data + len - v));
    edw_http_headers_add(&r->headers, name, value);
    free(name);
    free(value);
    return n;
}

static bool has_body(const struct edw_http_request *req)
{
    return req->body || strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0 ||
           strcmp(req->method, "MERGE") == 0 || strcmp(req->method, "PATCH") == 0;
}

static void setup(struct curl_transport *t, struct transfer *x, struct edw_http_request *req)
{
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    /* NULL: the environment's no_proxy applies; handles are reused, so set it every time */
    curl_easy_setopt(e, CURLOPT_NOPROXY, req->no_proxy ? "*" : NULL);
    if (t->ca_file) {
        curl_easy_setopt(e, CURLOPT_CAINFO, t->ca_file);
        curl_easy_setopt(e, CURLOPT_CAPATH, "/etc/ssl/certs"); /* add to, not replace */
    }
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, t->opts.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     req->timeout_ms > 0 ? req->timeout_ms : t->opts.request_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x->resp);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x->resp);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    if (strcmp(req->method, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (strcmp(req->method, "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    if (has_body(req)) {
        /* POSTFIELDS with an explicit size also gives an empty body its Content-Length: 0. */
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
    }
    x->headers = curl_slist_append(x->headers, "Expect:"); /* no 100-continue round trip */
    for (size_t i = 0; i < req->headers.n; i++) {
        char *line = edw_xasprintf("%s: %s", req->headers.items[i].name,
                                   req->headers.items[i].value);
        x->headers = curl_slist_append(x->headers, line);
        free(line);
    }
    if (!req->headers.n || !edw_http_headers_get(&req->headers, "Content-Type"))
        x->headers = curl_slist_append(x->headers, "Content-Type:"); /* no form default */
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
}

static void finish(struct transfer *x, CURLcode rc)
{
    struct edw_http_response *r = x->resp;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r->status);
        return;
    }
    r->status = 0;
    r->transport_err = rc == CURLE_SSL_CACERT || rc == CURLE_PEER_FAILED_VERIFICATION ||
                               rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT
                           ? EDW_ERR_FATAL
                           : EDW_ERR_TRANSIENT;
    if (!r->error[0])
        snprintf(r->error, sizeof(r->error), "%s", curl_easy_strerror(rc));
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching socket `s`. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct curl_transport *t = userp;
    (void)easy;
    (void)socketp;
    size_t i = 0;
    while (i < t->nwatch && t->watch[i].fd != s)
        i++;
    if (what == CURL_POLL_REMOVE) {
        if (i < t->nwatch)
            t->watch[i] = t->watch[--t->nwatch];
        return 0;
    }
    if (i == t->nwatch) {
        if (t->nwatch == t->capwatch) {
            t->capwatch = t->capwatch ? 2 * t->capwatch : 16;
            t->watch = edw_xrealloc(t->watch, t->capwatch * sizeof(*t->watch));
        }
        t->nwatch++;
    }
    t->watch[i] = (struct pollfd){
        .fd = s,
        .events = (short)((what & CURL_POLL_IN ? POLLIN : 0) | (what & CURL_POLL_OUT ? POLLOUT : 0))};
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl wants CURL_SOCKET_TIMEOUT after `timeout_ms` (-1: never). */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct curl_transport *t = userp;
    (void)multi;
    t->deadline_ms = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
    return 0;
}

static void collect_done(struct curl_transport *t)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(t->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct transfer *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        finish(x, m->data.result);
    }
}

static enum edw_err run_multi(struct curl_transport *t)
{
    int running = 0;
    /* Adding handles armed the timer; this first call starts every transfer. */
    if (curl_multi_socket_action(t->multi, CURL_SOCKET_TIMEOUT, 0, &running) != CURLM_OK)
        return EDW_ERR_FATAL;
    collect_done(t);
    struct pollfd *ready = NULL;
    size_t cap = 0;
    enum edw_err rc = EDW_OK;
    while (running) {
        long long wait = 1000;
        if (t->deadline_ms >= 0) {
            long long left = t->deadline_ms - mono_ms();
            wait = left < 0 ? 0 : left < wait ? left : wait;
        }
        /* The callbacks below change t->watch: poll and dispatch from a copy. */
        if (cap < t->nwatch) {
            cap = t->nwatch;
            ready = edw_xrealloc(ready, cap * sizeof(*ready));
        }
        size_t n = t->nwatch;
        if (n)
            memcpy(ready, t->watch, n * sizeof(*ready));
        int k = poll(ready, (nfds_t)n, (int)wait);
        if (k < 0 && errno != EINTR) {
            rc = EDW_ERR_FATAL;
            break;
        }
        CURLMcode mc = CURLM_OK;
        for (size_t i = 0; k > 0 && i < n && mc == CURLM_OK; i++) {
            short re = ready[i].revents;
            if (!re)
                continue;
            int mask = (re & (POLLIN | POLLHUP) ? CURL_CSELECT_IN : 0) |
                       (re & POLLOUT ? CURL_CSELECT_OUT : 0) |
                       (re & (POLLERR | POLLNVAL) ? CURL_CSELECT_ERR : 0);
            mc = curl_multi_socket_action(t->multi, ready[i].fd, mask, &running);
        }
        if (mc == CURLM_OK && t->deadline_ms >= 0 && mono_ms() >= t->deadline_ms)
            mc = curl_multi_socket_action(t->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        if (mc != CURLM_OK) {
            rc = EDW_ERR_FATAL;
            break;
        }
        collect_done(t);
    }
    free(ready);
    return rc;
}

static enum edw_err ct_perform(void *state, struct edw_http_request *const *reqs,
                               struct edw_http_response *const *resps, size_t n)
{
    struct curl_transport *t = state;
    struct transfer *xs = edw_xcalloc(n ? n : 1, sizeof(*xs));
    enum edw_err rc = EDW_OK;
    for (size_t i = 0; i < n; i++) {
        xs[i].resp = resps[i];
        xs[i].easy = curl_easy_init();
        if (!xs[i].easy) {
            rc = EDW_ERR_FATAL;
            break;
        }
        setup(t, &xs[i], reqs[i]);
        curl_multi_add_handle(t->multi, xs[i].easy);
    }
    if (!rc)
        rc = run_multi(t);
    for (size_t i = 0; i < n; i++) {
        if (xs[i].easy) {
            curl_multi_remove_handle(t->multi, xs[i].easy);
            curl_easy_cleanup(xs[i].easy);
        }
        curl_slist_free_all(xs[i].headers);
    }
    free(xs);
    return rc;
}

static void ct_destroy(void *state)
{
    struct curl_transport *t = state;
    if (!t)
        return;
    curl_multi_cleanup(t->multi);
    free(t->watch);
    free(t->ca_file);
    free(t);
}

static const struct edw_http_transport_ops s_ops = {ct_perform, ct_destroy};

enum edw_err edw_http_transport_curl_new(const struct edw_http_options *opts,
                                         struct edw_http_transport **out,
                                         struct edw_error *err)
{
    pthread_once(&s_global_once, global_init);
    struct curl_transport *t = edw_xcalloc(1, sizeof(*t));
    if (opts)
        t->opts = *opts;
    if (!t->opts.connect_timeout_ms)
        t->opts.connect_timeout_ms = 5000;
    if (!t->opts.request_timeout_ms)
        t->opts.request_timeout_ms = 30000;
    if (!t->opts.max_connections)
        t->opts.max_connections = 64;
    t->ca_file = opts && opts->ca_file ? edw_xstrdup(opts->ca_file) : NULL;
    t->deadline_ms = -1;
    t->multi = curl_multi_init();
    if (!t->multi) {
        ct_destroy(t);
        *out = NULL;
        return edw_error_set(err, EDW_ERR_FATAL, "cannot initialise libcurl");
    }
    curl_multi_setopt(t->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)t->opts.max_connections);
    curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, (long)t->opts.max_connections);
    curl_multi_setopt(t->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(t->multi, CURLMOPT_SOCKETDATA, t);
    curl_multi_setopt(t->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(t->multi, CURLMOPT_TIMERDATA, t);
    struct edw_http_transport *tr = edw_xcalloc(1, sizeof(*tr));
    tr->ops = &s_ops;
    tr->state = t;
    *out = tr;
    return EDW_OK;
}
