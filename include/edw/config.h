/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration from one table of settings: environment first (Kubernetes), flags override.
 * Validated once at start-up and read-only afterwards, so threads may share it freely. */
#ifndef EDW_CONFIG_H
#define EDW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "edw/buf.h"
#include "edw/err.h"

/* Subcommands, as bits, so a setting can say where its flag is accepted. */
enum edw_cmd {
    EDW_CMD_PRODUCE = 1u << 0,
    EDW_CMD_CONSUME = 1u << 1,
    EDW_CMD_VERIFY = 1u << 2,
    EDW_CMD_DEMO = 1u << 3,
    EDW_CMD_QUEUE = 1u << 4,
    EDW_CMD_TABLE = 1u << 5,
    EDW_CMD_CONFIG = 1u << 6,
    EDW_CMD_ALL = 0x7fu,
};

struct edw_config {
    /* common */
    char *backend;
    char *sqlite_path;
    char *queue_name;
    char *table_name;
    char *log_level;
    bool json;
    bool help;
    bool poison; /* queue peek/clear/depth: act on the poison queue */
    long long http_port;
    char *http_addr;
    double shutdown_grace_s;
    long long sqlite_busy_timeout_ms;
    char *sqlite_sync;
    /* produce */
    long long count;
    double duration_s;
    double rate;
    long long batch;
    long long concurrency;
    long long body_bytes;
    /* consume */
    long long visibility_s;
    long long max_dequeue;
    char *handler;
    double exit_when_idle_s;
    long long max_body_bytes;
    long long poll_max_ms;
    long long retry_delay_s;
    long long pipelines;
    /* verify */
    long long expect;
    char *run;
    /* demo */
    long long messages;
    long long min_replicas;
    long long max_replicas;
    long long queue_length;
    long long activation_queue_length;
    double polling_interval_s;
    double cooldown_period_s;
    double stabilization_window_s;
    char *report;
    /* aws (SQS + DynamoDB); names follow the AWS SDKs' environment variables */
    char *sqs_queue_url;
    char *aws_region;
    char *aws_endpoint_url;
    char *aws_endpoint_url_sqs;
    char *aws_endpoint_url_dynamodb;
    char *aws_access_key_id;
    char *aws_secret_access_key;
    char *aws_session_token;
    char *aws_role_arn;
    char *aws_web_identity_token_file;
    char *aws_role_session_name;
    char *aws_sts_endpoint;
    long long sqs_wait_s;
    /* azure (strings owned; the three credentials are secrets) */
    char *azure_account;
    char *azure_connection_string;
    char *azure_account_key;
    char *azure_sas_token;
    char *azure_queue_endpoint;
    char *azure_table_endpoint;
    char *azure_send_encoding;
    char *azure_receive_encoding;
    /* azure identity (Entra workload identity / managed identity; the header is a secret) */
    char *azure_client_id;
    char *azure_tenant_id;
    char *azure_federated_token_file;
    char *azure_authority_host;
    char *azure_identity_endpoint;
    char *azure_identity_header;
    char *ca_file;
    /* where each setting's value came from (enum edw_origin), by table index */
    unsigned char origin[128];
    /* positional arguments after the subcommand's verb (queue send TEXT, ...) */
    char **args;
    size_t nargs;
};

enum edw_origin { EDW_FROM_DEFAULT = 0, EDW_FROM_ENV, EDW_FROM_FLAG };

enum edw_setting_type {
    EDW_SET_STRING,
    EDW_SET_SECRET, /* a string never printed: `edw config` shows *** */
    EDW_SET_ENUM,   /* a string from `choices` ("a|b|c") */
    EDW_SET_INT,    /* long long within [min, max]; `choices`, when set, is one word that
                     * stands for 0 (e.g. "auto"), accepted and printed instead of it */
    EDW_SET_DOUBLE, /* double within [min, max] */
    EDW_SET_BOOL,   /* flag without a value; env accepts 1/0/true/false */
};

/* One row of the settings table. */
struct edw_setting {
    const char *flag;      /* long flag without the dashes; NULL when env-only */
    const char *env;       /* primary environment variable; NULL when flag-only */
    const char *env_alias; /* the reference samples' names when they differ, '|'-separated
                            * ("AZURE_TABLE_NAME|DYNAMODB_TABLE"); the first one set wins */
    enum edw_setting_type type;
    const char *def; /* default as text; NULL = unset */
    double min, max;
    const char *choices;
    unsigned cmds; /* enum edw_cmd bits where the flag is accepted */
    size_t offset; /* offsetof(struct edw_config, field) */
    const char *help;
};

/* The table (terminated by a row whose `help` is NULL). */
extern const struct edw_setting edw_settings[];

/* Where configuration comes from; injected so tests need no real environment. */
struct edw_config_source {
    char *(*getenv)(const char *name);
    char *const *environ; /* NAME=value list, NULL-terminated; scanned for unknown EDW_* */
};

/* Set every field to its default. Caller owns `cfg`; release with edw_config_cleanup. */
void edw_config_init(struct edw_config *cfg);
void edw_config_cleanup(struct edw_config *cfg);

/* Read the environment, then `argv` (flags for `cmd`, positional args collected), then
 * validate. Every problem is appended to `problems` as one line; EDW_ERR_INVALID if any. */
EDW_NODISCARD enum edw_err edw_config_load(struct edw_config *cfg, unsigned cmd,
                                           const struct edw_config_source *src, int argc,
                                           char *const *argv, struct edw_buf *problems);

/* Print the effective configuration, one "name = value (source)" line each, secrets as ***.
 * With `json`, one JSON object instead. */
EDW_NODISCARD enum edw_err edw_config_dump(const struct edw_config *cfg, bool json,
                                           struct edw_buf *out);

/* True when the setting with long flag `flag` still has its default (no env, no flag). */
bool edw_config_is_default(const struct edw_config *cfg, const char *flag);

/* Usage text for `cmd`'s flags. */
EDW_NODISCARD enum edw_err edw_config_usage(unsigned cmd, struct edw_buf *out);

#endif
