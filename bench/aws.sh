#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# AWS backend benchmark (issue 6) on fauxqs + dynalite, all on 127.0.0.1 and stopped at exit:
#   - edw consume (--handler record, defaults: batch 32, concurrency 16): messages/s, CPU
#     seconds per 1000 messages, peak RSS, and the emulators' CPU during the run; then again
#     with --batch 100 --concurrency 64 (more requests in flight per round trip) and with
#     --pipelines 4 (four receive/handle/store loops overlapping their round trips);
#   - the same work done by the official AWS SDK for JavaScript v3 (bench/peers/
#     aws_sdk_consumer.mjs, 4 loops of receive 10 -> BatchWriteItem -> DeleteMessageBatch);
#   - the emulators' own ceiling: bare SQS receive+delete, bare DynamoDB batch writes
#     (bench/peers/aws_ceiling.mjs).
# With LATENCY_MS > 0 the consumers reach the emulators through a proxy that adds that much
# delay to every request (tests/tools/fault_proxy.mjs --latency-ms), like a cloud round trip.
# Prints figures (medians of RUNS); asserts nothing except that edw's run verifies.
# Usage: bench/aws.sh [messages=20000] [runs=3] [latency_ms=0]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
RUNS=${2:-3}
LATENCY_MS=${3:-0}
IDLE=1 # consumers stop after this much idle time; subtracted from their wall time
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_script_init aws
export NODE_NO_WARNINGS=1 # the peers find the SDK in tests/emulators by their own path
bench_aws_up
export EDW_BACKEND=aws AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench
export EDW_LOG_LEVEL=warn
DIRECT_SQS=$AWS_SQS_URL
DIRECT_DDB=$AWS_DDB_URL
CONS_SQS=$DIRECT_SQS
CONS_DDB=$DIRECT_DDB
if ((LATENCY_MS > 0)); then
    # The proxies pick their ports; they stop at exit, or by themselves after two hours.
    for svc in sqs ddb; do
        direct_url=$DIRECT_SQS
        [[ $svc == ddb ]] && direct_url=$DIRECT_DDB
        node tests/tools/fault_proxy.mjs --target "$direct_url" --latency-ms "$LATENCY_MS" \
            --lifetime 7200 --port-file "$OUT/$svc.port" --quiet >/dev/null &
        BENCH_PIDS+=($!)
        for _ in $(seq 300); do [[ -s $OUT/$svc.port ]] && break; sleep 0.1; done
    done
    CONS_SQS=http://127.0.0.1:$(cat "$OUT/sqs.port")
    CONS_DDB=http://127.0.0.1:$(cat "$OUT/ddb.port")
    bench_wait 30 bench_http_up "$CONS_SQS/health"
fi
direct() { AWS_ENDPOINT_URL_SQS=$DIRECT_SQS AWS_ENDPOINT_URL_DYNAMODB=$DIRECT_DDB "$@"; }
via() { AWS_ENDPOINT_URL_SQS=$CONS_SQS AWS_ENDPOINT_URL_DYNAMODB=$CONS_DDB "$@"; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

fill() { # queue table: create both, produce N messages
    EDW_QUEUE_NAME=$1 EDW_TABLE_NAME=$2 direct "$EDW" queue create >/dev/null
    EDW_QUEUE_NAME=$1 EDW_TABLE_NAME=$2 direct "$EDW" table create >/dev/null
    EDW_QUEUE_NAME=$1 EDW_TABLE_NAME=$2 direct "$EDW" produce --count "$N" --batch 100 >/dev/null
}

edw_run() { # run tag [consume flags...]
    local q=edw-q$1 t=edwt$1 tag=$2
    shift 2
    fill "$q" "$t"
    local f0 d0
    f0=$(cpu_ticks "$FAUXQS")
    d0=$(cpu_ticks "$DYNALITE")
    EDW_QUEUE_NAME=$q EDW_TABLE_NAME=$t via "$BENCH_RUSAGE" "$OUT/time" \
        "$EDW" consume --exit-when-idle "$IDLE" --json "$@" >"$OUT/consume" 2>"$OUT/consume.err"
    local emu
    emu=$(echo "($(cpu_ticks "$FAUXQS") - $f0 + $(cpu_ticks "$DYNALITE") - $d0) / $HZ" | bc -l)
    local processed seconds
    processed=$(tail -n 1 "$OUT/consume" | jq .processed)
    seconds=$(tail -n 1 "$OUT/consume" | jq .seconds)
    EDW_QUEUE_NAME=$q EDW_TABLE_NAME=$t direct "$EDW" verify >/dev/null ||
        { echo "edw verify failed in run $1" >&2; exit 1; }
    read -r _ user sys rss _ <"$OUT/time"
    echo "$processed / ($seconds - $IDLE)" | bc -l >>"$OUT/${tag}_rate"
    echo "($user + $sys) * 1000 / $processed" | bc -l >>"$OUT/${tag}_cpu"
    echo "$rss" >>"$OUT/${tag}_rss"
    echo "$emu * 1000 / $processed" | bc -l >>"$OUT/${tag}_emu"
}

sdk_run() {
    local q=sdk-q$1 t=sdkt$1
    fill "$q" "$t"
    via "$BENCH_RUSAGE" "$OUT/time" node bench/peers/aws_sdk_consumer.mjs "$q" "$t" 4 \
        "$IDLE" >"$OUT/sdk"
    local processed seconds
    processed=$(jq .processed "$OUT/sdk")
    seconds=$(jq .seconds "$OUT/sdk")
    read -r _ user sys rss _ <"$OUT/time"
    echo "$processed / $seconds" | bc -l >>"$OUT/sdk_rate"
    echo "($user + $sys) * 1000 / $processed" | bc -l >>"$OUT/sdk_cpu"
    echo "$rss" >>"$OUT/sdk_rss"
}

ceiling_run() {
    local q=ceil-q$1 t=ceilt$1
    fill "$q" "$t"
    direct node bench/peers/aws_ceiling.mjs sqs "$q" 8 | jq .rate >>"$OUT/ceil_sqs"
    direct node bench/peers/aws_ceiling.mjs ddb "$t" "$N" 8 | jq .rate >>"$OUT/ceil_ddb"
}

for ((i = 1; i <= RUNS; i++)); do
    edw_run "$i" edw
    edw_run "b$i" big --batch 100 --concurrency 64
    edw_run "p$i" pipes --pipelines 4
    sdk_run "$i"
    ceiling_run "$i"
done

mb() { awk '{print $1 / 1024}'; }
printf 'messages per run                  %d (%d runs, medians; consumers see +%d ms per request)\n' \
    "$N" "$RUNS" "$LATENCY_MS"
printf 'edw consume                       %.0f msg/s\n' "$(bench_median <"$OUT/edw_rate")"
printf 'edw CPU                           %.3f s per 1000 messages\n' "$(bench_median <"$OUT/edw_cpu")"
printf 'edw peak RSS                      %.1f MB\n' "$(bench_median <"$OUT/edw_rss" | mb)"
printf 'emulators CPU during edw run      %.3f s per 1000 messages\n' "$(bench_median <"$OUT/edw_emu")"
printf 'edw --batch 100 --concurrency 64  %.0f msg/s, %.3f CPU s per 1000, %.1f MB\n' \
    "$(bench_median <"$OUT/big_rate")" "$(bench_median <"$OUT/big_cpu")" "$(bench_median <"$OUT/big_rss" | mb)"
printf 'edw --pipelines 4                 %.0f msg/s, %.3f CPU s per 1000, %.1f MB\n' \
    "$(bench_median <"$OUT/pipes_rate")" "$(bench_median <"$OUT/pipes_cpu")" "$(bench_median <"$OUT/pipes_rss" | mb)"
printf 'AWS SDK v3 consumer (4 loops)     %.0f msg/s\n' "$(bench_median <"$OUT/sdk_rate")"
printf 'AWS SDK v3 consumer CPU           %.3f s per 1000 messages\n' "$(bench_median <"$OUT/sdk_cpu")"
printf 'AWS SDK v3 consumer peak RSS      %.1f MB\n' "$(bench_median <"$OUT/sdk_rss" | mb)"
printf 'fauxqs ceiling (receive+delete)   %.0f msg/s\n' "$(bench_median <"$OUT/ceil_sqs")"
printf 'dynalite ceiling (batch writes)   %.0f items/s\n' "$(bench_median <"$OUT/ceil_ddb")"
printf 'machine                           %s cores, load %s\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
