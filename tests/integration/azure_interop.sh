#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Interoperability with the official JavaScript SDKs on Azurite, both ways:
#   SDK-sent raw JSON and base64 messages are consumed by edw (rows keyed by the message id);
#   edw-sent messages (none and base64 encodings) are read by the SDK with identical text;
#   edw's rows are read by the SDK with the sample's property names and EDM types;
#   poisoned messages are visible to the SDK in <queue>-poison with their reason;
#   edw works with an SDK-generated account SAS instead of the key.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=azure_lib.sh
source "$(dirname "$0")/azure_lib.sh"
start_azurite
Q=interop
T=interop
export EDW_QUEUE_NAME=$Q EDW_TABLE_NAME=$T
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null

# 1. SDK -> edw: reference-style bodies (no "id"), raw and base64.
raw=$("${SDK[@]}" send-json $Q 3)
b64=$("${SDK[@]}" send-base64 $Q 3)
out=$(last_json "$EDW_BIN" consume --exit-when-idle 2)
assert_eq "$(json_get "$out" .processed)" 6 "edw consumed the SDK's messages"
assert_eq "$(json_get "$out" .poisoned)" 0 "nothing poisoned"
rows=$("${SDK[@]}" rows $T "PartitionKey ne 'edw-runs'")
for sent in "$raw" "$b64"; do
    for i in 0 1 2; do
        id=$(jq -r ".[$i].id" <<<"$sent")
        msg=$(jq -r ".[$i].body | fromjson | .msg" <<<"$sent")
        row=$(jq -c --arg id "$id" '.[] | select(.rowKey.value == $id)' <<<"$rows")
        [[ -n "$row" ]] || fail "no row for SDK message $id"
        assert_eq "$(jq -r .data.value <<<"$row")" "$msg" "data of $id"
    done
done

# 2. edw -> SDK: the same text comes out, whichever encoding edw sends with.
text='{"msg":"édition <&> \"quoted\"\ttab","srcStamp":"2026-11-27 18:00:00.000000"}'
"$EDW_BIN" queue send "$text" >/dev/null
got=$("${SDK[@]}" receive $Q 1)
assert_eq "$(jq -r '.[0].text' <<<"$got")" "$text" "SDK reads edw's raw message"
EDW_AZURE_SEND_ENCODING=base64 "$EDW_BIN" queue send "$text" >/dev/null
got=$("${SDK[@]}" receive $Q 1)
assert_eq "$(jq -r '.[0].text' <<<"$got")" "$(printf '%s' "$text" | base64 -w0)" \
    "SDK reads edw's base64 message"
EDW_AZURE_SEND_ENCODING=base64 "$EDW_BIN" queue send "$text" >/dev/null
out=$(last_json "$EDW_BIN" queue peek)
assert_eq "$(json_get "$out" '.messages[0].body')" "$text" "edw decodes its own base64 (auto)"
"$EDW_BIN" queue clear >/dev/null

# 3. edw's rows through the SDK: names and EDM types of the Azure sample.
out=$(last_json "$EDW_BIN" produce --count 5)
run=$(json_get "$out" .run)
"$EDW_BIN" consume --exit-when-idle 1 >/dev/null
rows=$("${SDK[@]}" rows $T "RowKey eq '$run-3'")
assert_eq "$(jq length <<<"$rows")" 1 "one row for $run-3"
row=$(jq -c '.[0]' <<<"$rows")
assert_eq "$(jq -r '.data.value' <<<"$row")" "Scale Test Message : COUNT 3" "data"
assert_eq "$(jq -r '.data.type' <<<"$row")" "String" "data type"
assert_eq "$(jq -r '.srcStamp.type' <<<"$row")" "String" "srcStamp type"
assert_eq "$(jq -r '.dateStamp.type' <<<"$row")" "String" "dateStamp type"
assert_eq "$(jq -r '.messageProcessingTime.type' <<<"$row")" "Double" "messageProcessingTime type"
assert_eq "$(jq -r '.dequeueCount.type' <<<"$row")" "Int32" "dequeueCount type"
assert_eq "$(jq -r '.dequeueCount.value' <<<"$row")" "1" "dequeueCount"
[[ "$(jq -r '.srcStamp.value' <<<"$row")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9:]{8}\.[0-9]{6}$ ]] ||
    fail "srcStamp format: $row"
[[ "$(jq -r '.partitionKey.value' <<<"$row")" == "$run-"* ]] || fail "partition key: $row"
[[ "$(jq -r '.messageProcessingTime.value' <<<"$row")" =~ ^[0-9.e+-]+$ ]] || fail "time: $row"

# 4. Poison: a body that is not JSON, and a message whose handler keeps failing.
bad=$("${SDK[@]}" send-text $Q 'this is <not> JSON')
bad_id=$(jq -r .id <<<"$bad")
"$EDW_BIN" consume --exit-when-idle 1 >/dev/null
"$EDW_BIN" queue send '{"msg":"fails","srcStamp":"2026-11-27 18:00:00.000000","id":"handler-fail-1"}' >/dev/null
out=$(last_json "$EDW_BIN" consume --handler 'exec:false' --max-dequeue 2 --retry-delay 0 --exit-when-idle 2)
assert_eq "$(json_get "$out" .poisoned)" 1 "handler failure poisoned"
poison=$("${SDK[@]}" peek $Q-poison 10)
assert_eq "$(jq length <<<"$poison")" 2 "poison entries"
first=$(jq -r '.[0].text' <<<"$poison")
assert_eq "$(jq -r .messageId <<<"$first")" "$bad_id" "poison keeps the original id"
assert_eq "$(jq -r .body <<<"$first")" "this is <not> JSON" "poison keeps the body"
[[ "$(jq -r .reason <<<"$first")" == *"not valid JSON"* ]] || fail "poison reason: $first"
second=$(jq -r '.[1].text' <<<"$poison")
[[ "$(jq -r .reason <<<"$second")" == *"handler failed 2 times"* ]] || fail "reason: $second"
assert_eq "$(jq -r .dequeueCount <<<"$second")" 2 "poison dequeueCount"
out=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$out" .depth)" 0 "main queue empty"
assert_eq "$(json_get "$out" .poison)" 2 "poison depth"
out=$(last_json "$EDW_BIN" queue peek --poison)
[[ "$(json_get "$out" '.messages[0].reason')" == *"not valid JSON"* ]] || fail "edw peek: $out"

# 5. An account SAS from the SDK instead of the key.
sas=$("${SDK[@]}" sas "$AZURITE_ACCOUNT" "$AZURITE_KEY" | jq -r .)
export AZURE_STORAGE_CONNECTION_STRING="SharedAccessSignature=$sas;QueueEndpoint=$AZ_QUEUE_ENDPOINT;TableEndpoint=$AZ_TABLE_ENDPOINT"
out=$(last_json "$EDW_BIN" produce --count 40)
"$EDW_BIN" consume --exit-when-idle 1 >/dev/null
out=$(last_json "$EDW_BIN" verify)
assert_eq "$(json_get "$out" .missing)" 0 "SAS run complete"
sig=$(sed -n 's/.*sig=\([^&]*\).*/\1/p' <<<"$sas")
err=$(EDW_QUEUE_NAME=missing "$EDW_BIN" queue peek 2>&1 || true)
[[ "$err" == *"HTTP 404"* ]] || fail "missing queue not reported: $err"
[[ "$err" != *"$sig"* ]] || fail "SAS signature leaked: $err"
log "ok"
