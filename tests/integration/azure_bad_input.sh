#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The malformed-body corpus (tests/corpus/bad-bodies) on Azure Queue Storage (Azurite), sent
# with the official SDK (@azure/storage-queue): as text when XML can carry the bytes, else
# base64 as Azure Functions producers send it. Every body the service accepts ends in
# <queue>-poison after one delivery, with a reason and the body intact (read back with the
# SDK); a body the service refuses (too large) is refused with a clear error and never enters
# the queue. Good messages around them are processed; the consumer never crashes.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=azure_lib.sh
source "$(dirname "$0")/azure_lib.sh"
# shellcheck source=reliability_lib.sh
source "$(dirname "$0")/reliability_lib.sh"
start_azurite
bad_input_begin
declare -A encoding
for f in "${BAD_FILES[@]}"; do
    r=$("${SDK[@]}" send-file bad "$f") || fail "SDK failed on $(basename "$f")"
    if [[ $(jq -r '.error // empty' <<<"$r") ]]; then
        # Refused by the service: only for a reason a user can act on.
        grep -qiE "too ?large|RequestBodyTooLarge|MessageTooLarge|413" <<<"$r" ||
            fail "unclear refusal of $(basename "$f"): $r"
        log "refused $(basename "$f"): $(jq -r .error <<<"$r" | head -n 1)"
        continue
    fi
    BAD_SENT+=("$f")
    encoding[$f]=$(jq -r .encoding <<<"$r")
done
bad_input_drain 25 2
assert_eq "$(json_get "$(last_json "$EDW_BIN" verify)" .missing)" 0 "good messages missing"

# Each quarantined envelope: a reason, one delivery, and the body as it was sent (the file's
# bytes, or for base64-sent ones either those bytes or the base64 text the queue carried).
"${SDK[@]}" receive bad-poison 100 >"$TEST_DIR/poison.json"
assert_eq "$(jq length "$TEST_DIR/poison.json")" "${#BAD_SENT[@]}" "envelopes in bad-poison"
for ((k = 0; k < ${#BAD_SENT[@]}; k++)); do
    jq -r ".[$k].text" "$TEST_DIR/poison.json" >"$TEST_DIR/env$k.json"
    if jq -e '.body | type == "string"' "$TEST_DIR/env$k.json" >/dev/null; then
        jq -j .body "$TEST_DIR/env$k.json" >"$TEST_DIR/body$k"
    else
        jq -r .bodyBase64 "$TEST_DIR/env$k.json" | base64 -d >"$TEST_DIR/body$k"
    fi
done
for f in "${BAD_SENT[@]}"; do
    found=-1
    base64 -w0 "$f" >"$TEST_DIR/as-base64"
    for ((k = 0; k < ${#BAD_SENT[@]}; k++)); do
        if cmp -s "$f" "$TEST_DIR/body$k" ||
            { [[ ${encoding[$f]} == base64 ]] && cmp -s "$TEST_DIR/as-base64" "$TEST_DIR/body$k"; }; then
            found=$k
            break
        fi
    done
    ((found >= 0)) || fail "$(basename "$f") is not in the poison queue intact"
    [[ -n $(jq -r '.reason // empty' "$TEST_DIR/env$found.json") ]] || fail "no reason for $(basename "$f")"
    assert_eq "$(jq .dequeueCount "$TEST_DIR/env$found.json")" 1 "deliveries of $(basename "$f")"
done
bad_input_figures @azure/storage-queue
