#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck source-path=SCRIPTDIR
# Graceful shutdown on SQS + DynamoDB (fauxqs + dynalite): SIGTERM releases unstarted leases
# with ChangeMessageVisibility 0, finishes in-flight work within the grace (or cancels and
# releases it when the grace ends), exits 0, loses nothing (sigterm_scenario in
# reliability_lib.sh).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/aws_env.sh"
source "$(dirname "$0")/reliability_lib.sh"
start_aws_emulators
export EDW_QUEUE_NAME=term-jobs EDW_TABLE_NAME=termresults
DIRECT_ENV=(env)
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
sigterm_scenario
log "ok"
