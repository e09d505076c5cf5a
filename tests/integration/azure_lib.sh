#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Azure helpers for integration tests; source after lib.sh. start_azurite runs Azurite on
# loopback ports the OS picks (stopped by pid with the test's other background processes) and
# points edw and the SDK scripts at it with a connection string.

AZURITE_ACCOUNT=devstoreaccount1
# Azurite's documented development key: public, not a secret.
AZURITE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
# shellcheck disable=SC2034 # used by the tests that source this file
SDK=(env "EDW_EMULATORS_DIR=$EDW_EMULATORS_DIR" node "$EDW_SOURCE_DIR/tests/interop/azure_sdk.mjs")
# CTest's EDW_BIN/EDW_SOURCE_DIR/EDW_EMULATORS_DIR are for this script, not settings: edw
# rejects unknown EDW_* variables as typos, so keep them out of its environment.
export -n EDW_BIN EDW_SOURCE_DIR EDW_EMULATORS_DIR

# The port Azurite reports for SERVICE (Queue|Table) in LOG, served over SCHEME (http|https).
azurite_port() {
    sed -n "s|.*$1 service is successfully listening at ${3:-http}://127.0.0.1:\([0-9]*\).*|\1|p" "$2" |
        head -n 1
}

# start_azurite [azurite args...]: start it, wait until it listens, export the settings. With
# --cert (and --key) Azurite serves https and the endpoints say so.
# shellcheck disable=SC2120 # arguments are optional
start_azurite() {
    local log="$TEST_DIR/azurite.log" scheme=http arg
    for arg in "$@"; do [[ $arg == --cert ]] && scheme=https; done
    [[ -f "$EDW_EMULATORS_DIR/node_modules/azurite/package.json" ]] ||
        fail "Azurite is not installed: run scripts/install-deps.sh"
    start_bg "$EDW_EMULATORS_DIR/azurite.sh" "$@" >"$log" 2>&1
    AZURITE_PID=$BG_PID
    wait_for 60 grep -q "Table service is successfully listening" "$log" ||
        fail "Azurite did not start: $(cat "$log")"
    AZ_QUEUE_PORT=$(azurite_port Queue "$log" "$scheme")
    AZ_TABLE_PORT=$(azurite_port Table "$log" "$scheme")
    [[ -n "$AZ_QUEUE_PORT" && -n "$AZ_TABLE_PORT" ]] || fail "no $scheme Azurite ports in $log"
    AZ_QUEUE_ENDPOINT="$scheme://127.0.0.1:$AZ_QUEUE_PORT/$AZURITE_ACCOUNT"
    AZ_TABLE_ENDPOINT="$scheme://127.0.0.1:$AZ_TABLE_PORT/$AZURITE_ACCOUNT"
    export EDW_BACKEND=azure
    export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=$scheme;AccountName=$AZURITE_ACCOUNT;AccountKey=$AZURITE_KEY;QueueEndpoint=$AZ_QUEUE_ENDPOINT;TableEndpoint=$AZ_TABLE_ENDPOINT;"
    log "Azurite pid $AZURITE_PID, queue port $AZ_QUEUE_PORT, table port $AZ_TABLE_PORT"
}
