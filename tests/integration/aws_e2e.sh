#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck source-path=SCRIPTDIR
# --backend aws end to end on fauxqs + dynalite: produce -> consume -> verify with one
# consumer, then with three competing consumers; depth, peek and count along the way.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/aws_env.sh"
start_aws_emulators
export EDW_QUEUE_NAME="e2e-jobs" EDW_TABLE_NAME="e2eresults"

"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
"$EDW_BIN" queue create >/dev/null # idempotent
"$EDW_BIN" table create >/dev/null

log "one consumer"
out=$(last_json "$EDW_BIN" produce --count 300)
assert_eq "$(json_get "$out" .sent)" 300 "produced"
depth=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$depth" .depth)" 300 "depth after produce"
peek=$(last_json "$EDW_BIN" queue peek)
[[ $(json_get "$peek" '.messages | length') -ge 1 ]] || fail "peek showed nothing"
out=$(last_json "$EDW_BIN" consume --exit-when-idle 1)
assert_eq "$(json_get "$out" .processed)" 300 "processed"
v=$(last_json "$EDW_BIN" verify)
assert_eq "$(json_get "$v" .missing)" 0 "missing after one consumer"
assert_eq "$(json_get "$v" .stored)" 300 "stored"
depth=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$depth" .depth)" 0 "depth after consume"

log "three competing consumers"
run=$(json_get "$(last_json "$EDW_BIN" produce --count 3000 --batch 100)" .run)
pids=()
for i in 1 2 3; do
    "$EDW_BIN" consume --exit-when-idle 2 --batch 20 --json >"$TEST_DIR/c$i.out" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a consumer failed"; done
total=0
busy=0
for i in 1 2 3; do
    n=$(tail -n 1 "$TEST_DIR/c$i.out" | jq .processed)
    total=$((total + n))
    ((n > 0)) && busy=$((busy + 1))
done
((total >= 3000)) || fail "consumers processed $total of 3000"
((busy >= 2)) || fail "only $busy consumer(s) got work: the queue was not shared"
v=$(last_json "$EDW_BIN" verify)
assert_eq "$(json_get "$v" .run)" "$run" "verify picks the last run"
assert_eq "$(json_get "$v" .missing)" 0 "missing after competing consumers"
assert_eq "$(json_get "$v" .stored)" 3000 "stored"
count=$(json_get "$(last_json "$EDW_BIN" table count)" .count)
assert_eq "$count" 3300 "rows in the table (run records excluded)"
log "ok: $total processed by 3 consumers ($busy busy), none missing"
