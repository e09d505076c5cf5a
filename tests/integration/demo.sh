#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A short `edw demo`: nothing missing, replicas rose above 1 and came back to 0, and the HTML
# report is well-formed XML with the charted series and the summary.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
"$EDW_BIN" demo --json --messages 1500 --rate 500 --queue-length 50 --max-replicas 4 \
    --polling-interval 0.5 --cooldown-period 2 --stabilization-window 1 \
    --report "$TEST_DIR/report.html" >"$TEST_DIR/out" 2>"$TEST_DIR/err" ||
    fail "demo failed: $(tail -5 "$TEST_DIR/out") $(tail -5 "$TEST_DIR/err")"
out=$(tail -n 1 "$TEST_DIR/out")
log "$out"
assert_eq "$(json_get "$out" .missing)" 0 "missing"
assert_eq "$(json_get "$out" .stored)" 1500 "stored"
assert_eq "$(json_get "$out" .final_replicas)" 0 "scaled back to zero"
peak=$(json_get "$out" .peak_replicas)
((peak > 1)) || fail "never scaled out (peak $peak)"
((peak <= 4)) || fail "went past --max-replicas (peak $peak)"
# Plain progress lines (stdout is not a terminal), with replicas rising and falling.
grep -q "replicas=0 " "$TEST_DIR/out" || fail "no progress line at zero replicas"
grep -q "replicas=$peak " "$TEST_DIR/out" || fail "no progress line at the peak"
grep -q "RESULT: every message stored exactly once" "$TEST_DIR/out" || fail "no readable ending"

# The report: well-formed, self-contained, with each series and the summary numbers.
xmllint --noout "$TEST_DIR/report.html" || fail "report is not well-formed"
for series in depth replicas throughput produced stored; do
    grep -q "data-series=\"$series\"" "$TEST_DIR/report.html" || fail "series $series missing"
done
points=$(grep -o 'data-series="depth"[^>]*points="[^"]*"' "$TEST_DIR/report.html" |
    sed 's/.*points="//' | tr ' ' '\n' | grep -c ,)
((points >= 5)) || fail "depth chart has only $points points"
grep -q "<th>missing</th><td>0</td>" "$TEST_DIR/report.html" || fail "summary table missing"
if grep -Eq '(src|href)="(https?:)?//' "$TEST_DIR/report.html"; then
    fail "report references the network"
fi
! grep -q "<script" "$TEST_DIR/report.html" || fail "report contains a script"

# Inconsistent settings are refused before anything starts.
rc=0
"$EDW_BIN" demo --min-replicas 5 --max-replicas 2 --queue-length 0 2>"$TEST_DIR/err" || rc=$?
assert_eq "$rc" 2 "exit status for bad settings"
grep -q "min-replicas (5) is larger" "$TEST_DIR/err" || fail "min > max not explained"
grep -q "option --queue-length: '0'" "$TEST_DIR/err" || fail "zero queue length not explained"
log "ok"
