#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Entra workload identity and managed identity end to end, with no key in edw's environment:
# Azurite in OAuth mode over HTTPS (a certificate made here, trusted through EDW_CA_FILE)
# accepts the bearer tokens that edw gets from a loopback stand-in for Entra
# (tests/interop/entra_standin.mjs), which checks the client assertion against the token file
# and issues short-lived tokens. Covered: refresh during a run, the token file rotated
# mid-run, the endpoint failing (5xx, garbage, AADSTS, hang) and recovering, a token the
# storage service rejects, a missing/empty/oversized token file, managed identity through
# IDENTITY_ENDPOINT, and canary secrets that must never be printed. No message is lost.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=azure_lib.sh
source "$(dirname "$0")/azure_lib.sh"

command -v openssl >/dev/null || fail "openssl is not installed (scripts/install-deps.sh)"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TEST_DIR/key.pem" -out "$TEST_DIR/cert.pem" \
    -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 ||
    fail "openssl could not make a certificate"

# Azurite, OAuth basic over HTTPS
start_azurite --oauth basic --cert "$TEST_DIR/cert.pem" --key "$TEST_DIR/key.pem"
qport=$AZ_QUEUE_PORT
tport=$AZ_TABLE_PORT

# The Entra stand-in
ED="$TEST_DIR/entra"
mkdir -p "$ED"
start_bg node "$EDW_SOURCE_DIR/tests/interop/entra_standin.mjs" "$ED" "$TEST_DIR/cert.pem" \
    "$TEST_DIR/key.pem" 2>"$TEST_DIR/standin.err"
wait_for 20 test -s "$ED/port" || fail "the Entra stand-in did not start: $(cat "$TEST_DIR/standin.err")"
eport=$(cat "$ED/port")
TOKEN_FILE="$TEST_DIR/azure-identity-token"
echo "CANARY-PROJECTED-ONE" >"$TOKEN_FILE"
echo "$TOKEN_FILE" >"$ED/expect_file"
echo "canary-client" >"$ED/client_id"
echo 12 >"$ED/ttl" # refreshed at half-life (6 s), so a run of ~20 s refreshes several times
log "azurite https queue $qport table $tport; entra stand-in $eport"

unset AZURE_STORAGE_CONNECTION_STRING
export EDW_BACKEND=azure
export EDW_AZURE_QUEUE_ENDPOINT="https://127.0.0.1:$qport/$AZURITE_ACCOUNT"
export EDW_AZURE_TABLE_ENDPOINT="https://127.0.0.1:$tport/$AZURITE_ACCOUNT"
export EDW_CA_FILE="$TEST_DIR/cert.pem"
export AZURE_CLIENT_ID=canary-client AZURE_TENANT_ID=canary-tenant
export AZURE_FEDERATED_TOKEN_FILE="$TOKEN_FILE"
export AZURE_AUTHORITY_HOST="https://127.0.0.1:$eport/"
export EDW_QUEUE_NAME=idq EDW_TABLE_NAME=idrows

# edw config names the chosen credential and why, without values
cfg=$("$EDW_BIN" config)
[[ "$cfg" == *"azure credential         = workload-identity"*AZURE_FEDERATED_TOKEN_FILE* ]] ||
    fail "edw config does not name workload identity: $cfg"
assert_eq "$("$EDW_BIN" config --json | jq -r .azure_credential)" workload-identity "config --json"
cfg=$(EDW_AZURE_ACCOUNT_KEY="Q0FOQVJZLUFDQ09VTlQtS0VZ" "$EDW_BIN" config)
[[ "$cfg" == *"azure credential         = shared-key  (EDW_AZURE_ACCOUNT_KEY is set)"* ]] ||
    fail "a key does not win over workload identity: $cfg"
[[ "$cfg" != *Q0FOQVJZLUFDQ09VTlQtS0VZ* ]] || fail "edw config shows the account key"

"$EDW_BIN" queue create >"$TEST_DIR/setup.out" 2>&1 || fail "queue create: $(cat "$TEST_DIR/setup.out")"
"$EDW_BIN" table create >>"$TEST_DIR/setup.out" 2>&1 || fail "table create: $(cat "$TEST_DIR/setup.out")"
grep -q "^CANARY-PROJECTED-ONE$" "$ED/assertions" || fail "the stand-in never saw the assertion"

# Bearer tokens are refused over plain HTTP, before anything is sent
set +e
err=$(EDW_AZURE_QUEUE_ENDPOINT="http://127.0.0.1:$qport/$AZURITE_ACCOUNT" "$EDW_BIN" queue depth 2>&1)
set -e
[[ "$err" == *"tokens are only sent over HTTPS"* ]] || fail "bearer over http: $err"

# A long consume run: tokens expire and are refreshed, the file is rotated, the endpoint fails
out=$(last_json "$EDW_BIN" produce --count 300 --batch 50 2>>"$TEST_DIR/produce.err")
assert_eq "$(json_get "$out" .sent)" 300 "produce sent"
mport=$(free_port)
start_bg env EDW_HTTP_PORT="$mport" EDW_HTTP_ADDR=127.0.0.1 EDW_LOG_LEVEL=info \
    "$EDW_BIN" consume --json --exit-when-idle 16 >"$TEST_DIR/consume.out" 2>"$TEST_DIR/consume.err"
consumer=$BG_PID
wait_for 20 curl -sf "http://127.0.0.1:$mport/readyz" || fail "consumer never ready: $(tail -5 "$TEST_DIR/consume.err")"
sleep 3
echo "CANARY-PROJECTED-TWO" >"$TOKEN_FILE.new" && mv "$TOKEN_FILE.new" "$TOKEN_FILE" # kubelet-style swap
sleep 5
# The endpoint fails until edw has asked it at least once per failure mode; meanwhile the
# cached token stays in use until it expires, then calls fail (retried) until it recovers.
echo 500 >"$ED/mode"
wait_for 20 grep -q " 500$" "$ED/requests" || fail "no refresh while the endpoint answered 500"
echo garbage >"$ED/mode"
wait_for 20 grep -q " garbage$" "$ED/requests" || fail "no refresh while the endpoint sent garbage"
echo ok >"$ED/mode"
out=$(last_json "$EDW_BIN" produce --count 200 --batch 50 2>>"$TEST_DIR/produce.err")
assert_eq "$(json_get "$out" .sent)" 200 "second produce sent"
metrics=$(curl -sf "http://127.0.0.1:$mport/metrics") || fail "no metrics"
wait "$consumer" || fail "the consumer failed: $(tail -5 "$TEST_DIR/consume.err")"
grep -q "^CANARY-PROJECTED-TWO$" "$ED/assertions" || fail "the rotated token file was not re-read"
issued=$(wc -l <"$ED/issued")
((issued >= 4)) || fail "only $issued tokens issued: no refresh during the run"
ok_refresh=$(sed -n 's/^edw_token_refreshes_total{result="ok"} \([0-9]*\).*/\1/p' <<<"$metrics")
failed_refresh=$(sed -n 's/^edw_token_refreshes_total{result="error"} \([0-9]*\).*/\1/p' <<<"$metrics")
log "tokens issued $issued; refreshes ok=${ok_refresh:-?} error=${failed_refresh:-?}"
if [[ -z "$ok_refresh" ]] || ((ok_refresh < 2)); then
    fail "edw_token_refreshes_total: $(grep token_refresh <<<"$metrics")"
fi
grep -q "token endpoint: HTTP 500" "$TEST_DIR/consume.err" || fail "the 5xx refresh failure was not logged"
grep -q "HTTP 200 but the reply is not a JSON object" "$TEST_DIR/consume.err" ||
    fail "the garbage reply was not logged"
out=$(last_json "$EDW_BIN" verify) # the latest run: the 200 sent during the failures
assert_eq "$(json_get "$out" .stored)" 200 "verify stored after refreshes and failures"
assert_eq "$(json_get "$out" .missing)" 0 "verify missing"
assert_eq "$(json_get "$out" .unexpected)" 0 "verify unexpected"
out=$(last_json "$EDW_BIN" table count)
assert_eq "$(json_get "$out" .count)" 500 "one row per message of both runs"
out=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$out" .depth)" 0 "queue drained"

# Failures with a clear cause, then recovery (one-shot commands: each fetches afresh)
expect_err() { # expect_err WHAT PATTERN CMD...
    local what=$1 pattern=$2 e
    shift 2
    set +e
    e=$("$@" 2>&1)
    local rc=$?
    set -e
    ((rc != 0)) || fail "$what: succeeded"
    [[ "$e" == *"$pattern"* ]] || fail "$what: expected '$pattern' in: $e"
    printf '%s\n' "$e" >>"$TEST_DIR/errors.out"
}
echo aadsts >"$ED/mode"
expect_err "AADSTS" "AADSTS70021: no federated identity credential matches" "$EDW_BIN" queue depth
echo 500 >"$ED/mode"
expect_err "5xx" "token endpoint: HTTP 500" "$EDW_BIN" queue depth
echo hang >"$ED/mode"
expect_err "hang" "token endpoint: no reply" "$EDW_BIN" queue depth
echo expired >"$ED/mode" # storage rejects the token: edw fetches a new one once, then reports
before=$(wc -l <"$ED/requests")
expect_err "rejected token" "AuthenticationFailed" "$EDW_BIN" queue depth
after=$(wc -l <"$ED/requests")
((after - before == 2)) || fail "a rejected token was re-fetched $((after - before - 1)) times, not once"
echo ok >"$ED/mode"
expect_err "missing file" "cannot be opened" env AZURE_FEDERATED_TOKEN_FILE="$TEST_DIR/nope" \
    "$EDW_BIN" queue depth
: >"$TEST_DIR/empty"
expect_err "empty file" "is empty" env AZURE_FEDERATED_TOKEN_FILE="$TEST_DIR/empty" \
    "$EDW_BIN" queue depth
{ printf 'CANARY-PROJECTED-BIG'; head -c 20000 /dev/zero | tr '\0' 'x'; } >"$TEST_DIR/big"
expect_err "oversized file" "is larger than 16384 bytes" env AZURE_FEDERATED_TOKEN_FILE="$TEST_DIR/big" \
    "$EDW_BIN" queue depth
out=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$out" .depth)" 0 "works again after the failures"

# Managed identity through IDENTITY_ENDPOINT (no workload identity variables)
echo "CANARY-IDENTITY-HEADER" >"$ED/identity_header"
out=$(env -u AZURE_CLIENT_ID -u AZURE_TENANT_ID -u AZURE_FEDERATED_TOKEN_FILE \
    IDENTITY_ENDPOINT="https://127.0.0.1:$eport/msi" IDENTITY_HEADER=CANARY-IDENTITY-HEADER \
    "$EDW_BIN" queue depth --json 2>"$TEST_DIR/mi.err" | tail -n 1) || fail "managed identity: $(cat "$TEST_DIR/mi.err")"
assert_eq "$(json_get "$out" .depth)" 0 "managed identity queue depth"
grep -q "GET /msi ok" "$ED/requests" || fail "the managed identity endpoint was not used"
cfg=$(env -u AZURE_CLIENT_ID -u AZURE_TENANT_ID -u AZURE_FEDERATED_TOKEN_FILE \
    IDENTITY_ENDPOINT="https://127.0.0.1:$eport/msi" IDENTITY_HEADER=CANARY-IDENTITY-HEADER "$EDW_BIN" config)
[[ "$cfg" == *"azure credential         = managed-identity"*IDENTITY_ENDPOINT* ]] ||
    fail "edw config does not name managed identity: $cfg"
printf '%s\n' "$cfg" >>"$TEST_DIR/errors.out"

# No secret anywhere edw wrote: the projected tokens, every access token, the header
printf '%s\n' "$metrics" >"$TEST_DIR/metrics.out"
secrets=("CANARY-PROJECTED" "CANARY-IDENTITY-HEADER" "Q0FOQVJZLUFDQ09VTlQtS0VZ")
while read -r jwt; do secrets+=("$jwt" "$(cut -d. -f2 <<<"$jwt")"); done <"$ED/issued"
for f in consume.out consume.err produce.err setup.out errors.out mi.err metrics.out; do
    for s in "${secrets[@]}"; do
        ! grep -qF -- "$s" "$TEST_DIR/$f" || fail "a secret (${s:0:24}...) appears in $f"
    done
done
log "ok"
