#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Polling shared by the integration tests (tests/integration/lib.sh) and the benchmarks
# (bench/lib.sh). Sourced, not run.

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds; 1 when time runs out.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}
