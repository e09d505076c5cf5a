/* SPDX-License-Identifier: Apache-2.0 */
/* The message envelope. Everything that can be wrong with a body is named in `reason`,
 * because that text is what an operator reads in the poison queue. */
#include "edw/payload.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "edw/alloc.h"
#include "edw/timefmt.h"

void edw_payload_cleanup(struct edw_payload *p)
{
    if (!p)
        return;
    free(p->msg);
    free(p->src_stamp);
    free(p->id);
    memset(p, 0, sizeof(*p));
}

static enum edw_err fail(char *reason, size_t size, const char *text)
{
    snprintf(reason, size, "%s", text);
    return EDW_ERR_INVALID;
}

/* An id becomes a table key on every backend: Azure Table forbids / \ # ? and control
 * characters in keys (C0, DEL and the C1 range U+0080..U+009F), and a key the store refuses
 * would otherwise only fail at write time. The id is valid UTF-8 here (Jansson checked), so a
 * C1 character is the two bytes C2 80..C2 9F. Returns NULL when the id is fine, else why not
 * (written into `buf`). `id` holds `n` bytes and a terminator. */
static const char *id_problem(const char *id, size_t n, char *buf, size_t size)
{
    if (n == 0)
        return "field 'id' is empty";
    if (n > EDW_PAYLOAD_MAX_ID) {
        snprintf(buf, size, "field 'id' is %zu bytes, the limit is %d", n, EDW_PAYLOAD_MAX_ID);
        return buf;
    }
    const unsigned char *u = (const unsigned char *)id;
    for (size_t i = 0; i < n; i++) {
        unsigned cp = u[i];
        if (cp == 0xc2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
            cp = u[i + 1]; /* U+0080..U+009F */
        else if (cp >= 0x80)
            continue;
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
            snprintf(buf, size,
                     "field 'id' contains the control character U+%04X at byte %zu (table "
                     "keys cannot hold C0, DEL or C1 controls)",
                     cp, i);
            return buf;
        }
        if (cp == '/' || cp == '\\' || cp == '#' || cp == '?') {
            snprintf(buf, size,
                     "field 'id' contains '%c' at byte %zu (table keys cannot hold / \\ # ?)",
                     (char)cp, i);
            return buf;
        }
    }
    return NULL;
}

static enum edw_err take_fields(json_t *root, struct edw_payload *out, char *reason, size_t size)
{
    json_t *msg = json_object_get(root, "msg");
    json_t *stamp = json_object_get(root, "srcStamp");
    json_t *id = json_object_get(root, "id");
    if (!msg)
        return fail(reason, size, "field 'msg' is missing");
    if (!json_is_string(msg))
        return fail(reason, size, "field 'msg' is not a string");
    if (memchr(json_string_value(msg), '\0', json_string_length(msg)))
        return fail(reason, size, "field 'msg' contains a NUL character");
    if (!stamp)
        return fail(reason, size, "field 'srcStamp' is missing");
    if (!json_is_string(stamp))
        return fail(reason, size, "field 'srcStamp' is not a string");
    if (!edw_stamp_parse(json_string_value(stamp), &out->src_us))
        return fail(reason, size,
                    "field 'srcStamp' is not a UTC time 'YYYY-MM-DD HH:MM:SS.ffffff'");
    if (id && !json_is_null(id)) {
        if (!json_is_string(id))
            return fail(reason, size, "field 'id' is not a string");
        char why[200];
        const char *bad = id_problem(json_string_value(id), json_string_length(id), why,
                                     sizeof(why));
        if (bad)
            return fail(reason, size, bad);
        out->id = edw_xstrdup(json_string_value(id));
    }
    out->msg = edw_xstrdup(json_string_value(msg));
    out->src_stamp = edw_xstrdup(json_string_value(stamp));
    return EDW_OK;
}

enum edw_err edw_payload_parse(const char *body, size_t len, size_t max_bytes,
                               struct edw_payload *out, char *reason, size_t reason_size)
{
    memset(out, 0, sizeof(*out));
    if (len == 0)
        return fail(reason, reason_size, "body is empty");
    if (len > max_bytes) {
        snprintf(reason, reason_size, "body is %zu bytes, the limit is %zu", len, max_bytes);
        return EDW_ERR_INVALID;
    }
    json_error_t jerr;
    /* JSON_REJECT_DUPLICATES: {"msg":1,"msg":"x"} is ambiguous, so refuse it. Jansson also
     * rejects invalid UTF-8 and NUL bytes outside strings, and bounds nesting depth. */
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        snprintf(reason, reason_size, "body is not valid JSON: %s (line %d, column %d)",
                 jerr.text, jerr.line, jerr.column);
        return EDW_ERR_INVALID;
    }
    enum edw_err err = json_is_object(root)
                           ? take_fields(root, out, reason, reason_size)
                           : fail(reason, reason_size, "body is not a JSON object");
    json_decref(root);
    if (err)
        edw_payload_cleanup(out);
    return err;
}

enum edw_err edw_payload_format(const char *run, uint64_t seq, int64_t now_us, size_t pad_to,
                                struct edw_buf *out)
{
    char stamp[EDW_STAMP_LEN + 1];
    edw_stamp_format(now_us, stamp);
    enum edw_err err = edw_buf_appendf(out,
                                       "{\"msg\": \"Scale Test Message : COUNT %llu\", "
                                       "\"srcStamp\": \"%s\", \"id\": \"%s-%llu\"",
                                       (unsigned long long)seq, stamp, run,
                                       (unsigned long long)seq);
    /* Padding goes into an extra field so the body stays sample-compatible JSON. */
    if (!err && pad_to > out->len + 12) {
        size_t pad = pad_to - out->len - 12;
        err = edw_buf_append_str(out, ", \"pad\": \"");
        for (size_t i = 0; i < pad && !err; i++)
            err = edw_buf_append(out, "x", 1);
        if (!err)
            err = edw_buf_append_str(out, "\"");
    }
    return err ? err : edw_buf_append_str(out, "}");
}
