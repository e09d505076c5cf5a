#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Rows Azure Table can never take, on Azurite: (1) a row too large for the service fails its
# whole $batch for good; the worker stores the other rows one by one and poisons that message
# with the store's reason after one delivery (store_rejects_scenario); (2) ids with C1 control
# characters (U+0080..U+009F), which Azure refuses in keys, sent with the official SDK, are
# poisoned at delivery with a reason naming the character, before any write is attempted.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=azure_lib.sh
source "$(dirname "$0")/azure_lib.sh"
# shellcheck source=reliability_lib.sh
source "$(dirname "$0")/reliability_lib.sh"
start_azurite
export EDW_QUEUE_NAME=rejects EDW_TABLE_NAME=rejectresults
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
store_rejects_scenario

export EDW_QUEUE_NAME=cones EDW_TABLE_NAME=coneresults
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
stamp=$(date -u +'%Y-%m-%d %H:%M:%S.000000')
# U+0085 (NEL) as a JSON escape, and U+009F as raw UTF-8 bytes (C2 9F)
printf '{"msg":"c1 escaped","srcStamp":"%s","id":"key\\u0085x"}' "$stamp" >"$TEST_DIR/c1-escaped.json"
printf '{"msg":"c1 raw","srcStamp":"%s","id":"key\xc2\x9fx"}' "$stamp" >"$TEST_DIR/c1-raw.json"
"$EDW_BIN" produce --count 5 >/dev/null
for f in c1-escaped c1-raw; do
    r=$("${SDK[@]}" send-file cones "$TEST_DIR/$f.json") || fail "SDK failed on $f"
    [[ -z $(jq -r '.error // empty' <<<"$r") ]] || fail "the queue refused $f: $r"
done
"$EDW_BIN" produce --count 5 >/dev/null
out=$(last_json "$EDW_BIN" consume --exit-when-idle 2)
assert_eq "$(json_get "$out" .processed)" 10 "good messages processed"
assert_eq "$(json_get "$out" .poisoned)" 2 "C1 ids poisoned"
assert_eq "$(json_get "$out" .backend_errors)" 0 "backend errors (no write was tried)"
p=$("$EDW_BIN" queue peek --poison --json | tail -n 1)
reasons=$(jq -r '.messages[].reason' <<<"$p" | sort)
grep -q "field 'id' contains the control character U+0085 at byte 3" <<<"$reasons" ||
    fail "reason for U+0085: $reasons"
grep -q "field 'id' contains the control character U+009F at byte 3" <<<"$reasons" ||
    fail "reason for U+009F: $reasons"
log "C1 ids poisoned with: $(tr '\n' '|' <<<"$reasons")"
log "ok"
