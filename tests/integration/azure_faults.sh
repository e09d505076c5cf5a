#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Faults on Azure Queue + Table (Azurite): producer and consumer reach both services through
# fault proxies that fail 10 % of requests (2 % each: 500, 503 ServerBusy with Retry-After,
# reset before the service sees the request, reset after it acted, truncated answer). Nothing
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
FAULTS=(--error-500 0.02 --error-503 0.02 --retry-after 1 --reset 0.02 --reset-after 0.02
    --truncate 0.02)
start_fault_proxy queue-faults "http://127.0.0.1:$AZ_QUEUE_PORT" "${FAULTS[@]}" --seed 7
QUEUE_FAULTY=$PROXY_URL
start_fault_proxy table-faults "http://127.0.0.1:$AZ_TABLE_PORT" "${FAULTS[@]}" --seed 8
TABLE_FAULTY=$PROXY_URL
# Shared Key signs the account and path, not the host: the proxies need no re-signing.
faulty_conn="DefaultEndpointsProtocol=http;AccountName=$AZURITE_ACCOUNT;AccountKey=$AZURITE_KEY"
faulty_conn+=";QueueEndpoint=$QUEUE_FAULTY/$AZURITE_ACCOUNT;TableEndpoint=$TABLE_FAULTY/$AZURITE_ACCOUNT;"

DIRECT_ENV=(env)
# shellcheck disable=SC2034 # used by name (fault_scenario)
FAULTY_ENV=(env "AZURE_STORAGE_CONNECTION_STRING=$faulty_conn")
use_names() { export EDW_QUEUE_NAME="$1-jobs" EDW_TABLE_NAME="${1}results"; }

fault_scenario "${AZURE_FAULT_MESSAGES:-1000}" FAULTY_ENV --pipelines 2 --visibility 10
log "proxy in front of the queue service: $(proxy_stats "$QUEUE_FAULTY")"
log "proxy in front of the table service: $(proxy_stats "$TABLE_FAULTY")"

log "the table service down for a while, then back"
start_fault_proxy table-outage "http://127.0.0.1:$AZ_TABLE_PORT"
outage_conn="DefaultEndpointsProtocol=http;AccountName=$AZURITE_ACCOUNT;AccountKey=$AZURITE_KEY"
outage_conn+=";QueueEndpoint=$AZ_QUEUE_ENDPOINT;TableEndpoint=$PROXY_URL/$AZURITE_ACCOUNT;"
# shellcheck disable=SC2034 # used by name (store_outage_scenario)
OUTAGE_ENV=(env "AZURE_STORAGE_CONNECTION_STRING=$outage_conn")
use_names outage
direct "$EDW_BIN" queue create >/dev/null
direct "$EDW_BIN" table create >/dev/null
store_outage_scenario OUTAGE_ENV "$PROXY_URL" --visibility 3
log "ok"
