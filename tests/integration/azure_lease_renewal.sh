#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Lease renewal on Azure Queue + Table (Azurite): 5-second handlers under a 2-second
# visibility timeout get Update Message (new pop receipt) in time and are processed exactly
# once (see lease_renewal_scenario in reliability_lib.sh), also when every receive answer is
# delayed by a second.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=azure_lib.sh
source "$(dirname "$0")/azure_lib.sh"
# shellcheck source=reliability_lib.sh
source "$(dirname "$0")/reliability_lib.sh"
start_azurite
export EDW_QUEUE_NAME=lease-renewal-jobs EDW_TABLE_NAME=leaserenewalresults
DIRECT_ENV=(env)
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
lease_renewal_scenario
log "direct: ok"

# Get Messages answers delayed by 1 s: Azure starts the lease when it hands the message out,
# a second before the consumer hears of it, and every later receive blocks the worker's loop
# for a second too. Renewal must come in time all the same.
log "receive answers delayed by 1 s"
start_fault_proxy slow-receive "http://127.0.0.1:$AZ_QUEUE_PORT" --response-latency-ms 1000 \
    --only '^GET [^ ]*/messages[?]numofmessages'
slow_conn="DefaultEndpointsProtocol=http;AccountName=$AZURITE_ACCOUNT;AccountKey=$AZURITE_KEY"
slow_conn+=";QueueEndpoint=$PROXY_URL/$AZURITE_ACCOUNT;TableEndpoint=$AZ_TABLE_ENDPOINT;"
export EDW_QUEUE_NAME=lease-slow-jobs EDW_TABLE_NAME=leaseslowresults
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
AZURE_STORAGE_CONNECTION_STRING=$slow_conn LEASE_CASE=slow-receive-1s lease_renewal_scenario
log "proxy: $(proxy_stats "$PROXY_URL")"
log "ok"
