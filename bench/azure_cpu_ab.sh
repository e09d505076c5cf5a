#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Paired CPU comparison of two edw builds as Azure consumers (issue 4's CPU target): each run
# drains N messages from a fresh in-memory Azurite with `edw consume --exit-when-idle 1`
# (defaults otherwise); CPU is the user + system time of the edw process from wait4()'s
# rusage (bench/peers/rusage.c; start-up and the idle second included). Every run is checked
# with `edw verify`.
# MODE "alternate" (default) runs A, B, A, B, ... one at a time; MODE "together" runs A and B
# at the same time, each against its own Azurite, so both see the same machine load (the
# shared machine's load moves by tens of percent between runs). Medians are printed with the
# load average, and for "together" the median of the per-round ratios B/A.
# Usage: bench/azure_cpu_ab.sh EDW_A EDW_B [messages] [runs] [alternate|together]
# (EDW_A/EDW_B: paths of edw binaries, each next to its own edw-net.so).
set -euo pipefail
cd "$(dirname "$0")/.."
A=$1
B=$2
N=${3:-1000}
RUNS=${4:-5}
MODE=${5:-alternate}
# shellcheck source=bench/lib.sh
source bench/lib.sh
OUT=$(mktemp -d /tmp/edw-bench-cpuab.XXXXXX)
trap 'bench_stop_all; rm -rf "$OUT"' EXIT
bench_rusage_tool "$OUT"
export EDW_LOG_LEVEL=warn EDW_BACKEND=azure

# fill LABEL: a fresh Azurite holding N messages; its connection string in $OUT/LABEL.conn.
fill() {
    local label=$1
    bench_bg "azurite-$label" "$EMU/azurite.sh"
    local pid=$BG_PID log=$OUT/azurite-$label.log
    bench_wait 60 grep -q "Table service is successfully listening" "$log" ||
        { echo "Azurite did not start (see $log)" >&2 && exit 1; }
    local qp tp
    qp=$(sed -n 's|.*Queue service is successfully listening at http://127.0.0.1:\([0-9]*\).*|\1|p' "$log")
    tp=$(sed -n 's|.*Table service is successfully listening at http://127.0.0.1:\([0-9]*\).*|\1|p' "$log")
    echo "$pid" >"$OUT/$label.azpid"
    bench_az_conn "$qp" "$tp" >"$OUT/$label.conn"
    AZURE_STORAGE_CONNECTION_STRING=$(cat "$OUT/$label.conn") sh -c \
        '"$1" queue create >/dev/null && "$1" table create >/dev/null &&
         "$1" produce --count "$2" --batch 100 >/dev/null' _ "$A" "$N"
}

# consume BINARY LABEL: drain LABEL's Azurite; its rusage figures in LABEL.ru.
consume() {
    AZURE_STORAGE_CONNECTION_STRING=$(cat "$OUT/$2.conn") "$BENCH_RUSAGE" "$OUT/$2.ru" \
        "$1" consume --json --exit-when-idle 1 >"$OUT/$2.out"
}

# settle LABEL: check the run, record CPU ms per 1000 messages, stop its Azurite.
settle() {
    local label=$1 processed user sys cs total
    processed=$(tail -n 1 "$OUT/$label.out" | jq .processed)
    read -r _ user sys _ cs <"$OUT/$label.ru"
    [[ $processed -eq $N ]] || echo "note: $label processed $processed of $N" >&2
    AZURE_STORAGE_CONNECTION_STRING=$(cat "$OUT/$label.conn") "$A" verify >/dev/null ||
        { echo "edw verify failed after $label" >&2; exit 1; }
    bench_stop "$(cat "$OUT/$label.azpid")"
    total=$(echo "($user + $sys) * 1000000 / $processed" | bc -l)
    printf '%s %.1f ms per 1000 (context switches per message %.2f) load %s\n' "$label" \
        "$total" "$(echo "$cs / $processed" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)" >&2
    echo "$total" >>"$OUT/${label%%.*}"
    echo "$total"
}

for ((i = 1; i <= RUNS; i++)); do
    if [[ $MODE == together ]]; then
        fill "A.$i"
        fill "B.$i"
        consume "$A" "A.$i" &
        pa=$!
        consume "$B" "B.$i" &
        pb=$!
        wait "$pa"
        wait "$pb"
        a=$(settle "A.$i")
        b=$(settle "B.$i")
        echo "$b / $a" | bc -l >>"$OUT/ratio"
    else
        fill "A.$i"
        consume "$A" "A.$i"
        settle "A.$i" >/dev/null
        fill "B.$i"
        consume "$B" "B.$i"
        settle "B.$i" >/dev/null
    fi
done
printf 'A %s: median %.1f ms CPU per 1000 messages (%s)\n' "$A" "$(bench_median <"$OUT/A")" \
    "$(xargs printf '%.0f ' <"$OUT/A")"
printf 'B %s: median %.1f ms CPU per 1000 messages (%s)\n' "$B" "$(bench_median <"$OUT/B")" \
    "$(xargs printf '%.0f ' <"$OUT/B")"
[[ $MODE != together ]] ||
    printf 'B/A per round: median %.3f (%s)\n' "$(bench_median <"$OUT/ratio")" \
        "$(xargs printf '%.2f ' <"$OUT/ratio")"
printf 'load average at the end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
