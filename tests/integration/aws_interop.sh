#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck source-path=SCRIPTDIR
# Interoperability with the official AWS SDK for JavaScript v3 on fauxqs + dynalite:
#   1. messages sent by the SDK (the AWS sample's format, no "id") are consumed by edw, and the
#      items are keyed by the SQS message id;
#   2. messages sent by edw are read by the SDK with identical text;
#   3. edw's items read by the SDK carry the sample's attribute names with the right types;
#   4. a poisoned message is visible to the SDK in <queue>-poison with its reason and body.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/aws_env.sh"
start_aws_emulators
export EDW_QUEUE_NAME="interop" EDW_TABLE_NAME="interopresults"
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null

log "1. SDK -> edw"
ids=$(sdk send interop 25 "Scale Test Message")
assert_eq "$(jq length <<<"$ids")" 25 "SDK sent"
out=$(last_json "$EDW_BIN" consume --exit-when-idle 1)
assert_eq "$(json_get "$out" .processed)" 25 "edw consumed the SDK's messages"
for id in $(jq -r '.[0,12,24]' <<<"$ids"); do
    item=$(sdk get interopresults "$id")
    [[ "$item" != null ]] || fail "no item for SDK message $id"
    [[ $(jq -r .data.S <<<"$item") == "Scale Test Message : COUNT "* ]] ||
        fail "item $id has data '$(jq -r .data.S <<<"$item")'"
done

log "2. edw -> SDK (identical text, including non-ASCII and JSON escapes)"
# (no characters beyond U+FFFF: fauxqs 1.9.2 rejects them, real SQS accepts #x10000-#x10FFFF)
text='{"msg":"héllo \"quoted\" \\ back\\slash / ✓","srcStamp":"2026-11-27 18:00:00.123456","id":"interop-1"}'
"$EDW_BIN" queue send "$text" >/dev/null
got=$(sdk drain interop)
assert_eq "$(jq length <<<"$got")" 1 "SDK received"
assert_eq "$(jq -r '.[0].body' <<<"$got")" "$text" "body read by the SDK"
"$EDW_BIN" produce --count 12 >/dev/null
got=$(sdk drain interop)
assert_eq "$(jq length <<<"$got")" 12 "SDK received edw's produced messages"
jq -e 'all(.[]; .body | fromjson | (.msg | startswith("Scale Test Message : COUNT")) and
        (.srcStamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\\.[0-9]{6}$")) and (.id | length > 0))' \
    <<<"$got" >/dev/null || fail "produced bodies are not in the sample's format: $got"

log "3. edw items read by the SDK"
"$EDW_BIN" queue send "$text" >/dev/null
"$EDW_BIN" consume --exit-when-idle 1 >/dev/null
item=$(sdk get interopresults interop-1)
jq -e '(.id.S == "interop-1") and (.data.S == "héllo \"quoted\" \\ back\\slash / ✓") and
       (.srcStamp.S == "2026-11-27 18:00:00.123456") and
       (.destStamp.S | test("^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\\.[0-9]{6}$")) and
       (.messageProcessingTime.N | tonumber > 0) and (.dequeueCount.N == "1") and
       (keys == ["data","dequeueCount","destStamp","id","messageProcessingTime","srcStamp"])' \
    <<<"$item" >/dev/null || fail "item as the SDK sees it: $item"
items=$(sdk items interopresults)
runs=$(jq '[.[] | select(.id.S | startswith("edw-run#"))] | length' <<<"$items")
((runs == 2)) || fail "expected the run record and edw-run#latest, found $runs run items"

log "4. poison visible to the SDK"
"$EDW_BIN" queue send 'this is not JSON' >/dev/null
out=$(last_json "$EDW_BIN" consume --exit-when-idle 1)
assert_eq "$(json_get "$out" .poisoned)" 1 "poisoned"
p=$(sdk drain interop-poison)
assert_eq "$(jq length <<<"$p")" 1 "messages in interop-poison"
env=$(jq -r '.[0].body' <<<"$p")
assert_eq "$(jq -r .body <<<"$env")" "this is not JSON" "original body in the envelope"
assert_eq "$(jq -r .sourceQueue <<<"$env")" interop "source queue"
assert_eq "$(jq -r .receiveCount <<<"$env")" 1 "receive count"
[[ $(jq -r .reason <<<"$env") == *"not valid JSON"* ]] || fail "reason: $(jq -r .reason <<<"$env")"
[[ -n $(jq -r .messageId <<<"$env") ]] || fail "no original message id"
depth=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$depth" .depth)" 0 "main queue empty after poisoning"
log "ok"
