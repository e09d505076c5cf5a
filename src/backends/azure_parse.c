/* SPDX-License-Identifier: Apache-2.0 */
/* Pure parsers for what Azure Storage sends back: the Queue service's XML (expat), the Table
 * service's JSON (jansson) and $batch multipart replies. They take a buffer and fill structs;
 * no I/O, so they are unit-tested and fuzzed directly.
 *
 * The XML parser refuses DOCTYPE declarations outright: the service never sends one, and
 * refusing them removes entity-expansion attacks from the table. */
#include <expat.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azure_common.h"
#include "edw/alloc.h"

#define MAX_FIELD_BYTES (1u << 20) /* a message text is at most 64 KiB; leave room */

/* --- Queue XML --- */

enum qfield { F_NONE, F_ID, F_RECEIPT, F_TEXT, F_INSERTED, F_VISIBLE, F_DEQUEUE, F_CODE, F_MSG };

struct xml_state {
    XML_Parser parser;
    int depth;
    enum qfield field;
    struct edw_buf text;
    bool failed;
    char why[96];
    /* messages mode */
    struct edw_azure_qmsg_list *list;
    struct edw_azure_qmsg *cur;
    /* error mode */
    bool error_mode;
    char *code, *message;
    size_t code_size, message_size;
};

static void stop(struct xml_state *st, const char *why)
{
    if (!st->failed)
        snprintf(st->why, sizeof(st->why), "%s", why);
    st->failed = true;
    XML_StopParser(st->parser, XML_FALSE);
}

static enum qfield field_of(const char *name, bool error_mode)
{
    static const struct {
        const char *name;
        enum qfield f;
    } fields[] = {{"MessageId", F_ID},          {"PopReceipt", F_RECEIPT},
                  {"MessageText", F_TEXT},      {"InsertionTime", F_INSERTED},
                  {"TimeNextVisible", F_VISIBLE}, {"DequeueCount", F_DEQUEUE}};
    if (error_mode)
        return strcmp(name, "Code") == 0 ? F_CODE : strcmp(name, "Message") == 0 ? F_MSG : F_NONE;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (strcmp(name, fields[i].name) == 0)
            return fields[i].f;
    return F_NONE;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct xml_state *st = ud;
    (void)attrs;
    st->depth++;
    if (st->error_mode) {
        if (st->depth == 1 && strcmp(name, "Error") != 0)
            stop(st, "root element is not Error");
        st->field = st->depth == 2 ? field_of(name, true) : F_NONE;
        edw_buf_reset(&st->text);
        return;
    }
    if (st->depth == 1) {
        if (strcmp(name, "QueueMessagesList") != 0)
            stop(st, "root element is not QueueMessagesList");
    } else if (st->depth == 2) {
        if (strcmp(name, "QueueMessage") == 0) {
            st->list->items = edw_xgrow(st->list->items, &st->list->cap, st->list->n + 1,
                                        sizeof(*st->list->items));
            st->cur = &st->list->items[st->list->n++];
            memset(st->cur, 0, sizeof(*st->cur));
        }
    } else if (st->depth == 3 && st->cur) {
        st->field = field_of(name, false);
        edw_buf_reset(&st->text);
    }
}

static bool parse_u32(const char *s, uint32_t *out)
{
    char *end = NULL;
    if (*s < '0' || *s > '9')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

static void take_field(struct xml_state *st)
{
    struct edw_azure_qmsg *m = st->cur;
    const char *v = edw_buf_cstr(&st->text);
    char **slot = NULL;
    switch (st->field) {
    case F_ID:
        slot = &m->id;
        break;
    case F_RECEIPT:
        slot = &m->pop_receipt;
        break;
    case F_INSERTED:
        slot = &m->insertion_time;
        break;
    case F_VISIBLE:
        slot = &m->next_visible;
        break;
    case F_TEXT:
        free(m->text);
        m->text_len = st->text.len;
        m->text = edw_xstrndup(v, st->text.len);
        return;
    case F_DEQUEUE:
        if (!parse_u32(v, &m->dequeue_count))
            stop(st, "DequeueCount is not a number");
        return;
    default:
        return;
    }
    free(*slot);
    *slot = edw_xstrdup(v);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct xml_state *st = ud;
    (void)name;
    if (st->error_mode && st->depth == 2 && st->field != F_NONE) {
        char *dst = st->field == F_CODE ? st->code : st->message;
        size_t size = st->field == F_CODE ? st->code_size : st->message_size;
        if (dst && size)
            snprintf(dst, size, "%s", edw_buf_cstr(&st->text));
    } else if (!st->error_mode && st->depth == 3 && st->cur && st->field != F_NONE) {
        take_field(st);
    } else if (!st->error_mode && st->depth == 2 && st->cur) {
        if (!st->cur->id || !st->cur->id[0])
            stop(st, "a QueueMessage has no MessageId");
        st->cur = NULL;
    }
    st->field = F_NONE;
    st->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct xml_state *st = ud;
    if (st->field == F_NONE || len <= 0)
        return;
    if (edw_buf_append(&st->text, s, (size_t)len) != EDW_OK)
        stop(st, "an element is too large");
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    stop(ud, "DOCTYPE is not allowed");
}

static bool run_xml(struct xml_state *st, const char *xml, size_t len)
{
    st->parser = XML_ParserCreate("UTF-8");
    if (!st->parser)
        abort(); /* allocation failure: our OOM policy */
    edw_buf_init(&st->text, MAX_FIELD_BYTES);
    XML_SetUserData(st->parser, st);
    XML_SetElementHandler(st->parser, on_start, on_end);
    XML_SetCharacterDataHandler(st->parser, on_text);
    XML_SetStartDoctypeDeclHandler(st->parser, on_doctype);
    XML_SetParamEntityParsing(st->parser, XML_PARAM_ENTITY_PARSING_NEVER);
    bool ok = len <= (size_t)0x7fffffff &&
              XML_Parse(st->parser, xml, (int)len, XML_TRUE) == XML_STATUS_OK && !st->failed;
    if (!ok && !st->failed)
        snprintf(st->why, sizeof(st->why), "%s at line %lu",
                 len > 0x7fffffff ? "too large" : XML_ErrorString(XML_GetErrorCode(st->parser)),
                 (unsigned long)XML_GetCurrentLineNumber(st->parser));
    XML_ParserFree(st->parser);
    edw_buf_cleanup(&st->text);
    return ok;
}

static void qmsg_cleanup(struct edw_azure_qmsg *m)
{
    free(m->id);
    free(m->pop_receipt);
    free(m->text);
    free(m->insertion_time);
    free(m->next_visible);
    memset(m, 0, sizeof(*m));
}

void edw_azure_qmsg_list_cleanup(struct edw_azure_qmsg_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        qmsg_cleanup(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

enum edw_err edw_azure_parse_messages(const char *xml, size_t len,
                                      struct edw_azure_qmsg_list *out, struct edw_error *err)
{
    size_t first = out->n;
    struct xml_state st = {.list = out};
    if (run_xml(&st, xml, len)) {
        for (size_t i = first; i < out->n; i++)
            if (!out->items[i].text) /* <MessageText/> is an empty message, not a missing one */
                out->items[i].text = edw_xstrdup("");
        return EDW_OK;
    }
    while (out->n > first)
        qmsg_cleanup(&out->items[--out->n]);
    return edw_error_set(err, EDW_ERR_INVALID, "malformed queue XML reply: %s", st.why);
}

/* Both error parsers start with empty outputs: what the body does not name stays "". */
static void empty_outputs(char *code, size_t code_size, char *message, size_t message_size)
{
    if (code_size)
        code[0] = '\0';
    if (message_size)
        message[0] = '\0';
}

void edw_azure_parse_error_xml(const char *xml, size_t len, char *code, size_t code_size,
                               char *message, size_t message_size)
{
    empty_outputs(code, code_size, message, message_size);
    struct xml_state st = {.error_mode = true,
                           .code = code,
                           .code_size = code_size,
                           .message = message,
                           .message_size = message_size};
    (void)run_xml(&st, xml, len); /* best effort: whatever was read before a problem stays */
}

/* --- Table JSON --- */

const char *edw_azure_entity_str(const struct edw_azure_entity *e, const char *name)
{
    json_t *v = json_object_get((const json_t *)e->json, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

bool edw_azure_entity_num(const struct edw_azure_entity *e, const char *name, double *out)
{
    json_t *v = json_object_get((const json_t *)e->json, name);
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    char *end = NULL;
    double d = strtod(s, &end);
    if (end == s || *end)
        return false;
    *out = d;
    return true;
}

static bool call_entity(json_t *obj, edw_azure_entity_fn *fn, void *ctx, bool *bad)
{
    const char *pk = json_string_value(json_object_get(obj, "PartitionKey"));
    const char *rk = json_string_value(json_object_get(obj, "RowKey"));
    if (!json_is_object(obj) || !pk || !rk) {
        *bad = true;
        return false;
    }
    struct edw_azure_entity e = {pk, rk, obj};
    return fn(ctx, &e);
}

enum edw_err edw_azure_parse_entities(const char *json, size_t len, edw_azure_entity_fn *fn,
                                      void *ctx, struct edw_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return edw_error_set(err, EDW_ERR_INVALID, "malformed table JSON reply: %s",
                             root ? "not an object" : jerr.text);
    }
    bool bad = false;
    json_t *value = json_object_get(root, "value");
    if (json_is_array(value)) {
        size_t i;
        json_t *item;
        json_array_foreach(value, i, item)
        {
            if (!call_entity(item, fn, ctx, &bad))
                break;
        }
    } else if (value) {
        bad = true;
    } else {
        call_entity(root, fn, ctx, &bad);
    }
    json_decref(root);
    return bad ? edw_error_set(err, EDW_ERR_INVALID,
                               "malformed table JSON reply: an entity lacks string "
                               "PartitionKey/RowKey")
               : EDW_OK;
}

void edw_azure_parse_error_json(const char *json, size_t len, char *code, size_t code_size,
                                char *message, size_t message_size)
{
    empty_outputs(code, code_size, message, message_size);
    json_t *root = json_loadb(json, len, 0, NULL);
    json_t *e = json_object_get(root, "odata.error");
    const char *c = json_string_value(json_object_get(e, "code"));
    json_t *m = json_object_get(e, "message");
    const char *text = json_is_string(m) ? json_string_value(m)
                                         : json_string_value(json_object_get(m, "value"));
    if (c && code_size)
        snprintf(code, code_size, "%s", c);
    if (text && message_size)
        snprintf(message, message_size, "%s", text);
    json_decref(root);
}

/* --- $batch replies --- */

/* The boundary parameter of a multipart Content-Type, into `out`. */
static bool boundary_of(const char *content_type, char *out, size_t size)
{
    if (!content_type || strncasecmp(content_type, "multipart/mixed", 15) != 0)
        return false;
    const char *b = strstr(content_type, "boundary=");
    if (!b)
        return false;
    b += 9;
    bool quoted = *b == '"';
    b += quoted;
    size_t n = strcspn(b, quoted ? "\"" : "; \t");
    if (n == 0 || n + 1 > size)
        return false;
    memcpy(out, b, n);
    out[n] = '\0';
    return true;
}

/* The operation index a failing $batch reply names as the "N:" prefix of its message. */
static long index_prefix(const char *message)
{
    char *end = NULL;
    if (*message < '0' || *message > '9')
        return -1;
    long v = strtol(message, &end, 10);
    return *end == ':' ? v : -1;
}

static void take_failure(const char *line_end, const char *stop_at,
                         struct edw_azure_batch_result *out)
{
    /* The part's body starts after the blank line that ends its headers. */
    const char *body = strstr(line_end, "\r\n\r\n");
    size_t skip = 4;
    const char *lf = strstr(line_end, "\n\n");
    if (!body || (lf && lf < body)) {
        body = lf;
        skip = 2;
    }
    if (!body || body >= stop_at)
        return;
    body += skip;
    const char *end = strstr(body, "\n--");
    if (!end || end > stop_at)
        end = stop_at;
    if (*body == '{')
        edw_azure_parse_error_json(body, (size_t)(end - body), out->code, sizeof(out->code),
                                   out->message, sizeof(out->message));
    out->index = index_prefix(out->message);
}

enum edw_err edw_azure_parse_batch(const char *content_type, const char *body, size_t len,
                                   struct edw_azure_batch_result *out)
{
    memset(out, 0, sizeof(*out));
    out->index = -1;
    char boundary[128], marker[132];
    if (!boundary_of(content_type, boundary, sizeof(boundary)))
        return EDW_ERR_INVALID;
    snprintf(marker, sizeof(marker), "--%s", boundary);
    char *text = edw_xstrndup(body, len); /* NUL-terminated copy for the string functions */
    const char *end = text + strlen(text);
    enum edw_err rc = strstr(text, marker) ? EDW_OK : EDW_ERR_INVALID;
    for (const char *p = text; !rc && p < end;) {
        const char *nl = strchr(p, '\n');
        const char *next = nl ? nl + 1 : end;
        size_t line = (size_t)((nl ? nl : end) - p);
        /* "HTTP/1.1 204 ...": the status is the three digits after "HTTP/1.x " */
        if (line >= 7 && strncmp(p, "HTTP/1.", 7) == 0) {
            long status = line >= 12 && p[8] == ' ' ? strtol(p + 9, NULL, 10) : 0;
            if (status < 100 || status > 599) {
                rc = EDW_ERR_INVALID;
                break;
            }
            out->parts++;
            if ((status < 200 || status >= 300) && out->status == 0) {
                out->status = status;
                take_failure(p, end, out);
            }
        }
        p = next;
    }
    if (!rc && out->parts == 0)
        rc = EDW_ERR_INVALID;
    free(text);
    return rc;
}
