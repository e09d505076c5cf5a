#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck source-path=SCRIPTDIR
# Lease renewal on SQS + DynamoDB (fauxqs + dynalite): 5-second handlers under a 2-second
# visibility timeout get ChangeMessageVisibility in time and are processed exactly once (see
# lease_renewal_scenario in reliability_lib.sh).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/aws_env.sh"
source "$(dirname "$0")/reliability_lib.sh"
start_aws_emulators
export EDW_QUEUE_NAME=lease-jobs EDW_TABLE_NAME=leaseresults
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
lease_renewal_scenario
log "direct: ok"

# A receive whose answer is slow: SQS starts the lease when it hands out the message, a second
# before the consumer hears of it. The consumer must count the lease from when it asked, and
# renew ahead of the next receive, which blocks its loop for a second too.
log "receive answers delayed by 1 s"
start_fault_proxy slow-receive "$AWS_ENDPOINT_URL_SQS" --response-latency-ms 1000 \
    --only 'ReceiveMessage'
export EDW_QUEUE_NAME=lease-slow EDW_TABLE_NAME=leaseslow
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
AWS_ENDPOINT_URL_SQS=$PROXY_URL LEASE_CASE=slow-receive-1s lease_renewal_scenario
log "proxy: $(proxy_stats "$PROXY_URL")"
log "ok"
