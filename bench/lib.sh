#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Helpers for bench/run and the stand-alone bench scripts (bench/aws.sh, azure.sh, rss.sh):
# background processes stopped by pid, free loopback ports, the emulators, the Release build,
# measured runs (wall time, CPU, peak RSS) and result records (one JSON object per line in
# $RESULTS). Sourced, not run. Expects OUT (a scratch directory; bench_script_init makes one)
# and, for bench_rec, RESULTS (the .jsonl file) to be set.

BENCH_PIDS=()
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EMU=$BENCH_ROOT/tests/emulators
# Azurite's documented development account key: public, not a secret.
BENCH_AZ_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

# bench_bg NAME CMD...: start CMD in the background, stdout+stderr to $OUT/NAME.log; the pid
# is left in BG_PID and stopped by bench_stop_all.
bench_bg() {
    local name=$1
    shift
    "$@" >"$OUT/$name.log" 2>&1 &
    BG_PID=$!
    BENCH_PIDS+=("$BG_PID")
}

# bench_stop PID...: stop these background processes (by pid) and reap them.
bench_stop() {
    local p
    for p in "$@"; do kill "$p" 2>/dev/null || true; done
    for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

bench_stop_all() {
    ((${#BENCH_PIDS[@]})) && bench_stop "${BENCH_PIDS[@]}"
    BENCH_PIDS=()
}

# A TCP port on 127.0.0.1 that nothing listens on right now.
bench_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# shellcheck source=scripts/wait_for.sh
source "$BENCH_ROOT/scripts/wait_for.sh"
# bench_wait SECONDS CMD...: poll CMD every 0.1 s until it succeeds; 1 when time runs out.
bench_wait() { wait_for "$@"; }

bench_http_up() { curl -s -o /dev/null --max-time 1 "$1"; }

# CPU seconds (user + system) used so far by these processes.
bench_cpu_of() {
    local p ticks=0
    for p in "$@"; do
        ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$ticks / $(getconf CLK_TCK)" | bc -l
}

# bench_measure TAG CMD...: run CMD in the foreground under bench/peers/rusage.c (GNU time's
# figures with microsecond CPU times; bench_build compiles it). Afterwards:
#   M_T0_MS  wall clock (Unix ms) just before exec, M_WALL elapsed seconds,
#   M_CPU    user + system seconds of CMD and its children, M_RSS peak RSS in kB,
#   M_ANON   peak private (anonymous) memory of CMD in kB, sampled every 0.1 s: the part of
#            the RSS not shared with other processes through the page cache (libraries),
#   M_LAST   the last line CMD printed on stdout; its stdout/stderr stay in $OUT/TAG.{out,err}.
# Returns CMD's exit status.
# shellcheck disable=SC2034 # the M_* results are read by the caller
bench_measure() {
    local tag=$1 rc=0
    shift
    M_T0_MS=$(($(date +%s%N) / 1000000))
    "$BENCH_RUSAGE" "$OUT/$tag.time" "$@" >"$OUT/$tag.out" 2>"$OUT/$tag.err" &
    local tp=$!
    bench_anon_watch "$tp" "$OUT/$tag.anon" &
    local wp=$!
    wait "$tp" || rc=$?
    wait "$wp" || true
    M_ANON=$(cat "$OUT/$tag.anon")
    local e u s m
    read -r e u s m _ < <(tail -n 1 "$OUT/$tag.time")
    M_WALL=$e
    M_CPU=$(echo "$u + $s" | bc -l)
    M_RSS=$m
    M_LAST=$(tail -n 1 "$OUT/$tag.out")
    return "$rc"
}

# bench_anon_watch PID FILE: while PID lives, sample the RssAnon of its children and
# grandchildren (GNU time -> [timeout ->] the command); write the peak in kB to FILE.
# Reads /proc with builtins only, so the sampling itself forks nothing.
bench_anon_watch() {
    local pid=$1 peak=0 kids grand k g key val
    while kill -0 "$pid" 2>/dev/null; do
        kids=()
        read -r -a kids 2>/dev/null <"/proc/$pid/task/$pid/children" || true
        for k in "${kids[@]}"; do
            grand=()
            read -r -a grand 2>/dev/null <"/proc/$k/task/$k/children" || true
            for g in "$k" "${grand[@]}"; do
                while read -r key val _; do
                    [[ $key == RssAnon: ]] && ((val > peak)) && peak=$val
                done 2>/dev/null <"/proc/$g/status" || true
            done
        done
        sleep 0.1
    done
    echo "$peak" >"$2"
}

# bench_rec KEY=VALUE...: append one result record; values that read as numbers are numbers.
bench_rec() {
    jq -nc '[$ARGS.positional[] | capture("^(?<k>[^=]+)=(?<v>.*)$")
             | {(.k): (.v as $v | ($v | tonumber?) // $v)}] | add' --args "$@" >>"$RESULTS"
}

# bench_say TEXT: progress on stderr, with the time of day.
bench_say() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

bench_calc() { echo "$*" | bc -l; }

# bench_median: the median of the numbers on stdin, one per line (the mean of the middle two
# for an even count).
bench_median() {
    sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'
}

# bench_rusage_tool DIR: compile bench/peers/rusage.c into DIR and set BENCH_RUSAGE to it:
# `$BENCH_RUSAGE FILE CMD...` writes "wall user system maxrss_kb context_switches" of CMD to
# FILE, CPU in microseconds.
bench_rusage_tool() {
    BENCH_RUSAGE=$1/rusage
    cc -O2 -Wall -o "$BENCH_RUSAGE" "$BENCH_ROOT/bench/peers/rusage.c"
}

# bench_build: edw's Release build in build/bench (output in $OUT/cmake.log); sets EDW, and
# BENCH_RUSAGE (bench_rusage_tool). With
# the lean libcurl and libmicrohttpd (the image's), or BENCH_CURL=system for the system's
# libcurl in build/bench-system, BENCH_MHD=system for the system's libmicrohttpd in
# build/bench-mhd-system (both: build/bench-system-mhd-system).
# shellcheck disable=SC2034 # the variables it sets are read by the caller
bench_build() {
    local curl=${BENCH_CURL:-lean} mhd=${BENCH_MHD:-lean} dir=$BENCH_ROOT/build/bench
    [[ $curl == lean ]] || dir+=-$curl
    [[ $mhd == lean ]] || dir+=-mhd-$mhd
    cmake -S "$BENCH_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
        -DEDW_CURL="$curl" -DEDW_MHD="$mhd" >"$OUT/cmake.log"
    cmake --build "$dir" -j 2 >>"$OUT/cmake.log"
    EDW=$dir/edw
    bench_rusage_tool "$dir"
}

# bench_script_init NAME: what a stand-alone bench script needs first: a scratch directory
# OUT (/tmp/edw-bench-NAME.*, removed at exit, when every process started with bench_bg or
# added to BENCH_PIDS is stopped), GNU time and the emulators installed, and bench_build.
bench_script_init() {
    OUT=$(mktemp -d "/tmp/edw-bench-$1.XXXXXX")
    trap 'bench_stop_all; rm -rf "$OUT"' EXIT
    command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
    local m
    for m in azurite fauxqs dynalite; do
        [[ -d $EMU/node_modules/$m ]] ||
            { (cd "$EMU" && npm ci --no-audit --no-fund --loglevel=error) && break; }
    done
    bench_build
}

# bench_az_conn QUEUE_PORT TABLE_PORT: the connection string of Azurite's account there.
bench_az_conn() {
    echo "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$BENCH_AZ_KEY;QueueEndpoint=http://127.0.0.1:$1/devstoreaccount1;TableEndpoint=http://127.0.0.1:$2/devstoreaccount1"
}

# bench_azurite_up: a fresh in-memory Azurite on ports it picks (the previous one, if any, is
# stopped: Azurite slows down as its store grows); sets AZ_PID, AZ_QP, AZ_TP (its queue and
# table ports) and AZ_CONN (a connection string for them).
# shellcheck disable=SC2034 # the variables it sets are read by the caller
bench_azurite_up() {
    [[ -z ${AZ_PID:-} ]] || bench_stop "$AZ_PID"
    AZ_STARTS=$((${AZ_STARTS:-0} + 1))
    local log=$OUT/azurite-$AZ_STARTS.log # a new file each time: never read an old one's ports
    bench_bg "azurite-$AZ_STARTS" "$EMU/azurite.sh"
    AZ_PID=$BG_PID
    bench_wait 60 grep -q "Table service is successfully listening" "$log" ||
        { echo "Azurite did not start (see $log)" >&2 && exit 1; }
    AZ_QP=$(sed -n 's|.*Queue service is successfully listening at http://127.0.0.1:\([0-9]*\).*|\1|p' "$log")
    AZ_TP=$(sed -n 's|.*Table service is successfully listening at http://127.0.0.1:\([0-9]*\).*|\1|p' "$log")
    AZ_CONN=$(bench_az_conn "$AZ_QP" "$AZ_TP")
}

# bench_aws_up: fauxqs (SQS, from its library on 127.0.0.1) and dynalite (DynamoDB) on two
# free loopback ports; sets FAUXQS and DYNALITE (pids), AWS_SQS_URL and AWS_DDB_URL.
# shellcheck disable=SC2034 # the variables it sets are read by the caller
bench_aws_up() {
    local sp dp
    sp=$(bench_port)
    dp=$(bench_port)
    while [[ $dp == "$sp" ]]; do dp=$(bench_port); done
    bench_bg fauxqs node "$EMU/fauxqs.mjs" "$sp"
    FAUXQS=$BG_PID
    bench_bg dynalite node "$EMU/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$dp" \
        --createTableMs 0 --deleteTableMs 0 --updateTableMs 0
    DYNALITE=$BG_PID
    AWS_SQS_URL=http://127.0.0.1:$sp
    AWS_DDB_URL=http://127.0.0.1:$dp
    if ! bench_wait 60 bench_http_up "$AWS_SQS_URL/health" ||
        ! bench_wait 60 bench_http_up "$AWS_DDB_URL"; then
        echo "the AWS emulators did not start (see $OUT/fauxqs.log, $OUT/dynalite.log)" >&2
        exit 1
    fi
}
