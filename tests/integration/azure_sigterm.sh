#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Graceful shutdown on Azure Queue + Table (Azurite): SIGTERM releases unstarted leases
# with Update Message visibilitytimeout=0, finishes in-flight work within the grace (or cancels
# and releases it when the grace ends), exits 0, loses nothing (sigterm_scenario in
# reliability_lib.sh). Then SIGTERM with Azurite gone (killed): the consumer must still exit
# within the grace plus a small margin, not after every backend call has used up its retries,
# and say which leases it could not hand back.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=azure_lib.sh
source "$(dirname "$0")/azure_lib.sh"
# shellcheck source=reliability_lib.sh
source "$(dirname "$0")/reliability_lib.sh"
start_azurite
export EDW_QUEUE_NAME=sigterm-jobs EDW_TABLE_NAME=sigtermresults
DIRECT_ENV=(env)
use_peek_for_visibility
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
sigterm_scenario

log "SIGTERM while Azurite is unreachable"
GRACE=4
use_names() { export EDW_QUEUE_NAME=gone-jobs EDW_TABLE_NAME=goneresults; }
use_names
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
"$EDW_BIN" produce --count 10 >/dev/null
start_bg "$EDW_BIN" consume --json --handler work:2000 --concurrency 2 --batch 10 \
    --visibility 600 --shutdown-grace "$GRACE" >"$TEST_DIR/gone.out" 2>"$TEST_DIR/gone.log"
consumer=$BG_PID
wait_for 20 depth_is in_flight 10 || fail "the consumer did not lease all ten"
kill -KILL "$AZURITE_PID"
wait "$AZURITE_PID" 2>/dev/null || true
sleep 1 # the two started handlers finish; their rows cannot be written
t0=$EPOCHREALTIME
kill -TERM "$consumer"
rc=0
wait "$consumer" || rc=$?
took=$(echo "$EPOCHREALTIME - $t0" | bc -l | xargs printf %.2f)
log "stopped $took s after SIGTERM (grace $GRACE s, Azurite gone)"
assert_eq "$rc" 0 "exit status after SIGTERM with Azurite gone"
awk -v t="$took" -v g="$GRACE" 'BEGIN { exit !(t < g + 2.5) }' ||
    fail "stop took $took s with a $GRACE s grace and the service unreachable"
grep -q '"msg":"8 lease(s) not handed back' "$TEST_DIR/gone.log" ||
    fail "the leases it could not hand back are not logged: $(grep -c . "$TEST_DIR/gone.log") log lines"
assert_eq "$(tail -n 1 "$TEST_DIR/gone.out" | jq -c '[.received, .processed]')" "[10,0]" \
    "received and processed with Azurite gone"
figures sigterm_unreachable "grace_s=$GRACE stop_s=$took exit=$rc in_flight=2 unstarted=8"
log "ok"
