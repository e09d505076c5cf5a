#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every body of the malformed corpus (tests/corpus/bad-bodies) ends in the poison queue with a
# reason and its original bytes, in one delivery; good messages around them are processed.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=reliability_lib.sh
source "$(dirname "$0")/reliability_lib.sh"

CORPUS="$EDW_SOURCE_DIR/tests/corpus/bad-bodies"
mapfile -t files < <(find "$CORPUS" -name '*.txt' | sort)
((${#files[@]} >= 25)) || fail "corpus has only ${#files[@]} bodies"
"$EDW_BIN" produce --count 10 >/dev/null
for f in "${files[@]}"; do
    "$EDW_BIN" queue send - <"$f" >/dev/null || fail "could not send $f"
done
"$EDW_BIN" produce --count 10 >/dev/null

out=$(last_json "$EDW_BIN" consume --exit-when-idle 0.5)
assert_eq "$(json_get "$out" .poisoned)" "${#files[@]}" "poisoned"
assert_eq "$(json_get "$out" .processed)" 20 "good messages processed"
assert_eq "$(json_get "$out" .failed)" 0 "nothing retried"
assert_eq "$(last_json "$EDW_BIN" queue depth | jq .depth)" 0 "nothing left in the queue"

# Compare each poisoned body, byte for byte, with its file; every one has a reason.
i=0
for f in "${files[@]}"; do
    i=$((i + 1))
    # poisoned rows keep the order they were quarantined in, which is the order sent
    sqlite3 "$EDW_SQLITE_PATH" \
        "SELECT writefile('$TEST_DIR/p$i', body) FROM edw_poison ORDER BY id LIMIT 1 OFFSET $((i - 1))" \
        >/dev/null
    cmp -s "$f" "$TEST_DIR/p$i" || fail "body of $(basename "$f") was not kept intact"
    reason=$(sqlite3 "$EDW_SQLITE_PATH" "SELECT reason FROM edw_poison ORDER BY id LIMIT 1 OFFSET $((i - 1))")
    [[ -n "$reason" ]] || fail "no reason for $(basename "$f")"
    count=$(sqlite3 "$EDW_SQLITE_PATH" "SELECT dequeue_count FROM edw_poison ORDER BY id LIMIT 1 OFFSET $((i - 1))")
    assert_eq "$count" 1 "deliveries before poisoning $(basename "$f")"
    log "$(basename "$f"): $reason"
done
figures bad_input "sent_with=edw-queue-send corpus=${#files[@]} sent=${#files[@]} refused_at_send=0" \
    "poisoned=$(json_get "$out" .poisoned) poisoned_with_reason=${#files[@]} good=20" \
    "good_processed=$(json_get "$out" .processed) retried=$(json_get "$out" .failed) lost=0"
log "ok"
