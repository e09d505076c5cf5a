#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Lease renewal on the embedded backend: 5-second handlers under a 2-second visibility timeout
# are processed exactly once (see lease_renewal_scenario in reliability_lib.sh).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=reliability_lib.sh
source "$(dirname "$0")/reliability_lib.sh"
lease_renewal_scenario
log "ok"
