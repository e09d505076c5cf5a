#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Paired CPU comparison of two edw builds as Azure consumers (issue 4's CPU target): each run
# drains N messages from a fresh in-memory Azurite with `edw consume --exit-when-idle 1`
# (defaults otherwise); CPU is the user + system time of the edw process from wait4()'s
# rusage (start-up and the idle second included; the kernel splits that total between user
# and system by sampling, so only the sum is printed). The binaries alternate A, B, A, B, ...
# so both see the same load; medians are printed with the load average. Each run is checked
# with `edw verify`. Usage: bench/azure_cpu_ab.sh EDW_A EDW_B [messages] [runs]
# (EDW_A/EDW_B: paths of edw binaries, each next to its own edw-net.so).
set -euo pipefail
cd "$(dirname "$0")/.."
A=$1
B=$2
N=${3:-1000}
RUNS=${4:-5}
# shellcheck source=bench/lib.sh
source bench/lib.sh
OUT=$(mktemp -d /tmp/edw-bench-cpuab.XXXXXX)
trap 'bench_stop_all; rm -rf "$OUT"' EXIT
export EDW_LOG_LEVEL=warn EDW_BACKEND=azure

run_one() { # binary label
    local edw=$1 label=$2
    bench_azurite_up
    export AZURE_STORAGE_CONNECTION_STRING=$AZ_CONN
    "$A" queue create >/dev/null
    "$A" table create >/dev/null
    "$A" produce --count "$N" --batch 100 >/dev/null
    python3 -c '
import os, sys
pid = os.fork()
if pid == 0:
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 1)
    os.execv(sys.argv[2], sys.argv[2:])
_, status, ru = os.wait4(pid, 0)
print(ru.ru_utime * 1000, ru.ru_stime * 1000, ru.ru_nvcsw + ru.ru_nivcsw)
sys.exit(os.waitstatus_to_exitcode(status))
' "$OUT/out" "$edw" consume --json --exit-when-idle 1 >"$OUT/rusage"
    local processed user sys cs
    processed=$(tail -n 1 "$OUT/out" | jq .processed)
    read -r user sys cs <"$OUT/rusage"
    [[ $processed -eq $N ]] || echo "note: $label processed $processed of $N" >&2
    "$A" verify >/dev/null || { echo "edw verify failed after $label" >&2; exit 1; }
    local k=1000 total
    total=$(echo "($user + $sys) * $k / $processed" | bc -l)
    printf '%s %.1f ms per 1000 (context switches per message %.2f) load %s\n' "$label" \
        "$total" "$(echo "$cs / $processed" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)" >&2
    echo "$total" >>"$OUT/$label"
}

for ((i = 1; i <= RUNS; i++)); do
    run_one "$A" A
    run_one "$B" B
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
printf 'A %s: median %.1f ms CPU per 1000 messages (%s)\n' "$A" "$(median <"$OUT/A")" \
    "$(xargs printf '%.0f ' <"$OUT/A")"
printf 'B %s: median %.1f ms CPU per 1000 messages (%s)\n' "$B" "$(median <"$OUT/B")" \
    "$(xargs printf '%.0f ' <"$OUT/B")"
printf 'load average at the end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
