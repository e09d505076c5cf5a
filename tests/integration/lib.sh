#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Shared helpers for integration tests. Each test sources this file, gets a private temporary
# directory, and every background process it starts with `start_bg` is stopped (by pid) when
# the test exits, pass or fail.
set -euo pipefail

: "${EDW_BIN:?EDW_BIN must point at the edw binary}"
# The harness's own EDW_* variables are not edw settings: keep them out of edw's environment
# (edw rejects unknown EDW_* variables as typos).
export -n EDW_BIN EDW_SOURCE_DIR EDW_EMULATORS_DIR
TEST_NAME=$(basename "${BASH_SOURCE[1]}" .sh)
TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/edw-${TEST_NAME}.XXXXXX")
export EDW_SQLITE_PATH="$TEST_DIR/edw.db"
export EDW_LOG_LEVEL="${EDW_LOG_LEVEL:-warn}"
BG_PIDS=()

cleanup() {
    local rc=$?
    for pid in "${BG_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${BG_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ $rc -eq 0 ]]; then
        rm -rf "$TEST_DIR"
    else
        echo "test failed; files kept in $TEST_DIR" >&2
    fi
}
trap cleanup EXIT

log() { echo "[$TEST_NAME] $*" >&2; }
fail() {
    echo "[$TEST_NAME] FAIL: $*" >&2
    exit 1
}

# start_bg CMD...: run in the background, remember the pid in BG_PID and for cleanup.
start_bg() {
    "$@" &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
}

# A TCP port that nothing listens on right now (loopback only).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
        node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds or time runs out.
# shellcheck source=../../scripts/wait_for.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/wait_for.sh"

# json_get JSON FIELD: a top-level field of a JSON object (jq path syntax).
json_get() { jq -r "$2" <<<"$1"; }

# last_json CMD...: run CMD with --json and print its last stdout line.
last_json() { "$@" --json | tail -n 1; }

assert_eq() {
    [[ "$1" == "$2" ]] || fail "$3: expected '$2', got '$1'"
}
