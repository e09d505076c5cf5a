#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Chaos on the embedded backend: 20,000 messages, three consumers killed with SIGKILL at random
# moments (25 kills, fixed seed) and restarted, while the producer is sending. Afterwards: no
# missing row, exactly one row per message, nothing poisoned, and some redelivery (the kills
# interrupted work). See chaos_scenario in reliability_lib.sh, shared with Azure and AWS.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=reliability_lib.sh
source "$(dirname "$0")/reliability_lib.sh"
DIRECT_ENV=(env)
CHAOS_RATE=4000 CHAOS_DRAIN_S=240 chaos_scenario 20000 25 42 --visibility 2 --handler work:1 \
    --concurrency 8 --exit-when-idle 60
log "ok"
