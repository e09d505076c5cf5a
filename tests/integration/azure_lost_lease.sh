#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A consumer loses its leases (frozen with SIGSTOP past the visibility timeout) while another
# consumer takes the messages over. When it wakes up, its deletes find stale pop receipts:
# they count as lost leases, nothing fails, and every message still has exactly one row.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=azure_lib.sh
source "$(dirname "$0")/azure_lib.sh"
start_azurite
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
"$EDW_BIN" produce --count 20 >/dev/null

# A leases all 20 and works 1.5 s on each; it is frozen before it can renew or finish.
start_bg "$EDW_BIN" consume --json --handler work:1500 --concurrency 20 --batch 20 \
    --visibility 2 --exit-when-idle 2 >"$TEST_DIR/a.out"
a=$BG_PID
wait_for 10 bash -c "[[ \$(\"$EDW_BIN\" queue peek --json | tail -n 1 | jq '.messages | length') == 0 ]]" ||
    fail "consumer A never leased the messages"
kill -STOP "$a"
sleep 3 # A's leases (2 s) run out

out=$(last_json "$EDW_BIN" consume --exit-when-idle 1)
assert_eq "$(json_get "$out" .processed)" 20 "B took over every message"
kill -CONT "$a"
wait "$a" || fail "consumer A failed after losing its leases"
a_out=$(tail -n 1 "$TEST_DIR/a.out")
log "consumer A: $a_out"
(($(jq .lost_leases <<<"$a_out") > 0)) || fail "A reported no lost lease: $a_out"
assert_eq "$(jq .backend_errors <<<"$a_out")" 0 "A backend errors"

out=$(last_json "$EDW_BIN" verify)
assert_eq "$(json_get "$out" .stored)" 20 "verify stored"
assert_eq "$(json_get "$out" .missing)" 0 "verify missing"
# Whichever consumer wrote last holds the row (A, usually): the key is the same either way.
out=$(last_json "$EDW_BIN" table count)
assert_eq "$(json_get "$out" .count)" 20 "no duplicate rows"
out=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$out" .depth)" 0 "queue empty"
log "ok"
