/* SPDX-License-Identifier: Apache-2.0 */
/* The yardstick for the embedded backend: the same enqueue / claim / upsert / delete work as
 * edw, in batches of 32, written the way a careful SQLite programmer would and with nothing
 * else (no JSON, no lease tokens, no logging, no metrics). One producer process and two
 * consumer processes on one WAL file (synchronous=NORMAL), like the edw benchmark.
 *
 * - Prepared statements, reused; one write transaction per batch of 32.
 * - A consumer's transaction writes the rows of the batch it holds and deletes those messages
 *   (row and delete commit together), then claims the next batch (a lease: visible_at moves
 *   30 s ahead) and commits; the claimed batch is "processed" outside the transaction.
 * - A busy handler that retries after 20 us doubling to 1 ms (SQLite's own busy_timeout sleeps
 *   1 ms or more, which caps three processes sharing one write lock far below the disk).
 * - A consumer stops when the producer has finished and the queue is empty.
 *
 * Usage: plain_sqlite DB N      prints "N messages in S s (R msg/s)". */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int busy(void *arg, int attempt)
{
    (void)arg;
    long us = attempt < 6 ? 20L << attempt : 1000;
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
    return attempt < 20000;
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        exit(1);
    sqlite3_busy_handler(db, busy, NULL);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    return db;
}

static void must(sqlite3 *db, int rc)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    must(db, sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL));
    return st;
}

static void run(sqlite3 *db, sqlite3_stmt *st)
{
    must(db, sqlite3_step(st));
    sqlite3_reset(st);
}

static void produce(const char *path, long n)
{
    sqlite3 *db = open_db(path);
    sqlite3_stmt *begin = prep(db, "BEGIN IMMEDIATE"), *commit = prep(db, "COMMIT");
    sqlite3_stmt *ins = prep(db, "INSERT INTO q(body, visible_at) VALUES (?1, 0)");
    char body[160];
    for (long i = 0; i < n;) {
        run(db, begin);
        for (int k = 0; k < BATCH && i < n; k++, i++) {
            int len = snprintf(body, sizeof(body),
                               "{\"msg\": \"Scale Test Message : COUNT %ld\", \"srcStamp\": "
                               "\"2026-11-27 18:00:00.000000\", \"id\": \"plain-%ld\"}",
                               i + 1, i + 1);
            sqlite3_bind_text(ins, 1, body, len, SQLITE_STATIC);
            run(db, ins);
        }
        run(db, commit);
    }
    sqlite3_exec(db, "INSERT INTO done VALUES (1)", NULL, NULL, NULL);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_finalize(ins);
    sqlite3_close(db);
}

static long consume(const char *path)
{
    sqlite3 *db = open_db(path);
    sqlite3_stmt *begin = prep(db, "BEGIN IMMEDIATE"), *commit = prep(db, "COMMIT");
    sqlite3_stmt *claim = prep(db, "UPDATE q SET visible_at = ?1 WHERE id IN (SELECT id FROM q "
                                   "WHERE visible_at <= ?2 ORDER BY visible_at LIMIT 32) "
                                   "RETURNING id, body");
    sqlite3_stmt *up = prep(db, "INSERT INTO r(key, data) VALUES (?1, ?2) ON CONFLICT(key) DO "
                                "UPDATE SET data = excluded.data");
    sqlite3_stmt *del = prep(db, "DELETE FROM q WHERE id = ?1");
    sqlite3_stmt *finished = prep(db, "SELECT EXISTS (SELECT 1 FROM done) AND NOT EXISTS "
                                      "(SELECT 1 FROM q)");
    long done = 0, ids[BATCH];
    char *bodies[BATCH];
    int held = 0;
    for (;;) {
        long now = (long)time(NULL);
        run(db, begin);
        for (int k = 0; k < held; k++) {
            char key[32];
            snprintf(key, sizeof(key), "m-%ld", ids[k]);
            sqlite3_bind_text(up, 1, key, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(up, 2, bodies[k], -1, SQLITE_STATIC);
            run(db, up);
            sqlite3_bind_int64(del, 1, ids[k]);
            run(db, del);
            sqlite3_free(bodies[k]);
        }
        done += held;
        held = 0;
        sqlite3_bind_int64(claim, 1, now + 30);
        sqlite3_bind_int64(claim, 2, now);
        int rc;
        while ((rc = sqlite3_step(claim)) == SQLITE_ROW) {
            ids[held] = (long)sqlite3_column_int64(claim, 0);
            bodies[held++] = sqlite3_mprintf("%s", sqlite3_column_text(claim, 1));
        }
        must(db, rc);
        sqlite3_reset(claim);
        run(db, commit);
        if (held == 0) {
            int end = sqlite3_step(finished) == SQLITE_ROW && sqlite3_column_int(finished, 0);
            sqlite3_reset(finished);
            if (end)
                break;
            usleep(1000);
        }
    }
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_finalize(claim);
    sqlite3_finalize(up);
    sqlite3_finalize(del);
    sqlite3_finalize(finished);
    sqlite3_close(db);
    return done;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    const char *path = argv[1];
    long n = atol(argv[2]);
    sqlite3 *db = open_db(path);
    must(db, sqlite3_exec(db,
                          "CREATE TABLE q(id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT, "
                          "visible_at INT);"
                          "CREATE INDEX q_ready ON q(visible_at);"
                          "CREATE TABLE r(key TEXT PRIMARY KEY, data TEXT) WITHOUT ROWID;"
                          "CREATE TABLE done(x);",
                          NULL, NULL, NULL));
    sqlite3_close(db);
    double t0 = now_s();
    for (int c = 0; c < 2; c++)
        if (fork() == 0)
            _exit(consume(path) > 0 ? 0 : 1);
    produce(path, n);
    int ok = 1, status;
    while (wait(&status) > 0)
        ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    double s = now_s() - t0;
    db = open_db(path);
    sqlite3_stmt *cnt = prep(db, "SELECT count(*) FROM r");
    long stored = sqlite3_step(cnt) == SQLITE_ROW ? (long)sqlite3_column_int64(cnt, 0) : -1;
    sqlite3_finalize(cnt);
    sqlite3_close(db);
    if (!ok || stored != n) {
        fprintf(stderr, "plain_sqlite: %ld of %ld rows stored\n", stored, n);
        return 1;
    }
    printf("%ld messages in %.2f s (%.0f msg/s)\n", n, s, (double)n / s);
    return 0;
}
