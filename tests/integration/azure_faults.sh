#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Faults on Azure Queue + Table (Azurite): producer and consumer reach both services through
# fault proxies that fail 10 % of requests (faults_then_outage in reliability_lib.sh). Nothing
# may be lost or stored twice, nothing poisoned; the retries show in the log and in
# edw_backend_retries_total; throughput with and without faults is printed (fault_scenario in
# reliability_lib.sh). Azurite deletes only about 80 messages/s, hence 1,000 messages. Then
# the table service is down for a while (store_outage_scenario): nothing deleted, leases held,
# /readyz 503, then everything stored once it is back.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=azure_lib.sh
source "$(dirname "$0")/azure_lib.sh"
# shellcheck source=reliability_lib.sh
source "$(dirname "$0")/reliability_lib.sh"
start_azurite
# Shared Key signs the account and path, not the host: the proxies need no re-signing.
proxied_env() {
    local conn="DefaultEndpointsProtocol=http;AccountName=$AZURITE_ACCOUNT;AccountKey=$AZURITE_KEY"
    conn+=";QueueEndpoint=$1/$AZURITE_ACCOUNT;TableEndpoint=$2/$AZURITE_ACCOUNT;"
    PROXIED_ENV=(env "AZURE_STORAGE_CONNECTION_STRING=$conn")
}
use_names() { export EDW_QUEUE_NAME="$1-jobs" EDW_TABLE_NAME="${1}results"; }
# The outage scenario gets a fresh Azurite: after the fault scenario's thousands of deletes,
# Azurite's queue GC (a sweep every 60 s in its one thread) can answer nothing for 6-12 s,
# longer than the scenario's 3 s leases, and a receive sent just before such a stall is
# answered after it with leases that ran out meanwhile: no client can hold a lease through
# that, and the scenario is about a store outage, not an emulator stall.
outage_backend() {
    kill "$AZURITE_PID" 2>/dev/null || true
    wait "$AZURITE_PID" 2>/dev/null || true
    mv "$TEST_DIR/azurite.log" "$TEST_DIR/azurite-faults.log"
    start_azurite
    OUTAGE_QUEUE_URL="http://127.0.0.1:$AZ_QUEUE_PORT"
    OUTAGE_STORE_URL="http://127.0.0.1:$AZ_TABLE_PORT"
}
faults_then_outage "${AZURE_FAULT_MESSAGES:-1000}" "http://127.0.0.1:$AZ_QUEUE_PORT" \
    "http://127.0.0.1:$AZ_TABLE_PORT" --pipelines 2 --visibility 10
