#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build and run every test on a fresh Debian 12 machine: installs dependencies, then
#   1. a -Werror build with all unit and integration tests (emulators started by the tests),
#      with the lean libcurl the image and benchmarks use (-DEDW_CURL=lean, docs/building.md),
#      and the lean libmicrohttpd (-DEDW_MHD=lean),
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build with the same tests, with the
#      system's libcurl (as the TSan and fuzz builds), so both libcurl builds are tested,
#   3. a ThreadSanitizer build with the unit tests and the integration tests that run threads,
#   4. a libFuzzer build (ASan + UBSan) running every fuzz target briefly (tests/fuzz),
#   5. shellcheck over the scripts.
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
    ctest --test-dir "$dir" --output-on-failure -j "$JOBS" "${CTEST_ARGS[@]}" "${SUITE_ARGS[@]}"
}

CTEST_ARGS=("$@")
SUITE_ARGS=()
echo "== release build (-Werror) =="
run_suite build/test-release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDW_CURL=lean -DEDW_MHD=lean
echo "== AddressSanitizer + UndefinedBehaviorSanitizer build =="
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build/test-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
    "-DEDW_SANITIZE=address;undefined"
echo "== ThreadSanitizer build =="
# Unit tests, and the integration tests whose edw processes run several threads: consume
# --pipelines (competing_consumers, metrics, azure_competing), demo's producer thread (demo,
# aws_demo), the metrics/health server thread (metrics, readiness), shutdown and lease
# renewal across pipelines (sigterm_release, lease_renewal). The chaos and fault tests run
# the same threads for minutes and stay in the builds above; under TSan they would add
# several minutes. Reports go to files (a background consumer's exit status is not always
# checked) and any report fails the run.
TSAN_DIR=build/test-tsan
rm -rf "$TSAN_DIR/tsan-reports"
mkdir -p "$TSAN_DIR/tsan-reports"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$ROOT/$TSAN_DIR/tsan-reports/report"
SUITE_ARGS=(-R '^(unit_.*|integration_(competing_consumers|metrics|azure_competing|demo|aws_demo|readiness|sigterm_release|lease_renewal))$')
run_suite "$TSAN_DIR" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DEDW_SANITIZE=thread
if compgen -G "$TSAN_DIR/tsan-reports/report*" >/dev/null; then
    cat "$TSAN_DIR"/tsan-reports/report* >&2
    echo "ThreadSanitizer reported the problems above" >&2
    exit 1
fi
unset TSAN_OPTIONS
echo "== libFuzzer build (fuzz targets, bounded runs) =="
SUITE_ARGS=()
run_suite build/test-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DEDW_FUZZ=ON
echo "== shellcheck =="
mapfile -t SCRIPTS < <(git ls-files '*.sh' .ci/run bench/run 2>/dev/null | sort -u)
shellcheck -x "${SCRIPTS[@]}"
echo "all tests passed"
