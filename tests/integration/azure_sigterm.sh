#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Graceful shutdown on Azure Queue + Table (Azurite): SIGTERM releases unstarted leases
# with Update Message visibilitytimeout=0, finishes in-flight work within the grace (or cancels
# and releases it when the grace ends), exits 0, loses nothing (sigterm_scenario in
# reliability_lib.sh). Then SIGTERM with Azurite gone (killed): the consumer must still exit
# within the grace plus a small margin, not after every backend call has used up its retries,
# and say which leases it could not hand back.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=azure_lib.sh
source "$(dirname "$0")/azure_lib.sh"
# shellcheck source=reliability_lib.sh
source "$(dirname "$0")/reliability_lib.sh"
start_azurite
export EDW_QUEUE_NAME=sigterm-jobs EDW_TABLE_NAME=sigtermresults
DIRECT_ENV=(env)
use_peek_for_visibility
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
sigterm_scenario

log "SIGTERM while Azurite is unreachable"
use_names() { export EDW_QUEUE_NAME=gone-jobs EDW_TABLE_NAME=goneresults; }
use_names
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
kill_azurite() {
    kill -KILL "$AZURITE_PID"
    wait "$AZURITE_PID" 2>/dev/null || true
}
sigterm_unreachable_scenario azurite-killed DIRECT_ENV kill_azurite
log "ok"
