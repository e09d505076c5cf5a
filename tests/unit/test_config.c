/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "edw/config.h"

/* A fake environment: NAME=value strings. */
static char *s_env[16];

static char *fake_getenv(const char *name)
{
    size_t len = strlen(name);
    for (char **e = s_env; *e; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    return NULL;
}

static void set_env(char **vars)
{
    size_t i = 0;
    for (; vars && vars[i]; i++)
        s_env[i] = vars[i];
    s_env[i] = NULL;
}

struct loaded {
    struct edw_config cfg;
    struct edw_buf problems;
    enum edw_err rc;
};

static void load(struct loaded *l, unsigned cmd, char **env, int argc, char **argv)
{
    set_env(env);
    edw_config_init(&l->cfg);
    edw_buf_init(&l->problems, 1 << 16);
    struct edw_config_source src = {fake_getenv, s_env};
    l->rc = edw_config_load(&l->cfg, cmd, &src, argc, argv, &l->problems);
}

static void unload(struct loaded *l)
{
    edw_config_cleanup(&l->cfg);
    edw_buf_cleanup(&l->problems);
}

static void defaults(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, EDW_CMD_CONSUME, NULL, 0, NULL);
    assert_int_equal(l.rc, EDW_OK);
    assert_string_equal(l.cfg.backend, "sqlite");
    assert_string_equal(l.cfg.sqlite_path, "./edw.db");
    assert_string_equal(l.cfg.handler, "record");
    assert_int_equal(l.cfg.max_dequeue, 5);
    assert_int_equal(l.cfg.batch, 0); /* auto: the backend chooses (test_batch.c) */
    assert_false(l.cfg.json);
    unload(&l);
}

static void env_then_flags(void **state)
{
    (void)state;
    char *env[] = {"EDW_BATCH=10", "AZURE_QUEUE_NAME=samplequeue", "EDW_SQLITE_PATH=/x.db", NULL};
    char *argv[] = {"--batch", "20", "--json", "--visibility=90", NULL};
    struct loaded l;
    load(&l, EDW_CMD_CONSUME, env, 4, argv);
    assert_int_equal(l.rc, EDW_OK);
    assert_int_equal(l.cfg.batch, 20); /* flag beats env */
    assert_int_equal(l.cfg.visibility_s, 90);
    assert_true(l.cfg.json);
    assert_string_equal(l.cfg.queue_name, "samplequeue"); /* the samples' variable name */
    assert_string_equal(l.cfg.sqlite_path, "/x.db");
    unload(&l);
}

/* --batch takes "auto" (stored as 0) or 1..1000, from the environment or a flag; `edw config`
 * prints auto back as the word; anything else is one clear problem line. */
static void batch_auto(void **state)
{
    (void)state;
    struct loaded l;
    char *env_auto[] = {"EDW_BATCH=auto", NULL};
    load(&l, EDW_CMD_PRODUCE, env_auto, 0, NULL);
    assert_int_equal(l.rc, EDW_OK);
    assert_int_equal(l.cfg.batch, 0);
    assert_false(edw_config_is_default(&l.cfg, "batch"));
    struct edw_buf out;
    edw_buf_init(&out, 1 << 16);
    assert_int_equal(edw_config_dump(&l.cfg, false, &out), EDW_OK);
    assert_non_null(strstr(edw_buf_cstr(&out), "batch                    = auto  (env, EDW_BATCH)"));
    edw_buf_reset(&out);
    assert_int_equal(edw_config_dump(&l.cfg, true, &out), EDW_OK);
    assert_non_null(strstr(edw_buf_cstr(&out), "\"batch\":\"auto\""));
    unload(&l);

    char *env_num[] = {"EDW_BATCH=64", NULL};
    char *argv_auto[] = {"--batch=auto", NULL};
    load(&l, EDW_CMD_CONSUME, env_num, 1, argv_auto); /* the flag's auto beats the env's 64 */
    assert_int_equal(l.rc, EDW_OK);
    assert_int_equal(l.cfg.batch, 0);
    unload(&l);

    char *argv_big[] = {"--batch", "1001", NULL};
    load(&l, EDW_CMD_CONSUME, NULL, 2, argv_big);
    assert_int_equal(l.rc, EDW_ERR_INVALID);
    assert_string_equal(edw_buf_cstr(&l.problems),
                        "option --batch: '1001' is not auto or a whole number between 1 and "
                        "1000\n");
    unload(&l);

    char *env_word[] = {"EDW_BATCH=Auto", NULL}; /* the keyword is exact, like enum choices */
    load(&l, EDW_CMD_DEMO, env_word, 0, NULL);
    assert_int_equal(l.rc, EDW_ERR_INVALID);
    assert_non_null(strstr(edw_buf_cstr(&l.problems), "environment EDW_BATCH: 'Auto' is not auto"));
    unload(&l);

    edw_buf_reset(&out);
    assert_int_equal(edw_config_usage(EDW_CMD_CONSUME, &out), EDW_OK);
    assert_non_null(strstr(edw_buf_cstr(&out), "[auto] (env EDW_BATCH)"));
    edw_buf_cleanup(&out);
}

static void primary_env_beats_alias(void **state)
{
    (void)state;
    char *env[] = {"AZURE_QUEUE_NAME=alias", "EDW_QUEUE_NAME=primary", NULL};
    struct loaded l;
    load(&l, EDW_CMD_CONSUME, env, 0, NULL);
    assert_string_equal(l.cfg.queue_name, "primary");
    unload(&l);
}

static void one_line_per_problem(void **state)
{
    (void)state;
    char *env[] = {"EDW_MAX_DEQUEUE=zero", "EDW_BACKNED=sqlite", NULL};
    char *argv[] = {"--batch", "0", "--backend", "mysql", "--nope", "--handler", "work:abc", NULL};
    struct loaded l;
    load(&l, EDW_CMD_CONSUME, env, 7, argv);
    assert_int_equal(l.rc, EDW_ERR_INVALID);
    const char *p = edw_buf_cstr(&l.problems);
    assert_non_null(strstr(p, "environment EDW_MAX_DEQUEUE: 'zero' is not a whole number"));
    assert_non_null(strstr(p, "environment EDW_BACKNED: unknown setting"));
    assert_non_null(strstr(p, "option --batch: '0' is not auto or a whole number between 1 and 1000"));
    assert_non_null(strstr(p, "option --backend: 'mysql' is not one of sqlite|azure|aws"));
    assert_non_null(strstr(p, "unknown option '--nope'"));
    assert_non_null(strstr(p, "handler 'work:abc'"));
    size_t lines = 0;
    for (const char *c = p; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 6);
    unload(&l);
}

/* Credentials are environment-only: a user typing one as a flag must not see it echoed. */
static void unknown_option_value_not_echoed(void **state)
{
    (void)state;
    char *argv[] = {"--azure-account-key=c2VjcmV0LWtleQ==", NULL};
    struct loaded l;
    load(&l, EDW_CMD_CONSUME, NULL, 1, argv);
    assert_int_equal(l.rc, EDW_ERR_INVALID);
    const char *p = edw_buf_cstr(&l.problems);
    assert_non_null(strstr(p, "unknown option '--azure-account-key'"));
    assert_null(strstr(p, "c2VjcmV0"));
    unload(&l);
}

static void flags_belong_to_commands(void **state)
{
    (void)state;
    char *argv[] = {"--count", "5", NULL};
    struct loaded l;
    load(&l, EDW_CMD_CONSUME, NULL, 2, argv); /* --count is a produce flag */
    assert_int_equal(l.rc, EDW_ERR_INVALID);
    assert_non_null(strstr(edw_buf_cstr(&l.problems), "unknown option '--count'"));
    unload(&l);
    load(&l, EDW_CMD_PRODUCE, NULL, 2, argv);
    assert_int_equal(l.rc, EDW_OK);
    assert_int_equal(l.cfg.count, 5);
    unload(&l);
}

static void missing_value_and_positionals(void **state)
{
    (void)state;
    char *argv[] = {"send", "-", "--", "--not-a-flag", "--queue", NULL};
    struct loaded l;
    load(&l, EDW_CMD_QUEUE, NULL, 5, argv);
    assert_int_equal(l.rc, EDW_OK); /* after --, everything is positional */
    assert_int_equal(l.cfg.nargs, 4);
    assert_string_equal(l.cfg.args[0], "send");
    assert_string_equal(l.cfg.args[1], "-");
    assert_string_equal(l.cfg.args[2], "--not-a-flag");
    unload(&l);
    char *argv2[] = {"depth", "--queue", NULL};
    load(&l, EDW_CMD_QUEUE, NULL, 2, argv2);
    assert_int_equal(l.rc, EDW_ERR_INVALID);
    assert_non_null(strstr(edw_buf_cstr(&l.problems), "option --queue needs a value"));
    unload(&l);
}

static void cross_field_rules(void **state)
{
    (void)state;
    char *argv[] = {"--min-replicas", "5", "--max-replicas", "2", NULL};
    struct loaded l;
    load(&l, EDW_CMD_DEMO, NULL, 4, argv);
    assert_int_equal(l.rc, EDW_ERR_INVALID);
    assert_non_null(strstr(edw_buf_cstr(&l.problems), "--min-replicas (5) is larger"));
    unload(&l);
    char *argv2[] = {"--count", "0", NULL};
    load(&l, EDW_CMD_PRODUCE, NULL, 2, argv2);
    assert_int_equal(l.rc, EDW_ERR_INVALID);
    unload(&l);
    char *argv3[] = {"--count", "0", "--duration", "3", NULL};
    load(&l, EDW_CMD_PRODUCE, NULL, 4, argv3);
    assert_int_equal(l.rc, EDW_OK);
    unload(&l);
}

static void dump_shows_origin(void **state)
{
    (void)state;
    char *env[] = {"EDW_BATCH=7", NULL};
    char *argv[] = {"--backend", "sqlite", NULL};
    struct loaded l;
    load(&l, EDW_CMD_CONFIG, env, 2, argv);
    assert_int_equal(l.rc, EDW_OK);
    struct edw_buf out;
    edw_buf_init(&out, 1 << 16);
    assert_int_equal(edw_config_dump(&l.cfg, false, &out), EDW_OK);
    assert_non_null(strstr(edw_buf_cstr(&out), "batch                    = 7  (env, EDW_BATCH)"));
    assert_non_null(strstr(edw_buf_cstr(&out), "backend                  = sqlite  (flag"));
    edw_buf_reset(&out);
    assert_int_equal(edw_config_dump(&l.cfg, true, &out), EDW_OK);
    assert_non_null(strstr(edw_buf_cstr(&out), "\"batch\":7"));
    assert_non_null(strstr(edw_buf_cstr(&out), "\"run\":null"));
    edw_buf_cleanup(&out);
    unload(&l);
}

/* Secrets are printed as *** and never echoed back in a validation message. */
static void secrets_redacted(void **state)
{
    (void)state;
    for (const struct edw_setting *s = edw_settings; s->help; s++) {
        if (s->type != EDW_SET_SECRET || !s->env)
            continue;
        char var[256];
        snprintf(var, sizeof(var), "%s=TopSecretValue123", s->env);
        char *env[] = {var, NULL};
        struct loaded l;
        load(&l, EDW_CMD_CONFIG, env, 0, NULL);
        struct edw_buf out;
        edw_buf_init(&out, 1 << 16);
        assert_int_equal(edw_config_dump(&l.cfg, false, &out), EDW_OK);
        assert_null(strstr(edw_buf_cstr(&out), "TopSecretValue123"));
        assert_null(strstr(edw_buf_cstr(&l.problems), "TopSecretValue123"));
        edw_buf_reset(&out);
        assert_int_equal(edw_config_dump(&l.cfg, true, &out), EDW_OK);
        assert_null(strstr(edw_buf_cstr(&out), "TopSecretValue123"));
        edw_buf_cleanup(&out);
        unload(&l);
    }
}

static void usage_lists_command_flags(void **state)
{
    (void)state;
    struct edw_buf out;
    edw_buf_init(&out, 1 << 16);
    assert_int_equal(edw_config_usage(EDW_CMD_VERIFY, &out), EDW_OK);
    assert_non_null(strstr(edw_buf_cstr(&out), "--expect V"));
    assert_null(strstr(edw_buf_cstr(&out), "--max-dequeue"));
    edw_buf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(env_then_flags),
        cmocka_unit_test(primary_env_beats_alias),
        cmocka_unit_test(one_line_per_problem),
        cmocka_unit_test(unknown_option_value_not_echoed),
        cmocka_unit_test(flags_belong_to_commands),
        cmocka_unit_test(missing_value_and_positionals),
        cmocka_unit_test(cross_field_rules),
        cmocka_unit_test(dump_shows_origin),
        cmocka_unit_test(batch_auto),
        cmocka_unit_test(secrets_redacted),
        cmocka_unit_test(usage_lists_command_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
