#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Readiness follows the backend, liveness does not. While another process holds the SQLite
# database's write lock past the busy timeout (the embedded backend's way of being
# unavailable: every receive fails with a transient error), /readyz answers 503 naming the
# failing operation, /healthz stays 200, and the failures are counted as retries. When the
# lock goes away, /readyz recovers without a restart and the work goes on.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

scrape() { curl -sf --max-time 5 "http://127.0.0.1:$1$2"; }
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$1$2"; }
metric() { awk -v s="$2" '$1 == s { print $2 }' "$1"; }

"$EDW_BIN" produce --count 100 >/dev/null
port=$(free_port)
EDW_SQLITE_BUSY_TIMEOUT_MS=200 start_bg "$EDW_BIN" consume --http-port "$port" \
    --http-addr 127.0.0.1 --poll-max 200 --json >"$TEST_DIR/consume.out"
consumer=$BG_PID
ready() { [[ $(status "$port" /readyz) == 200 ]]; }
wait_for 10 ready || fail "consumer never became ready: $(curl -s "http://127.0.0.1:$port/readyz")"
drained() { [[ $("$EDW_BIN" queue depth --json | tail -n 1 | jq .depth) == 0 ]]; }
wait_for 20 drained || fail "the first 100 messages were not processed"

# Take the write lock and hold it until told to let go (the file `release`).
start_bg sqlite3 "$EDW_SQLITE_PATH" ".timeout 5000" "BEGIN EXCLUSIVE;" \
    ".shell touch '$TEST_DIR/locked'; while [ ! -e '$TEST_DIR/release' ]; do sleep 0.05; done" \
    "COMMIT;"
locker=$BG_PID
wait_for 10 test -e "$TEST_DIR/locked" || fail "could not take the database lock"

unready() { [[ $(status "$port" /readyz) == 503 ]]; }
wait_for 10 unready || fail "/readyz still 200 while the database is locked"
why=$(curl -s --max-time 5 "http://127.0.0.1:$port/readyz")
grep -q "backend sqlite: receive failed .* (EDW_ERR_TRANSIENT)" <<<"$why" ||
    fail "unexpected readiness reason: $why"
log "not ready while locked: $why"
# Liveness is not readiness: the loop keeps turning (and backing off) during the outage.
for _ in 1 2 3 4 5 6; do
    [[ $(status "$port" /healthz) == 200 ]] || fail "/healthz failed during a backend outage"
    unready || fail "/readyz flapped back to 200 while still locked"
    sleep 0.5
done
scrape "$port" /metrics >"$TEST_DIR/outage.prom" || fail "no metrics during the outage"
[[ $(metric "$TEST_DIR/outage.prom" 'edw_backend_requests_total{backend="sqlite",operation="receive",result="transient"}') -gt 0 ]] ||
    fail "failed receives not counted"
[[ $(metric "$TEST_DIR/outage.prom" 'edw_backend_retries_total{backend="sqlite",operation="receive",reason="transient"}') -gt 0 ]] ||
    fail "receive retries not counted"
if command -v promtool >/dev/null; then
    promtool check metrics <"$TEST_DIR/outage.prom" || fail "promtool rejects the outage scrape"
fi

touch "$TEST_DIR/release"
wait "$locker" || fail "the lock holder failed"
wait_for 10 ready || fail "/readyz did not recover after the lock was released"
log "ready again after the lock was released"

"$EDW_BIN" produce --count 50 >/dev/null
wait_for 20 drained || fail "messages sent after the outage were not processed"
kill -TERM "$consumer"
rc=0
wait "$consumer" || rc=$?
assert_eq "$rc" 0 "consumer exit status"
assert_eq "$(tail -n 1 "$TEST_DIR/consume.out" | jq .processed)" 150 "processed across the outage"
out=$(last_json "$EDW_BIN" verify)
assert_eq "$(json_get "$out" .missing)" 0 "missing"
log "ok"
