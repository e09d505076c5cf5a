#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SIGTERM on the embedded backend: the consumer stops receiving, hands back leases it has not
# started (visible at once, not after the visibility timeout), finishes the work in flight and
# exits 0; a handler that outlasts the grace is cancelled and its lease released (see
# sigterm_scenario in reliability_lib.sh, shared with the network backends).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=reliability_lib.sh
source "$(dirname "$0")/reliability_lib.sh"
DIRECT_ENV=(env)
sigterm_scenario
log "ok"
