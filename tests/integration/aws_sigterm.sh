#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck source-path=SCRIPTDIR
# Graceful shutdown on SQS + DynamoDB (fauxqs + dynalite): SIGTERM releases unstarted leases
# with ChangeMessageVisibility 0, finishes in-flight work within the grace (or cancels and
# releases it when the grace ends), exits 0, loses nothing (sigterm_scenario in
# reliability_lib.sh). Then SIGTERM while the services cannot be reached, twice
# (sigterm_unreachable_scenario): behind fault proxies that answer every request 503 with
# Retry-After 2, and with fauxqs and dynalite killed. The consumer must exit within the grace
# plus a small margin, not when every backend call has used up its retries. Before the AWS
# client honoured the shutdown deadline (edw/retry.h) it took 24.1 s with a 4 s grace behind the
# refusing proxies: each call waited out four 2 s Retry-Afters, one after another.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/aws_env.sh"
source "$(dirname "$0")/reliability_lib.sh"
start_aws_emulators
export EDW_QUEUE_NAME=term-jobs EDW_TABLE_NAME=termresults
DIRECT_ENV=(env)
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
sigterm_scenario

log "SIGTERM while SQS and DynamoDB refuse every request"
export EDW_QUEUE_NAME=refused-jobs EDW_TABLE_NAME=refusedresults
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
start_fault_proxy sqs-refuse "$AWS_ENDPOINT_URL_SQS" --retry-after 2
sqs_proxy=$PROXY_URL
start_fault_proxy ddb-refuse "$AWS_ENDPOINT_URL_DYNAMODB" --retry-after 2
ddb_proxy=$PROXY_URL
# shellcheck disable=SC2034 # used by name (sigterm_unreachable_scenario)
REFUSED_ENV=(env "AWS_ENDPOINT_URL_SQS=$sqs_proxy" "AWS_ENDPOINT_URL_DYNAMODB=$ddb_proxy")
refuse_all() {
    local url
    for url in "$sqs_proxy" "$ddb_proxy"; do
        curl -sf -d '{"error503": 1}' "$url/__fault_proxy/rates" >/dev/null ||
            fail "fault proxy $url did not take the new rates"
    done
}
sigterm_unreachable_scenario aws-refusing REFUSED_ENV refuse_all
refusing_s=$UNREACHABLE_STOP_S

log "SIGTERM with fauxqs and dynalite gone"
export EDW_QUEUE_NAME=gone-jobs EDW_TABLE_NAME=goneresults
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
kill_emulators() {
    kill -KILL "$FAUXQS_PID" "$DYNALITE_PID"
    wait "$FAUXQS_PID" "$DYNALITE_PID" 2>/dev/null || true
}
sigterm_unreachable_scenario aws-killed DIRECT_ENV kill_emulators
log "stop after SIGTERM: $refusing_s s refusing, $UNREACHABLE_STOP_S s killed (grace 4 s)"
log "ok"
