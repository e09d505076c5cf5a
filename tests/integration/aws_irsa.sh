#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck source-path=SCRIPTDIR
# IAM roles for service accounts: no static keys, only AWS_ROLE_ARN and a projected token file.
# A loopback STS stand-in answers AssumeRoleWithWebIdentity with credentials that leave the
# refresh window 3 s after issue, and accepts only the token file's current contents. While
# edw produces, the token is rotated (as the kubelet does): edw must re-read the file on the
# next exchange, refresh ahead of expiry, sign with the new keys, and never log a secret.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/aws_env.sh"
start_aws_emulators
sts_port=$(free_port)
role="arn:aws:iam::123456789012:role/edw-consumer"
token_file="$TEST_DIR/token"
echo "eyJhbGciOiJSUzI1NiJ9.token-v1-ffd1.sig" >"$token_file"
# Our refresh skew is 300 s: 303 s of lifetime means "refresh after 3 s".
start_bg node "$EDW_EMULATORS_DIR/sts_standin.mjs" "$sts_port" "$token_file" "$role" 303 \
    >"$TEST_DIR/sts.log" 2>&1
wait_for 30 curl -sf "http://127.0.0.1:$sts_port/_stats" || fail "STS stand-in did not start"
stats() { curl -sf "http://127.0.0.1:$sts_port/_stats"; }

unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export AWS_ROLE_ARN="$role" AWS_WEB_IDENTITY_TOKEN_FILE="$token_file"
export EDW_AWS_STS_ENDPOINT="http://127.0.0.1:$sts_port" EDW_LOG_LEVEL=info
export EDW_QUEUE_NAME=irsa EDW_TABLE_NAME=irsaresults
logs="$TEST_DIR/edw.log"

"$EDW_BIN" queue create >>"$logs" 2>&1 || fail "queue create with IRSA: $(tail -3 "$logs")"
"$EDW_BIN" table create >>"$logs" 2>&1 || fail "table create with IRSA"
assert_eq "$(stats | jq .exchanges)" 2 "one exchange per process so far"

log "produce for ~6 s while the token rotates"
"$EDW_BIN" produce --count 900 --rate 150 --batch 10 --json >"$TEST_DIR/produce.out" 2>>"$logs" &
producer=$!
sleep 2.5
echo "eyJhbGciOiJSUzI1NiJ9.token-v2-9a07.sig" >"$token_file.new"
mv "$token_file.new" "$token_file" # atomic, like the kubelet's symlink swap
wait "$producer" || fail "produce with IRSA failed: $(tail -3 "$logs")"
assert_eq "$(tail -n 1 "$TEST_DIR/produce.out" | jq .sent)" 900 "sent"
s=$(stats)
(($(jq .exchanges <<<"$s") >= 4)) || fail "credentials were not refreshed ahead of expiry: $s"
assert_eq "$(jq .rejected <<<"$s")" 0 "exchanges rejected (a stale token was sent)"
assert_eq "$(jq -c .tokens <<<"$s" | grep -c token-v2)" 1 "the rotated token was used"

log "consume and verify with IRSA"
out=$(last_json "$EDW_BIN" consume --exit-when-idle 1 2>>"$logs")
assert_eq "$(json_get "$out" .processed)" 900 "processed"
v=$(last_json "$EDW_BIN" verify 2>>"$logs")
assert_eq "$(json_get "$v" .missing)" 0 "missing"

# The log names the assumed role and the access key id (not secret), never the secrets.
last_key=$(stats | jq -r '.accessKeys[-1]')
grep -q "assumed role $role (web identity): access key ASIASTANDIN" "$logs" ||
    fail "no 'assumed role' log line"
grep -q "$last_key" "$logs" || fail "the last access key id is not in the log"
if grep -E "standin-secret|standin-session-token|token-v[12]" "$logs" "$TEST_DIR"/*.out; then
    fail "a secret reached the output"
fi

log "failures are loud and leak nothing"
AWS_ROLE_ARN="arn:aws:iam::123456789012:role/other" "$EDW_BIN" queue depth >"$TEST_DIR/deny.out" 2>&1 &&
    fail "an unauthorised role worked"
grep -q "AccessDenied" "$TEST_DIR/deny.out" || fail "no AccessDenied: $(cat "$TEST_DIR/deny.out")"
head -c 70000 /dev/zero | tr '\0' 'x' >"$TEST_DIR/big-token"
AWS_WEB_IDENTITY_TOKEN_FILE="$TEST_DIR/big-token" "$EDW_BIN" queue depth >"$TEST_DIR/big.out" 2>&1 &&
    fail "an oversized token file was accepted"
grep -q "larger than 65536 bytes" "$TEST_DIR/big.out" || fail "unclear error: $(cat "$TEST_DIR/big.out")"
if grep -E "token-v[12]|xxxxxxxx" "$TEST_DIR/deny.out" "$TEST_DIR/big.out"; then
    fail "token contents reached an error message"
fi
log "ok: $(stats | jq .exchanges) exchanges, tokens $(stats | jq -c .tokens | tr -d '"' | sed 's/eyJhbGciOiJSUzI1NiJ9\.//g')"
