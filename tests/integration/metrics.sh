#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The metrics endpoint of a real run: a scrape taken while the consumer works (and one while
# the producer sends) passes `promtool check metrics`; after the run the counters agree with
# `edw verify` and with the consumer's own summary; the queue-depth gauge agrees with
# `edw queue depth`; /healthz stays 200 while the consumer idles. The consumer runs two
# pipelines (threads): the counters are the sum over both.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || fail "promtool not found (Debian package prometheus; scripts/install-deps.sh)"
N=600

# scrape PORT PATH: the body, failing on any status but 200.
scrape() { curl -sf --max-time 5 "http://127.0.0.1:$1$2"; }
# metric FILE SERIES: the value of one series (exact name and labels), or nothing.
metric() { awk -v s="$2" '$1 == s { print $2 }' "$1"; }
check_metrics() { # check_metrics FILE: promtool's linter over a scrape
    promtool check metrics <"$1" >"$1.promtool" 2>&1 || fail "promtool rejects $1: $(cat "$1.promtool")"
}

# --- the producer's endpoint, scraped while it sends -----------------------------------------
pport=$(free_port)
start_bg "$EDW_BIN" produce --count "$N" --rate 400 --http-port "$pport" --http-addr 127.0.0.1 \
    >/dev/null
producer=$BG_PID
sent_some() {
    scrape "$pport" /metrics >"$TEST_DIR/produce.prom" &&
        [[ $(metric "$TEST_DIR/produce.prom" edw_producer_sent_total) -gt 0 ]]
}
wait_for 10 sent_some || fail "no producer scrape with messages sent"
check_metrics "$TEST_DIR/produce.prom"
[[ $(metric "$TEST_DIR/produce.prom" edw_producer_sent_total) -lt $N ]] ||
    fail "the producer scrape was not taken during the run"
[[ $(metric "$TEST_DIR/produce.prom" 'edw_backend_requests_total{backend="sqlite",operation="send",result="ok"}') -gt 0 ]] ||
    fail "producer sends are not counted per backend call"
scrape "$pport" /readyz >/dev/null || fail "producer not ready while sending"
wait "$producer" || fail "producer failed"
log "producer scrape ok"

# --- the consumer: a live scrape, then the counters after the run ----------------------------
port=$(free_port)
start_bg "$EDW_BIN" consume --http-port "$port" --http-addr 127.0.0.1 --handler work:20 \
    --pipelines 2 --concurrency 4 --batch 8 --poll-max 1000 --json >"$TEST_DIR/consume.out"
consumer=$BG_PID
mid_run() {
    scrape "$port" /metrics >"$TEST_DIR/live.prom" || return 1
    local stored
    stored=$(metric "$TEST_DIR/live.prom" 'edw_messages_processed_total{outcome="stored"}')
    [[ $stored -gt 0 && $stored -lt $N ]]
}
wait_for 20 mid_run || fail "no scrape taken while messages were being processed"
check_metrics "$TEST_DIR/live.prom"
[[ $(metric "$TEST_DIR/live.prom" edw_messages_in_flight) -gt 0 ]] ||
    fail "nothing in flight in the middle of the run"
scrape "$port" /readyz >/dev/null || fail "consumer not ready while working"
scrape "$port" /healthz >/dev/null || fail "consumer not live while working"
log "live scrape passes promtool"

all_stored() {
    scrape "$port" /metrics >"$TEST_DIR/final.prom" &&
        [[ $(metric "$TEST_DIR/final.prom" 'edw_messages_processed_total{outcome="stored"}') == "$N" ]]
}
wait_for 60 all_stored || fail "the consumer did not store $N messages"
verify=$(last_json "$EDW_BIN" verify)
assert_eq "$(json_get "$verify" .missing)" 0 "missing after the run"
F=$TEST_DIR/final.prom
check_metrics "$F"
assert_eq "$(metric "$F" 'edw_messages_processed_total{outcome="stored"}')" "$(json_get "$verify" .stored)" \
    "stored counter vs verify"
assert_eq "$(metric "$F" edw_messages_received_total)" \
    "$(($(json_get "$verify" .stored) + $(json_get "$verify" .redelivered)))" "received vs verify"
assert_eq "$(metric "$F" 'edw_messages_processed_total{outcome="poisoned"}')" 0 "poisoned"
assert_eq "$(metric "$F" edw_messages_in_flight)" 0 "in flight after the run"
assert_eq "$(metric "$F" edw_message_processing_seconds_count)" "$N" "processing histogram count"
assert_eq "$(metric "$F" 'edw_message_processing_seconds_bucket{le="+Inf"}')" "$N" "+Inf bucket"
assert_eq "$(metric "$F" 'edw_message_processing_seconds_bucket{le="0.01"}')" 0 \
    "no message faster than its 20 ms handler"
[[ $(metric "$F" 'edw_backend_requests_total{backend="sqlite",operation="upsert",result="ok"}') -gt 0 ]] ||
    fail "upserts not counted"
[[ -n $(metric "$F" 'edw_backend_request_duration_seconds_count{backend="sqlite",operation="receive"}') ]] ||
    fail "no receive duration histogram"

# The depth gauge is refreshed every 5 s: once it has caught up it equals `edw queue depth`.
depth=$(last_json "$EDW_BIN" queue depth)
depth_agrees() {
    scrape "$port" /metrics >"$TEST_DIR/depth.prom" &&
        [[ $(metric "$TEST_DIR/depth.prom" 'edw_queue_depth{queue="edw-messages",state="visible"}') == "$(json_get "$depth" .depth)" ]] &&
        [[ $(metric "$TEST_DIR/depth.prom" 'edw_queue_depth{queue="edw-messages",state="poison"}') == "$(json_get "$depth" .poison)" ]]
}
wait_for 8 depth_agrees || fail "edw_queue_depth does not match 'edw queue depth' ($depth)"

# Idle now (the queue is empty, polls back off to --poll-max): liveness holds throughout.
for _ in 1 2 3 4 5 6; do
    scrape "$port" /healthz >/dev/null || fail "/healthz failed while idle"
    scrape "$port" /readyz >/dev/null || fail "/readyz failed while idle"
    sleep 0.5
done
assert_eq "$(metric "$F" 'edw_messages_processed_total{outcome="stored"}')" "$N" "no change while idle"

kill -TERM "$consumer"
rc=0
wait "$consumer" || rc=$?
assert_eq "$rc" 0 "consumer exit status after SIGTERM"
assert_eq "$(tail -n 1 "$TEST_DIR/consume.out" | jq .processed)" "$N" "the consumer's own summary"
log "ok"
