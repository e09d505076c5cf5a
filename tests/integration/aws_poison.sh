#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck source-path=SCRIPTDIR
# Poison handling on SQS (fauxqs + dynalite):
#   1. without a redrive policy edw moves a message that keeps failing to <queue>-poison itself
#      (a JSON envelope with reason, receive count, message id and body) and deletes it;
#   2. with a RedrivePolicy edw leaves the move to SQS: the message ends in the policy's
#      dead-letter queue, untouched, and no <queue>-poison is created.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/aws_env.sh"
start_aws_emulators
export EDW_TABLE_NAME="poisonresults"
"$EDW_BIN" table create >/dev/null
good='{"msg":"fine","srcStamp":"2026-11-27 18:00:00.000000","id":"p-good"}'
bad='{"msg":"handler fails","srcStamp":"2026-11-27 18:00:00.000000","id":"p-bad"}'
# The handler fails for "handler fails" and succeeds for anything else.
handler='exec:grep -q "handler fails" && exit 3; cat'

log "1. our own poison queue"
export EDW_QUEUE_NAME=jobs
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" queue send "$good" >/dev/null
"$EDW_BIN" queue send "$bad" >/dev/null
out=$(last_json "$EDW_BIN" consume --handler "$handler" --max-dequeue 3 --retry-delay 0 \
    --exit-when-idle 2)
assert_eq "$(json_get "$out" .processed)" 1 "processed"
assert_eq "$(json_get "$out" .poisoned)" 1 "poisoned"
assert_eq "$(json_get "$out" .failed)" 3 "handler failures before poisoning"
depth=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$depth" .depth)" 0 "main queue empty"
assert_eq "$(json_get "$depth" .poison)" 1 "poison count"
peek=$(last_json "$EDW_BIN" queue peek --poison)
assert_eq "$(json_get "$peek" '.messages[0].body')" "$bad" "edw peeks the original body"
p=$(sdk drain jobs-poison)
env=$(jq -r '.[0].body' <<<"$p")
assert_eq "$(jq -r .body <<<"$env")" "$bad" "original body in the envelope"
assert_eq "$(jq -r .receiveCount <<<"$env")" 3 "receive count in the envelope"
[[ $(jq -r .reason <<<"$env") == *"handler failed 3 times"* ]] || fail "reason: $env"
[[ "$(sdk get poisonresults p-good)" != null ]] || fail "the good message has no row"
assert_eq "$(sdk get poisonresults p-bad)" null "row of the poisoned message"

log "2. a queue with a RedrivePolicy (maxReceiveCount 2)"
export EDW_QUEUE_NAME=rd
sdk redrive rd rd-dlq 2 >/dev/null
"$EDW_BIN" queue send "$bad" >/dev/null
out=$(last_json "$EDW_BIN" consume --handler "$handler" --max-dequeue 2 --retry-delay 0 \
    --exit-when-idle 2)
dlq=$(sdk drain rd-dlq)
assert_eq "$(jq length <<<"$dlq")" 1 "messages SQS moved to the dead-letter queue"
assert_eq "$(jq -r '.[0].body' <<<"$dlq")" "$bad" "body in the dead-letter queue, untouched"
if sdk drain rd-poison >/dev/null 2>&1; then fail "edw created rd-poison despite the policy"; fi
depth=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$depth" .depth)" 0 "rd empty"
log "ok"
