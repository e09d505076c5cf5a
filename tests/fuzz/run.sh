#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run one libFuzzer target over its committed seed corpus without writing to it.
# Usage: run.sh FUZZER CORPUS_DIR WORK_DIR [libFuzzer options...]
# New interesting inputs go to WORK_DIR (emptied first, so each run starts from the committed
# corpus alone); a crash, leak or timeout is saved in WORK_DIR as crash-*/leak-*/timeout-*
# and makes the run fail. A fixed -seed keeps a -runs=N run deterministic.
set -euo pipefail
fuzzer=$1 corpus=$2 work=$3
shift 3
rm -rf "$work"
mkdir -p "$work/new"
exec "$fuzzer" -seed=1 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/" "$@" "$work/new" "$corpus"
