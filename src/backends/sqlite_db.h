/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by sqlite_queue.c and sqlite_store.c (private to backends/): opening the file with
 * the ownership and schema checks, write transactions, and error mapping. */
#ifndef EDW_SQLITE_DB_H
#define EDW_SQLITE_DB_H

#include <sqlite3.h>

#include "edw/config.h"
#include "edw/err.h"
#include "edw/queue.h"

/* Open `cfg->sqlite_path` (created if missing), refusing files that are not SQLite or not
 * ours, creating or checking the schema, WAL mode. The queue and store of one thread share a
 * connection. Release with edw_sqlite_close. Prepared statements must be finalized first. */
EDW_NODISCARD enum edw_err edw_sqlite_open(const struct edw_config *cfg, sqlite3 **out,
                                           struct edw_error *err);

/* Release a connection from edw_sqlite_open (shared ones close with their last user). */
void edw_sqlite_close(sqlite3 *db);

/* Map an SQLite result code to our categories and fill `err` with `what` and the message. */
enum edw_err edw_sqlite_fail(sqlite3 *db, int rc, const char *what, struct edw_error *err);

/* BEGIN IMMEDIATE (take the write lock up front, so a snapshot can never go stale under us),
 * COMMIT, and a ROLLBACK that is safe to call when no transaction is open. */
EDW_NODISCARD enum edw_err edw_sqlite_begin(sqlite3 *db, struct edw_error *err);
EDW_NODISCARD enum edw_err edw_sqlite_commit(sqlite3 *db, struct edw_error *err);
void edw_sqlite_rollback(sqlite3 *db);

/* The outer transaction the worker opens around "upsert rows, then ack": rows and acks commit
 * together, so a message can never be acked without its row nor stored twice by one worker. */
EDW_NODISCARD enum edw_err edw_sqlite_txn(sqlite3 *db, enum edw_txn_op op, struct edw_error *err);

/* Prepare a statement once and keep it for the connection's lifetime. */
EDW_NODISCARD enum edw_err edw_sqlite_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out,
                                              struct edw_error *err);

/* Random 63-bit lease tokens (not for cryptography: they only tell leases apart). */
sqlite3_int64 edw_sqlite_lease_token(void);

#endif
