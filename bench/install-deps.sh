#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What bench/run needs beyond the build and test dependencies (scripts/install-deps.sh, which
# this runs first): GNU time (CPU seconds and peak RSS per process), bc, and the official Azure
# SDK for Python as Debian packages it (python3-azure: azure-storage-queue, azure-data-tables)
# for the Python peer and the reference sample. Benchmark-only: the tests never need these.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh 2> >(grep -v 'kubectl\|manifest tests' >&2)

BENCH_PKGS=(time bc python3-azure)
missing=()
for p in "${BENCH_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    SUDO=""
    [[ $(id -u) -eq 0 ]] || SUDO=sudo
    echo "installing for the benchmark: ${missing[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi
