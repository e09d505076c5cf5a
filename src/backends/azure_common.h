/* SPDX-License-Identifier: Apache-2.0 */
/* What the Azure Queue and Table backends share: connection settings (connection string,
 * account, key, SAS, endpoints), a client that signs and performs a set of calls concurrently
 * with retries, error mapping, and the pure parsers for the services' XML and JSON. Private to
 * src/backends (and the unit tests). */
#ifndef EDW_AZURE_COMMON_H
#define EDW_AZURE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edw/auth.h"
#include "edw/buf.h"
#include "edw/clock.h"
#include "edw/err.h"
#include "edw/http.h"
#include "edw/metrics.h"
#include "edw/queue.h"
#include "edw/retry.h"

struct edw_config;
struct edw_token_source;

/* The x-ms-version we speak: new enough for OAuth bearer tokens (2017-11-09), what
 * azure-data-tables sends, and accepted by Azurite. */
#define EDW_AZURE_VERSION "2019-02-02"

/* The development-storage (Azurite) account: public, documented values, not a secret. */
#define EDW_AZURITE_ACCOUNT "devstoreaccount1"
#define EDW_AZURITE_KEY                                                                            \
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

/* How requests are authorised. BEARER is the seam for Entra workload identity (issue 5): the
 * client will ask a token source for "Authorization: Bearer ..." instead of signing. */
enum edw_azure_auth { EDW_AZURE_AUTH_NONE, EDW_AZURE_AUTH_SHARED_KEY, EDW_AZURE_AUTH_SAS,
                      EDW_AZURE_AUTH_BEARER };

/* Connection settings. Strings are owned; `key` and `sas` are secrets, wiped on cleanup. */
struct edw_azure_conn {
    char *account;
    unsigned char *key; /* decoded account key */
    size_t key_len;
    char *sas; /* SAS query string without the leading '?' */
    char *queue_endpoint; /* scheme://host[:port][/path], no trailing '/' */
    char *table_endpoint;
    char *protocol;        /* DefaultEndpointsProtocol; NULL: https */
    char *endpoint_suffix; /* EndpointSuffix; NULL: core.windows.net */
    bool development;      /* UseDevelopmentStorage=true */
    enum edw_azure_auth auth;
};

/* Parse an Azure Storage connection string ("Key=Value;..." with AccountName, AccountKey,
 * SharedAccessSignature, QueueEndpoint, TableEndpoint, DefaultEndpointsProtocol,
 * EndpointSuffix, UseDevelopmentStorage). Fills `out` (caller-owned, zeroed here; free with
 * edw_azure_conn_cleanup even on failure). Only explicit parts are set; nothing is derived.
 * EDW_ERR_INVALID with a message that names the offending key but never echoes a value. */
EDW_NODISCARD enum edw_err edw_azure_conn_parse(const char *text, struct edw_azure_conn *out,
                                                struct edw_error *err);

/* The effective settings: the connection string, then the individual settings
 * (AZURE_STORAGE_ACCOUNT_NAME, key, SAS, EDW_AZURE_*_ENDPOINT) override its parts, then
 * endpoints are derived (https://{account}.queue.{suffix}) and the auth mode chosen (key:
 * Shared Key; else SAS). EDW_ERR_INVALID with one clear message when something is missing. */
EDW_NODISCARD enum edw_err edw_azure_conn_from_config(const struct edw_config *cfg,
                                                      struct edw_azure_conn *out,
                                                      struct edw_error *err);
void edw_azure_conn_cleanup(struct edw_azure_conn *c);

enum edw_azure_service { EDW_AZURE_QUEUE, EDW_AZURE_TABLE };

/* One service endpoint with its credentials, transport and retry state. Per instance: a
 * client is used by one thread at a time, and instances share nothing mutable. */
struct edw_azure_client {
    enum edw_azure_service service;
    struct edw_azure_conn conn;
    const char *endpoint; /* conn.queue_endpoint or conn.table_endpoint */
    struct edw_http_transport *http;
    bool owns_http;
    const struct edw_clock *clock;
    struct edw_retry_policy retry; /* see edw_azure_client_init */
    uint64_t rng; /* jitter and batch boundaries; seeded per instance */
    uint64_t requests, retries; /* counters (tests, logs) */
    struct edw_token_source *token; /* EDW_AZURE_AUTH_BEARER: the cached token source */
    struct edw_hmac_key *hmac;      /* EDW_AZURE_AUTH_SHARED_KEY: conn.key, prepared once */
    int64_t date_s;                 /* the second `date` was formatted for (date[0] 0: none) */
    char date[30];                  /* x-ms-date of the requests signed in that second */
};

/* Set up a client from configuration and injected dependencies. When deps->http is NULL the
 * client creates (and owns) a libcurl transport honouring EDW_CA_FILE. Free with
 * edw_azure_client_cleanup, also after a failure. */
EDW_NODISCARD enum edw_err edw_azure_client_init(struct edw_azure_client *c,
                                                 enum edw_azure_service service,
                                                 const struct edw_config *cfg,
                                                 const struct edw_backend_deps *deps,
                                                 struct edw_error *err);
void edw_azure_client_cleanup(struct edw_azure_client *c);

/* The cached bearer token source for `cfg` (workload or managed identity, see
 * edw_azure_cred_choose). With `http` NULL the source is shared by every client of the process
 * with the same identity and has a libcurl transport of its own; with an injected `http`
 * (tests) it is private and uses that transport. Release with edw_azure_token_release. */
EDW_NODISCARD enum edw_err edw_azure_token_acquire(const struct edw_config *cfg,
                                                   struct edw_http_transport *http,
                                                   const struct edw_clock *clock,
                                                   struct edw_token_source **out,
                                                   struct edw_error *err);
void edw_azure_token_release(struct edw_token_source *src);

/* Checks a 2xx response further (e.g. the parts of a $batch reply): EDW_OK accepts it, a
 * retryable error retries the call, anything else fails it. May fill `err`. */
typedef enum edw_err edw_azure_check_fn(struct edw_http_response *resp, void *ctx,
                                        struct edw_error *err);

/* One REST call. The caller fills the request part; edw_azure_perform fills the outcome. */
struct edw_azure_call {
    const char *method;
    char *path; /* owned: after the endpoint, from '/', percent-encoded, may hold "?query" */
    const char *content_type; /* NULL: no body type */
    const char *body;         /* borrowed */
    size_t body_len;
    struct edw_http_headers headers; /* extra headers (Accept, Prefer, ...) */
    edw_azure_check_fn *check;
    void *check_ctx;
    /* outcome */
    struct edw_http_response resp; /* the last attempt's response */
    enum edw_err result;
    struct edw_error err;
    unsigned attempts;
    bool ambiguous; /* an earlier attempt may have taken effect (no reply, or 500/504) */
};

/* `path` is taken over (owned by the call). */
void edw_azure_call_init(struct edw_azure_call *call, const char *method, char *path);
void edw_azure_call_cleanup(struct edw_azure_call *call);

/* Perform `n` calls concurrently; retry the retryable ones (fresh x-ms-date and signature on
 * every attempt) after a jittered backoff on the client's clock. Each call ends with `result`
 * EDW_OK (2xx and `check` passed) or the mapped error with `err` filled. Returns EDW_OK unless
 * the transport itself is unusable. Blocks. */
EDW_NODISCARD enum edw_err edw_azure_perform(struct edw_azure_client *c,
                                             struct edw_azure_call *calls, size_t n);

/* Convenience for one call. Returns the call's result and copies its error into `err`. */
EDW_NODISCARD enum edw_err edw_azure_perform_one(struct edw_azure_client *c,
                                                 struct edw_azure_call *call,
                                                 struct edw_error *err);

/* --- pure helpers (no I/O; unit-tested) --- */

/* The metrics operation of a REST call (`path` as in edw_azure_call, query included):
 * queue GET /q/messages -> receive (peek with peekonly=true), PUT .../messages/<id> ->
 * extend, DELETE .../messages/<id> -> ack, POST .../messages -> send, GET /q -> depth;
 * table POST /Tables -> create_table, GET -> scan, other writes -> upsert. */
enum edw_op edw_azure_op_of(enum edw_azure_service service, const char *method,
                            const char *path);

/* The error category for an HTTP status and service error code. */
enum edw_err edw_azure_classify(long status, const char *code);

/* Whether a failed attempt should be retried. */
bool edw_azure_retryable(long status, enum edw_err transport_err);

/* Retry-After hint from response headers (retry-after-ms, x-ms-retry-after-ms, Retry-After
 * in seconds), in microseconds; 0 when absent or unparseable. */
int64_t edw_azure_retry_after_us(const struct edw_http_headers *h);

/* Fill `err` from a failed response: status, the service code (x-ms-error-code, else from
 * the XML or JSON body), and "<service> <METHOD> <path>: ..." without the query string (it
 * may carry a SAS). */
void edw_azure_fill_error(struct edw_error *err, const char *service, const char *method,
                          const char *path, const struct edw_http_response *resp);

/* Escape text for an XML element (& < > " '). EDW_ERR_INVALID when it holds a character XML
 * 1.0 cannot carry (C0 controls other than TAB/LF/CR, U+FFFE/U+FFFF, invalid UTF-8). */
EDW_NODISCARD enum edw_err edw_azure_xml_escape(struct edw_buf *out, const char *s, size_t len);

/* xorshift64*: jitter and multipart boundaries, not security. */
uint64_t edw_azure_rand(uint64_t *state);

/* --- Queue XML --- */

struct edw_azure_qmsg {
    char *id;
    char *pop_receipt;     /* NULL for peek */
    char *text;            /* MessageText, XML-unescaped */
    size_t text_len;
    char *insertion_time;  /* RFC 1123 */
    char *next_visible;    /* RFC 1123, NULL for peek */
    uint32_t dequeue_count;
};

struct edw_azure_qmsg_list {
    struct edw_azure_qmsg *items;
    size_t n, cap;
};

/* Parse a QueueMessagesList (Get/Peek/Put Messages). Appends to `out` (caller-owned; free with
 * edw_azure_qmsg_list_cleanup). EDW_ERR_INVALID on malformed XML, a missing MessageId, or a
 * bad DequeueCount. */
EDW_NODISCARD enum edw_err edw_azure_parse_messages(const char *xml, size_t len,
                                                    struct edw_azure_qmsg_list *out,
                                                    struct edw_error *err);
void edw_azure_qmsg_list_cleanup(struct edw_azure_qmsg_list *l);

/* The <Code> and <Message> of an <Error> body into `code` and `message` (truncated to their
 * sizes); what the body does not hold, or all of it when the body is not such XML, is "". */
void edw_azure_parse_error_xml(const char *xml, size_t len, char *code, size_t code_size,
                               char *message, size_t message_size);

/* --- Table JSON --- */

/* Called per entity with the JSON object (borrowed); return false to stop. */
struct edw_azure_entity {
    const char *partition_key;
    const char *row_key;
    const void *json; /* json_t *, borrowed */
};
typedef bool edw_azure_entity_fn(void *ctx, const struct edw_azure_entity *e);

/* Parse a query reply {"value":[...]} or a single entity object; call `fn` for each entity.
 * EDW_ERR_INVALID on malformed JSON or an entity without string keys. */
EDW_NODISCARD enum edw_err edw_azure_parse_entities(const char *json, size_t len,
                                                    edw_azure_entity_fn *fn, void *ctx,
                                                    struct edw_error *err);

/* Entity properties as edw types (jansson behind the scenes). */
const char *edw_azure_entity_str(const struct edw_azure_entity *e, const char *name);
/* A number, or a string holding one (Edm.Int64/Double come back as strings with
 * odata=nometadata). False when absent or not numeric. */
bool edw_azure_entity_num(const struct edw_azure_entity *e, const char *name, double *out);

/* The code and message of {"odata.error":{"code":..,"message":{"value":..}}}; what the body
 * does not hold is "", as for edw_azure_parse_error_xml. */
void edw_azure_parse_error_json(const char *json, size_t len, char *code, size_t code_size,
                                char *message, size_t message_size);

/* --- Table keys (docs/internals/azure.md explains the choice) --- */

/* The partition holding the producer's run records. */
#define EDW_AZURE_RUNS_PARTITION "edw-runs"

/* PartitionKey for message key `key`; RowKey is the key itself. A producer key "<run>-<seq>"
 * maps to "<run>-<hh>-<block>" with block = seq / 100 and hh two hex digits of a hash of the
 * block: a block's rows share a partition (one $batch), blocks spread over the key space (no
 * append-only hot spot), and every partition of a run starts with "<run>-" (verify scans one
 * range). Any other key is its own partition. Caller owns the result (free()). */
char *edw_azure_partition_key(const char *key);

/* --- Table $batch --- */

/* The outcome of a $batch reply: the first failing operation, if any. */
struct edw_azure_batch_result {
    size_t parts;    /* operation responses seen */
    long status;     /* first non-2xx inner status, 0 when all succeeded */
    long index;      /* its 0-based operation index when the service says, else -1 */
    char code[64];   /* its error code, when present */
    char message[200];
};

/* Parse a multipart/mixed $batch reply given its Content-Type header. EDW_ERR_INVALID when
 * the framing is broken. */
EDW_NODISCARD enum edw_err edw_azure_parse_batch(const char *content_type, const char *body,
                                                 size_t len,
                                                 struct edw_azure_batch_result *out);

#endif
