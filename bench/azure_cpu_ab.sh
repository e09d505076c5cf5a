#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Paired CPU comparison of two edw builds as Azure consumers (issue 4's CPU target): each run
# drains N messages from a fresh in-memory Azurite with `edw consume --exit-when-idle 1`
# (defaults otherwise), CPU counted by `perf stat -e task-clock` (user + system of the edw
# process, start-up and the idle second included). The binaries alternate A, B, A, B, ...
# so both see the same load; medians are printed with the load average. Each run is checked
# with `edw verify`. Usage: bench/azure_cpu_ab.sh EDW_A EDW_B [messages] [runs]
# (EDW_A/EDW_B: paths of edw binaries, each next to its own edw-net.so).
set -euo pipefail
cd "$(dirname "$0")/.."
A=$1
B=$2
N=${3:-1000}
RUNS=${4:-5}
# shellcheck source=bench/lib.sh
source bench/lib.sh
OUT=$(mktemp -d /tmp/edw-bench-cpuab.XXXXXX)
trap 'bench_stop_all; rm -rf "$OUT"' EXIT
export EDW_LOG_LEVEL=warn EDW_BACKEND=azure

run_one() { # binary label
    local edw=$1 label=$2
    bench_azurite_up
    export AZURE_STORAGE_CONNECTION_STRING=$AZ_CONN
    "$A" queue create >/dev/null
    "$A" table create >/dev/null
    "$A" produce --count "$N" --batch 100 >/dev/null
    perf stat -x, -e task-clock,context-switches -o "$OUT/stat" \
        "$edw" consume --json --exit-when-idle 1 >"$OUT/out"
    local processed ms cs
    processed=$(tail -n 1 "$OUT/out" | jq .processed)
    ms=$(awk -F, '$3 == "task-clock" {print $1}' "$OUT/stat")
    cs=$(awk -F, '$3 == "context-switches" {print $1}' "$OUT/stat")
    [[ $processed -eq $N ]] || echo "note: $label processed $processed of $N" >&2
    "$A" verify >/dev/null || { echo "edw verify failed after $label" >&2; exit 1; }
    local per1000
    per1000=$(echo "$ms * 1000 / $processed" | bc -l)
    printf '%s %.1f ms per 1000 (cs/msg %.2f) load %s\n' "$label" "$per1000" \
        "$(echo "$cs / $processed" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)" >&2
    echo "$per1000" >>"$OUT/$label"
}

for ((i = 1; i <= RUNS; i++)); do
    run_one "$A" A
    run_one "$B" B
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
printf 'A %s: median %.1f ms CPU per 1000 messages (%s)\n' "$A" "$(median <"$OUT/A")" \
    "$(xargs printf '%.0f ' <"$OUT/A")"
printf 'B %s: median %.1f ms CPU per 1000 messages (%s)\n' "$B" "$(median <"$OUT/B")" \
    "$(xargs printf '%.0f ' <"$OUT/B")"
printf 'load average at the end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
