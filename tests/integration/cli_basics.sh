#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The command line on a real SQLite file: usage errors exit 2 with a message, foreign files are
# refused untouched, produce -> consume -> verify works, verify exits 1 on missing ids, and the
# exec handler stores the command's output.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

expect_exit() { # expect_exit CODE CMD... ; stderr goes to $TEST_DIR/err
    local want=$1 got=0
    shift
    "$@" >"$TEST_DIR/out" 2>"$TEST_DIR/err" || got=$?
    [[ $got -eq $want ]] || fail "'$*' exited $got, wanted $want: $(cat "$TEST_DIR/err")"
}

expect_exit 0 "$EDW_BIN" --help
grep -q "produce" "$TEST_DIR/out" || fail "help lists no commands"
expect_exit 2 "$EDW_BIN" frobnicate
expect_exit 2 "$EDW_BIN" consume --no-such-flag
grep -q "unknown option '--no-such-flag'" "$TEST_DIR/err" || fail "no message for unknown flag"
expect_exit 2 "$EDW_BIN" produce --count abc --rate -1
grep -q "option --count: 'abc'" "$TEST_DIR/err" || fail "bad --count not named"
grep -q "option --rate: '-1'" "$TEST_DIR/err" || fail "bad --rate not named"
EDW_VISIBLTY=3 expect_exit 2 "$EDW_BIN" consume
grep -q "EDW_VISIBLTY: unknown setting" "$TEST_DIR/err" || fail "env typo not reported"
expect_exit 0 "$EDW_BIN" consume --help
grep -q -- "--max-dequeue" "$TEST_DIR/out" || fail "consume --help lacks --max-dequeue"

# A directory, a text file and someone else's SQLite database are refused, untouched.
EDW_SQLITE_PATH="$TEST_DIR" expect_exit 1 "$EDW_BIN" queue depth
echo "not a database, somebody's notes" >"$TEST_DIR/notes.txt"
sum_before=$(md5sum <"$TEST_DIR/notes.txt")
EDW_SQLITE_PATH="$TEST_DIR/notes.txt" expect_exit 1 "$EDW_BIN" produce --count 1
grep -q "not an edw database" "$TEST_DIR/err" || fail "text file: $(cat "$TEST_DIR/err")"
[[ $(md5sum <"$TEST_DIR/notes.txt") == "$sum_before" ]] || fail "text file was modified"
sqlite3 "$TEST_DIR/other.db" "CREATE TABLE invoices(id INTEGER); INSERT INTO invoices VALUES (1);"
EDW_SQLITE_PATH="$TEST_DIR/other.db" expect_exit 1 "$EDW_BIN" consume --exit-when-idle 1
grep -q "did not create" "$TEST_DIR/err" || fail "foreign db: $(cat "$TEST_DIR/err")"
[[ $(sqlite3 "$TEST_DIR/other.db" "SELECT count(*) FROM sqlite_master") == 1 ]] ||
    fail "foreign database was changed"

# The happy path, with JSON summaries as the last stdout line.
out=$(last_json "$EDW_BIN" produce --count 500)
assert_eq "$(json_get "$out" .sent)" 500 "produce sent"
run=$(json_get "$out" .run)
out=$(last_json "$EDW_BIN" consume --exit-when-idle 0.5)
assert_eq "$(json_get "$out" .processed)" 500 "consume processed"
out=$(last_json "$EDW_BIN" verify)
assert_eq "$(json_get "$out" .run)" "$run" "verify picks the last run"
assert_eq "$(json_get "$out" .missing)" 0 "missing"
assert_eq "$(json_get "$out" .stored)" 500 "stored"
[[ $(json_get "$out" .latency_s.p99) != null ]] || fail "no latency percentiles"
row=$(sqlite3 -json "$EDW_SQLITE_PATH" "SELECT * FROM edw_results WHERE key = '$run-17'")
assert_eq "$(jq -r '.[0].data' <<<"$row")" "Scale Test Message : COUNT 17" "row data"
assert_eq "$(jq -r '.[0].dequeue_count' <<<"$row")" 1 "row dequeueCount"

# verify exits 1 and names the missing ids when more were expected.
expect_exit 1 "$EDW_BIN" verify --expect 503 --json
out=$(tail -n 1 "$TEST_DIR/out")
assert_eq "$(json_get "$out" .missing)" 3 "missing with --expect"
assert_eq "$(json_get "$out" '.missing_ids | join(",")')" "$run-501,$run-502,$run-503" "ids"

# exec handler: stdout (trailing newline trimmed) is stored as data.
"$EDW_BIN" produce --count 3 >/dev/null
run=$(last_json "$EDW_BIN" verify --expect 3 --json 2>/dev/null | jq -r .run || true)
run=$(sqlite3 "$EDW_SQLITE_PATH" "SELECT id FROM edw_runs ORDER BY started_us DESC LIMIT 1")
"$EDW_BIN" consume --handler 'exec:jq -r .msg | tr a-z A-Z' --exit-when-idle 0.5 >/dev/null
assert_eq "$(sqlite3 "$EDW_SQLITE_PATH" "SELECT data FROM edw_results WHERE key = '$run-2'")" \
    "SCALE TEST MESSAGE : COUNT 2" "exec handler output"

# queue send / peek / depth, and config.
"$EDW_BIN" queue send '{"msg":"hand made","srcStamp":"2026-11-27 18:00:00.000000"}' >/dev/null
out=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$out" .depth)" 1 "depth after send"
out=$(last_json "$EDW_BIN" queue peek)
assert_eq "$(json_get "$out" '.messages[0].body | fromjson | .msg')" "hand made" "peek body"
# Messages without an id (as the reference producers send them) are keyed by the queue's
# message id, which must never be reused, even after the queue has been emptied.
"$EDW_BIN" consume --exit-when-idle 0.3 >/dev/null
rows=$(sqlite3 "$EDW_SQLITE_PATH" "SELECT count(*) FROM edw_results")
"$EDW_BIN" queue send '{"msg":"hand made 2","srcStamp":"2026-11-27 18:00:00.000000"}' >/dev/null
"$EDW_BIN" consume --exit-when-idle 0.3 >/dev/null
assert_eq "$(sqlite3 "$EDW_SQLITE_PATH" "SELECT count(*) FROM edw_results")" $((rows + 1)) \
    "an id-less message after a drained queue gets its own row"

out=$("$EDW_BIN" config --json --batch 7)
assert_eq "$(json_get "$out" .batch)" 7 "config shows the flag"
assert_eq "$(json_get "$out" .backend)" sqlite "config backend"
log "ok"
