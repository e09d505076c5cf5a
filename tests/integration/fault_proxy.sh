#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The fault-injecting proxy (tests/tools/fault_proxy.mjs) does what the reliability tests rely
# on: loopback only on a port it picks, each fault as a client sees it (500, 503 + Retry-After,
# reset, truncated body, slow body, added latency), rates that hold roughly, the --only filter,
# its stats endpoint, and that it stops by itself when its lifetime is over.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

TOOLS="$EDW_SOURCE_DIR/tests/tools"
start_bg node "$TOOLS/echo_server.mjs" "$TEST_DIR/echo.port" 1000 120
wait_for 20 test -s "$TEST_DIR/echo.port" || fail "echo server did not start"
UPSTREAM="http://127.0.0.1:$(cat "$TEST_DIR/echo.port")"

# proxy NAME ARGS...: start a proxy, set PROXY to its URL and PROXY_PID.
proxy() {
    local name=$1
    shift
    rm -f "$TEST_DIR/$name.port"
    start_bg node "$TOOLS/fault_proxy.mjs" --target "$UPSTREAM" --port-file "$TEST_DIR/$name.port" \
        --lifetime 120 "$@" >"$TEST_DIR/$name.log" 2>&1
    PROXY_PID=$BG_PID
    wait_for 20 test -s "$TEST_DIR/$name.port" || fail "proxy $name did not start"
    PROXY="http://127.0.0.1:$(cat "$TEST_DIR/$name.port")"
}
stop_proxy() {
    kill -TERM "$PROXY_PID" 2>/dev/null || true
    wait "$PROXY_PID" || true
}
# req: one POST through the proxy; prints "HTTP_CODE CURL_EXIT SIZE SECONDS"
req() {
    local out rc=0
    out=$(curl -s -o "$TEST_DIR/body" -w '%{http_code} %{size_download} %{time_total}' \
        --max-time 10 -d hello "$PROXY/path?q=1" "$@") || rc=$?
    read -r code size secs <<<"$out"
    echo "$code $rc $size $secs"
}

log "passthrough"
proxy plain
read -r code rc size _ < <(req)
assert_eq "$code/$rc" "200/0" "passthrough status"
grep -q '^echo:POST:/path?q=1:hello:x' "$TEST_DIR/body" || fail "body not passed through: $(head -c 80 "$TEST_DIR/body")"
port=${PROXY##*:}
ss -ltnH "sport = :$port" | grep -q "127.0.0.1:$port" || fail "proxy does not listen on 127.0.0.1"
ss -ltnH "sport = :$port" | grep -qv "127.0.0.1:$port" && fail "proxy listens beyond loopback"
stop_proxy
grep -q '"why":"SIGTERM"' "$TEST_DIR/plain.log" || fail "no stats line on SIGTERM"

log "each fault at rate 1"
proxy e500 --error-500 1
read -r code rc _ _ < <(req -H 'X-Amz-Target: AmazonSQS.ReceiveMessage')
assert_eq "$code/$rc" "500/0" "error-500"
grep -q '"__type":"com.amazonaws.fault#InternalFailure"' "$TEST_DIR/body" || fail "500 is not an AWS JSON error"
stop_proxy
proxy e503 --error-503 1 --retry-after 7
hdr=$(curl -s -D - -o "$TEST_DIR/body" -H 'x-ms-version: 2019-02-02' -d x "$PROXY/q")
grep -qi '^HTTP/1.1 503' <<<"$hdr" || fail "error-503: $hdr"
grep -qi '^retry-after: 7' <<<"$hdr" || fail "no Retry-After: $hdr"
grep -qi '^x-ms-error-code: ServerBusy' <<<"$hdr" || fail "503 is not an Azure error: $hdr"
stop_proxy
# forwarded: whether the service saw the request (reset: no; reset-after: yes)
forwarded() { curl -s "$PROXY/__fault_proxy/stats" | jq .forwarded; }
proxy reset --reset 1
read -r code rc _ _ < <(req)
assert_eq "$code/$rc" "000/56" "reset (curl: failure receiving data)"
assert_eq "$(forwarded)" 0 "reset: not forwarded"
stop_proxy
proxy resetafter --reset-after 1
read -r code rc _ _ < <(req)
assert_eq "$code/$rc" "000/56" "reset-after (curl: failure receiving data)"
assert_eq "$(forwarded)" 1 "reset-after: forwarded first"
stop_proxy
proxy trunc --truncate 1
read -r code rc size _ < <(req)
assert_eq "$code/$rc" "200/18" "truncate (curl: partial file)"
((size > 0 && size < 1000)) || fail "truncated body has $size bytes"
stop_proxy
proxy slow --slow 1 --slow-ms 800
read -r code rc size secs < <(req)
assert_eq "$code/$rc" "200/0" "slow body arrives whole"
grep -q '^echo:POST:/path?q=1:hello:x' "$TEST_DIR/body" || fail "slow body changed"
awk -v s="$secs" 'BEGIN { exit !(s >= 0.6) }' || fail "slow body took only $secs s"
stop_proxy
proxy lat --latency-ms 300 --response-latency-ms 200
read -r code rc _ secs < <(req)
assert_eq "$code/$rc" "200/0" "latency"
awk -v s="$secs" 'BEGIN { exit !(s >= 0.45) }' || fail "latency: took only $secs s"
stop_proxy

log "rates, seed and --only"
proxy mixed --error-500 0.1 --reset 0.1 --seed 7 --only 'ReceiveMessage'
bad=0
for _ in $(seq 200); do
    read -r code rc _ _ < <(req -H 'X-Amz-Target: AmazonSQS.ReceiveMessage')
    [[ "$code/$rc" == "200/0" ]] || bad=$((bad + 1))
done
for _ in $(seq 50); do
    read -r code rc _ _ < <(req -H 'X-Amz-Target: AmazonSQS.DeleteMessage')
    assert_eq "$code/$rc" "200/0" "a request --only does not match is never faulted"
done
stats=$(curl -s "$PROXY/__fault_proxy/stats")
log "200 eligible requests: $bad failed; proxy stats $stats"
((bad >= 20 && bad <= 60)) || fail "20 % faults expected, got $bad of 200"
assert_eq "$(jq '.error500 + .reset' <<<"$stats")" "$bad" "faults counted"
assert_eq "$(jq .passed <<<"$stats")" 50 "requests passed through untouched"
stop_proxy

log "rates changed at run time (an outage that starts and ends)"
proxy outage
read -r code rc _ _ < <(req)
assert_eq "$code/$rc" "200/0" "before the outage"
curl -sf -d '{"error503": 1}' "$PROXY/__fault_proxy/rates" >/dev/null || fail "rates not accepted"
read -r code rc _ _ < <(req)
assert_eq "$code/$rc" "503/0" "during the outage"
curl -sf -d '{"error503": 0}' "$PROXY/__fault_proxy/rates" >/dev/null || fail "rates not accepted"
read -r code rc _ _ < <(req)
assert_eq "$code/$rc" "200/0" "after the outage"
code=$(curl -s -o /dev/null -w '%{http_code}' -d '{"bogus": 1}' "$PROXY/__fault_proxy/rates")
assert_eq "$code" 400 "unknown fault refused"
stop_proxy

log "bounded lifetime"
proxy short --lifetime 1
t0=$SECONDS
wait "$PROXY_PID" || fail "proxy exited with an error at the end of its lifetime"
((SECONDS - t0 <= 5)) || fail "proxy outlived its lifetime"
grep -q '"why":"lifetime"' "$TEST_DIR/short.log" || fail "no stats line at the end of the lifetime"
log "ok"
