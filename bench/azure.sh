#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Azure backend benchmark against Azurite (issue 4). Prints figures; asserts nothing except
# that every measured run really drained the queue. Each measurement gets a fresh in-memory
# Azurite holding the same N messages, because Azurite slows down as its store grows:
#   1. Azurite's own ceiling per operation (receive, delete, $batch upsert), each alone, with
#      the leanest client we have (bench/peers/azure_ceiling.c: edw's backend classes driven
#      directly, 64 requests in flight), and the ceiling for the consumer's work combined
#      (Azurite is single-threaded, so the times per message add up);
#   2. edw's consumer (defaults: batch 32, two pipelines; then --pipelines 1 and 4): msg/s,
#      CPU seconds per 1000 messages, peak RSS (bench/peers/rusage.c);
#   3. the JavaScript SDK consumer peer (bench/peers/azure_sdk_consumer.mjs), same figures;
#   4. both edw variants through a loopback delaying proxy (bench/peers/delay_proxy.mjs), with
#      0 ms and with 20 ms added to every request: the 0 ms run prices the proxy itself (a
#      Node.js process competing with Azurite for the same two cores), so 20 ms vs 0 ms is the
#      effect of latency alone;
#   5. the HTTP transport's own CPU per request against a server that answers at once (what a
#      request costs when the service is not a single-threaded emulator answering one by one).
# edw's runs (with and without the delay) alternate RUNS times and report medians: the
# machine is shared, and single runs wander by tens of percent.
# Usage: bench/azure.sh [messages] [runs] [edw consume flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
RUNS=${2:-3}
shift 2 || shift $#
EXTRA=("$@")
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_script_init azure
export EDW_LOG_LEVEL=warn EDW_BACKEND=azure
IDLE=1 # consumers stop after this much idle time; not counted in their rates
VIS=10  # lease seconds: short, so messages of a lost reply come back soon

# Fresh Azurite with N messages waiting in edw-messages; sets QP/TP and the connection string.
fresh() {
    bench_azurite_up
    QP=$AZ_QP
    TP=$AZ_TP
    export AZURE_STORAGE_CONNECTION_STRING=$AZ_CONN
    "$EDW" queue create >/dev/null
    "$EDW" table create >/dev/null
    "$EDW" produce --count "$N" --batch 100 >/dev/null
}

# time_run NAME CMD...: run under bench/peers/rusage.c; keeps stdout, CPU seconds (µs
# resolution) and peak RSS (kB).
time_run() {
    local name=$1
    shift
    "$BENCH_RUSAGE" "$OUT/$name.time" "$@" >"$OUT/$name.out"
    awk '{print $2 + $3}' "$OUT/$name.time" >"$OUT/$name.cpu"
    awk '{print $4}' "$OUT/$name.time" >"$OUT/$name.rss"
}

edw_consume() { # name [flags...]
    local name=$1
    shift
    time_run "$name" "$EDW" consume --json --exit-when-idle "$IDLE" --visibility "$VIS" \
        "${EXTRA[@]}" "$@"
    set -- "$name"
    local last processed seconds
    last=$(tail -n 1 "$OUT/$1.out")
    processed=$(jq .processed <<<"$last")
    seconds=$(jq .seconds <<<"$last")
    if [[ "$processed" -lt "$N" ]]; then
        # A reply lost on the way (a reset connection) leaves its messages leased until the
        # visibility timeout: drain them, untimed, so verify sees every message.
        echo "note: $1 stopped at $processed of $N; draining the rest after their leases" >&2
        "$EDW" consume --exit-when-idle $((VIS + 2)) --visibility "$VIS" >/dev/null
    fi
    "$EDW" verify >/dev/null || { echo "edw verify failed after $1" >&2; exit 1; }
    echo "$processed / ($seconds - $IDLE)" | bc -l >"$OUT/$1.rate"
    echo "$processed" >"$OUT/$1.n"
}

read -ra CURL_LIBS < <(pkg-config --libs libcurl)
cc -O2 -D_POSIX_C_SOURCE=200809L -Iinclude -o "$OUT/transport_cpu" bench/peers/transport_cpu.c \
    build/bench/libedw_core.a "${CURL_LIBS[@]}" -lcrypto -ljansson -lexpat -lsqlite3 -lmicrohttpd -lpthread -lm
node bench/peers/instant_server.mjs >"$OUT/instant.json" &
BENCH_PIDS+=($!)
for _ in $(seq 50); do [[ -s "$OUT/instant.json" ]] && break; sleep 0.1; done
TRANSPORT_US=$("$OUT/transport_cpu" "$(jq .port "$OUT/instant.json")" 300 32)

cc -O2 -D_POSIX_C_SOURCE=200809L -Iinclude -o "$OUT/azure_ceiling" bench/peers/azure_ceiling.c \
    build/bench/libedw_core.a "${CURL_LIBS[@]}" -lcrypto -ljansson -lexpat -lsqlite3 -lmicrohttpd -lpthread -lm
fresh
"$OUT/azure_ceiling" "$N" >"$OUT/ceiling.json"
read -r R D B < <(jq -r '"\(.receive) \(.delete) \(.batch_upsert)"' "$OUT/ceiling.json")
CEIL=$(echo "1 / (1/$R + 1/$D + 1/$B)" | bc -l)

fresh
time_run sdk node bench/peers/azure_sdk_consumer.mjs edw-messages edwresults "$IDLE"
sdk_n=$(jq .processed "$OUT/sdk.out")
[[ "$sdk_n" -ge "$N" ]] || echo "note: the SDK consumer stopped at $sdk_n of $N" >&2
echo "$sdk_n / $(jq .seconds "$OUT/sdk.out")" | bc -l >"$OUT/sdk.rate"
echo "$sdk_n" >"$OUT/sdk.n"

delayed_run() { # name delay_ms [flags...]
    local name=$1 ms=$2
    shift 2
    node bench/peers/delay_proxy.mjs "$QP" "$ms" >"$OUT/pq.json" &
    local p1=$!
    node bench/peers/delay_proxy.mjs "$TP" "$ms" >"$OUT/pt.json" &
    local p2=$!
    BENCH_PIDS+=("$p1" "$p2")
    for _ in $(seq 50); do [[ -s "$OUT/pq.json" && -s "$OUT/pt.json" ]] && break; sleep 0.1; done
    EDW_AZURE_QUEUE_ENDPOINT="http://127.0.0.1:$(jq .port "$OUT/pq.json")/devstoreaccount1"
    EDW_AZURE_TABLE_ENDPOINT="http://127.0.0.1:$(jq .port "$OUT/pt.json")/devstoreaccount1"
    export EDW_AZURE_QUEUE_ENDPOINT EDW_AZURE_TABLE_ENDPOINT
    edw_consume "$name" "$@"
    unset EDW_AZURE_QUEUE_ENDPOINT EDW_AZURE_TABLE_ENDPOINT
    kill "$p1" "$p2" 2>/dev/null || true
    wait "$p1" "$p2" 2>/dev/null || true
    rm -f "$OUT/pq.json" "$OUT/pt.json"
}

VARIANTS=("" "--pipelines 1" "--pipelines 4")
for ((i = 1; i <= RUNS; i++)); do
    for v in "${!VARIANTS[@]}"; do
        read -ra flags <<<"${VARIANTS[$v]}"
        fresh
        edw_consume "edw$v.$i" "${flags[@]}"
        cat "$OUT/edw$v.$i.rate" >>"$OUT/edw$v.rates"
        echo "$(cat "$OUT/edw$v.$i.cpu") * 1000 / $(cat "$OUT/edw$v.$i.n")" | bc -l >>"$OUT/edw$v.per1000"
        cat "$OUT/edw$v.$i.rss" >>"$OUT/edw$v.rsses"
        fresh
        delayed_run "proxied$v.$i" 0 "${flags[@]}"
        cat "$OUT/proxied$v.$i.rate" >>"$OUT/proxied$v.rates"
        fresh
        delayed_run "delayed$v.$i" 20 "${flags[@]}"
        cat "$OUT/delayed$v.$i.rate" >>"$OUT/delayed$v.rates"
    done
done

per1000() { echo "$(cat "$OUT/$1.cpu") * 1000 / $(cat "$OUT/$1.n")" | bc -l; }
mb() { echo "$(cat "$OUT/$1.rss") / 1024" | bc -l; }
printf 'messages per run                    %d, edw runs %d (medians); fresh in-memory Azurite 3.35.0 each; edw flags: %s\n' \
    "$N" "$RUNS" "${EXTRA[*]:-defaults}"
printf 'Azurite alone, msg/s (64 in flight): receive %.0f, delete %.0f, batch upsert %.0f\n' \
    "$R" "$D" "$B"
printf 'Azurite ceiling, receive+batch+delete  %.0f msg/s\n' "$CEIL"
sdk_cpu=$(per1000 sdk)
for v in "${!VARIANTS[@]}"; do
    rate=$(bench_median <"$OUT/edw$v.rates")
    cpu=$(bench_median <"$OUT/edw$v.per1000")
    rss=$(sort -n "$OUT/edw$v.rsses" | tail -1)
    delayed=$(bench_median <"$OUT/delayed$v.rates")
    proxied=$(bench_median <"$OUT/proxied$v.rates")
    name="edw ${VARIANTS[$v]:-(defaults)}"
    printf '%-35s %.0f msg/s (%.0f%% of the ceiling), %.3f CPU s/1000 msg (1/%.0f of the SDK), peak RSS %.1f MB\n' \
        "$name" "$rate" "$(echo "100 * $rate / $CEIL" | bc -l)" "$cpu" \
        "$(echo "$sdk_cpu / $cpu" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
    printf '%-35s %.0f msg/s at 0 ms, %.0f msg/s at 20 ms (%.0f%% of 0 ms, %.0f%% of direct)\n' \
        "  through the delaying proxy" "$proxied" "$delayed" \
        "$(echo "100 * $delayed / $proxied" | bc -l)" "$(echo "100 * $delayed / $rate" | bc -l)"
done
printf 'JS SDK consumer                     %.0f msg/s, %.3f CPU s/1000 msg, peak RSS %.1f MB\n' \
    "$(cat "$OUT/sdk.rate")" "$sdk_cpu" "$(mb sdk)"
printf 'HTTP transport alone                %.0f us CPU per request (32 in flight, instant server)\n' \
    "$TRANSPORT_US"
printf 'machine                             %s cores, load %s\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
