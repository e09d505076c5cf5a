#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# --batch auto end to end on a real SQLite file: the producer and a record consumer use the
# backend's preferred 256, a blocking handler leases at most max(32, --concurrency), an
# explicit --batch wins, a batch the backend cannot take is a usage error naming its limit,
# and every message is stored exactly once.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

export EDW_SQLITE_PATH="$TEST_DIR/edw.db" EDW_LOG_LEVEL=warn

batch_of() { grep -o '"batch":[0-9]*' "$1" | tail -1 | cut -d: -f2; }

"$EDW_BIN" config >"$TEST_DIR/config"
grep -q '^batch  *= auto  (default, EDW_BATCH)' "$TEST_DIR/config" ||
    fail "config does not show batch auto: $(grep batch "$TEST_DIR/config")"

"$EDW_BIN" produce --count 700 --json >"$TEST_DIR/p.out"
assert_eq "$(batch_of "$TEST_DIR/p.out")" 256 "producer batch with auto"

# 700 waiting: a record consumer leases 256 per transaction.
"$EDW_BIN" consume --exit-when-idle 0.3 --json >"$TEST_DIR/c1.out"
assert_eq "$(batch_of "$TEST_DIR/c1.out")" 256 "record consumer batch with auto"
"$EDW_BIN" verify --expect 700 >"$TEST_DIR/v1" || fail "verify after auto: $(cat "$TEST_DIR/v1")"

# Blocking handlers (work:0 runs inline, so work:1): the lease-ahead cap, then an explicit
# batch that wins over it.
"$EDW_BIN" produce --count 40 --json >/dev/null
"$EDW_BIN" consume --handler work:1 --exit-when-idle 0.3 --json >"$TEST_DIR/c2.out"
assert_eq "$(batch_of "$TEST_DIR/c2.out")" 32 "work handler, concurrency 16"
"$EDW_BIN" produce --count 40 --json >/dev/null
"$EDW_BIN" consume --handler work:1 --concurrency 64 --exit-when-idle 0.3 --json \
    >"$TEST_DIR/c3.out"
assert_eq "$(batch_of "$TEST_DIR/c3.out")" 64 "work handler, concurrency 64"
"$EDW_BIN" produce --count 40 --batch 7 --json >"$TEST_DIR/p2.out"
assert_eq "$(batch_of "$TEST_DIR/p2.out")" 7 "explicit producer batch"
EDW_BATCH=500 "$EDW_BIN" consume --handler work:1 --exit-when-idle 0.3 --json >"$TEST_DIR/c4.out"
assert_eq "$(batch_of "$TEST_DIR/c4.out")" 500 "explicit consumer batch (env)"
rows=$(sqlite3 "$EDW_SQLITE_PATH" "SELECT count(*) FROM edw_results")
assert_eq "$rows" 820 "one row per message"
[[ $(sqlite3 "$EDW_SQLITE_PATH" "SELECT count(*) FROM edw_queue") == 0 ]] || fail "queue not empty"

# Too large for the backend: exit 2, the limit named, nothing sent.
code=0
"$EDW_BIN" produce --count 5 --batch 1000 >/dev/null 2>"$TEST_DIR/err" || code=$?
assert_eq "$code" 0 "sqlite takes 1000 per call"
code=0
"$EDW_BIN" consume --backend aws --aws-region us-east-1 --batch 200 >/dev/null \
    2>"$TEST_DIR/err" || code=$?
assert_eq "$code" 2 "aws --batch 200 exit code"
grep -q -- "--batch 200 is more than the aws backend receives in one call (100)" \
    "$TEST_DIR/err" || fail "no limit named: $(cat "$TEST_DIR/err")"
code=0
"$EDW_BIN" consume --batch 0 >/dev/null 2>"$TEST_DIR/err" || code=$?
assert_eq "$code" 2 "--batch 0 exit code"
grep -q "'0' is not auto or a whole number between 1 and 1000" "$TEST_DIR/err" ||
    fail "bad --batch not explained: $(cat "$TEST_DIR/err")"
echo "batch_auto: ok"
