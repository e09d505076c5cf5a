#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A row DynamoDB can never take (an item over 400 KB: ValidationException) on dynalite fails
# its whole BatchWriteItem for good; the worker stores the other rows one by one and poisons
# that message with DynamoDB's reason after one delivery (store_rejects_scenario).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/aws_env.sh"
source "$(dirname "$0")/reliability_lib.sh"
start_aws_emulators
export EDW_QUEUE_NAME=rejects EDW_TABLE_NAME=rejectresults
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
store_rejects_scenario
log "ok"
