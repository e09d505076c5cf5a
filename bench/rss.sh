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
# try other builds of a library, e.g. a libmicrohttpd without HTTPS: docs/BENCHMARKS.md).
# Usage: bench/rss.sh [messages=20000] [runs=3] [backends=sqlite,azure,aws]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
RUNS=${2:-3}
BACKENDS=${3:-sqlite,azure,aws}
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_script_init rss
export NODE_NO_WARNINGS=1 EDW_LOG_LEVEL=warn
LIBPATH=()
[[ -z ${RSS_LIBRARY_PATH:-} ]] || LIBPATH=(LD_LIBRARY_PATH="$RSS_LIBRARY_PATH")


start_aws() {
    bench_aws_up
    AWS_ENV=(AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench
        AWS_ENDPOINT_URL_SQS="$AWS_SQS_URL" AWS_ENDPOINT_URL_DYNAMODB="$AWS_DDB_URL")
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
    azure) bench_azurite_up ;;
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
            [[ $metrics == on ]] && extra=(EDW_HTTP_PORT="$(bench_port)" EDW_HTTP_ADDR=127.0.0.1)
            measure "$b.$metrics.$i" "${ENV[@]}" "${extra[@]}"
            cat "$OUT/$b.$metrics.$i.rss" >>"$OUT/$b.$metrics.all"
        done
        med=$(bench_median <"$OUT/$b.$metrics.all")
        printf '%-7s metrics %-3s consumer peak RSS %.1f MB (median of %d, %d messages; runs: %s kB)\n' \
            "$b" "$metrics" "$(echo "$med / 1024" | bc -l)" "$RUNS" "$N" "$(paste -sd' ' "$OUT/$b.$metrics.all")"
        breakdown "$OUT/$b.$metrics.$RUNS.smaps"
    done
done
printf 'machine %s cores, load %s\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
