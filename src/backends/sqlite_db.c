/* SPDX-License-Identifier: Apache-2.0 */
#include "sqlite_db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "edw/alloc.h"
#include "edw/log.h"
#include "sqlite_sql.h"

/* Process-wide: every connection uses the configured EDW_SQLITE_BUSY_TIMEOUT_MS. */
static _Atomic long long s_busy_timeout_us = 10000000;

/* SQLite's own busy handler sleeps in 1 ms+ steps, which caps a contended queue at a few
 * hundred transactions per second per process. Ours starts at 20 us and doubles to 2 ms, so
 * competing consumers hand the write lock around quickly, and gives up after the timeout. */
static int busy_handler(void *arg, int attempt)
{
    (void)arg;
    static const long steps_us[] = {20, 40, 80, 160, 320, 640, 1000, 2000};
    long long waited = 0;
    int last = (int)(sizeof(steps_us) / sizeof(steps_us[0])) - 1;
    for (int i = 0; i < attempt; i++)
        waited += steps_us[i < last ? i : last];
    if (waited >= atomic_load(&s_busy_timeout_us))
        return 0;
    long us = steps_us[attempt < last ? attempt : last];
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
    return 1;
}

enum edw_err edw_sqlite_fail(sqlite3 *db, int rc, const char *what, struct edw_error *err)
{
    enum edw_err cat;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_PROTOCOL:
        cat = EDW_ERR_TRANSIENT;
        break;
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
        cat = EDW_ERR_INVALID;
        break;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
        cat = EDW_ERR_AUTH;
        break;
    default:
        cat = EDW_ERR_FATAL;
        break;
    }
    if (err)
        snprintf(err->code, sizeof(err->code), "%s", sqlite3_errstr(rc));
    return edw_error_set(err, cat, "sqlite %s: %s", what, db ? sqlite3_errmsg(db)
                                                              : sqlite3_errstr(rc));
}

static enum edw_err exec(sqlite3 *db, const char *sql, const char *what, struct edw_error *err)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? EDW_OK : edw_sqlite_fail(db, rc, what, err);
}

/* Transaction control statements, prepared once per shared connection: parsing them anew
 * for every batch (a begin, a commit and a savepoint and release per operation) cost about
 * 2 % of a consumer's instructions. */
enum ctl { CTL_BEGIN, CTL_COMMIT, CTL_SAVEPOINT, CTL_RELEASE, CTL_N };
static const char *const s_ctl_sql[CTL_N] = {"BEGIN IMMEDIATE", "COMMIT", "SAVEPOINT edw_op",
                                             "RELEASE edw_op"};
static enum edw_err ctl(sqlite3 *db, enum ctl which, const char *what, struct edw_error *err);

/* The connection whose outer transaction (edw_sqlite_txn) this thread has open, if any:
 * operations on it then nest as savepoints instead of committing on their own. */
static _Thread_local sqlite3 *s_outer;

enum edw_err edw_sqlite_begin(sqlite3 *db, struct edw_error *err)
{
    if (db == s_outer)
        return ctl(db, CTL_SAVEPOINT, "savepoint", err);
    return ctl(db, CTL_BEGIN, "begin", err);
}

enum edw_err edw_sqlite_commit(sqlite3 *db, struct edw_error *err)
{
    enum edw_err rc = ctl(db, db == s_outer ? CTL_RELEASE : CTL_COMMIT, "commit", err);
    if (rc)
        edw_sqlite_rollback(db);
    return rc;
}

void edw_sqlite_rollback(sqlite3 *db)
{
    if (db == s_outer)
        sqlite3_exec(db, "ROLLBACK TO edw_op; RELEASE edw_op", NULL, NULL, NULL);
    else if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

enum edw_err edw_sqlite_txn(sqlite3 *db, enum edw_txn_op op, struct edw_error *err)
{
    enum edw_err rc = EDW_OK;
    switch (op) {
    case EDW_TXN_BEGIN:
        rc = ctl(db, CTL_BEGIN, "begin", err);
        if (!rc)
            s_outer = db;
        break;
    case EDW_TXN_COMMIT:
        s_outer = NULL;
        rc = ctl(db, CTL_COMMIT, "commit", err);
        if (rc && !sqlite3_get_autocommit(db))
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        break;
    case EDW_TXN_ROLLBACK:
        s_outer = NULL;
        if (!sqlite3_get_autocommit(db))
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        break;
    }
    return rc;
}

enum edw_err edw_sqlite_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out,
                                struct edw_error *err)
{
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    return rc == SQLITE_OK ? EDW_OK : edw_sqlite_fail(db, rc, "prepare", err);
}

static enum edw_err pragma_int(sqlite3 *db, const char *sql, long long *out,
                               struct edw_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? EDW_OK : edw_sqlite_fail(db, rc, "read header", err);
}

/* Switch to WAL once per file (the mode is persistent). Changing the journal mode needs a
 * lock that a process initialising the same new file may hold for a moment, and SQLite then
 * answers SQLITE_BUSY without consulting the busy handler; so read the mode first and retry. */
static enum edw_err enable_wal(sqlite3 *db, struct edw_error *err)
{
    for (int attempt = 0; attempt < 500; attempt++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
        bool wal = rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
                   strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
        sqlite3_finalize(st);
        if (wal)
            return EDW_OK;
        rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            return edw_sqlite_fail(db, rc, "enable WAL", err);
        if (rc != SQLITE_OK) {
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return edw_error_set(err, EDW_ERR_TRANSIENT, "sqlite enable WAL: the database stayed locked");
}

/* Decide whether the file is ours, empty (then initialise it) or someone else's. Runs inside
 * BEGIN IMMEDIATE so two processes starting on a new file do not both initialise it. */
static enum edw_err check_owner(sqlite3 *db, const char *path, struct edw_error *err)
{
    long long app = 0, version = 0, objects = 0;
    enum edw_err rc = pragma_int(db, "PRAGMA application_id", &app, err);
    if (!rc)
        rc = pragma_int(db, "PRAGMA user_version", &version, err);
    if (!rc)
        rc = pragma_int(db, "SELECT count(*) FROM sqlite_master", &objects, err);
    if (rc)
        return rc;
    if (app == EDW_SQLITE_APP_ID && version == EDW_SQLITE_SCHEMA)
        return EDW_OK;
    if (app == EDW_SQLITE_APP_ID && version > EDW_SQLITE_SCHEMA)
        return edw_error_set(err, EDW_ERR_INVALID,
                             "%s uses schema version %lld, newer than this edw understands (%d)",
                             path, version, EDW_SQLITE_SCHEMA);
    if (app != EDW_SQLITE_APP_ID && (app != 0 || version != 0 || objects != 0))
        return edw_error_set(err, EDW_ERR_INVALID,
                             "%s is an SQLite database that edw did not create; refusing to "
                             "change it (choose another EDW_SQLITE_PATH)",
                             path);
    if (app == EDW_SQLITE_APP_ID && version != 1)
        return edw_error_set(err, EDW_ERR_INVALID,
                             "%s has edw schema version %lld, which this edw cannot upgrade "
                             "(it reads version %d and upgrades version 1)",
                             path, version, EDW_SQLITE_SCHEMA);
    if (app == EDW_SQLITE_APP_ID) {
        /* Version 1 (AUTOINCREMENT ids): convert in this transaction. Consumers
         * of the old version must be stopped first (they would keep writing the old way). */
        edw_info("sqlite", "upgrading %s from schema version 1 to %d", path, EDW_SQLITE_SCHEMA);
        rc = exec(db, SQL_MIGRATE_1_2, "upgrade schema", err);
    } else {
        rc = exec(db, SQL_SCHEMA, "create schema", err);
    }
    if (!rc) {
        char sql[96];
        snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d",
                 EDW_SQLITE_APP_ID, EDW_SQLITE_SCHEMA);
        rc = exec(db, sql, "stamp schema", err);
    }
    return rc;
}

static enum edw_err open_new(const struct edw_config *cfg, sqlite3 **out, struct edw_error *err)
{
    sqlite3 *db = NULL;
    const char *path = cfg->sqlite_path;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    enum edw_err e = EDW_OK;
    if (rc != SQLITE_OK) {
        e = edw_error_set(err, EDW_ERR_INVALID, "cannot open database %s: %s", path,
                          db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        goto out;
    }
    atomic_store(&s_busy_timeout_us, cfg->sqlite_busy_timeout_ms * 1000);
    sqlite3_busy_handler(db, busy_handler, NULL);
    sqlite3_extended_result_codes(db, 1);
    /* The header read fails with SQLITE_NOTADB before anything is written to a foreign file. */
    long long app = 0, version = 0;
    if (pragma_int(db, "PRAGMA application_id", &app, err) != EDW_OK ||
        pragma_int(db, "PRAGMA user_version", &version, err) != EDW_OK) {
        e = edw_error_set(err, EDW_ERR_INVALID,
                          "cannot use %s: %s (not an edw database; nothing was changed)", path,
                          sqlite3_errmsg(db));
        goto out;
    }
    /* A new file is initialised (an old one upgraded) under the write lock so two starting
     * processes agree; a current one only has its schema version checked. */
    bool fresh = app != EDW_SQLITE_APP_ID || version != EDW_SQLITE_SCHEMA;
    /* Plain exec here: the connection table's lock is held (see ctl_stmt). */
    e = fresh ? exec(db, "BEGIN IMMEDIATE", "begin", err) : EDW_OK;
    if (!e)
        e = check_owner(db, path, err);
    if (!e && fresh)
        e = exec(db, "COMMIT", "commit", err);
    if (!e)
        e = enable_wal(db, err);
    /* No mmap: mapped database pages would count as the consumer's RSS and grow with the
     * file; with the queue and store sharing one connection, pread() re-reads are rare. Keep
     * SQLite's own page cache small for the same reason (1 MiB). */
    if (!e)
        e = exec(db, "PRAGMA cache_size = -1024", "set cache size", err);
    /* Savepoint sub-journals and RETURNING's buffered rows in memory, not in temporary files:
     * each operation of the worker's shared transaction is a savepoint, and a batch of 256
     * dirties more pages than the 64 KiB a sub-journal keeps in memory before it spills, so
     * every batch created, wrote and unlinked a temporary file (two thirds of a consumer's
     * pwrite calls). The memory is a few hundred KiB at most, only during a transaction. */
    if (!e)
        e = exec(db, "PRAGMA temp_store = MEMORY", "set temp store", err);
    if (!e)
        e = exec(db,
                 strcmp(cfg->sqlite_sync, "full") == 0 ? "PRAGMA synchronous = FULL"
                                                       : "PRAGMA synchronous = NORMAL",
                 "set synchronous", err);
out:
    if (e) {
        if (db)
            edw_sqlite_rollback(db);
        sqlite3_close_v2(db);
        db = NULL;
    }
    *out = db;
    return e;
}

/* Connections shared by the queue and the store of one thread. With two connections, every
 * commit by one makes the other re-read its cached pages from the WAL; sharing halves the
 * reads. Connections are opened without SQLite's mutex, so they are only ever shared within
 * the thread that opened them. */
struct shared_conn {
    sqlite3 *db;
    char *path;
    pthread_t owner;
    unsigned refs;
    sqlite3_stmt *ctl[CTL_N]; /* prepared on first use */
};

static pthread_mutex_t s_conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shared_conn s_conns[64];

/* The connection's prepared `which`, or NULL for a connection outside the table (then the
 * text is run with sqlite3_exec). Only the owning thread uses a connection, so the slot's
 * statements need no lock once found; the table lookup does. */
static sqlite3_stmt *ctl_stmt(sqlite3 *db, enum ctl which)
{
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s_conns_lock);
    for (size_t i = 0; i < sizeof(s_conns) / sizeof(s_conns[0]); i++) {
        struct shared_conn *c = &s_conns[i];
        if (c->refs && c->db == db) {
            if (!c->ctl[which] && sqlite3_prepare_v3(db, s_ctl_sql[which], -1,
                                                     SQLITE_PREPARE_PERSISTENT, &c->ctl[which],
                                                     NULL) != SQLITE_OK)
                c->ctl[which] = NULL;
            st = c->ctl[which];
            break;
        }
    }
    pthread_mutex_unlock(&s_conns_lock);
    return st;
}

static enum edw_err ctl(sqlite3 *db, enum ctl which, const char *what, struct edw_error *err)
{
    sqlite3_stmt *st = ctl_stmt(db, which);
    if (!st)
        return exec(db, s_ctl_sql[which], what, err);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? EDW_OK : edw_sqlite_fail(db, rc, what, err);
}

enum edw_err edw_sqlite_open(const struct edw_config *cfg, sqlite3 **out, struct edw_error *err)
{
    enum edw_err e = EDW_OK;
    pthread_mutex_lock(&s_conns_lock);
    struct shared_conn *free_slot = NULL;
    for (size_t i = 0; i < sizeof(s_conns) / sizeof(s_conns[0]); i++) {
        struct shared_conn *c = &s_conns[i];
        if (c->refs && pthread_equal(c->owner, pthread_self()) &&
            strcmp(c->path, cfg->sqlite_path) == 0) {
            c->refs++;
            *out = c->db;
            goto out;
        }
        if (!c->refs && !free_slot)
            free_slot = c;
    }
    e = open_new(cfg, out, err);
    if (!e && free_slot) {
        free_slot->db = *out;
        free_slot->path = edw_xstrdup(cfg->sqlite_path);
        free_slot->owner = pthread_self();
        free_slot->refs = 1;
    }
out:
    pthread_mutex_unlock(&s_conns_lock);
    return e;
}

void edw_sqlite_close(sqlite3 *db)
{
    if (!db)
        return;
    pthread_mutex_lock(&s_conns_lock);
    for (size_t i = 0; i < sizeof(s_conns) / sizeof(s_conns[0]); i++) {
        struct shared_conn *c = &s_conns[i];
        if (c->refs && c->db == db) {
            if (--c->refs == 0) {
                for (int k = 0; k < CTL_N; k++)
                    sqlite3_finalize(c->ctl[k]);
                free(c->path);
                memset(c, 0, sizeof(*c));
                break;
            }
            db = NULL; /* still used by the other backend */
            break;
        }
    }
    pthread_mutex_unlock(&s_conns_lock);
    sqlite3_close_v2(db); /* NULL-safe; connections not in the table are simply closed */
}

sqlite3_int64 edw_sqlite_lease_token(void)
{
    static _Atomic unsigned long long s_state;
    unsigned long long x = atomic_load(&s_state);
    if (x == 0) {
        unsigned long long seed = 0;
        if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
            seed = (unsigned long long)time(NULL) ^ (unsigned long long)clock();
        atomic_compare_exchange_strong(&s_state, &x, seed | 1);
    }
    /* splitmix64 over an atomic counter */
    unsigned long long z = atomic_fetch_add(&s_state, 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (sqlite3_int64)(z & 0x7fffffffffffffffULL) | 1;
}
