#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Chaos on Azure Queue + Table (Azurite): three consumers (two pipelines each) killed with
# SIGKILL at random moments and restarted while the producer is sending; 25 kills on a fixed
# seed. Zero missing rows, one row per message, no false poison (see chaos_scenario in
# reliability_lib.sh).
# Azurite deletes about 80 messages/s at most (one Delete Message per message; bench/run
# measures it) and slows down as its queue grows, so CTest runs 2,000 messages to stay within a
# few minutes; AZURE_CHAOS_MESSAGES=20000 runs the full size (docs/RELIABILITY.md has figures).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=azure_lib.sh
source "$(dirname "$0")/azure_lib.sh"
# shellcheck source=reliability_lib.sh
source "$(dirname "$0")/reliability_lib.sh"
start_azurite
export EDW_QUEUE_NAME=chaos-jobs EDW_TABLE_NAME=chaosresults
DIRECT_ENV=(env)
# A short lease so a killed consumer's messages come back within seconds.
chaos_scenario "${AZURE_CHAOS_MESSAGES:-2000}" 25 42 --pipelines 2 --batch 16 --visibility 5 \
    --exit-when-idle 600
log "ok"
