/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration from the environment and the command line (the settings table in
 * src/core/settings.c, loaded by src/core/config.c), then printed as `edw config` does (text
 * and JSON). Input: byte 0 picks the subcommand, byte 1 how many of the following
 * NUL-separated pieces are environment entries (NAME=value); the rest are argv. Loading must
 * fail cleanly or succeed, and neither the problems nor the printed configuration may show
 * the value of a secret setting (account key, SAS, connection string, AWS secret, ...). */
#include "edw/config.h"
#include "fuzz_common.h"

#define MAX_PIECES 64

static char **s_env; /* the environment of the current run (getenv has no context) */

static char *fake_getenv(const char *name)
{
    size_t n = strlen(name);
    for (char **e = s_env; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

/* Load, then append the problems and both dumps to `out`. */
static void run(unsigned cmd, char **env, int argc, char **argv, struct edw_buf *out)
{
    s_env = env;
    struct edw_config_source src = {fake_getenv, env};
    struct edw_config cfg;
    edw_config_init(&cfg);
    enum edw_err rc = edw_config_load(&cfg, cmd, &src, argc, argv, out);
    FUZZ_CHECK(rc == EDW_OK || rc == EDW_ERR_INVALID);
    FUZZ_CHECK(rc == EDW_OK || out->len > 0);
    FUZZ_CHECK(cfg.nargs <= (size_t)argc);
    if (edw_config_dump(&cfg, false, out) != EDW_OK || edw_config_dump(&cfg, true, out) != EDW_OK)
        abort();
    (void)edw_config_is_default(&cfg, "queue-name");
    edw_config_cleanup(&cfg);
    s_env = NULL;
}

/* Whether environment entry `e` sets a secret setting. */
static bool is_secret_env(const char *e)
{
    size_t len = strcspn(e, "=");
    for (const struct edw_setting *s = edw_settings; s->help; s++) {
        if (s->type != EDW_SET_SECRET)
            continue;
        const char *names[2] = {s->env, s->env_alias};
        for (int k = 0; k < 2; k++) {
            for (const char *p = names[k]; p && *p;) {
                size_t n = strcspn(p, "|");
                if (n == len && strncmp(p, e, n) == 0)
                    return true;
                p = p[n] ? p + n + 1 : NULL;
            }
        }
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size < 2)
        return 0;
    static const unsigned cmds[] = {EDW_CMD_PRODUCE, EDW_CMD_CONSUME, EDW_CMD_VERIFY,
                                    EDW_CMD_DEMO,    EDW_CMD_QUEUE,   EDW_CMD_TABLE,
                                    EDW_CMD_CONFIG};
    unsigned cmd = cmds[data[0] % (sizeof(cmds) / sizeof(cmds[0]))];
    size_t nenv = data[1] % 16;
    data += 2;
    size_t left = size - 2;
    char *pieces[MAX_PIECES + 1];
    size_t n = 0;
    char *p;
    while (n < MAX_PIECES && (p = fuzz_take(&data, &left, '\0')))
        pieces[n++] = p;
    if (nenv > n)
        nenv = n;
    char **env = edw_xcalloc(nenv + 1, sizeof(char *));
    memcpy(env, pieces, nenv * sizeof(char *));
    char **argv = edw_xcalloc(n - nenv + 1, sizeof(char *));
    memcpy(argv, pieces + nenv, (n - nenv) * sizeof(char *));

    struct edw_buf out;
    edw_buf_init(&out, 1 << 20);
    run(cmd, env, (int)(n - nenv), argv, &out);
    const char *text = edw_buf_cstr(&out);

    /* A secret value counts as shown when it is in the output, no other piece of input holds
     * it (a non-secret setting may legitimately print the same text), and it disappears from
     * the output once masked in the input (so it is not just part of the messages' wording).
     * Values shorter than 8 bytes could match by chance and are not checked. */
    for (size_t i = 0; i < nenv; i++) {
        const char *eq = strchr(env[i], '=');
        if (!eq || !is_secret_env(env[i]) || !fuzz_leaks(text, eq + 1, 8))
            continue;
        const char *v = eq + 1;
        bool elsewhere = false;
        for (size_t k = 0; k < n && !elsewhere; k++)
            elsewhere = k != i && strstr(pieces[k], v) != NULL;
        elsewhere = elsewhere || strstr(env[i], v) < eq; /* in the name itself */
        if (elsewhere)
            continue;
        char *saved = env[i];
        env[i] = edw_xstrdup(saved);
        memset(env[i] + (eq - saved) + 1, 'A', strlen(v));
        struct edw_buf again;
        edw_buf_init(&again, 1 << 20);
        run(cmd, env, (int)(n - nenv), argv, &again);
        bool wording = strstr(edw_buf_cstr(&again), v) != NULL;
        edw_buf_cleanup(&again);
        free(env[i]);
        env[i] = saved;
        FUZZ_CHECK(wording); /* otherwise the secret was printed */
    }
    edw_buf_cleanup(&out);
    for (size_t i = 0; i < n; i++)
        free(pieces[i]);
    free(env);
    free(argv);
    return 0;
}
