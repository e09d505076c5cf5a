#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Embedded-backend benchmark (issue 2): edw producer + two edw consumers on one SQLite file,
# with edw's defaults (--batch auto: the batch each process chose is printed), against a plain
# SQLite program doing the same enqueue/claim/upsert/delete work in batches of 32
# (bench/peers/plain_sqlite.c, the issue's yardstick), alternated in the same session; plus
# consumer peak RSS
# and the time from process start to the first stored row; CPU time (user + system) per message
# of all processes, which depends less on other load than throughput does. Prints figures;
# asserts nothing.
# Usage: bench/sqlite.sh [messages] [runs]
#   BENCH_EDW=/path/to/edw bench/sqlite.sh ...   measures that binary instead of building one
#   (e.g. an older commit, for before/after figures under the same conditions).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
RUNS=${2:-3}
OUT=$(mktemp -d /tmp/edw-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
# shellcheck source=bench/lib.sh
source bench/lib.sh # bench_median
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null

if [[ -n ${BENCH_EDW:-} ]]; then
    EDW=$BENCH_EDW
else
    cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DEDW_CURL=lean \
        -DEDW_MHD=lean >/dev/null
    cmake --build build/bench -j "$(nproc)" >/dev/null
    EDW=$PWD/build/bench/edw
fi
cc -O2 -o "$OUT/plain_sqlite" bench/peers/plain_sqlite.c -lsqlite3
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
export EDW_LOG_LEVEL=warn
IDLE=0.5 # consumers exit after this much idle time; subtracted from the wall time

# CPU seconds (user + system) recorded by GNU time in each file given.
cpu_of() { awk '{s += $1 + $2} END {print s}' "$@"; }

edw_run() {
    local db=$OUT/edw.db
    rm -f "$db" "$db-wal" "$db-shm"
    export EDW_SQLITE_PATH=$db
    local t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -f "%U %S %M" -o "$OUT/c1" "$EDW" consume --exit-when-idle "$IDLE" --json \
        >"$OUT/c1.out" &
    local c1=$!
    /usr/bin/time -f "%U %S %M" -o "$OUT/c2" "$EDW" consume --exit-when-idle "$IDLE" --json \
        >"$OUT/c2.out" &
    local c2=$!
    /usr/bin/time -f "%U %S %M" -o "$OUT/p" "$EDW" produce --count "$N" --json >"$OUT/p.out"
    wait "$c1" "$c2"
    t1=$(date +%s.%N)
    "$EDW" verify >/dev/null || { echo "edw verify failed" >&2; exit 1; }
    echo "$N / ($t1 - $t0 - $IDLE)" | bc -l >>"$OUT/edw_rates"
    awk '{print $3}' "$OUT/c1" "$OUT/c2" >>"$OUT/edw_rss"
    echo "$(cpu_of "$OUT/p") * 1000000 / $N" | bc -l >>"$OUT/edw_prod_us"
    echo "$(cpu_of "$OUT/c1" "$OUT/c2") * 1000000 / $N" | bc -l >>"$OUT/edw_cons_us"
}

plain_run() {
    rm -f "$OUT"/plain.db*
    /usr/bin/time -f "%U %S" -o "$OUT/pt" "$OUT/plain_sqlite" "$OUT/plain.db" "$N" |
        sed -E 's/.*\(([0-9.]+) msg\/s\)/\1/' >>"$OUT/plain_rates"
    echo "$(cpu_of "$OUT/pt") * 1000000 / $N" | bc -l >>"$OUT/plain_us"
}

# Time from exec to the first stored row: 1000 messages waiting, one consumer started.
startup_run() {
    local db=$OUT/start.db
    rm -f "$db" "$db-wal" "$db-shm"
    export EDW_SQLITE_PATH=$db
    "$EDW" produce --count 1000 >/dev/null
    local t0
    t0=$(date +%s%N)
    "$EDW" consume --exit-when-idle 0.2 >/dev/null
    local first
    first=$(sqlite3 "$db" "SELECT min(dest_stamp) FROM edw_results")
    local first_ns
    first_ns=$(date -u -d "$first" +%s%N)
    echo "($first_ns - $t0) / 1000000" | bc -l >>"$OUT/startup_ms"
}

for ((i = 1; i <= RUNS; i++)); do
    edw_run
    plain_run
    startup_run
done

# The batch each edw process used (from its --json summary; older builds do not say).
batch_of() {
    local b
    b=$(grep -o '"batch":[0-9]*' "$1" | tail -1 | cut -d: -f2 || true)
    echo "${b:-unknown}"
}
edw=$(bench_median <"$OUT/edw_rates")
plain=$(bench_median <"$OUT/plain_rates")
printf 'messages per run            %d (producer + 2 consumers, edw defaults, %d runs, medians)\n' \
    "$N" "$RUNS"
printf 'edw batch                   producer %s, consumers %s and %s (plain SQLite: 32)\n' \
    "$(batch_of "$OUT/p.out")" "$(batch_of "$OUT/c1.out")" "$(batch_of "$OUT/c2.out")"
printf 'edw end to end              %.0f msg/s\n' "$edw"
printf 'plain SQLite program        %.0f msg/s\n' "$plain"
printf 'edw / plain                 %.2f\n' "$(echo "$edw / $plain" | bc -l)"
printf 'edw CPU per message         %.1f us (producer %.1f + consumers %.1f)\n' \
    "$(echo "$(bench_median <"$OUT/edw_prod_us") + $(bench_median <"$OUT/edw_cons_us")" | bc -l)" \
    "$(bench_median <"$OUT/edw_prod_us")" "$(bench_median <"$OUT/edw_cons_us")"
printf 'plain CPU per message       %.1f us (all three processes)\n' "$(bench_median <"$OUT/plain_us")"
printf 'edw consumer peak RSS       %.1f MB (max of all consumers)\n' \
    "$(sort -n "$OUT/edw_rss" | tail -1 | awk '{print $1 / 1024}')"
printf 'start to first stored row   %.1f ms\n' "$(bench_median <"$OUT/startup_ms")"
printf 'machine                     %s cores, load %s at start, %s at end\n' "$(nproc)" "$LOAD0" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
