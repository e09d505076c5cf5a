#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A consumer killed with SIGKILL during the demo is counted as crashed and replaced, and its
# leased messages are not lost (they come back after the visibility timeout).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
start_bg "$EDW_BIN" demo --json --messages 3000 --rate 400 --queue-length 50 --max-replicas 4 \
    --polling-interval 0.5 --cooldown-period 2 --stabilization-window 1 --visibility 3 \
    --handler work:40 >"$TEST_DIR/out" 2>"$TEST_DIR/err"
demo=$BG_PID
# pgrep -P only looks at the demo's own children; the victim is killed by its pid.
wait_for 30 pgrep -P "$demo" -f consume || fail "no consumer started"
sleep 2
victim=$(pgrep -P "$demo" -f consume | head -n 1)
log "killing consumer $victim of demo $demo"
kill -KILL "$victim"
rc=0
wait "$demo" || rc=$?
out=$(tail -n 1 "$TEST_DIR/out")
log "$out"
assert_eq "$rc" 0 "demo exit status"
assert_eq "$(json_get "$out" .missing)" 0 "missing after a crash"
assert_eq "$(json_get "$out" .stored)" 3000 "stored"
crashed=$(json_get "$out" .consumers_crashed)
((crashed >= 1)) || fail "the crash was not counted"
redelivered=$(json_get "$out" .redelivered)
((redelivered >= 1)) || fail "the victim held no messages, so the test proved nothing"
log "ok ($crashed crashed, $redelivered redelivered)"
