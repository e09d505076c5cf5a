#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A consumer killed with SIGKILL in the middle of its batches loses nothing: its leased
# messages come back after the visibility timeout and are stored once by the next consumer.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

N=3000
"$EDW_BIN" produce --count "$N" >/dev/null
# Slow handler, short lease: the victim always holds leased, unfinished messages.
start_bg "$EDW_BIN" consume --handler work:20 --concurrency 16 --batch 32 --visibility 3
victim=$BG_PID
wait_for 30 bash -c "[[ \$(sqlite3 '$EDW_SQLITE_PATH' 'SELECT count(*) FROM edw_results') -ge 200 ]]" ||
    fail "victim made no progress"
kill -KILL "$victim"
wait "$victim" 2>/dev/null || true
leased=$(last_json "$EDW_BIN" queue depth | jq .in_flight)
stored_before=$(sqlite3 "$EDW_SQLITE_PATH" "SELECT count(*) FROM edw_results")
log "killed the consumer with $leased leased messages, $stored_before rows stored"
((leased > 0)) || fail "the kill did not interrupt anything"

out=$(last_json "$EDW_BIN" consume --exit-when-idle 5 --concurrency 32)
log "survivor: $out"
out=$(last_json "$EDW_BIN" verify)
assert_eq "$(json_get "$out" .missing)" 0 "missing"
assert_eq "$(json_get "$out" .stored)" "$N" "stored"
assert_eq "$(sqlite3 "$EDW_SQLITE_PATH" "SELECT count(*) FROM edw_results")" "$N" "one row each"
redelivered=$(json_get "$out" .redelivered)
((redelivered > 0)) || fail "no message was redelivered, so the test proved nothing"
assert_eq "$(last_json "$EDW_BIN" queue depth | jq .poison)" 0 "no false poison"
log "ok ($redelivered redelivered)"
