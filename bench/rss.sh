#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Where a consumer's memory goes (issues 2 and 4). For each backend asked for (SQLite; Azure
# on Azurite; AWS on fauxqs + dynalite, all on 127.0.0.1 and stopped at exit) and with the
# metrics server off (edw's default) and on (the image's default, EDW_HTTP_PORT=9090): one
# consumer drains N messages, RUNS times. Prints the median peak RSS (GNU time, the figure
# bench/sqlite.sh and bench/azure.sh report), and from /proc/PID/smaps sampled every 50 ms at
# the highest RSS seen: anonymous vs file-backed memory, the number of files mapped and the
# largest mappings. Also the RSS of `edw --help` (libraries loaded, nothing done). Figures only.
# RSS_LIBRARY_PATH, when set, becomes LD_LIBRARY_PATH of the measured edw processes only (to
# try other builds of a library: bench/lean_curl.sh).
# Usage: bench/rss.sh [messages=20000] [runs=3] [backends=sqlite,azure,aws]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
RUNS=${2:-3}
BACKENDS=${3:-sqlite,azure,aws}
OUT=$(mktemp -d /tmp/edw-bench-rss.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$OUT"
}
trap cleanup EXIT
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
EMU=$PWD/tests/emulators
[[ -d $EMU/node_modules/azurite && -d $EMU/node_modules/fauxqs ]] ||
    (cd "$EMU" && npm ci --no-audit --no-fund --loglevel=error)
export NODE_NO_WARNINGS=1 EDW_LOG_LEVEL=warn

cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build/bench -j 2 >/dev/null
EDW=$PWD/build/bench/edw
LIBPATH=()
[[ -z ${RSS_LIBRARY_PATH:-} ]] || LIBPATH=(LD_LIBRARY_PATH="$RSS_LIBRARY_PATH")

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
up() { for _ in $(seq 300); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

start_azure() {
    : >"$OUT/azurite.log"
    "$EMU/azurite.sh" >"$OUT/azurite.log" 2>&1 &
    AZ_PID=$!
    PIDS+=("$AZ_PID")
    for _ in $(seq 300); do grep -q "Table service is successfully" "$OUT/azurite.log" && break; sleep 0.1; done
    local q t key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    q=$(sed -n 's|.*Queue service is successfully listening at http://127.0.0.1:\([0-9]*\).*|\1|p' "$OUT/azurite.log")
    t=$(sed -n 's|.*Table service is successfully listening at http://127.0.0.1:\([0-9]*\).*|\1|p' "$OUT/azurite.log")
    AZ_CONN="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;QueueEndpoint=http://127.0.0.1:$q/devstoreaccount1;TableEndpoint=http://127.0.0.1:$t/devstoreaccount1"
}

start_aws() {
    local sqs ddb
    sqs=$(port)
    ddb=$(port)
    node "$EMU/fauxqs.mjs" "$sqs" >"$OUT/fauxqs.log" 2>&1 &
    PIDS+=($!)
    node "$EMU/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$ddb" --createTableMs 0 \
        >"$OUT/dynalite.log" 2>&1 &
    PIDS+=($!)
    if ! up "http://127.0.0.1:$sqs/health" || ! up "http://127.0.0.1:$ddb"; then
        echo "AWS emulators did not start" >&2
        exit 1
    fi
    AWS_ENV=(AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench
        AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$sqs" AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$ddb")
}

# backend_env NAME: the environment of edw for backend NAME, in ENV.
backend_env() {
    case $1 in
    sqlite) ENV=(EDW_BACKEND=sqlite EDW_SQLITE_PATH="$OUT/rss.db") ;;
    azure) ENV=(EDW_BACKEND=azure AZURE_STORAGE_CONNECTION_STRING="$AZ_CONN") ;;
    aws) ENV=(EDW_BACKEND=aws "${AWS_ENV[@]}") ;;
    esac
}

# fill NAME: an empty queue and table holding N messages. Azurite restarts (its store grows).
fill() {
    case $1 in
    sqlite) rm -f "$OUT"/rss.db* ;;
    azure) [[ -z ${AZ_PID:-} ]] || { kill "$AZ_PID"; wait "$AZ_PID" 2>/dev/null || true; }; start_azure ;;
    aws) env "${ENV[@]}" "$EDW" queue clear >/dev/null 2>&1 || true ;;
    esac
    backend_env "$1"
    env "${ENV[@]}" "$EDW" queue create >/dev/null
    env "${ENV[@]}" "$EDW" table create >/dev/null
    env "${ENV[@]}" "$EDW" produce --count "$N" >/dev/null
}

# measure TAG ENV...: one consumer under GNU time; peak RSS in $OUT/TAG.rss, smaps at the
# highest sampled RSS in $OUT/TAG.smaps.
measure() {
    local tag=$1 peak=0 r kid=""
    shift
    env "$@" "${LIBPATH[@]}" /usr/bin/time -f %M -o "$OUT/$tag.rss" "$EDW" consume --exit-when-idle 1 >/dev/null &
    local tp=$!
    while kill -0 "$tp" 2>/dev/null; do
        [[ -n $kid ]] || read -r kid _ <"/proc/$tp/task/$tp/children" 2>/dev/null || true
        if [[ -n $kid ]]; then
            r=$(awk '/^Rss:/ {print $2}' "/proc/$kid/smaps_rollup" 2>/dev/null || echo 0)
            if ((${r:-0} > peak)); then
                peak=$r
                cp "/proc/$kid/smaps" "$OUT/$tag.smaps" 2>/dev/null || true
            fi
        fi
        sleep 0.05
    done
    wait "$tp"
}

# breakdown SMAPS: anonymous and file-backed kB, files mapped, the largest mappings.
breakdown() {
    local per
    per=$(awk '/^[0-9a-f]+-[0-9a-f]+ / {name = (NF >= 6) ? $6 : "[anon]"; sub(/.*\//, "", name)}
               /^Rss:/ {rss[name] += $2}
               END {for (k in rss) print rss[k], k}' "$1" | sort -rn)
    awk '$2 ~ /^\[/ || $2 ~ /\.db/ {a += $1; next} {f += $1; n++}
         END {printf "    anonymous %.1f MB, file-backed %.1f MB in %d files; largest (MB):", a / 1024, f / 1024, n}' <<<"$per"
    head -n 8 <<<"$per" | awk '{printf " %s %.2f", $2, $1 / 1024} END {print ""}'
}

env "${LIBPATH[@]}" /usr/bin/time -f %M -o "$OUT/help.rss" "$EDW" --help >/dev/null
printf 'edw --help (libraries loaded, nothing done): %.1f MB; %d libraries linked (ldd)\n' \
    "$(awk '{print $1 / 1024}' "$OUT/help.rss")" "$(ldd "$EDW" | grep -c '=>')"
for m in "$(dirname "$EDW")"/edw-*.so; do
    [[ -e $m ]] || continue # a build without modules
    printf '  module %s: %d more libraries when loaded\n' "$(basename "$m")" \
        "$(comm -13 <(ldd "$EDW" | awk '/=>/ {print $1}' | sort) \
            <(env "${LIBPATH[@]}" ldd "$m" 2>/dev/null | awk '/=>/ {print $1}' | sort) | wc -l)"
done
[[ $BACKENDS == *aws* ]] && start_aws
for b in ${BACKENDS//,/ }; do
    for metrics in off on; do
        : >"$OUT/$b.$metrics.all"
        for ((i = 1; i <= RUNS; i++)); do
            fill "$b"
            extra=()
            [[ $metrics == on ]] && extra=(EDW_HTTP_PORT="$(port)" EDW_HTTP_ADDR=127.0.0.1)
            measure "$b.$metrics.$i" "${ENV[@]}" "${extra[@]}"
            cat "$OUT/$b.$metrics.$i.rss" >>"$OUT/$b.$metrics.all"
        done
        med=$(median <"$OUT/$b.$metrics.all")
        printf '%-7s metrics %-3s consumer peak RSS %.1f MB (median of %d, %d messages; runs: %s kB)\n' \
            "$b" "$metrics" "$(echo "$med / 1024" | bc -l)" "$RUNS" "$N" "$(paste -sd' ' "$OUT/$b.$metrics.all")"
        breakdown "$OUT/$b.$metrics.$RUNS.smaps"
    done
done
printf 'machine %s cores, load %s\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
