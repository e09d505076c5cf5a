#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build edw on a fresh Debian 12 machine and run `edw demo` on the embedded SQLite backend:
# a producer with a load profile, consumers autoscaled with KEDA's rules, and a verification
# that every message was stored exactly once. Extra arguments go to `edw demo`
# (e.g. scripts/demo.sh --messages 20000 --report demo.html).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --build-only
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DEDW_CURL=lean \
    -DEDW_MHD=lean >/dev/null
cmake --build build/release -j "$(nproc)" >/dev/null
mkdir -p build/demo
export EDW_SQLITE_PATH=${EDW_SQLITE_PATH:-$PWD/build/demo/edw.db}
exec build/release/edw demo "$@"
