#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build and run every test on a fresh Debian 12 machine: installs dependencies, then
#   1. a -Werror build with all unit and integration tests (emulators started by the tests),
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build with the same tests,
#   3. shellcheck over the scripts.
# Usage: scripts/test.sh [ctest args...]   e.g. scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=$(nproc)

scripts/install-deps.sh

run_suite() {
    local dir=$1
    shift
    cmake -S "$ROOT" -B "$dir" -DEDW_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j "$JOBS"
    ctest --test-dir "$dir" --output-on-failure -j "$JOBS" "${CTEST_ARGS[@]}"
}

CTEST_ARGS=("$@")
echo "== release build (-Werror) =="
run_suite build/test-release -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== AddressSanitizer + UndefinedBehaviorSanitizer build =="
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build/test-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
    "-DEDW_SANITIZE=address;undefined"
echo "== shellcheck =="
mapfile -t SCRIPTS < <(git ls-files '*.sh' .ci/run bench/run 2>/dev/null | sort -u)
shellcheck -x "${SCRIPTS[@]}"
echo "all tests passed"
