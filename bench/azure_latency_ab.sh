#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# How much of its rate each edw build keeps with 20 ms added to every request (issue 4's
# latency target), the builds taking turns: for each round and each build, one run straight
# against a fresh in-memory Azurite and one through bench/peers/delay_proxy.mjs in front of its
# queue and table ports. Rate = processed / (seconds - the 1 s idle tail); medians printed.
# Usage: bench/azure_latency_ab.sh MESSAGES ROUNDS EDW...
# (each EDW: the path of an edw binary next to its own edw-net.so; extra consume flags in
# EDW_AB_FLAGS, e.g. EDW_AB_FLAGS="--pipelines 1").
set -euo pipefail
cd "$(dirname "$0")/.."
N=$1
ROUNDS=$2
shift 2
# shellcheck source=bench/lib.sh
source bench/lib.sh
OUT=$(mktemp -d /tmp/edw-bench-latab.XXXXXX)
trap 'bench_stop_all; rm -rf "$OUT"' EXIT
export EDW_LOG_LEVEL=warn EDW_BACKEND=azure
read -ra FLAGS <<<"${EDW_AB_FLAGS:-}"

# run EDW DELAY_MS: one drain of N messages; its rate in $OUT/rate. Not called in a $(...)
# subshell: the Azurite it starts must stay known here (BENCH_PIDS, AZ_PID) to be stopped.
run() {
    local edw=$1 ms=$2
    bench_azurite_up
    export AZURE_STORAGE_CONNECTION_STRING=$AZ_CONN
    "$edw" queue create >/dev/null
    "$edw" table create >/dev/null
    "$edw" produce --count "$N" --batch 100 >/dev/null
    local qp=$AZ_QP tp=$AZ_TP pq=0 pt=0
    if ((ms > 0)); then
        node bench/peers/delay_proxy.mjs "$AZ_QP" "$ms" >"$OUT/pq.json" &
        pq=$!
        node bench/peers/delay_proxy.mjs "$AZ_TP" "$ms" >"$OUT/pt.json" &
        pt=$!
        BENCH_PIDS+=("$pq" "$pt")
        bench_wait 5 test -s "$OUT/pq.json" -a -s "$OUT/pt.json" ||
            { echo "the delay proxies did not start" >&2 && exit 1; }
        qp=$(jq .port "$OUT/pq.json")
        tp=$(jq .port "$OUT/pt.json")
    fi
    EDW_AZURE_QUEUE_ENDPOINT="http://127.0.0.1:$qp/devstoreaccount1" \
        EDW_AZURE_TABLE_ENDPOINT="http://127.0.0.1:$tp/devstoreaccount1" \
        "$edw" consume --json --exit-when-idle 1 --visibility 10 "${FLAGS[@]}" >"$OUT/run.out"
    ((ms == 0)) || bench_stop "$pq" "$pt"
    rm -f "$OUT/pq.json" "$OUT/pt.json"
    "$edw" verify >/dev/null || { echo "edw verify failed after $edw +$ms ms" >&2 && exit 1; }
    tail -n 1 "$OUT/run.out" | jq -r '"\(.processed) / (\(.seconds) - 1)"' | bc -l >"$OUT/rate"
}

for ((i = 1; i <= ROUNDS; i++)); do
    for b in "$@"; do
        for ms in 0 20; do
            run "$b" "$ms"
            r=$(cat "$OUT/rate")
            printf '%s +%s ms: %.1f msg/s (load %s)\n' "$b" "$ms" "$r" \
                "$(cut -d' ' -f1 /proc/loadavg)" >&2
            echo "$b $ms $r" >>"$OUT/all"
        done
    done
done
for b in "$@"; do
    direct=$(awk -v b="$b" '$1 == b && $2 == 0 {print $3}' "$OUT/all" | bench_median)
    delayed=$(awk -v b="$b" '$1 == b && $2 == 20 {print $3}' "$OUT/all" | bench_median)
    printf '%s: median %.1f msg/s direct, %.1f with +20 ms = %.0f %%\n' "$b" "$direct" \
        "$delayed" "$(echo "100 * $delayed / $direct" | bc -l)"
done
