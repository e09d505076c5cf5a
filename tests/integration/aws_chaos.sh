#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck source-path=SCRIPTDIR
# Chaos on SQS + DynamoDB (fauxqs + dynalite): 20,000 messages, three consumers (two pipelines
# each) killed with SIGKILL at random moments and restarted while the producer is sending; 25
# kills on a fixed seed. Zero missing rows, one row per message, no false poison (see
# chaos_scenario in reliability_lib.sh).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/aws_env.sh"
source "$(dirname "$0")/reliability_lib.sh"
start_aws_emulators
export EDW_QUEUE_NAME=chaos-jobs EDW_TABLE_NAME=chaosresults
DIRECT_ENV=(env)
# A short lease so a killed consumer's messages come back within seconds.
chaos_scenario 20000 25 42 --pipelines 2 --visibility 3 --exit-when-idle 120
log "ok"
