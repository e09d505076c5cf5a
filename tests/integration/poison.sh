#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bad input never loops and is never lost: unparseable bodies go to poison at once with their
# reason; a message whose handler keeps failing goes there after --max-dequeue attempts.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

"$EDW_BIN" queue send 'this is not json' >/dev/null
"$EDW_BIN" queue send '{"msg": 42, "srcStamp": "2026-11-27 18:00:00"}' >/dev/null
printf '' | "$EDW_BIN" queue send - >/dev/null
head -c 70000 /dev/zero | tr '\0' 'x' | "$EDW_BIN" queue send - >/dev/null
"$EDW_BIN" produce --count 5 >/dev/null

out=$(last_json "$EDW_BIN" consume --exit-when-idle 0.5)
assert_eq "$(json_get "$out" .processed)" 5 "good messages processed"
assert_eq "$(json_get "$out" .poisoned)" 4 "bad messages poisoned"
peek=$(last_json "$EDW_BIN" queue peek --poison)
reasons=$(jq -r '.messages[].reason' <<<"$peek")
grep -q "not valid JSON" <<<"$reasons" || fail "reason for invalid JSON missing: $reasons"
grep -q "'msg' is not a string" <<<"$reasons" || fail "reason for wrong type missing"
grep -q "body is empty" <<<"$reasons" || fail "reason for empty body missing"
grep -q "70000 bytes, the limit is 65536" <<<"$reasons" || fail "reason for oversize missing"
assert_eq "$(jq -r '.messages[0].body' <<<"$peek")" "this is not json" "original body kept"

# A handler that always fails: tried max-dequeue times, then poisoned with its last error.
"$EDW_BIN" queue clear --poison >/dev/null
"$EDW_BIN" produce --count 3 >/dev/null
out=$(last_json "$EDW_BIN" consume --handler 'exec:echo boom >&2; exit 3' --max-dequeue 2 \
    --retry-delay 0 --exit-when-idle 1)
assert_eq "$(json_get "$out" .poisoned)" 3 "failing messages poisoned"
assert_eq "$(json_get "$out" .failed)" 6 "each tried twice"
peek=$(last_json "$EDW_BIN" queue peek --poison)
assert_eq "$(jq -r '.messages[0].reason' <<<"$peek")" \
    "handler failed 2 times; last error: command exited with status 3" "handler failure reason"
assert_eq "$(jq -r '.messages[0].dequeue_count' <<<"$peek")" 2 "dequeue count kept"
out=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$out" .depth)" 0 "nothing left looping in the queue"
log "ok"
