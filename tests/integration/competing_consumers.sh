#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two consumer processes compete for 20,000 messages on one SQLite file while the producer is
# still sending: every message is stored exactly once and both consumers did real work.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

N=20000
for i in 1 2; do
    # the second consumer runs two pipelines (threads with their own connections)
    start_bg "$EDW_BIN" consume --json --exit-when-idle 3 --pipelines "$i" >"$TEST_DIR/consumer$i.out"
    eval "C$i=\$BG_PID"
done
out=$(last_json "$EDW_BIN" produce --count "$N" --rate 20000)
assert_eq "$(json_get "$out" .sent)" "$N" "sent"
wait "$C1" || fail "consumer 1 failed"
wait "$C2" || fail "consumer 2 failed"
p1=$(tail -n 1 "$TEST_DIR/consumer1.out" | jq .processed)
p2=$(tail -n 1 "$TEST_DIR/consumer2.out" | jq .processed)
log "consumer 1 processed $p1, consumer 2 processed $p2"
((p1 > 0 && p2 > 0)) || fail "one consumer did nothing ($p1 / $p2)"
assert_eq $((p1 + p2)) "$N" "no message was processed twice"

out=$(last_json "$EDW_BIN" verify)
assert_eq "$(json_get "$out" .missing)" 0 "missing"
assert_eq "$(json_get "$out" .stored)" "$N" "stored"
assert_eq "$(json_get "$out" .redelivered)" 0 "redelivered"
assert_eq "$(sqlite3 "$EDW_SQLITE_PATH" "SELECT count(*) FROM edw_results")" "$N" "rows in table"
out=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$out" .depth)" 0 "queue drained"
assert_eq "$(json_get "$out" .poison)" 0 "nothing poisoned"
log "ok"
