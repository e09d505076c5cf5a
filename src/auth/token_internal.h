/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the token sources (private to src/auth and the unit tests). */
#ifndef EDW_TOKEN_INTERNAL_H
#define EDW_TOKEN_INTERNAL_H

#include "edw/buf.h"
#include "edw/http.h"
#include "edw/token.h"

/* Perform `req` once (a 10 s timeout) and parse the reply with edw_entra_token_parse. The
 * reply body is wiped. */
EDW_NODISCARD enum edw_err edw_token_fetch(struct edw_http_transport *http,
                                           struct edw_http_request *req, int64_t now_us,
                                           const char *who, struct edw_token *out,
                                           struct edw_error *err);

#endif
