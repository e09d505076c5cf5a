#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Reliability scenarios shared by every backend (issue 7). Each works only through edw's own
# commands (produce, consume, verify, queue depth), so the same function checks SQLite, SQS +
# DynamoDB and Azure Queue + Table alike; the per-backend scripts set up the backend's
# environment first and call these. Source after lib.sh.

# consume_totals FILE...: sum the --json summaries of several consumers; prints
# "received processed poisoned extended lost_leases released".
consume_totals() {
    local f
    for f in "$@"; do tail -n 1 "$f"; done |
        jq -rs '[map(.received), map(.processed), map(.poisoned), map(.extended),
                 map(.lost_leases), map(.released)] | map(add) | @tsv'
}

# Lease renewal: handlers run 5 s with a 2 s visibility timeout, on two competing consumers
# that poll all the time. Every lease must be extended before it runs out: each message is
# received once, by one consumer, handled once, and its row has dequeueCount 1.
lease_renewal_scenario() {
    local n=6 a b
    "$EDW_BIN" produce --count "$n" >/dev/null
    local args=(consume --json --visibility 2 --handler work:5000 --concurrency 3 --batch 3
        --exit-when-idle 12 --max-dequeue 5)
    start_bg "$EDW_BIN" "${args[@]}" >"$TEST_DIR/lease_a.out"
    a=$BG_PID
    start_bg "$EDW_BIN" "${args[@]}" >"$TEST_DIR/lease_b.out"
    b=$BG_PID
    wait "$a" || fail "consumer a failed"
    wait "$b" || fail "consumer b failed"
    local received processed poisoned extended lost released
    read -r received processed poisoned extended lost released \
        < <(consume_totals "$TEST_DIR/lease_a.out" "$TEST_DIR/lease_b.out")
    log "lease renewal: received $received, processed $processed, extended $extended, lost $lost"
    assert_eq "$received" "$n" "deliveries (a redelivery means a lease ran out)"
    assert_eq "$processed" "$n" "processed"
    assert_eq "$poisoned" 0 "poisoned"
    assert_eq "$lost" 0 "leases lost"
    # A message is held 5 s at least; with renewal at a third of 2 s left, >= 2 renewals each.
    ((extended >= 2 * n)) || fail "only $extended lease extensions for $n 5-second handlers"
    local v
    v=$(last_json "$EDW_BIN" verify)
    assert_eq "$(json_get "$v" .stored)" "$n" "rows"
    assert_eq "$(json_get "$v" .missing)" 0 "missing"
    assert_eq "$(json_get "$v" .redelivered)" 0 "rows with dequeueCount > 1"
    v=$(last_json "$EDW_BIN" queue depth)
    assert_eq "$(json_get "$v" .depth)" 0 "queue depth after the run"
    assert_eq "$(json_get "$v" .poison)" 0 "poison depth after the run"
}

# start_fault_proxy NAME TARGET_URL ARGS...: start tests/tools/fault_proxy.mjs in front of
# TARGET_URL (bounded lifetime, stopped at exit); sets PROXY_URL and PROXY_PID.
start_fault_proxy() {
    local name=$1 target=$2
    shift 2
    start_bg node "$EDW_SOURCE_DIR/tests/tools/fault_proxy.mjs" --target "$target" \
        --port-file "$TEST_DIR/$name.port" --lifetime 600 "$@" >"$TEST_DIR/$name.log" 2>&1
    PROXY_PID=$BG_PID
    wait_for 30 test -s "$TEST_DIR/$name.port" || fail "fault proxy $name did not start"
    PROXY_URL="http://127.0.0.1:$(cat "$TEST_DIR/$name.port")"
}

# proxy_stats URL: the proxy's counters (JSON).
proxy_stats() { curl -sf "$1/__fault_proxy/stats"; }
