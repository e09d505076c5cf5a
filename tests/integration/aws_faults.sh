#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck source-path=SCRIPTDIR
# Faults on SQS + DynamoDB (fauxqs + dynalite): producer and consumer reach both services
# through fault proxies that fail 10 % of requests (2 % each: 500, 503 with Retry-After, reset
# before the service sees the request, reset after it acted, truncated answer). Nothing may be
# lost or stored twice, nothing poisoned; the retries show in the log and in
# edw_backend_retries_total; throughput with and without faults is printed. Then DynamoDB is
# down for a while (store_outage_scenario): nothing deleted, leases held, /readyz 503, then
# everything stored once it is back.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/aws_env.sh"
source "$(dirname "$0")/reliability_lib.sh"
start_aws_emulators
N=10000
FAULTS=(--error-500 0.02 --error-503 0.02 --retry-after 1 --reset 0.02 --reset-after 0.02
    --truncate 0.02)
start_fault_proxy sqs-faults "$AWS_ENDPOINT_URL_SQS" "${FAULTS[@]}" --seed 7
SQS_FAULTY=$PROXY_URL
start_fault_proxy ddb-faults "$AWS_ENDPOINT_URL_DYNAMODB" "${FAULTS[@]}" --seed 8
DDB_FAULTY=$PROXY_URL

DIRECT_ENV=(env)
# shellcheck disable=SC2034 # used by name (fault_scenario)
FAULTY_ENV=(env "AWS_ENDPOINT_URL_SQS=$SQS_FAULTY" "AWS_ENDPOINT_URL_DYNAMODB=$DDB_FAULTY")
use_names() { export EDW_QUEUE_NAME="$1-jobs" EDW_TABLE_NAME="$1-results"; }

fault_scenario "$N" FAULTY_ENV --pipelines 4 --visibility 5
log "proxy in front of SQS: $(proxy_stats "$SQS_FAULTY")"
log "proxy in front of DynamoDB: $(proxy_stats "$DDB_FAULTY")"

log "DynamoDB down for a while, then back"
start_fault_proxy ddb-outage "$AWS_ENDPOINT_URL_DYNAMODB"
# shellcheck disable=SC2034 # used by name (store_outage_scenario)
OUTAGE_ENV=(env "AWS_ENDPOINT_URL_DYNAMODB=$PROXY_URL")
use_names outage
direct "$EDW_BIN" queue create >/dev/null
direct "$EDW_BIN" table create >/dev/null
store_outage_scenario OUTAGE_ENV "$PROXY_URL" --visibility 3
log "ok"
