#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Lease renewal on Azure Queue + Table (Azurite): 5-second handlers under a 2-second
# visibility timeout get Update Message (new pop receipt) in time and are processed exactly
# once (see lease_renewal_scenario in reliability_lib.sh).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=azure_lib.sh
source "$(dirname "$0")/azure_lib.sh"
# shellcheck source=reliability_lib.sh
source "$(dirname "$0")/reliability_lib.sh"
start_azurite
export EDW_QUEUE_NAME=lease-renewal-jobs EDW_TABLE_NAME=leaserenewalresults
DIRECT_ENV=(env)
"$EDW_BIN" queue create >/dev/null
"$EDW_BIN" table create >/dev/null
lease_renewal_scenario
log "ok"
