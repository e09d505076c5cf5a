#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Helpers for bench/run: background processes stopped by pid, free loopback ports, measured runs
# (wall time, CPU, peak RSS) and result records (one JSON object per line in $RESULTS).
# Sourced, not run. Expects OUT (a scratch directory) and RESULTS (the .jsonl file) to be set.

BENCH_PIDS=()

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

# bench_wait SECONDS CMD...: poll CMD every 0.1 s until it succeeds; 1 when time runs out.
bench_wait() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

bench_http_up() { curl -s -o /dev/null --max-time 1 "$1"; }

# CPU seconds (user + system) used so far by these processes.
bench_cpu_of() {
    local p ticks=0
    for p in "$@"; do
        ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$ticks / $(getconf CLK_TCK)" | bc -l
}

# bench_measure TAG CMD...: run CMD in the foreground under GNU time. Afterwards:
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
    /usr/bin/time -f '%e %U %S %M' -o "$OUT/$tag.time" "$@" >"$OUT/$tag.out" 2>"$OUT/$tag.err" &
    local tp=$!
    bench_anon_watch "$tp" "$OUT/$tag.anon" &
    local wp=$!
    wait "$tp" || rc=$?
    wait "$wp" || true
    M_ANON=$(cat "$OUT/$tag.anon")
    local e u s m
    read -r e u s m < <(tail -n 1 "$OUT/$tag.time")
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
        read -r -a kids <"/proc/$pid/task/$pid/children" 2>/dev/null || true
        for k in "${kids[@]}"; do
            grand=()
            read -r -a grand <"/proc/$k/task/$k/children" 2>/dev/null || true
            for g in "$k" "${grand[@]}"; do
                while read -r key val _; do
                    [[ $key == RssAnon: ]] && ((val > peak)) && peak=$val
                done <"/proc/$g/status" 2>/dev/null || true
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
