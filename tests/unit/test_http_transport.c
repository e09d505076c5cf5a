/* SPDX-License-Identifier: Apache-2.0 */
/* The libcurl transport's own sockets, against HTTP servers on loopback: a request is
 * answered, and the kept-alive connection carries TCP_USER_TIMEOUT, so a peer that stops
 * acknowledging is dropped by the kernel instead of holding a request for its whole timeout
 * (src/http/curl_transport.c, on_open); answers that trickle in one at a time are read
 * several per wake-up (edw/wake_hold.h); a kept handle sends each request with its own method
 * and body, not the previous request's. */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four above first */
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "edw/http.h"
#include "edw/wake_hold.h"

struct server {
    int listener;
    int port;
};

/* What the server saw of one request. */
struct seen {
    char method[16];
    long content_length; /* -1: no Content-Length header */
    char body[16];
};

/* Read one request from `c` into `out`; false when the connection ends first. */
static bool read_request(int c, struct seen *out)
{
    char buf[4096];
    size_t have = 0;
    char *end = NULL;
    while (!end) {
        if (have >= sizeof(buf) - 1)
            return false;
        ssize_t n = read(c, buf + have, sizeof(buf) - 1 - have);
        if (n <= 0)
            return false;
        have += (size_t)n;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    *out = (struct seen){.content_length = -1};
    sscanf(buf, "%15s", out->method);
    for (char *h = strstr(buf, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n"))
        if (strncasecmp(h + 2, "Content-Length:", 15) == 0)
            out->content_length = strtol(h + 17, NULL, 10);
    size_t body = (size_t)(out->content_length > 0 ? out->content_length : 0);
    if (body >= sizeof(out->body))
        return false; /* larger than any body these tests send */
    size_t got = have - (size_t)(end + 4 - buf);
    memcpy(out->body, end + 4, got < sizeof(out->body) - 1 ? got : sizeof(out->body) - 1);
    /* the rest of a body sent apart from its headers */
    while (got < body) {
        ssize_t n = read(c, out->body + got, body - got);
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return true;
}

/* Accept one connection, answer each request on it with 204 until the client closes it. */
static void *serve(void *arg)
{
    struct server *sv = arg;
    int c = accept(sv->listener, NULL, NULL);
    if (c < 0)
        return NULL;
    static const char reply[] = "HTTP/1.1 204 No Content\r\n\r\n";
    struct seen req;
    while (read_request(c, &req) &&
           write(c, reply, sizeof(reply) - 1) == (ssize_t)(sizeof(reply) - 1))
        ;
    close(c);
    return NULL;
}

static int start_server(struct server *sv)
{
    sv->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (sv->listener < 0 || bind(sv->listener, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(sv->listener, 4) != 0 || getsockname(sv->listener, (struct sockaddr *)&a, &len))
        return -1;
    sv->port = ntohs(a.sin_port);
    return 0;
}

/* The client end of our connection: the TCP socket of this process whose peer is the
 * server's port. -1 if there is none. */
static int client_socket(int port)
{
    for (int fd = 3; fd < 1024; fd++) {
        int type = 0;
        socklen_t tl = sizeof(type);
        struct sockaddr_in peer;
        socklen_t pl = sizeof(peer);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM &&
            getpeername(fd, (struct sockaddr *)&peer, &pl) == 0 && peer.sin_family == AF_INET &&
            ntohs(peer.sin_port) == port)
            return fd;
    }
    return -1;
}

static void connections_drop_a_silent_peer(void **state)
{
    (void)state;
    struct server sv;
    assert_int_equal(start_server(&sv), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, serve, &sv), 0);

    struct edw_http_transport *t = NULL;
    struct edw_error err = {0};
    assert_int_equal(edw_http_transport_curl_new(NULL, &t, &err), EDW_OK);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/q", sv.port);
    struct edw_http_request req;
    struct edw_http_response resp;
    edw_http_request_init(&req, "GET", url);
    edw_http_response_init(&resp);
    struct edw_http_request *rq = &req;
    struct edw_http_response *rs = &resp;
    assert_int_equal(edw_http_perform(t, &rq, &rs, 1), EDW_OK);
    assert_int_equal(resp.status, 204);

    /* The connection stays in the pool: its socket carries the option. */
    int fd = client_socket(sv.port);
    assert_true(fd >= 0);
    unsigned int ms = 0;
    socklen_t len = sizeof(ms);
    assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, &len), 0);
    assert_int_equal(ms, EDW_HTTP_UNACKED_TIMEOUT_MS);

    edw_http_request_cleanup(&req);
    edw_http_response_cleanup(&resp);
    edw_http_transport_destroy(t); /* closes the connection: the server thread ends */
    pthread_join(th, NULL);
    close(sv.listener);
}

#define TRICKLE_N 32 /* requests, each on its own connection */
#define TRICKLE_GAP_NS 3000000 /* between two answers */

/* Accept TRICKLE_N connections, read one request from each, then answer them one at a time,
 * TRICKLE_GAP_NS apart (as Azurite answers a set of deletes), and close them. */
static void *serve_trickle(void *arg)
{
    struct server *sv = arg;
    int conns[TRICKLE_N];
    size_t n = 0;
    for (; n < TRICKLE_N; n++) {
        conns[n] = accept(sv->listener, NULL, NULL);
        if (conns[n] < 0)
            break;
        struct seen req;
        (void)read_request(conns[n], &req); /* answered below, whatever it was */
    }
    static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    for (size_t i = 0; i < n; i++) {
        const struct timespec gap = {0, TRICKLE_GAP_NS};
        nanosleep(&gap, NULL);
        if (write(conns[i], reply, sizeof(reply) - 1) < 0)
            break;
    }
    for (size_t i = 0; i < n; i++)
        close(conns[i]);
    return NULL;
}

/* Perform TRICKLE_N requests against a trickling server with the given hold cap; returns the
 * voluntary context switches of this thread meanwhile (each one a wake-up or a hold). */
static long trickle_switches(long wake_hold_max_us)
{
    struct server sv;
    assert_int_equal(start_server(&sv), 0);
    assert_int_equal(listen(sv.listener, TRICKLE_N), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, serve_trickle, &sv), 0);
    struct edw_http_options o = {.wake_hold_max_us = wake_hold_max_us};
    struct edw_http_transport *t = NULL;
    struct edw_error err = {0};
    assert_int_equal(edw_http_transport_curl_new(&o, &t, &err), EDW_OK);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/m", sv.port);
    struct edw_http_request reqs[TRICKLE_N];
    struct edw_http_response resps[TRICKLE_N];
    struct edw_http_request *rq[TRICKLE_N];
    struct edw_http_response *rs[TRICKLE_N];
    for (size_t i = 0; i < TRICKLE_N; i++) {
        edw_http_request_init(&reqs[i], "GET", url);
        edw_http_response_init(&resps[i]);
        rq[i] = &reqs[i];
        rs[i] = &resps[i];
    }
    struct rusage before, after;
    getrusage(RUSAGE_THREAD, &before);
    assert_int_equal(edw_http_perform(t, rq, rs, TRICKLE_N), EDW_OK);
    getrusage(RUSAGE_THREAD, &after);
    for (size_t i = 0; i < TRICKLE_N; i++) {
        assert_int_equal(resps[i].status, 200);
        assert_string_equal(edw_buf_cstr(&resps[i].body), "ok");
        edw_http_request_cleanup(&reqs[i]);
        edw_http_response_cleanup(&resps[i]);
    }
    edw_http_transport_destroy(t);
    pthread_join(th, NULL);
    close(sv.listener);
    return after.ru_nvcsw - before.ru_nvcsw;
}

static void trickling_answers_are_read_together(void **state)
{
    (void)state;
    long each = trickle_switches(-1);
    long held = trickle_switches(0); /* the default hold */
    print_message("voluntary switches for %d answers %d ms apart: %ld without hold, %ld with\n",
                  TRICKLE_N, TRICKLE_GAP_NS / 1000000, each, held);
    /* Without a hold every answer is its own wake-up (here about 32); with it, once a few
     * answers have shown their pace, several are read per wake-up (about 11). */
    assert_true(held * 3 < each * 2);
}

#define SEQ_N 7

struct seq_server {
    struct server sv;
    struct seen seen[SEQ_N];
};

/* Answer SEQ_N requests (on as many connections as the client opens) with an empty 200. */
static void *serve_sequence(void *arg)
{
    struct seq_server *s = arg;
    size_t i = 0;
    while (i < SEQ_N) {
        int c = accept(s->sv.listener, NULL, NULL);
        if (c < 0)
            return NULL;
        static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        while (i < SEQ_N && read_request(c, &s->seen[i]) &&
               write(c, reply, sizeof(reply) - 1) == (ssize_t)(sizeof(reply) - 1))
            i++;
        close(c);
    }
    return NULL;
}

static void a_kept_handle_sends_each_request_as_asked(void **state)
{
    (void)state;
    struct seq_server s = {0};
    assert_int_equal(start_server(&s.sv), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, serve_sequence, &s), 0);
    struct edw_http_transport *t = NULL;
    struct edw_error err = {0};
    assert_int_equal(edw_http_transport_curl_new(NULL, &t, &err), EDW_OK);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", s.sv.port);
    /* One request per call, so each reuses the handle the one before it used. */
    static const struct {
        const char *method, *body;
        long content_length;
    } seq[SEQ_N] = {{"POST", "abc", 3},   {"GET", NULL, -1}, {"HEAD", NULL, -1},
                    {"DELETE", NULL, -1}, {"PUT", NULL, 0},  {"MERGE", "xy", 2},
                    {"GET", NULL, -1}};
    for (size_t i = 0; i < SEQ_N; i++) {
        struct edw_http_request req;
        struct edw_http_response resp;
        edw_http_request_init(&req, seq[i].method, url);
        req.body = seq[i].body;
        req.body_len = seq[i].body ? strlen(seq[i].body) : 0;
        edw_http_response_init(&resp);
        struct edw_http_request *rq = &req;
        struct edw_http_response *rs = &resp;
        assert_int_equal(edw_http_perform(t, &rq, &rs, 1), EDW_OK);
        assert_int_equal(resp.status, 200);
        edw_http_request_cleanup(&req);
        edw_http_response_cleanup(&resp);
    }
    edw_http_transport_destroy(t);
    pthread_join(th, NULL);
    close(s.sv.listener);
    for (size_t i = 0; i < SEQ_N; i++) {
        assert_string_equal(s.seen[i].method, seq[i].method);
        assert_int_equal(s.seen[i].content_length, seq[i].content_length);
        assert_string_equal(s.seen[i].body, seq[i].body ? seq[i].body : "");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connections_drop_a_silent_peer),
        cmocka_unit_test(trickling_answers_are_read_together),
        cmocka_unit_test(a_kept_handle_sends_each_request_as_asked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
