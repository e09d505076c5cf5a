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
bad_input_begin
# Sent with the official AWS SDK for JavaScript (SendMessage), one body per file, in order.
node "$SDK" send-files bad "${BAD_FILES[@]}" >"$TEST_DIR/sent.json" || fail "the SDK failed"
assert_eq "$(jq length "$TEST_DIR/sent.json")" "${#BAD_FILES[@]}" "SDK results"
for ((k = 0; k < ${#BAD_FILES[@]}; k++)); do
    f=${BAD_FILES[$k]}
    err=$(jq -r ".[$k].error // empty" "$TEST_DIR/sent.json")
    if [[ -z $err ]]; then
        BAD_SENT+=("$f")
        continue
    fi
    # Refused: only bodies SQS cannot represent, and with a reason a user can act on.
    grep -qE "not valid UTF-8|InvalidMessageContents|InvalidParameterValue|MissingParameter|empty" \
        <<<"$err" || fail "unclear refusal of $(basename "$f"): $err"
    log "refused $(basename "$f"): $err"
done
bad_input_drain 20 1

# Each quarantined envelope: a reason, one delivery, and the original text byte for byte.
sdk drain bad-poison >"$TEST_DIR/poison.json"
assert_eq "$(jq length "$TEST_DIR/poison.json")" "${#BAD_SENT[@]}" "envelopes in bad-poison"
for f in "${BAD_SENT[@]}"; do
    found=0
    for ((k = 0; k < ${#BAD_SENT[@]}; k++)); do
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
bad_input_figures @aws-sdk/client-sqs
