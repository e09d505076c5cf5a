#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The malformed-body corpus (tests/corpus/bad-bodies) on SQS, sent with the official AWS SDK
# for JavaScript (tests/interop/aws_sdk.mjs send-files): every body SQS can carry ends in
# <queue>-poison after one delivery, with a reason and its original text (read back with the
# AWS SDK and compared byte for byte); a body SQS cannot carry (not UTF-8, empty, NUL) is refused
# at send with a clear error (by the SDK or the service), so it never enters the queue. Good
# messages around them are processed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/aws_env.sh"
# shellcheck source=reliability_lib.sh
source "$(dirname "$0")/reliability_lib.sh"
start_aws_emulators
export EDW_QUEUE_NAME=bad EDW_TABLE_NAME=badresults
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null

CORPUS="$EDW_SOURCE_DIR/tests/corpus/bad-bodies"
mapfile -t files < <(find "$CORPUS" -name '*.txt' | sort)
((${#files[@]} >= 25)) || fail "corpus has only ${#files[@]} bodies"
"$EDW_BIN" produce --count 10 >/dev/null
# Sent with the official AWS SDK for JavaScript (SendMessage), one body per file, in order.
node "$SDK" send-files bad "${files[@]}" >"$TEST_DIR/sent.json" || fail "the SDK failed"
assert_eq "$(jq length "$TEST_DIR/sent.json")" "${#files[@]}" "SDK results"
sent=()
for ((k = 0; k < ${#files[@]}; k++)); do
    f=${files[$k]}
    err=$(jq -r ".[$k].error // empty" "$TEST_DIR/sent.json")
    if [[ -z $err ]]; then
        sent+=("$f")
        continue
    fi
    # Refused: only bodies SQS cannot represent, and with a reason a user can act on.
    grep -qE "not valid UTF-8|InvalidMessageContents|InvalidParameterValue|MissingParameter|empty" \
        <<<"$err" || fail "unclear refusal of $(basename "$f"): $err"
    log "refused $(basename "$f"): $err"
done
"$EDW_BIN" produce --count 10 >/dev/null
((${#sent[@]} >= 20)) || fail "only ${#sent[@]} bodies could be sent"

out=$(last_json "$EDW_BIN" consume --exit-when-idle 1)
assert_eq "$(json_get "$out" .poisoned)" "${#sent[@]}" "poisoned"
assert_eq "$(json_get "$out" .processed)" 20 "good messages processed"
assert_eq "$(json_get "$out" .failed)" 0 "nothing retried"
assert_eq "$(json_get "$(last_json "$EDW_BIN" queue depth)" .depth)" 0 "nothing left in the queue"

# Each quarantined envelope: a reason, one delivery, and the original text byte for byte.
sdk drain bad-poison >"$TEST_DIR/poison.json"
assert_eq "$(jq length "$TEST_DIR/poison.json")" "${#sent[@]}" "envelopes in bad-poison"
for f in "${sent[@]}"; do
    found=0
    for ((k = 0; k < ${#sent[@]}; k++)); do
        jq -j ".[$k].body | fromjson | .body" "$TEST_DIR/poison.json" >"$TEST_DIR/candidate"
        if cmp -s "$f" "$TEST_DIR/candidate"; then
            found=1
            env=$(jq -c ".[$k].body | fromjson | {reason, receiveCount}" "$TEST_DIR/poison.json")
            [[ -n $(jq -r .reason <<<"$env") ]] || fail "no reason for $(basename "$f")"
            assert_eq "$(jq .receiveCount <<<"$env")" 1 "deliveries of $(basename "$f")"
            break
        fi
    done
    ((found)) || fail "$(basename "$f") is not in the poison queue intact"
done
figures bad_input "sent_with=@aws-sdk/client-sqs corpus=${#files[@]} sent=${#sent[@]}" \
    "refused_at_send=$((${#files[@]} - ${#sent[@]})) poisoned=$(json_get "$out" .poisoned)" \
    "poisoned_with_reason=${#sent[@]} good=20 good_processed=$(json_get "$out" .processed)" \
    "retried=$(json_get "$out" .failed) lost=0"
log "ok: ${#sent[@]} poisoned intact, $((${#files[@]} - ${#sent[@]})) refused at send"
