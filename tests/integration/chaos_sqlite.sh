#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Chaos on the embedded backend: 20,000 messages, three consumers killed with SIGKILL at random
# moments and restarted, while the producer is sending. Afterwards: no missing row, exactly one
# row per message, nothing poisoned. Bounded: at most 25 kills, then a survivor drains.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

N=20000
KILLS=25
ARGS=(consume --visibility 2 --handler work:1 --concurrency 8 --exit-when-idle 60)
declare -A slot
for i in 0 1 2; do
    start_bg "$EDW_BIN" "${ARGS[@]}"
    slot[$i]=$BG_PID
done
start_bg "$EDW_BIN" produce --count "$N" --rate 4000
producer=$BG_PID

RANDOM=42 # reproducible schedule
for ((k = 1; k <= KILLS; k++)); do
    sleep "0.$((RANDOM % 9 + 1))"
    i=$((RANDOM % 3))
    kill -KILL "${slot[$i]}" 2>/dev/null || true
    wait "${slot[$i]}" 2>/dev/null || true
    start_bg "$EDW_BIN" "${ARGS[@]}"
    slot[$i]=$BG_PID
done
wait "$producer" || fail "producer failed"
log "$KILLS consumers killed; letting the survivors drain"
stored() { sqlite3 "$EDW_SQLITE_PATH" "SELECT count(*) FROM edw_results"; }
wait_for 240 bash -c "[[ \$(sqlite3 '$EDW_SQLITE_PATH' 'SELECT count(*) FROM edw_results') -ge $N ]]" ||
    fail "only $(stored) of $N stored"
out=$(last_json "$EDW_BIN" verify)
log "$out"
assert_eq "$(json_get "$out" .missing)" 0 "missing"
assert_eq "$(json_get "$out" .stored)" "$N" "stored"
assert_eq "$(stored)" "$N" "exactly one row per message"
depth=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$depth" .poison)" 0 "false poisons"
redelivered=$(json_get "$out" .redelivered)
((redelivered > 0)) || fail "no redelivery: the kills interrupted nothing"
log "ok ($redelivered messages redelivered after kills)"
