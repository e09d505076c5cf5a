#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SIGTERM: the consumer stops receiving, hands back leases it has not started (visible at once,
# not after the visibility timeout), finishes the work in flight and exits 0.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

"$EDW_BIN" produce --count 10 >/dev/null
start_bg "$EDW_BIN" consume --json --handler work:3000 --concurrency 1 --batch 10 \
    --visibility 600 --shutdown-grace 20
consumer=$BG_PID
wait_for 10 bash -c "[[ \$('$EDW_BIN' queue depth --json | tail -n 1 | jq .in_flight) == 10 ]]" ||
    fail "consumer did not lease the batch"
kill -TERM "$consumer"
# Within a second the nine unstarted messages are visible again.
wait_for 1 bash -c "[[ \$('$EDW_BIN' queue depth --json | tail -n 1 | jq .visible) == 9 ]]" ||
    fail "unstarted leases were not released: $("$EDW_BIN" queue depth --json | tail -n 1)"
rc=0
wait "$consumer" || rc=$?
assert_eq "$rc" 0 "exit status after SIGTERM"
assert_eq "$(sqlite3 "$EDW_SQLITE_PATH" "SELECT count(*) FROM edw_results")" 1 \
    "the started message was finished before exit"

out=$(last_json "$EDW_BIN" consume --exit-when-idle 1 --handler work:1)
assert_eq "$(json_get "$out" .processed)" 9 "the rest was processed by the next consumer"
out=$(last_json "$EDW_BIN" verify)
assert_eq "$(json_get "$out" .missing)" 0 "missing"
assert_eq "$(json_get "$out" .stored)" 10 "stored"
log "ok"
