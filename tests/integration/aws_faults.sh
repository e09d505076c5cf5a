#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck source-path=SCRIPTDIR
# Faults on SQS + DynamoDB (fauxqs + dynalite): producer and consumer reach both services
# through fault proxies that fail 10 % of requests (faults_then_outage in reliability_lib.sh).
# Nothing may be lost or stored twice, nothing poisoned; the retries show in the log and in
# edw_backend_retries_total; throughput with and without faults is printed. Then DynamoDB is
# down for a while (store_outage_scenario): nothing deleted, leases held, /readyz 503, then
# everything stored once it is back.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/aws_env.sh"
source "$(dirname "$0")/reliability_lib.sh"
start_aws_emulators
proxied_env() { PROXIED_ENV=(env "AWS_ENDPOINT_URL_SQS=$1" "AWS_ENDPOINT_URL_DYNAMODB=$2"); }
use_names() { export EDW_QUEUE_NAME="$1-jobs" EDW_TABLE_NAME="$1-results"; }
faults_then_outage 10000 "$AWS_ENDPOINT_URL_SQS" "$AWS_ENDPOINT_URL_DYNAMODB" --pipelines 4 \
    --visibility 5
