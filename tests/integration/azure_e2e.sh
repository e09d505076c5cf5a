#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# produce -> consume -> verify on Azurite, plus the operator commands, configuration errors
# and secret redaction.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=azure_lib.sh
source "$(dirname "$0")/azure_lib.sh"
start_azurite
export EDW_TABLE_NAME=e2e

"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
"$EDW_BIN" queue create >/dev/null || fail "queue create is not idempotent"
"$EDW_BIN" table create >/dev/null || fail "table create is not idempotent"

# More than 32 per batch: receive issues several Get Messages at once.
out=$(last_json "$EDW_BIN" produce --count 300 --batch 64)
assert_eq "$(json_get "$out" .sent)" 300 "produce sent"
run=$(json_get "$out" .run)
out=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$out" .depth)" 300 "depth after produce"

out=$(last_json "$EDW_BIN" consume --batch 64 --exit-when-idle 2)
assert_eq "$(json_get "$out" .processed)" 300 "consume processed"
assert_eq "$(json_get "$out" .poisoned)" 0 "consume poisoned"

out=$(last_json "$EDW_BIN" verify)
assert_eq "$(json_get "$out" .run)" "$run" "verify picks the last run"
assert_eq "$(json_get "$out" .stored)" 300 "verify stored"
assert_eq "$(json_get "$out" .missing)" 0 "verify missing"
assert_eq "$(json_get "$out" .expected)" 300 "verify expected"
out=$(last_json "$EDW_BIN" table count)
assert_eq "$(json_get "$out" .count)" 300 "table count"
out=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$out" .depth)" 0 "queue empty after consume"

# A second run: verify reports what is missing from it (nothing consumed yet).
out=$(last_json "$EDW_BIN" produce --count 5)
run2=$(json_get "$out" .run)
set +e
out=$("$EDW_BIN" verify --json | tail -n 1)
rc=$?
set -e
assert_eq "$rc" 1 "verify exit code with missing rows"
assert_eq "$(json_get "$out" .run)" "$run2" "verify run after second produce"
assert_eq "$(json_get "$out" .missing)" 5 "missing before consume"
assert_eq "$(json_get "$out" '.missing_ids | length')" 5 "missing ids listed"
out=$(last_json "$EDW_BIN" verify --run "$run")
assert_eq "$(json_get "$out" .missing)" 0 "the first run stays complete"
"$EDW_BIN" consume --exit-when-idle 1 >/dev/null
"$EDW_BIN" verify >/dev/null || fail "second run incomplete after consume"

# queue send / peek / clear
"$EDW_BIN" queue send 'peek <me> & "keep" é' >/dev/null
out=$(last_json "$EDW_BIN" queue peek)
assert_eq "$(json_get "$out" '.messages[0].body')" 'peek <me> & "keep" é' "peek body"
"$EDW_BIN" queue clear >/dev/null
out=$(last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$out" .depth)" 0 "depth after clear"

# A message near the 64 KiB limit is stored whole: its text spreads over data and data_2
# (one string property holds 32K UTF-16 units).
big=$(head -c 60000 /dev/zero | tr '\0' 'z')
printf '{"msg":"%s","srcStamp":"2026-11-27 18:00:00.000000","id":"big-1"}' "$big" |
    "$EDW_BIN" queue send - >/dev/null
out=$(last_json "$EDW_BIN" consume --exit-when-idle 1)
assert_eq "$(json_get "$out" .processed)" 1 "large message processed"
row=$("${SDK[@]}" rows "$EDW_TABLE_NAME" "RowKey eq 'big-1'")
assert_eq "$(jq -r '.[0].data.value + .[0].data_2.value' <<<"$row")" "$big" "large data whole"

# Bodies above 64 KiB get a clear error, before any request.
set +e
err=$(head -c 70000 /dev/zero | tr '\0' 'x' | "$EDW_BIN" queue send - 2>&1)
rc=$?
set -e
[[ $rc -ne 0 && "$err" == *"larger than the backend's limit of 65536"* ]] ||
    fail "oversized body: rc=$rc, $err"
set +e
err=$(EDW_AZURE_SEND_ENCODING=base64 "$EDW_BIN" queue send "$(head -c 50000 /dev/zero | tr '\0' 'y')" 2>&1)
rc=$?
set -e
[[ $rc -ne 0 && "$err" == *"after base64"* ]] || fail "oversized base64 body: rc=$rc, $err"

# Secrets never show: not in `edw config`, not in an authentication failure.
cfg=$("$EDW_BIN" config)
[[ "$cfg" == *"AZURE_STORAGE_CONNECTION_STRING = ***"* ]] || fail "connection string not redacted"
[[ "$cfg" != *"$AZURITE_KEY"* ]] || fail "edw config shows the account key"
wrong="DefaultEndpointsProtocol=http;AccountName=$AZURITE_ACCOUNT;AccountKey=d3JvbmcgYnV0IHZhbGlkIGJhc2U2NA==;QueueEndpoint=$AZ_QUEUE_ENDPOINT;TableEndpoint=$AZ_TABLE_ENDPOINT"
set +e
err=$(AZURE_STORAGE_CONNECTION_STRING="$wrong" "$EDW_BIN" queue depth 2>&1)
rc=$?
set -e
assert_eq "$rc" 1 "exit code with a wrong key"
[[ "$err" == *"HTTP 403 AuthenticationFailed"* ]] || fail "auth failure not reported: $err"
[[ "$err" != *"d3JvbmcgYnV0IHZhbGlkIGJhc2U2NA"* ]] || fail "the key leaked into: $err"

# Configuration mistakes are named.
set +e
err=$(AZURE_STORAGE_CONNECTION_STRING="AccountName=x;AccountKey=%%%" "$EDW_BIN" queue depth 2>&1)
[[ "$err" == *"AccountKey in the connection string is not a valid base64 account key"* && "$err" != *"%%%"* ]] ||
    fail "bad key: $err"
err=$(AZURE_STORAGE_CONNECTION_STRING="AccountName=x;Bogus=1" "$EDW_BIN" queue depth 2>&1)
[[ "$err" == *"a part is not a known Key=value setting"* ]] || fail "unknown key: $err"
[[ "$err" != *Bogus* ]] || fail "the connection string was quoted: $err"
# No key or SAS: the chain falls back to managed identity (a closed loopback port here).
closed=$(free_port)
err=$(AZURE_STORAGE_CONNECTION_STRING="" AZURE_STORAGE_ACCOUNT_NAME=acct \
    IDENTITY_ENDPOINT="http://127.0.0.1:$closed/msi" IDENTITY_HEADER=hdr "$EDW_BIN" queue depth 2>&1)
[[ "$err" == *"managed identity (IDENTITY_ENDPOINT): no reply"* ]] || fail "no credentials: $err"
# --pipelines auto is Azure's preference, two loops (with a blocking handler or --concurrency 1
# it stays one); an explicit count wins.
"$EDW_BIN" queue create --queue pipeq >/dev/null
for want in "2" "1 --concurrency 1" "1 --handler work:1" "1 --pipelines 1" "3 --pipelines 3"; do
    read -r n flags <<<"$want"
    # shellcheck disable=SC2086 # flags are words
    out=$("$EDW_BIN" consume --queue pipeq --exit-when-idle 0.2 --log-level info $flags 2>&1 >/dev/null)
    [[ "$out" == *"($n pipeline(s)"* ]] || fail "consume $flags: expected $n pipeline(s): $out"
done
err=$("$EDW_BIN" queue depth --queue Bad_Name 2>&1)
[[ "$err" == *"is not valid on Azure"* ]] || fail "queue name: $err"
set -e
log "ok"
