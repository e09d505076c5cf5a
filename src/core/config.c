/* SPDX-License-Identifier: Apache-2.0 */
/* Loading, validating and printing configuration, all driven by edw_settings[]. */
#include "edw/config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edw/alloc.h"

#define FIELD(cfg, s, type) ((type *)(void *)((char *)(cfg) + (s)->offset))

static size_t nsettings(void)
{
    size_t n = 0;
    while (edw_settings[n].help)
        n++;
    return n;
}

static bool is_string(const struct edw_setting *s)
{
    return s->type == EDW_SET_STRING || s->type == EDW_SET_SECRET || s->type == EDW_SET_ENUM;
}

static bool enum_has(const char *choices, const char *value)
{
    size_t len = strlen(value);
    const char *p = choices;
    while (p && *p) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && strncmp(p, value, n) == 0)
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

static bool parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off", ""};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(text, yes[i]) == 0) {
            *out = true;
            return true;
        }
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        if (strcmp(text, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* Store `text` into the setting's field. On failure append one line to `problems`. */
static bool assign(struct edw_config *cfg, const struct edw_setting *s, const char *text,
                   const char *where, struct edw_buf *problems)
{
    enum edw_err ignored = EDW_OK;
    char *end = NULL;
    errno = 0;
    switch (s->type) {
    case EDW_SET_STRING:
    case EDW_SET_SECRET:
        free(*FIELD(cfg, s, char *));
        *FIELD(cfg, s, char *) = edw_xstrdup(text);
        return true;
    case EDW_SET_ENUM:
        if (!enum_has(s->choices, text))
            break;
        free(*FIELD(cfg, s, char *));
        *FIELD(cfg, s, char *) = edw_xstrdup(text);
        return true;
    case EDW_SET_BOOL:
        if (!parse_bool(text, FIELD(cfg, s, bool)))
            break;
        return true;
    case EDW_SET_INT: {
        if (s->choices && strcmp(text, s->choices) == 0) {
            *FIELD(cfg, s, long long) = 0;
            return true;
        }
        long long v = strtoll(text, &end, 10);
        if (errno || end == text || *end || (double)v < s->min || (double)v > s->max)
            break;
        *FIELD(cfg, s, long long) = v;
        return true;
    }
    case EDW_SET_DOUBLE: {
        double v = strtod(text, &end);
        if (errno || end == text || *end || !isfinite(v) || v < s->min || v > s->max)
            break;
        *FIELD(cfg, s, double) = v;
        return true;
    }
    }
    if (!problems)
        return false;
    /* Never echo a secret's value back, even when it is malformed. */
    const char *shown = s->type == EDW_SET_SECRET ? "***" : text;
    if (s->type == EDW_SET_ENUM)
        ignored = edw_buf_appendf(problems, "%s: '%s' is not one of %s\n", where, shown,
                                  s->choices);
    else if (s->type == EDW_SET_BOOL)
        ignored = edw_buf_appendf(problems, "%s: '%s' is not a boolean (1/0/true/false)\n",
                                  where, shown);
    else
        ignored = edw_buf_appendf(problems, "%s: '%s' is not %s%sa %s between %g and %g\n",
                                  where, shown, s->choices ? s->choices : "",
                                  s->choices ? " or " : "",
                                  s->type == EDW_SET_INT ? "whole number" : "number", s->min,
                                  s->max);
    (void)ignored;
    return false;
}

void edw_config_init(struct edw_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (const struct edw_setting *s = edw_settings; s->help; s++) {
        if (s->def && !assign(cfg, s, s->def, "default", NULL))
            abort(); /* a bad default in the table is a programming error */
    }
}

void edw_config_cleanup(struct edw_config *cfg)
{
    if (!cfg)
        return;
    for (const struct edw_setting *s = edw_settings; s->help; s++) {
        if (is_string(s)) {
            free(*FIELD(cfg, s, char *));
            *FIELD(cfg, s, char *) = NULL;
        }
    }
    free(cfg->args);
    cfg->args = NULL;
    cfg->nargs = 0;
}

static void load_env(struct edw_config *cfg, const struct edw_config_source *src,
                     struct edw_buf *problems)
{
    size_t i = 0;
    for (const struct edw_setting *s = edw_settings; s->help; s++, i++) {
        /* The primary name, then each '|'-separated alias: the first one set wins. */
        const char *alias = s->env_alias;
        const char *name = s->env;
        size_t len = name ? strlen(name) : 0;
        while (name || alias) {
            char env[96] = "";
            if (name && len < sizeof(env)) {
                memcpy(env, name, len);
                env[len] = '\0';
            }
            const char *value = env[0] ? src->getenv(env) : NULL;
            if (value) {
                char where[128];
                snprintf(where, sizeof(where), "environment %s", env);
                if (assign(cfg, s, value, where, problems))
                    cfg->origin[i] = EDW_FROM_ENV;
                break;
            }
            name = alias;
            len = alias ? strcspn(alias, "|") : 0;
            alias = alias && alias[len] == '|' ? alias + len + 1 : NULL;
        }
    }
}

/* An EDW_* variable that no setting reads is almost always a typo. */
static void check_unknown_env(const struct edw_config_source *src, struct edw_buf *problems)
{
    for (char *const *e = src->environ; e && *e; e++) {
        if (strncmp(*e, "EDW_", 4) != 0)
            continue;
        size_t len = strcspn(*e, "=");
        bool known = false;
        for (const struct edw_setting *s = edw_settings; s->help && !known; s++)
            known = s->env && strlen(s->env) == len && strncmp(s->env, *e, len) == 0;
        if (!known) {
            enum edw_err ignored =
                edw_buf_appendf(problems, "environment %.*s: unknown setting (see edw --help)\n",
                                (int)len, *e);
            (void)ignored;
        }
    }
}

static const struct edw_setting *find_flag(const char *name, size_t len)
{
    for (const struct edw_setting *s = edw_settings; s->help; s++)
        if (s->flag && strlen(s->flag) == len && strncmp(s->flag, name, len) == 0)
            return s;
    return NULL;
}

static void parse_args(struct edw_config *cfg, unsigned cmd, int argc, char *const *argv,
                       struct edw_buf *problems)
{
    enum edw_err ignored = EDW_OK;
    bool flags_done = false;
    cfg->args = edw_xcalloc((size_t)argc + 1, sizeof(char *));
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (flags_done || a[0] != '-' || strcmp(a, "-") == 0) {
            cfg->args[cfg->nargs++] = (char *)a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (strcmp(a, "-h") == 0)
            a = "--help";
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct edw_setting *s = a[1] == '-' ? find_flag(name, len) : NULL;
        if (!s || !(s->cmds & cmd)) {
            /* Only the name: a mistyped "--account-key=..." must not echo its value (a secret). */
            int shown = (int)(eq ? (size_t)(eq - a) : strlen(a));
            ignored = edw_buf_appendf(problems, "unknown option '%.*s'\n", shown, a);
            continue;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (s->type == EDW_SET_BOOL && !value) {
            value = "1";
        } else if (!value) {
            if (i + 1 >= argc) {
                ignored = edw_buf_appendf(problems, "option --%s needs a value\n", s->flag);
                continue;
            }
            value = argv[++i];
        }
        char where[96];
        snprintf(where, sizeof(where), "option --%s", s->flag);
        if (assign(cfg, s, value, where, problems))
            cfg->origin[s - edw_settings] = EDW_FROM_FLAG;
    }
    (void)ignored;
}

static bool handler_spec_ok(const char *spec)
{
    if (strcmp(spec, "record") == 0)
        return true;
    if (strncmp(spec, "work:", 5) == 0) {
        char *end = NULL;
        errno = 0;
        long v = strtol(spec + 5, &end, 10);
        return !errno && end != spec + 5 && !*end && v >= 0 && v <= 3600000;
    }
    return strncmp(spec, "exec:", 5) == 0 && spec[5] != '\0';
}

/* Conditions that involve more than one setting or a format no table column describes. */
static void validate(const struct edw_config *cfg, unsigned cmd, struct edw_buf *problems)
{
    enum edw_err ignored = EDW_OK;
    if (cmd & (EDW_CMD_CONSUME | EDW_CMD_DEMO) && !handler_spec_ok(cfg->handler))
        ignored = edw_buf_appendf(problems,
                                  "handler '%s': expected record, work:MS (0..3600000) or "
                                  "exec:COMMAND\n",
                                  cfg->handler);
    if (cmd & EDW_CMD_PRODUCE && cfg->count == 0 && cfg->duration_s == 0)
        ignored = edw_buf_append_str(problems, "produce: --count 0 needs a --duration\n");
    if (cmd & EDW_CMD_DEMO && cfg->min_replicas > cfg->max_replicas)
        ignored = edw_buf_appendf(problems,
                                  "demo: --min-replicas (%lld) is larger than --max-replicas "
                                  "(%lld)\n",
                                  cfg->min_replicas, cfg->max_replicas);
    if (cfg->queue_name[0] == '\0')
        ignored = edw_buf_append_str(problems, "queue name is empty\n");
    if (cfg->table_name[0] == '\0')
        ignored = edw_buf_append_str(problems, "table name is empty\n");
    if (cfg->sqlite_path[0] == '\0')
        ignored = edw_buf_append_str(problems, "sqlite path is empty\n");
    (void)ignored;
}

enum edw_err edw_config_load(struct edw_config *cfg, unsigned cmd,
                             const struct edw_config_source *src, int argc, char *const *argv,
                             struct edw_buf *problems)
{
    size_t before = problems->len;
    if (nsettings() > sizeof(cfg->origin))
        abort();
    load_env(cfg, src, problems);
    check_unknown_env(src, problems);
    parse_args(cfg, cmd, argc, argv, problems);
    if (!cfg->help)
        validate(cfg, cmd, problems);
    return problems->len > before ? EDW_ERR_INVALID : EDW_OK;
}

static enum edw_err dump_value(const struct edw_config *cfg, const struct edw_setting *s,
                               bool json, struct edw_buf *out)
{
    const void *base = cfg;
    switch (s->type) {
    case EDW_SET_SECRET:
        if (!*FIELD(base, s, char *const))
            return edw_buf_append_str(out, json ? "null" : "(unset)");
        return edw_buf_append_str(out, json ? "\"***\"" : "***");
    case EDW_SET_STRING:
    case EDW_SET_ENUM: {
        const char *v = *FIELD(base, s, char *const);
        if (!v)
            return edw_buf_append_str(out, json ? "null" : "(unset)");
        if (!json)
            return edw_buf_append_str(out, v);
        enum edw_err err = edw_buf_append_str(out, "\"");
        if (!err)
            err = edw_buf_append_json_str(out, v, strlen(v));
        return err ? err : edw_buf_append_str(out, "\"");
    }
    case EDW_SET_BOOL:
        return edw_buf_append_str(out, *FIELD(base, s, const bool) ? "true" : "false");
    case EDW_SET_INT: {
        long long v = *FIELD(base, s, const long long);
        if (v == 0 && s->choices)
            return edw_buf_appendf(out, json ? "\"%s\"" : "%s", s->choices);
        return edw_buf_appendf(out, "%lld", v);
    }
    case EDW_SET_DOUBLE:
        return edw_buf_appendf(out, "%g", *FIELD(base, s, const double));
    }
    return EDW_OK;
}

enum edw_err edw_config_dump(const struct edw_config *cfg, bool json, struct edw_buf *out)
{
    static const char *const origins[] = {"default", "env", "flag"};
    enum edw_err err = json ? edw_buf_append_str(out, "{") : EDW_OK;
    size_t i = 0;
    for (const struct edw_setting *s = edw_settings; s->help && !err; s++, i++) {
        if (!s->env && s->type == EDW_SET_BOOL)
            continue; /* --json, --help: per-invocation switches, not configuration */
        const char *name = s->flag ? s->flag : s->env;
        if (json)
            err = edw_buf_appendf(out, "%s\"%s\":", out->ptr[out->len - 1] == '{' ? "" : ",",
                                  name);
        else
            err = edw_buf_appendf(out, "%-24s = ", name);
        if (!err)
            err = dump_value(cfg, s, json, out);
        if (!err && !json)
            err = edw_buf_appendf(out, "  (%s%s%s)\n", origins[cfg->origin[i]],
                                  s->env ? ", " : "", s->env ? s->env : "");
    }
    if (!err && json)
        err = edw_buf_append_str(out, "}\n");
    return err;
}

bool edw_config_is_default(const struct edw_config *cfg, const char *flag)
{
    const struct edw_setting *s = find_flag(flag, strlen(flag));
    return !s || cfg->origin[s - edw_settings] == EDW_FROM_DEFAULT;
}

enum edw_err edw_config_usage(unsigned cmd, struct edw_buf *out)
{
    enum edw_err err = EDW_OK;
    for (const struct edw_setting *s = edw_settings; s->help && !err; s++) {
        if (!s->flag || !(s->cmds & cmd))
            continue;
        char left[64];
        snprintf(left, sizeof(left), "--%s%s", s->flag, s->type == EDW_SET_BOOL ? "" : " V");
        err = edw_buf_appendf(out, "  %-28s %s", left, s->help);
        if (!err && s->def && s->type != EDW_SET_BOOL)
            err = edw_buf_appendf(out, " [%s]", s->def);
        if (!err && s->env)
            err = edw_buf_appendf(out, " (env %s)", s->env);
        if (!err)
            err = edw_buf_append_str(out, "\n");
    }
    return err;
}
