#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two consumers compete for one Azure queue: every message ends up as exactly one row, and
# the queue is empty afterwards.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=azure_lib.sh
source "$(dirname "$0")/azure_lib.sh"
start_azurite

"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
out=$(last_json "$EDW_BIN" produce --count 1000 --batch 100)
assert_eq "$(json_get "$out" .sent)" 1000 "produce sent"

# Short leases and a longer idle wait: on a loaded machine Azurite can answer so late that a
# Get Messages times out on our side after it leased its messages; those come back when the
# lease ends, and the consumers must still be there to take them.
start_bg "$EDW_BIN" consume --json --visibility 10 --exit-when-idle 12 >"$TEST_DIR/c1.out"
c1=$BG_PID
start_bg "$EDW_BIN" consume --json --visibility 10 --exit-when-idle 12 >"$TEST_DIR/c2.out"
c2=$BG_PID
wait "$c1" || fail "consumer 1 failed"
wait "$c2" || fail "consumer 2 failed"
p1=$(tail -n 1 "$TEST_DIR/c1.out" | jq .processed)
p2=$(tail -n 1 "$TEST_DIR/c2.out" | jq .processed)
log "consumer 1 processed $p1, consumer 2 processed $p2"
((p1 > 0 && p2 > 0)) || fail "one consumer got nothing ($p1, $p2)"
((p1 + p2 >= 1000)) || fail "processed only $((p1 + p2))"

out=$(last_json "$EDW_BIN" verify)
assert_eq "$(json_get "$out" .stored)" 1000 "verify stored"
assert_eq "$(json_get "$out" .missing)" 0 "verify missing"
assert_eq "$(json_get "$out" .unexpected)" 0 "verify unexpected"
out=$(last_json "$EDW_BIN" table count)
assert_eq "$(json_get "$out" .count)" 1000 "one row per message"
out=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$out" .depth)" 0 "queue drained"
log "ok"
