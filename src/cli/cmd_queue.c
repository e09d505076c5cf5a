/* SPDX-License-Identifier: Apache-2.0 */
/* `edw queue create|depth|peek|clear|send TEXT|-`: operator tools over the queue interface. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int create(struct edw_cli *cli, struct edw_queue *q)
{
    struct edw_error err = {0};
    enum edw_err rc = edw_queue_create(q, &err);
    if (rc) {
        edw_cli_fail(cli, rc, &err);
        return EDW_EXIT_FAIL;
    }
    printf("queue %s and %s-poison ready\n", cli->cfg.queue_name, cli->cfg.queue_name);
    return EDW_EXIT_OK;
}

static int depth(struct edw_cli *cli, struct edw_queue *q)
{
    struct edw_queue_depth d = {0};
    struct edw_error err = {0};
    enum edw_err rc = edw_queue_depth(q, &d, &err);
    if (rc) {
        edw_cli_fail(cli, rc, &err);
        return EDW_EXIT_FAIL;
    }
    unsigned long long total = d.visible + d.in_flight;
    printf("queue %s: %llu messages (%llu visible, %llu leased), %llu poisoned\n",
           cli->cfg.queue_name, total, (unsigned long long)d.visible,
           (unsigned long long)d.in_flight, (unsigned long long)d.poison);
    struct edw_buf j;
    edw_buf_init(&j, 4096);
    if (edw_buf_appendf(&j,
                        "{\"queue\":\"%s\",\"depth\":%llu,\"visible\":%llu,\"in_flight\":%llu,"
                        "\"poison\":%llu}",
                        cli->cfg.queue_name, total, (unsigned long long)d.visible,
                        (unsigned long long)d.in_flight, (unsigned long long)d.poison) == EDW_OK)
        edw_cli_json(cli, &j);
    edw_buf_cleanup(&j);
    return EDW_EXIT_OK;
}

static enum edw_err json_msg(struct edw_buf *j, const struct edw_msg *m, bool first)
{
    enum edw_err rc = edw_buf_appendf(j, "%s{\"id\":\"", first ? "" : ",");
    if (!rc)
        rc = edw_buf_append_json_str(j, m->id, strlen(m->id));
    if (!rc)
        rc = edw_buf_appendf(j, "\",\"dequeue_count\":%u,\"body\":\"", m->dequeue_count);
    if (!rc)
        rc = edw_buf_append_json_str(j, m->body, m->body_len);
    if (!rc && m->reason) {
        rc = edw_buf_append_str(j, "\",\"reason\":\"");
        if (!rc)
            rc = edw_buf_append_json_str(j, m->reason, strlen(m->reason));
    }
    return rc ? rc : edw_buf_append_str(j, "\"}");
}

static int peek(struct edw_cli *cli, struct edw_queue *q)
{
    struct edw_msg_batch b = {0};
    struct edw_error err = {0};
    enum edw_err rc = edw_queue_peek(q, cli->cfg.poison, 32, &b, &err);
    if (rc) {
        edw_cli_fail(cli, rc, &err);
        return EDW_EXIT_FAIL;
    }
    struct edw_buf j;
    edw_buf_init(&j, 64 << 20);
    rc = edw_buf_appendf(&j, "{\"queue\":\"%s%s\",\"messages\":[", cli->cfg.queue_name,
                         cli->cfg.poison ? "-poison" : "");
    for (size_t i = 0; i < b.n; i++) {
        const struct edw_msg *m = &b.msgs[i];
        printf("%s  dequeued %u  %.*s%s%s\n", m->id, m->dequeue_count, (int)m->body_len,
               m->body, m->reason ? "\n    reason: " : "", m->reason ? m->reason : "");
        if (!rc)
            rc = json_msg(&j, m, i == 0);
    }
    if (!rc && edw_buf_append_str(&j, "]}") == EDW_OK)
        edw_cli_json(cli, &j);
    edw_buf_cleanup(&j);
    edw_msg_batch_cleanup(&b);
    return EDW_EXIT_OK;
}

static int clear(struct edw_cli *cli, struct edw_queue *q)
{
    struct edw_error err = {0};
    enum edw_err rc = edw_queue_clear(q, cli->cfg.poison, &err);
    if (rc) {
        edw_cli_fail(cli, rc, &err);
        return EDW_EXIT_FAIL;
    }
    printf("cleared %s%s\n", cli->cfg.queue_name, cli->cfg.poison ? "-poison" : "");
    return EDW_EXIT_OK;
}

/* The body is sent exactly as given: operators and tests use it for odd input. */
static int send(struct edw_cli *cli, struct edw_queue *q, const char *arg)
{
    struct edw_buf body;
    edw_buf_init(&body, edw_queue_ops_of(q)->max_body_bytes);
    enum edw_err rc = EDW_OK;
    if (strcmp(arg, "-") == 0) {
        char chunk[65536];
        size_t n;
        while (!rc && (n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
            rc = edw_buf_append(&body, chunk, n);
    } else {
        rc = edw_buf_append_str(&body, arg);
    }
    if (rc) {
        fprintf(stderr, "edw queue send: body is larger than the backend's limit of %zu bytes\n",
                edw_queue_ops_of(q)->max_body_bytes);
        return EDW_EXIT_FAIL;
    }
    struct edw_str view = {edw_buf_cstr(&body), body.len};
    struct edw_error err = {0};
    rc = edw_queue_send(q, &view, 1, &err);
    edw_buf_cleanup(&body);
    if (rc) {
        edw_cli_fail(cli, rc, &err);
        return EDW_EXIT_FAIL;
    }
    struct edw_buf j;
    edw_buf_init(&j, 4096);
    if (edw_buf_appendf(&j, "{\"queue\":\"%s\",\"sent\":1}", cli->cfg.queue_name) == EDW_OK)
        edw_cli_json(cli, &j);
    edw_buf_cleanup(&j);
    return EDW_EXIT_OK;
}

int edw_cmd_queue(int argc, char **argv)
{
    struct edw_cli cli;
    int code = edw_cli_init(&cli, EDW_CMD_QUEUE, "queue", argc, argv);
    if (code >= 0)
        goto out;
    const char *verb = cli.cfg.nargs ? cli.cfg.args[0] : "";
    bool is_send = strcmp(verb, "send") == 0;
    static const char *const verbs[] = {"create", "depth", "peek", "clear", "send"};
    bool known = false;
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        known = known || strcmp(verb, verbs[i]) == 0;
    if (!known || cli.cfg.nargs != (is_send ? 2u : 1u)) {
        fprintf(stderr, "usage: edw queue create|depth|peek|clear|send TEXT|- [options]\n");
        code = EDW_EXIT_USAGE;
        goto out;
    }
    struct edw_queue *q = NULL;
    code = EDW_EXIT_FAIL;
    if (edw_cli_open_queue(&cli, &q)) {
        if (strcmp(verb, "create") == 0)
            code = create(&cli, q);
        else if (strcmp(verb, "depth") == 0)
            code = depth(&cli, q);
        else if (strcmp(verb, "peek") == 0)
            code = peek(&cli, q);
        else if (strcmp(verb, "clear") == 0)
            code = clear(&cli, q);
        else
            code = send(&cli, q, cli.cfg.args[1]);
    }
    edw_queue_close(q);
out:
    edw_cli_cleanup(&cli);
    return code;
}
