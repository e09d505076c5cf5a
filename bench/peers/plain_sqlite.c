/* SPDX-License-Identifier: Apache-2.0 */
/* The yardstick for the embedded backend: the same enqueue / claim / upsert / delete work as
 * edw, in batches of 32, with nothing else (no JSON, no leases beyond a column, no logging).
 * One producer process and two consumer processes on one WAL file, like the edw benchmark.
 * Usage: plain_sqlite DB N      prints "N messages in S s (R msg/s)". */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
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

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        exit(1);
    sqlite3_busy_timeout(db, 10000);
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

static void produce(const char *path, long n)
{
    sqlite3 *db = open_db(path);
    sqlite3_stmt *ins;
    must(db, sqlite3_prepare_v2(db, "INSERT INTO q(body, visible_at) VALUES (?1, 0)", -1, &ins,
                                NULL));
    char body[160];
    for (long i = 0; i < n;) {
        must(db, sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL));
        for (int k = 0; k < BATCH && i < n; k++, i++) {
            int len = snprintf(body, sizeof(body),
                               "{\"msg\": \"Scale Test Message : COUNT %ld\", \"srcStamp\": "
                               "\"2026-11-27 18:00:00.000000\", \"id\": \"plain-%ld\"}",
                               i + 1, i + 1);
            sqlite3_bind_text(ins, 1, body, len, SQLITE_STATIC);
            must(db, sqlite3_step(ins));
            sqlite3_reset(ins);
        }
        must(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL));
    }
    sqlite3_finalize(ins);
    sqlite3_close(db);
}

static long consume(const char *path, long total)
{
    sqlite3 *db = open_db(path);
    sqlite3_stmt *claim, *up, *del, *cnt;
    must(db, sqlite3_prepare_v2(db,
                                "UPDATE q SET visible_at = ?1 WHERE id IN (SELECT id FROM q "
                                "WHERE visible_at <= ?2 ORDER BY visible_at LIMIT 32) "
                                "RETURNING id, body",
                                -1, &claim, NULL));
    must(db, sqlite3_prepare_v2(db,
                                "INSERT INTO r(key, data) VALUES (?1, ?2) ON CONFLICT(key) DO "
                                "UPDATE SET data = excluded.data",
                                -1, &up, NULL));
    must(db, sqlite3_prepare_v2(db, "DELETE FROM q WHERE id = ?1", -1, &del, NULL));
    must(db, sqlite3_prepare_v2(db, "SELECT count(*) FROM r", -1, &cnt, NULL));
    long done = 0, ids[BATCH];
    char *bodies[BATCH];
    for (;;) {
        long now = (long)time(NULL);
        int got = 0;
        must(db, sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL));
        sqlite3_bind_int64(claim, 1, now + 30);
        sqlite3_bind_int64(claim, 2, now);
        while (sqlite3_step(claim) == SQLITE_ROW) {
            ids[got] = (long)sqlite3_column_int64(claim, 0);
            bodies[got++] = sqlite3_mprintf("%s", sqlite3_column_text(claim, 1));
        }
        sqlite3_reset(claim);
        must(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL));
        if (got == 0) {
            sqlite3_step(cnt);
            long stored = (long)sqlite3_column_int64(cnt, 0);
            sqlite3_reset(cnt);
            if (stored >= total)
                break;
            usleep(1000);
            continue;
        }
        must(db, sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL));
        for (int k = 0; k < got; k++) {
            char key[32];
            snprintf(key, sizeof(key), "m-%ld", ids[k]);
            sqlite3_bind_text(up, 1, key, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(up, 2, bodies[k], -1, SQLITE_STATIC);
            must(db, sqlite3_step(up));
            sqlite3_reset(up);
            sqlite3_bind_int64(del, 1, ids[k]);
            must(db, sqlite3_step(del));
            sqlite3_reset(del);
            sqlite3_free(bodies[k]);
        }
        must(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL));
        done += got;
    }
    sqlite3_finalize(claim);
    sqlite3_finalize(up);
    sqlite3_finalize(del);
    sqlite3_finalize(cnt);
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
                          "CREATE TABLE q(id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT, visible_at INT);"
                          "CREATE INDEX q_ready ON q(visible_at);"
                          "CREATE TABLE r(key TEXT PRIMARY KEY, data TEXT) WITHOUT ROWID;",
                          NULL, NULL, NULL));
    sqlite3_close(db);
    double t0 = now_s();
    for (int c = 0; c < 2; c++)
        if (fork() == 0)
            _exit(consume(path, n) > 0 ? 0 : 1);
    produce(path, n);
    while (wait(NULL) > 0)
        ;
    double s = now_s() - t0;
    printf("%ld messages in %.2f s (%.0f msg/s)\n", n, s, (double)n / s);
    return 0;
}
