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
export EDW_QUEUE_NAME=bad EDW_TABLE_NAME=badresults
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null

CORPUS="$EDW_SOURCE_DIR/tests/corpus/bad-bodies"
mapfile -t files < <(find "$CORPUS" -name '*.txt' | sort)
((${#files[@]} >= 25)) || fail "corpus has only ${#files[@]} bodies"
"$EDW_BIN" produce --count 10 >/dev/null
sent=()
declare -A encoding
for f in "${files[@]}"; do
    r=$("${SDK[@]}" send-file bad "$f") || fail "SDK failed on $(basename "$f")"
    if [[ $(jq -r '.error // empty' <<<"$r") ]]; then
        # Refused by the service: only for a reason a user can act on.
        grep -qiE "too ?large|RequestBodyTooLarge|MessageTooLarge|413" <<<"$r" ||
            fail "unclear refusal of $(basename "$f"): $r"
        log "refused $(basename "$f"): $(jq -r .error <<<"$r" | head -n 1)"
        continue
    fi
    sent+=("$f")
    encoding[$f]=$(jq -r .encoding <<<"$r")
done
"$EDW_BIN" produce --count 10 >/dev/null
((${#sent[@]} >= 25)) || fail "only ${#sent[@]} bodies could be sent"

out=$(last_json "$EDW_BIN" consume --exit-when-idle 2)
assert_eq "$(json_get "$out" .poisoned)" "${#sent[@]}" "poisoned"
assert_eq "$(json_get "$out" .processed)" 20 "good messages processed"
assert_eq "$(json_get "$out" .failed)" 0 "nothing retried"
assert_eq "$(json_get "$(last_json "$EDW_BIN" queue depth)" .depth)" 0 "nothing left in the queue"
assert_eq "$(json_get "$(last_json "$EDW_BIN" verify)" .missing)" 0 "good messages missing"

# Each quarantined envelope: a reason, one delivery, and the body as it was sent (the file's
# bytes, or for base64-sent ones either those bytes or the base64 text the queue carried).
"${SDK[@]}" receive bad-poison 100 >"$TEST_DIR/poison.json"
assert_eq "$(jq length "$TEST_DIR/poison.json")" "${#sent[@]}" "envelopes in bad-poison"
for ((k = 0; k < ${#sent[@]}; k++)); do
    jq -r ".[$k].text" "$TEST_DIR/poison.json" >"$TEST_DIR/env$k.json"
    if jq -e '.body | type == "string"' "$TEST_DIR/env$k.json" >/dev/null; then
        jq -j .body "$TEST_DIR/env$k.json" >"$TEST_DIR/body$k"
    else
        jq -r .bodyBase64 "$TEST_DIR/env$k.json" | base64 -d >"$TEST_DIR/body$k"
    fi
done
for f in "${sent[@]}"; do
    found=-1
    base64 -w0 "$f" >"$TEST_DIR/as-base64"
    for ((k = 0; k < ${#sent[@]}; k++)); do
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
figures bad_input "sent_with=@azure/storage-queue corpus=${#files[@]} sent=${#sent[@]}" \
    "refused_at_send=$((${#files[@]} - ${#sent[@]})) poisoned=$(json_get "$out" .poisoned)" \
    "poisoned_with_reason=${#sent[@]} good=20 good_processed=$(json_get "$out" .processed)" \
    "retried=$(json_get "$out" .failed) lost=0"
log "ok: ${#sent[@]} poisoned intact with a reason, $((${#files[@]} - ${#sent[@]})) refused at send"
