/* SPDX-License-Identifier: Apache-2.0 */
/* All SQL of the embedded backend, in one place. Schema version 2.
 *
 * Message ids come from edw_ids, one counter for the file that only grows, so an id is never
 * reused (it is the result key of messages without one). Version 1 used AUTOINCREMENT for
 * that, which reads and rewrites sqlite_sequence on every INSERT statement (a fifth of the
 * producer's CPU); edw_ids is advanced once per send batch.
 *
 * A receive only writes the unindexed leased_until_us, so the hot path moves no index entries;
 * visible_at_us (indexed) changes only when a lease is extended or released with a delay, so
 * messages waiting out a retry delay are skipped by the index rather than scanned.
 *
 * One file holds queue, poison queue, results and runs, so that every row write and the ack
 * that follows it go through the same write-ahead log in order: even with synchronous=NORMAL
 * a power cut can only lose a suffix of commits, never a row whose ack survived. */
#ifndef EDW_SQLITE_SQL_H
#define EDW_SQLITE_SQL_H

#define EDW_SQLITE_APP_ID 0x45445721 /* "EDW!" in PRAGMA application_id */
#define EDW_SQLITE_SCHEMA 2

#define SQL_QUEUE_TABLE                                                                            \
    "CREATE TABLE IF NOT EXISTS edw_queue ("                                                       \
    " id INTEGER PRIMARY KEY," /* from edw_ids: never reused */                                    \
    " queue TEXT NOT NULL,"                                                                        \
    " body BLOB NOT NULL,"                                                                         \
    " enqueued_us INTEGER NOT NULL,"                                                               \
    " visible_at_us INTEGER NOT NULL," /* not deliverable before (indexed) */                     \
    " leased_until_us INTEGER NOT NULL DEFAULT 0," /* a receive's lease (not indexed) */          \
    " dequeue_count INTEGER NOT NULL DEFAULT 0,"                                                   \
    " lease INTEGER NOT NULL DEFAULT 0);" /* random per receive: the pop receipt */
#define SQL_QUEUE_INDEX                                                                            \
    "CREATE INDEX IF NOT EXISTS edw_queue_ready ON edw_queue(queue, visible_at_us);"

#define SQL_SCHEMA                                                                                 \
    SQL_QUEUE_TABLE                                                                                \
    SQL_QUEUE_INDEX                                                                                \
    "CREATE TABLE IF NOT EXISTS edw_ids (one INTEGER PRIMARY KEY CHECK (one = 1),"                \
    " last INTEGER NOT NULL);"                                                                     \
    "INSERT OR IGNORE INTO edw_ids VALUES (1, 0);"                                                 \
    "CREATE TABLE IF NOT EXISTS edw_poison ("                                                      \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " queue TEXT NOT NULL,"                                                                        \
    " message_id TEXT NOT NULL,"                                                                   \
    " body BLOB NOT NULL,"                                                                         \
    " reason TEXT NOT NULL,"                                                                       \
    " dequeue_count INTEGER NOT NULL,"                                                             \
    " enqueued_us INTEGER NOT NULL,"                                                               \
    " poisoned_us INTEGER NOT NULL);"                                                              \
    "CREATE INDEX IF NOT EXISTS edw_poison_queue ON edw_poison(queue, id);"                        \
    "CREATE TABLE IF NOT EXISTS edw_results ("                                                     \
    " tbl TEXT NOT NULL,"                                                                          \
    " key TEXT NOT NULL,"                                                                          \
    " data TEXT NOT NULL,"                                                                         \
    " src_stamp TEXT NOT NULL,"                                                                    \
    " dest_stamp TEXT NOT NULL,"                                                                   \
    " processing_s REAL NOT NULL,"                                                                 \
    " dequeue_count INTEGER NOT NULL,"                                                             \
    " PRIMARY KEY (tbl, key)) WITHOUT ROWID;"                                                      \
    "CREATE TABLE IF NOT EXISTS edw_runs ("                                                        \
    " tbl TEXT NOT NULL,"                                                                          \
    " id TEXT NOT NULL,"                                                                           \
    " started_us INTEGER NOT NULL,"                                                                \
    " finished_us INTEGER NOT NULL,"                                                               \
    " sent INTEGER NOT NULL,"                                                                      \
    " PRIMARY KEY (tbl, id));"

/* Version 1 -> 2: the queue table loses AUTOINCREMENT (a rebuild); ids continue after the
 * largest ever handed out. */
#define SQL_MIGRATE_1_2                                                                            \
    "ALTER TABLE edw_queue RENAME TO edw_queue_v1;"                                                \
    SQL_QUEUE_TABLE                                                                                \
    "INSERT INTO edw_queue(id, queue, body, enqueued_us, visible_at_us, leased_until_us,"         \
    " dequeue_count, lease) SELECT id, queue, body, enqueued_us, visible_at_us, leased_until_us,"  \
    " dequeue_count, lease FROM edw_queue_v1;"                                                     \
    "CREATE TABLE edw_ids (one INTEGER PRIMARY KEY CHECK (one = 1), last INTEGER NOT NULL);"      \
    "INSERT INTO edw_ids VALUES (1, max(coalesce((SELECT max(seq) FROM sqlite_sequence"            \
    " WHERE name = 'edw_queue_v1'), 0), coalesce((SELECT max(id) FROM edw_queue_v1), 0)));"       \
    "DROP TABLE edw_queue_v1;"                                                                     \
    SQL_QUEUE_INDEX

/* queue */
/* Reserve ?1 ids for one send: the new ones are (last - ?1, last]. */
#define SQL_Q_IDS "UPDATE edw_ids SET last = last + ?1 WHERE one = 1 RETURNING last"
#define SQL_Q_SEND                                                                                 \
    "INSERT INTO edw_queue(id, queue, body, enqueued_us, visible_at_us)"                           \
    " VALUES (?4, ?1, ?2, ?3, ?3)"
#define SQL_Q_CLAIM                                                                                \
    "UPDATE edw_queue SET leased_until_us = ?1, dequeue_count = dequeue_count + 1, lease = ?2"     \
    " WHERE id IN (SELECT id FROM edw_queue WHERE queue = ?3 AND visible_at_us <= ?4"             \
    " AND leased_until_us <= ?4 ORDER BY visible_at_us LIMIT ?5)"                                 \
    " RETURNING id, body, dequeue_count, enqueued_us"
#define SQL_Q_ACK "DELETE FROM edw_queue WHERE id = ?1 AND lease = ?2"
#define SQL_Q_EXTEND                                                                               \
    "UPDATE edw_queue SET visible_at_us = ?3, leased_until_us = ?3, lease = ?4"                    \
    " WHERE id = ?1 AND lease = ?2"
#define SQL_Q_POISON                                                                               \
    "INSERT INTO edw_poison(queue, message_id, body, reason, dequeue_count, enqueued_us,"          \
    " poisoned_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
#define SQL_Q_COUNT_READY                                                                          \
    "SELECT count(*) FROM edw_queue WHERE queue = ?1 AND visible_at_us <= ?2"                     \
    " AND leased_until_us <= ?2"
#define SQL_Q_COUNT_LEASED                                                                         \
    "SELECT count(*) FROM edw_queue WHERE queue = ?1"                                             \
    " AND (visible_at_us > ?2 OR leased_until_us > ?2)"
#define SQL_Q_COUNT_POISON "SELECT count(*) FROM edw_poison WHERE queue = ?1"
#define SQL_Q_PEEK                                                                                 \
    "SELECT id, body, dequeue_count, enqueued_us, NULL FROM edw_queue"                            \
    " WHERE queue = ?1 AND visible_at_us <= ?2 AND leased_until_us <= ?2"                         \
    " ORDER BY visible_at_us LIMIT ?3"
#define SQL_Q_PEEK_POISON                                                                          \
    "SELECT message_id, body, dequeue_count, enqueued_us, reason FROM edw_poison"                 \
    " WHERE queue = ?1 AND ?2 = ?2 ORDER BY id LIMIT ?3"
#define SQL_Q_CLEAR "DELETE FROM edw_queue WHERE queue = ?1"
#define SQL_Q_CLEAR_POISON "DELETE FROM edw_poison WHERE queue = ?1"

/* store */
#define SQL_S_UPSERT                                                                               \
    "INSERT INTO edw_results(tbl, key, data, src_stamp, dest_stamp, processing_s,"                 \
    " dequeue_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"                                          \
    " ON CONFLICT (tbl, key) DO UPDATE SET data = excluded.data,"                                 \
    " src_stamp = excluded.src_stamp, dest_stamp = excluded.dest_stamp,"                          \
    " processing_s = excluded.processing_s, dequeue_count = excluded.dequeue_count"
#define SQL_S_COLUMNS "key, data, src_stamp, dest_stamp, processing_s, dequeue_count"
#define SQL_S_GET "SELECT " SQL_S_COLUMNS " FROM edw_results WHERE tbl = ?1 AND key = ?2"
/* A range on the primary key; the caller stops at the first key without the prefix (no
 * LIKE: keys may contain % and _). */
#define SQL_S_SCAN                                                                                 \
    "SELECT " SQL_S_COLUMNS " FROM edw_results WHERE tbl = ?1 AND key >= ?2 ORDER BY key"
#define SQL_S_COUNT "SELECT count(*) FROM edw_results WHERE tbl = ?1"
#define SQL_S_RUN_SAVE                                                                             \
    "INSERT OR REPLACE INTO edw_runs(tbl, id, started_us, finished_us, sent)"                      \
    " VALUES (?1, ?2, ?3, ?4, ?5)"
#define SQL_S_RUN_GET                                                                              \
    "SELECT id, started_us, finished_us, sent FROM edw_runs WHERE tbl = ?1 AND id = ?2"
#define SQL_S_RUN_LAST                                                                             \
    "SELECT id, started_us, finished_us, sent FROM edw_runs WHERE tbl = ?1 AND ?2 IS NULL"        \
    " ORDER BY started_us DESC LIMIT 1"

#endif
