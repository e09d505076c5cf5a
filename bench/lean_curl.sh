#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The two libcurl builds of edw-net.so side by side (-DEDW_CURL=system vs lean; docs/building.md,
# issue 4's 10 MB target): Release builds of both (build/bench-system, build/bench), then in
# ROUNDS rounds, alternating which build goes first, against a fresh in-memory Azurite on
# 127.0.0.1 for every run:
#   - one Azure consumer (edw's defaults) draining N messages, with /metrics off and on: its
#     peak RSS (GNU time) and CPU time (user + system, including start-up and the 1 s idle
#     wait at the end), so CPU per 1,000 messages is cpu * 1000 / N;
#   - `edw queue depth`, a command that only starts, makes one request and exits: task-clock
#     per call (perf stat, 20 calls; GNU time when perf is missing) and wall time.
# Prints each run, then the medians per build, and the load average. Figures only.
# Usage: bench/lean_curl.sh [messages=1000] [rounds=3]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
ROUNDS=${2:-3}
CALLS=20
# shellcheck source=bench/lib.sh
source bench/lib.sh
BENCH_CURL=system bench_script_init lean-curl
declare -A BIN=([system]=$EDW)
BENCH_CURL=lean bench_build
BIN[lean]=$EDW
export NODE_NO_WARNINGS=1 EDW_LOG_LEVEL=warn EDW_BACKEND=azure


for b in system lean; do
    printf '%-6s %s\n       edw-net.so %d kB, links %d libraries (ldd)\n' "$b" \
        "$("${BIN[$b]}" version | tail -n 1)" "$(($(stat -c %s "$(dirname "${BIN[$b]}")/edw-net.so") / 1024))" \
        "$(ldd "$(dirname "${BIN[$b]}")/edw-net.so" | grep -c '=>')"
done

# consumer BUILD METRICS ROUND: fill a fresh Azurite with N messages, drain them with BUILD.
consumer() {
    local b=$1 metrics=$2 tag=$1.$2.$3 extra=()
    bench_azurite_up
    export AZURE_STORAGE_CONNECTION_STRING=$AZ_CONN
    "${BIN[system]}" queue create >/dev/null
    "${BIN[system]}" table create >/dev/null
    "${BIN[system]}" produce --count "$N" >/dev/null
    [[ $metrics == off ]] || extra=(EDW_HTTP_PORT="$(bench_port)" EDW_HTTP_ADDR=127.0.0.1)
    bench_measure "$tag" env "${extra[@]}" "${BIN[$b]}" consume --exit-when-idle 1 --json ||
        { echo "consume ($tag) failed: $(tail -n 3 "$OUT/$tag.err")" >&2 && exit 1; }
    local processed
    processed=$(jq -r .processed <<<"$M_LAST")
    [[ $processed == "$N" ]] || { echo "consume ($tag) processed $processed of $N" >&2 && exit 1; }
    echo "$M_RSS" >>"$OUT/$b.$metrics.rss"
    echo "$M_CPU" >>"$OUT/$b.$metrics.cpu"
    printf '  %-6s metrics %-3s peak RSS %6d kB  CPU %.2f s (user+sys, %d messages)\n' \
        "$b" "$metrics" "$M_RSS" "$M_CPU" "$N"
}

# startup BUILD: CALLS runs of `edw queue depth` against the Azurite running now.
startup() {
    local b=$1 ms wall
    local t0 t1
    t0=$(date +%s%N)
    if command -v perf >/dev/null; then
        ms=$(perf stat -x, -e task-clock -r "$CALLS" "${BIN[$b]}" queue depth 2>&1 >/dev/null |
            awk -F, '$3 ~ /^task-clock/ {print $1}')
    else
        # shellcheck disable=SC2016 # expanded by the inner bash
        ms=$(/usr/bin/time -f '%U %S' bash -c \
            'for ((i = 0; i < $1; i++)); do "$0" queue depth >/dev/null; done' \
            "${BIN[$b]}" "$CALLS" 2>&1 | awk -v n="$CALLS" '{print ($1 + $2) * 1000 / n}')
    fi
    t1=$(date +%s%N)
    wall=$(echo "($t1 - $t0) / 1000000 / $CALLS" | bc -l)
    echo "$ms" >>"$OUT/$b.startup.cpu"
    echo "$wall" >>"$OUT/$b.startup.wall"
    printf '  %-6s queue depth: %.1f ms CPU (task-clock), %.1f ms wall per call (%d calls)\n' \
        "$b" "$ms" "$wall" "$CALLS"
}

for ((r = 1; r <= ROUNDS; r++)); do
    order=(system lean)
    ((r % 2)) || order=(lean system)
    echo "round $r (load $(cut -d' ' -f1-3 /proc/loadavg))"
    for b in "${order[@]}"; do
        consumer "$b" off "$r"
        consumer "$b" on "$r"
    done
    for b in "${order[@]}"; do startup "$b"; done
done

echo "medians of $ROUNDS runs (Azure consumer on Azurite, $N messages; CPU per 1,000 messages = CPU * 1000 / $N):"
for b in system lean; do
    printf '  %-6s RSS metrics off %.1f MB, on %.1f MB; CPU off %.3f s, on %.3f s; queue depth %.1f ms CPU, %.1f ms wall\n' \
        "$b" "$(bench_median <"$OUT/$b.off.rss" | awk '{print $1 / 1024}')" \
        "$(bench_median <"$OUT/$b.on.rss" | awk '{print $1 / 1024}')" \
        "$(bench_median <"$OUT/$b.off.cpu")" "$(bench_median <"$OUT/$b.on.cpu")" \
        "$(bench_median <"$OUT/$b.startup.cpu")" "$(bench_median <"$OUT/$b.startup.wall")"
done
printf 'machine %s cores, load %s\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
