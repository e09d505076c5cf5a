/* SPDX-License-Identifier: Apache-2.0 */
/* The libcurl transport's own sockets, against a one-connection HTTP server on loopback: a
 * request is answered, and the kept-alive connection carries TCP_USER_TIMEOUT, so a peer that
 * stops acknowledging is dropped by the kernel instead of holding a request for its whole
 * timeout (src/http/curl_transport.c, on_open). */
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
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "edw/http.h"

struct server {
    int listener;
    int port;
};

/* Accept one connection, answer each request on it with 204 until the client closes it. */
static void *serve(void *arg)
{
    struct server *sv = arg;
    int c = accept(sv->listener, NULL, NULL);
    if (c < 0)
        return NULL;
    char buf[4096];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(c, buf + have, sizeof(buf) - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
        if (strstr(buf, "\r\n\r\n")) {
            static const char reply[] = "HTTP/1.1 204 No Content\r\n\r\n";
            if (write(c, reply, sizeof(reply) - 1) < 0)
                break;
            have = 0;
        }
        if (have >= sizeof(buf) - 1)
            break;
    }
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connections_drop_a_silent_peer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
