/* SPDX-License-Identifier: Apache-2.0 */
/* The libcurl transport: the only file that includes <curl/curl.h>. One multi handle per
 * transport keeps a keep-alive connection cache across calls; each perform() runs its
 * requests concurrently on it. TLS peer and host verification are always on; redirects are
 * never followed (a signed request must not be replayed to another host).
 *
 * The requests are driven with curl_multi_socket_action() and epoll: curl tells us which
 * sockets to watch (we keep them registered in an epoll set), epoll_wait() returns only the
 * sockets that are ready, and curl then works only on those. curl_multi_perform() would
 * instead visit every transfer each time any one response arrives, and poll() would scan every
 * watched socket in the kernel on every wake-up: both quadratic in the requests in flight when
 * a server answers them one at a time, as the emulators do.
 *
 * A keep-alive connection is asked for, then given up by curl with every request it carries;
 * rather than adding it to and removing it from the epoll set each time (two system calls per
 * request), a connection socket we opened ourselves (CURLOPT_OPENSOCKETFUNCTION) stays in the
 * set while idle and is removed only if it reports an event while curl is not watching it, or
 * when it is closed (CURLOPT_CLOSESOCKETFUNCTION). Sockets we did not open (a resolver's) are
 * added and removed exactly as curl asks, as their numbers may be reused behind our back.
 *
 * Easy handles are kept between calls with their shared options set (setup() sets only what
 * differs per request), so a request costs no handle set-up; connections live in the multi
 * handle's cache either way. */
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "edw/alloc.h"
#include "edw/clock.h"
#include "edw/http.h"
#include "edw/wake_hold.h"

struct curl_transport {
    CURLM *multi;
    struct edw_http_options opts;
    char *ca_file;
    int epfd;              /* the sockets curl asked us to watch (CURLMOPT_SOCKETFUNCTION) */
    struct fd_state *fds;  /* indexed by descriptor */
    size_t nfds;
    long long deadline_ms; /* curl's next timeout (monotonic ms); -1: none */
    CURL **idle;           /* easy handles kept for the next requests */
    size_t nidle, capidle;
    /* The request header lines of one perform() call, NUL-separated, and the curl_slist
     * nodes pointing into them: built in place rather than by curl_slist_append (two
     * allocations per header per request); valid until the next call. */
    struct edw_buf lines;
    struct curl_slist *nodes;
    size_t *offs; /* each node's line as an offset into `lines`, while `lines` may move */
    size_t nnodes, capnodes, capoffs;
};

/* What we know of one descriptor. */
struct fd_state {
    bool ours;         /* opened by on_open, not closed yet */
    bool registered;   /* in the epoll set ... */
    bool wanted;       /* ... and curl is watching it */
    uint32_t events;   /* the events registered */
};

struct transfer {
    CURL *easy;
    size_t first, nheaders; /* its header nodes: t->nodes[first .. first + nheaders) */
    struct edw_http_response *resp;
    const char *const *keep; /* the response headers to copy; NULL: all */
};

static pthread_once_t s_global_once = PTHREAD_ONCE_INIT;
static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

#ifndef EDW_CURL_KIND /* set by cmake/Curl.cmake */
#define EDW_CURL_KIND "system"
#define EDW_CURL_DESC "system"
#endif

static pthread_once_t s_library_once = PTHREAD_ONCE_INIT;
static char s_library[512];
static void library_init(void)
{
    /* curl_version() fills a static buffer of its own each call: copy it once */
    snprintf(s_library, sizeof(s_library), "%s (%s)", curl_version(), EDW_CURL_DESC);
}

const char *edw_http_library(bool runtime)
{
    if (!runtime)
        return "libcurl/" LIBCURL_VERSION " (" EDW_CURL_DESC ")";
    pthread_once(&s_library_once, library_init);
    return s_library;
}

const char *edw_http_library_kind(void)
{
    return EDW_CURL_KIND;
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

/* Whether the header named data[0..len) is one the caller asked for. */
static bool wanted_header(const char *const *keep, const char *data, size_t len)
{
    if (!keep)
        return true;
    /* Called for every header line of every response: cheap tests first (the first letter,
     * ASCII case folded; the length) before the full comparison. */
    for (; *keep; keep++) {
        const char *k = *keep;
        if (len && (k[0] | 0x20) == (data[0] | 0x20) && strnlen(k, len + 1) == len &&
            strncasecmp(k, data, len) == 0)
            return true;
    }
    return false;
}

/* Collect "Name: value" lines; a new status line (after 100 Continue) starts over. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct transfer *x = arg;
    struct edw_http_response *r = x->resp;
    size_t n = size * nmemb, len = n;
    while (len && (data[len - 1] == '\r' || data[len - 1] == '\n'))
        len--;
    if (len >= 5 && data[0] == 'H' && strncmp(data, "HTTP/", 5) == 0) {
        edw_http_headers_cleanup(&r->headers);
        return n;
    }
    char *colon = memchr(data, ':', len);
    if (!colon || !wanted_header(x->keep, data, (size_t)(colon - data)))
        return n;
    const char *v = colon + 1;
    while (v < data + len && (*v == ' ' || *v == '\t'))
        v++;
    edw_http_headers_add_n(&r->headers, data, (size_t)(colon - data), v,
                           (size_t)(data + len - v));
    return n;
}

static bool has_body(const struct edw_http_request *req)
{
    return req->body || strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0 ||
           strcmp(req->method, "MERGE") == 0 || strcmp(req->method, "PATCH") == 0;
}

static curl_socket_t on_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a);
static int on_close(void *clientp, curl_socket_t s);

/* A new easy handle with the options every request shares; setup() sets the rest. */
static CURL *easy_new(struct curl_transport *t)
{
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (t->ca_file) {
        curl_easy_setopt(e, CURLOPT_CAINFO, t->ca_file);
        curl_easy_setopt(e, CURLOPT_CAPATH, "/etc/ssl/certs"); /* add to, not replace */
    }
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, t->opts.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    /* Memory: curl allocates this receive buffer per transfer in flight (32 for a batch's
     * deletes); 16 KiB by default. Our responses are small but for receive's, which then
     * take a few more reads. See docs/BENCHMARKS.md, "Where the memory goes". */
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_close);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, t);
    return e;
}

/* The options of one request. A kept handle still holds the previous request's, so every
 * option a request may change is set here, the method included: HTTPGET (or NOBODY for HEAD,
 * POSTFIELDS for a body) puts the method back, CUSTOMREQUEST NULL drops an old verb. Setting
 * these few is cheaper than curl_easy_reset() and all the shared options again. */
static void setup(struct curl_transport *t, struct transfer *x, struct edw_http_request *req)
{
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    /* NULL: the environment's no_proxy applies */
    curl_easy_setopt(e, CURLOPT_NOPROXY, req->no_proxy ? "*" : NULL);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     req->timeout_ms > 0 ? req->timeout_ms : t->opts.request_timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x->resp);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    bool head = strcmp(req->method, "HEAD") == 0, get = strcmp(req->method, "GET") == 0;
    if (has_body(req)) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
        /* POSTFIELDS with an explicit size also gives an empty body its Content-Length: 0. */
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
    } else if (head) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, head || get ? NULL : req->method);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->nheaders ? &t->nodes[x->first] : NULL);
}

/* Queue one header line for a transfer (see lines_link). */
static void line_add(struct curl_transport *t, struct transfer *x, const char *name,
                     const char *sep, const char *value)
{
    t->offs = edw_xgrow(t->offs, &t->capoffs, t->nnodes + 1, sizeof(*t->offs));
    t->offs[t->nnodes++] = t->lines.len;
    x->nheaders++;
    if (edw_buf_append_str(&t->lines, name) || edw_buf_append_str(&t->lines, sep) ||
        edw_buf_append_str(&t->lines, value) || edw_buf_append(&t->lines, "", 1))
        abort(); /* the scratch buffer has no practical limit */
}

/* The header lines of one request. */
static void lines_of(struct curl_transport *t, struct transfer *x,
                     const struct edw_http_request *req)
{
    x->first = t->nnodes;
    x->nheaders = 0;
    bool body = has_body(req);
    if (body)
        line_add(t, x, "Expect:", "", ""); /* no 100-continue round trip */
    for (size_t i = 0; i < req->headers.n; i++)
        line_add(t, x, req->headers.items[i].name, ": ", req->headers.items[i].value);
    /* curl adds a form Content-Type only to a body it sends (POSTFIELDS) */
    if (body && !edw_http_headers_get(&req->headers, "Content-Type"))
        line_add(t, x, "Content-Type:", "", "");
}

/* Point every transfer's nodes at its lines, now that `lines` no longer moves. */
static void lines_link(struct curl_transport *t, struct transfer *xs, size_t n)
{
    t->nodes = edw_xgrow(t->nodes, &t->capnodes, t->nnodes ? t->nnodes : 1, sizeof(*t->nodes));
    char *base = t->lines.ptr;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < xs[i].nheaders; k++) {
            size_t j = xs[i].first + k;
            t->nodes[j].data = base + t->offs[j];
            t->nodes[j].next = k + 1 < xs[i].nheaders ? &t->nodes[j + 1] : NULL;
        }
    }
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

/* The system's clock, not an injected one: the transport waits on real sockets. */
static int64_t mono_us(void)
{
    return edw_clock_mono_us(edw_clock_system());
}

static long long mono_ms(void)
{
    return mono_us() / 1000;
}

static void sleep_us(int64_t us)
{
    edw_clock_sleep_us(edw_clock_system(), us);
}

static struct fd_state *fd_state(struct curl_transport *t, curl_socket_t s)
{
    size_t i = (size_t)s;
    if (i >= t->nfds) {
        size_t n = i + 64;
        t->fds = edw_xrealloc(t->fds, n * sizeof(*t->fds));
        memset(t->fds + t->nfds, 0, (n - t->nfds) * sizeof(*t->fds));
        t->nfds = n;
    }
    return &t->fds[i];
}

/* CURLOPT_OPENSOCKETFUNCTION: a connection socket; we know when it closes (on_close). */
static curl_socket_t on_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct curl_transport *t = clientp;
    (void)purpose;
    curl_socket_t s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (s == CURL_SOCKET_BAD)
        return s;
    /* A peer that stops acknowledging (its node gone, or a flow a load balancer or NAT
     * dropped without a reset, as Azure's do with connections idle for minutes) would
     * otherwise hold a request for the whole request timeout, 30 s, while its pipeline's
     * leases run out; the kernel closes such a connection after this long instead, and the
     * call is retried on a new one. A service that is merely slow to answer still
     * acknowledges the request, so this never cuts a slow answer short (as a shorter request
     * timeout would: see docs/BENCHMARKS.md, "Session 5"). Best effort: a kernel without
     * the option keeps the request timeout. */
    if (a->socktype == SOCK_STREAM && (a->family == AF_INET || a->family == AF_INET6)) {
        unsigned int ms = EDW_HTTP_UNACKED_TIMEOUT_MS;
        (void)setsockopt(s, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms));
    }
    *fd_state(t, s) = (struct fd_state){.ours = true};
    return s;
}

/* CURLOPT_CLOSESOCKETFUNCTION: closing drops the socket from the epoll set too. */
static int on_close(void *clientp, curl_socket_t s)
{
    struct curl_transport *t = clientp;
    *fd_state(t, s) = (struct fd_state){0};
    return close(s);
}

static int set_events(struct curl_transport *t, curl_socket_t s, struct fd_state *st,
                      uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.fd = s};
    int op = st->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(t->epfd, op, s, &ev) != 0) {
        /* ENOENT: closed and reopened under the same number; EEXIST: the reverse */
        op = op == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
        if (epoll_ctl(t->epfd, op, s, &ev) != 0)
            return -1;
    }
    st->registered = true;
    st->events = events;
    return 0;
}

static void unregister(struct curl_transport *t, curl_socket_t s, struct fd_state *st)
{
    if (st->registered)
        epoll_ctl(t->epfd, EPOLL_CTL_DEL, s, NULL); /* ENOENT if closed meanwhile: fine */
    st->registered = st->wanted = false;
}

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching socket `s`. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct curl_transport *t = userp;
    (void)easy;
    (void)socketp;
    struct fd_state *st = fd_state(t, s);
    if (what == CURL_POLL_REMOVE) {
        if (st->ours)
            st->wanted = false; /* stays registered while idle (see the top of the file) */
        else
            unregister(t, s, st);
        return 0;
    }
    uint32_t events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    st->wanted = true;
    if (st->registered && st->events == events)
        return 0;
    return set_events(t, s, st, events); /* -1: curl fails the transfers on this socket */
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

/* Drive the `n` transfers just added until every one has finished. */
static enum edw_err run_multi(struct curl_transport *t, size_t n)
{
    int running = 0;
    /* Adding handles armed the timer; this first call starts every transfer. */
    if (curl_multi_socket_action(t->multi, CURL_SOCKET_TIMEOUT, 0, &running) != CURLM_OK)
        return EDW_ERR_FATAL;
    collect_done(t);
    struct epoll_event ready[64];
    enum edw_err rc = EDW_OK;
    int64_t started_us = mono_us(), last_wake_us = started_us;
    while (running) {
        /* Several answers outstanding: let some arrive together (edw/wake_hold.h). */
        size_t pending = (size_t)running;
        int64_t hold = edw_wake_hold_us(started_us, last_wake_us, mono_us(),
                                        n > pending ? n - pending : 0, pending,
                                        t->opts.wake_hold_max_us);
        if (hold > 0)
            sleep_us(hold);
        long long wait = 1000;
        if (t->deadline_ms >= 0) {
            long long left = t->deadline_ms - mono_ms();
            wait = left < 0 ? 0 : left < wait ? left : wait;
        }
        int k = epoll_wait(t->epfd, ready, (int)(sizeof(ready) / sizeof(ready[0])), (int)wait);
        last_wake_us = mono_us();
        if (k < 0 && errno != EINTR) {
            rc = EDW_ERR_FATAL;
            break;
        }
        CURLMcode mc = CURLM_OK;
        for (int i = 0; i < k && mc == CURLM_OK; i++) {
            curl_socket_t fd = ready[i].data.fd;
            struct fd_state *st = fd_state(t, fd);
            if (!st->wanted) { /* an idle connection: closed by the server, most likely */
                unregister(t, fd, st);
                continue;
            }
            unsigned re = ready[i].events;
            int mask = (re & (EPOLLIN | EPOLLHUP) ? CURL_CSELECT_IN : 0) |
                       (re & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                       (re & EPOLLERR ? CURL_CSELECT_ERR : 0);
            mc = curl_multi_socket_action(t->multi, fd, mask, &running);
        }
        if (mc == CURLM_OK && t->deadline_ms >= 0 && mono_ms() >= t->deadline_ms)
            mc = curl_multi_socket_action(t->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        if (mc != CURLM_OK) {
            rc = EDW_ERR_FATAL;
            break;
        }
        collect_done(t);
    }
    return rc;
}

/* An easy handle for one request: a kept one (setup() overwrites what it held), or a new one. */
static CURL *easy_get(struct curl_transport *t)
{
    return t->nidle > 0 ? t->idle[--t->nidle] : easy_new(t);
}

/* Keep a finished handle for later; at most max_connections are kept. */
static void easy_put(struct curl_transport *t, CURL *e)
{
    if (t->nidle >= t->opts.max_connections) {
        curl_easy_cleanup(e);
        return;
    }
    t->idle = edw_xgrow(t->idle, &t->capidle, t->nidle + 1, sizeof(*t->idle));
    t->idle[t->nidle++] = e;
}

static enum edw_err ct_perform(void *state, struct edw_http_request *const *reqs,
                               struct edw_http_response *const *resps, size_t n)
{
    struct curl_transport *t = state;
    struct transfer *xs = edw_xcalloc(n ? n : 1, sizeof(*xs));
    enum edw_err rc = EDW_OK;
    edw_buf_reset(&t->lines);
    t->nnodes = 0;
    for (size_t i = 0; i < n; i++)
        lines_of(t, &xs[i], reqs[i]);
    lines_link(t, xs, n);
    for (size_t i = 0; i < n; i++) {
        xs[i].resp = resps[i];
        xs[i].keep = reqs[i]->keep_headers;
        xs[i].easy = easy_get(t);
        if (!xs[i].easy) {
            rc = EDW_ERR_FATAL;
            break;
        }
        setup(t, &xs[i], reqs[i]);
        curl_multi_add_handle(t->multi, xs[i].easy);
    }
    if (!rc)
        rc = run_multi(t, n);
    for (size_t i = 0; i < n; i++) {
        if (xs[i].easy) {
            curl_multi_remove_handle(t->multi, xs[i].easy);
            easy_put(t, xs[i].easy);
        }
    }
    free(xs);
    return rc;
}

static void ct_destroy(void *state)
{
    struct curl_transport *t = state;
    if (!t)
        return;
    if (t->multi)
        curl_multi_cleanup(t->multi);
    for (size_t i = 0; i < t->nidle; i++)
        curl_easy_cleanup(t->idle[i]);
    free(t->idle);
    if (t->epfd >= 0)
        close(t->epfd);
    free(t->fds);
    edw_buf_cleanup(&t->lines);
    free(t->nodes);
    free(t->offs);
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
        t->opts.request_timeout_ms = EDW_HTTP_DEFAULT_REQUEST_TIMEOUT_MS;
    if (!t->opts.max_connections)
        t->opts.max_connections = 64;
    if (!t->opts.wake_hold_max_us)
        t->opts.wake_hold_max_us = EDW_WAKE_HOLD_DEFAULT_US;
    t->ca_file = opts && opts->ca_file ? edw_xstrdup(opts->ca_file) : NULL;
    t->deadline_ms = -1;
    edw_buf_init(&t->lines, (size_t)1 << 30);
    t->epfd = epoll_create1(EPOLL_CLOEXEC);
    t->multi = t->epfd >= 0 ? curl_multi_init() : NULL;
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
