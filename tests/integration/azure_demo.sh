#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `edw demo --backend azure` on Azurite: the KEDA-style supervisor scales consumer processes on
# the queue's depth, everything produced is stored exactly once, replicas come back to 0; and
# one consumer with several pipelines (threads, one queue/table instance each) drains a queue.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=azure_lib.sh
source "$(dirname "$0")/azure_lib.sh"
start_azurite
cd "$TEST_DIR"
export EDW_QUEUE_NAME=demo EDW_TABLE_NAME=demoresults
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null

"$EDW_BIN" demo --backend azure --json --messages 600 --rate 150 --queue-length 50 \
    --max-replicas 3 --polling-interval 0.5 --cooldown-period 2 --stabilization-window 1 \
    >"$TEST_DIR/out" 2>"$TEST_DIR/err" ||
    fail "demo failed: $(tail -5 "$TEST_DIR/out") $(tail -5 "$TEST_DIR/err")"
out=$(tail -n 1 "$TEST_DIR/out")
log "$out"
assert_eq "$(json_get "$out" .missing)" 0 "missing"
assert_eq "$(json_get "$out" .stored)" 600 "stored"
assert_eq "$(json_get "$out" .final_replicas)" 0 "scaled back to zero"
assert_eq "$(json_get "$out" .consumers_crashed)" 0 "consumers crashed"
peak=$(json_get "$out" .peak_replicas)
((peak >= 1 && peak <= 3)) || fail "peak replicas $peak outside 1..3"
grep -q "RESULT: every message stored exactly once" "$TEST_DIR/out" || fail "no readable ending"

log "one consumer, four pipelines"
export EDW_QUEUE_NAME=pipes EDW_TABLE_NAME=pipesresults
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
"$EDW_BIN" produce --count 800 --batch 100 >/dev/null
# Short leases and a longer idle wait, as in azure_competing.sh: a Get that timed out on a
# loaded machine leaves its messages leased until the lease ends.
c=$(last_json "$EDW_BIN" consume --pipelines 4 --visibility 10 --exit-when-idle 12)
# At least 800: on a loaded machine a lease can run out before its message is acked, and the
# message is then processed again (the upsert keeps one row; the row count below is the check).
processed=$(json_get "$c" .processed)
((processed >= 800)) || fail "four pipelines processed only $processed of 800"
((processed == 800)) || log "$((processed - 800)) messages processed twice after a lease ran out"
v=$(last_json "$EDW_BIN" verify)
assert_eq "$(json_get "$v" .missing)" 0 "missing after pipelines"
out=$(last_json "$EDW_BIN" table count)
assert_eq "$(json_get "$out" .count)" 800 "one row per message"
out=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$out" .depth)" 0 "queue drained"
log "ok"
