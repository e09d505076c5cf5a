#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Reliability scenarios shared by every backend (issue 7). Each works only through edw's own
# commands (produce, consume, verify, queue depth), so the same function checks SQLite, SQS +
# DynamoDB and Azure Queue + Table alike; the per-backend scripts set up the backend's
# environment first and call these. Source after lib.sh.

# figures SCENARIO KEY=VALUE...: one greppable line with a run's figures, which
# docs/RELIABILITY.md quotes (regenerate: run the tests, `grep -h ' RELIABILITY '` their
# output). It always names the backend and the load average (the machine is shared).
figures() {
    local scenario=$1
    shift
    echo "[$TEST_NAME] RELIABILITY scenario=$scenario backend=${EDW_BACKEND:-sqlite} $* load=$(cut -d' ' -f1 /proc/loadavg)" >&2
}

# cpu_seconds PID: user + system CPU time the process has used so far (Linux /proc).
cpu_seconds() {
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' \
        "/proc/$1/stat"
}

# consume_totals FILE...: sum the --json summaries of several consumers; prints
# "received processed poisoned extended lost_leases released".
consume_totals() {
    local f
    for f in "$@"; do tail -n 1 "$f"; done |
        jq -rs '[map(.received), map(.processed), map(.poisoned), map(.extended),
                 map(.lost_leases), map(.released)] | map(add) | @tsv'
}

# Lease renewal: handlers run 5 s with a 2 s visibility timeout, on two competing consumers
# that poll all the time. Every lease must be extended before it runs out: each message is
# received once, by one consumer, handled once, and its row has dequeueCount 1.
lease_renewal_scenario() {
    local n=6 a b
    "$EDW_BIN" produce --count "$n" >/dev/null
    local args=(consume --json --visibility 2 --handler work:5000 --concurrency 3 --batch 3
        --exit-when-idle 12 --max-dequeue 5)
    start_bg "$EDW_BIN" "${args[@]}" >"$TEST_DIR/lease_a.out"
    a=$BG_PID
    start_bg "$EDW_BIN" "${args[@]}" >"$TEST_DIR/lease_b.out"
    b=$BG_PID
    wait "$a" || fail "consumer a failed"
    wait "$b" || fail "consumer b failed"
    local received processed poisoned extended lost _released
    read -r received processed poisoned extended lost _released \
        < <(consume_totals "$TEST_DIR/lease_a.out" "$TEST_DIR/lease_b.out")
    log "lease renewal: received $received, processed $processed, extended $extended, lost $lost"
    figures lease_renewal "case=${LEASE_CASE:-direct} messages=$n handler_s=5 visibility_s=2" \
        "deliveries=$received processed=$processed extended=$extended lost_leases=$lost poisoned=$poisoned"
    assert_eq "$received" "$n" "deliveries (a redelivery means a lease ran out)"
    assert_eq "$processed" "$n" "processed"
    assert_eq "$poisoned" 0 "poisoned"
    assert_eq "$lost" 0 "leases lost"
    # A message is held 5 s at least; with renewal at a third of 2 s left, >= 2 renewals each.
    ((extended >= 2 * n)) || fail "only $extended lease extensions for $n 5-second handlers"
    local v
    v=$(last_json "$EDW_BIN" verify)
    assert_eq "$(json_get "$v" .stored)" "$n" "rows"
    assert_eq "$(json_get "$v" .missing)" 0 "missing"
    assert_eq "$(json_get "$v" .redelivered)" 0 "rows with dequeueCount > 1"
    v=$(last_json "$EDW_BIN" queue depth)
    assert_eq "$(json_get "$v" .depth)" 0 "queue depth after the run"
    assert_eq "$(json_get "$v" .poison)" 0 "poison depth after the run"
}

# start_fault_proxy NAME TARGET_URL ARGS...: start tests/tools/fault_proxy.mjs in front of
# TARGET_URL (bounded lifetime, stopped at exit); sets PROXY_URL and PROXY_PID.
# shellcheck disable=SC2034 # PROXY_URL and PROXY_PID are for the caller
start_fault_proxy() {
    local name=$1 target=$2
    shift 2
    start_bg node "$EDW_SOURCE_DIR/tests/tools/fault_proxy.mjs" --target "$target" \
        --port-file "$TEST_DIR/$name.port" --lifetime 600 "$@" >"$TEST_DIR/$name.log" 2>&1
    PROXY_PID=$BG_PID
    wait_for 30 test -s "$TEST_DIR/$name.port" || fail "fault proxy $name did not start"
    PROXY_URL="http://127.0.0.1:$(cat "$TEST_DIR/$name.port")"
    FAULT_PROXIES+=("$PROXY_URL")
}
FAULT_PROXIES=() # every proxy started so far (fault_scenario counts what they injected)

# proxy_stats URL: the proxy's counters (JSON).
proxy_stats() { curl -sf "$1/__fault_proxy/stats"; }

# metric_sum SCRAPE NAME [LABEL_FILTER]: sum of the samples of NAME in a Prometheus scrape whose
# labels contain LABEL_FILTER.
metric_sum() {
    awk -v name="$2" -v filt="${3:-}" '
        index($1, name "{") == 1 || $1 == name {
            if (filt == "" || index($1, filt) > 0) s += $2
        }
        END { printf "%d\n", s }' <<<"$1"
}

# drain_run LABEL RUNNER N [CONSUME_ARGS...]: create the queue and table (directly), produce N
# messages and drain them with one consumer, both through RUNNER: the name of an array holding
# a command prefix that reaches the backend, e.g. DIRECT_ENV=(env) or FAULTY_ENV=(env
# AWS_ENDPOINT_URL_SQS=<proxy> ...) (`env` execs, so a background consumer's pid is edw's own).
# The consumer serves /metrics; once every row is stored and the queue is empty (checked
# directly) it is scraped into $TEST_DIR/LABEL.metrics and stopped with SIGTERM (it must exit
# 0). Checks: no row missing, one row per message, nothing poisoned. Sets PRODUCE_S (the
# producer's run), DRAIN_S (consumer start to every row stored and the queue empty) and
# DRAIN_CPU_S (the consumer's CPU time until then).
drain_run() {
    local label=$1 n=$3
    local -n runner=$2
    shift 3
    direct "$EDW_BIN" queue create >/dev/null
    direct "$EDW_BIN" table create >/dev/null
    local port t0 consumer
    port=$(free_port)
    t0=$EPOCHREALTIME
    "${runner[@]}" "$EDW_BIN" produce --count "$n" --batch 100 >/dev/null \
        2>"$TEST_DIR/$label.produce.log" ||
        fail "$label: produce failed: $(tail -n 3 "$TEST_DIR/$label.produce.log")"
    PRODUCE_S=$(echo "$EPOCHREALTIME - $t0" | bc -l)
    t0=$EPOCHREALTIME
    start_bg "${runner[@]}" "$EDW_BIN" consume --json --http-port "$port" --http-addr 127.0.0.1 "$@" \
        >"$TEST_DIR/$label.out" 2>"$TEST_DIR/$label.log"
    consumer=$BG_PID
    # Cheap first (the consumer's own counter, redeliveries included), then exact: rows are
    # counted and the queue read directly, past any proxy.
    drained() {
        local d
        d=$(curl -sf "http://127.0.0.1:$port/metrics") || return 1
        (($(metric_sum "$d" edw_messages_processed_total 'outcome="stored"') >= n)) || return 1
        [[ $(direct "$EDW_BIN" table count --json | tail -n 1 | jq .count) -ge $n ]] || return 1
        d=$(direct "$EDW_BIN" queue depth --json | tail -n 1)
        [[ $(jq '.visible + .in_flight' <<<"$d") == 0 ]]
    }
    local deadline=$((SECONDS + 150))
    until drained; do
        ((SECONDS < deadline)) || fail "$label: not drained in 150 s"
        kill -0 "$consumer" 2>/dev/null || fail "$label: the consumer died: $(tail -n 3 "$TEST_DIR/$label.log")"
        sleep 0.5
    done
    DRAIN_S=$(echo "$EPOCHREALTIME - $t0" | bc -l)
    curl -sf "http://127.0.0.1:$port/metrics" >"$TEST_DIR/$label.metrics" ||
        fail "$label: /metrics did not answer"
    DRAIN_CPU_S=$(cpu_seconds "$consumer")
    kill -TERM "$consumer"
    local rc=0
    wait "$consumer" || rc=$?
    assert_eq "$rc" 0 "$label: consumer exit status after SIGTERM"
    local v
    v=$(direct "$EDW_BIN" verify --json | tail -n 1)
    assert_eq "$(json_get "$v" .missing)" 0 "$label: missing"
    assert_eq "$(json_get "$v" .stored)" "$n" "$label: stored"
    assert_eq "$(direct "$EDW_BIN" table count --json | tail -n 1 | jq .count)" "$n" \
        "$label: rows in the table (one per message)"
    v=$(direct "$EDW_BIN" queue depth --json | tail -n 1)
    assert_eq "$(json_get "$v" .poison)" 0 "$label: poisoned"
}

# direct CMD...: run CMD against the backend itself (the caller sets DIRECT_ENV).
direct() { "${DIRECT_ENV[@]}" "$@"; }

# fault_scenario N FAULTY_RUNNER [CONSUME_ARGS...]: the same drain twice, directly (DIRECT_ENV)
# and through FAULTY_RUNNER (fault proxies with errors and resets); the second must lose nothing and show
# its retries in the consumer's log (info level) and in edw_backend_retries_total. Prints
# both throughputs (not asserted: timings on a shared machine are noise). The caller sets
# the queue and table names with `use_names QUEUE TABLE` before each run.
fault_scenario() {
    local n=$1 faulty=$2
    shift 2
    use_names base
    drain_run baseline DIRECT_ENV "$n" "$@"
    local base_p=$PRODUCE_S base_c=$DRAIN_S base_cpu=$DRAIN_CPU_S
    local p before=()
    for p in "${FAULT_PROXIES[@]}"; do before+=("$(proxy_stats "$p")"); done
    use_names faults
    EDW_LOG_LEVEL=info drain_run faults "$faulty" "$n" "$@"
    local fault_p=$PRODUCE_S fault_c=$DRAIN_S fault_cpu=$DRAIN_CPU_S
    local m retries logged
    m=$(cat "$TEST_DIR/faults.metrics")
    retries=$(metric_sum "$m" edw_backend_retries_total)
    logged=$(grep -c '"msg":"retrying' "$TEST_DIR/faults.log" || true)
    log "faults: consumer retried $retries call(s) (by operation and reason:" \
        "$(grep '^edw_backend_retries_total{' <<<"$m" | sed 's/edw_backend_retries_total//' | tr '\n' ' '))"
    log "faults: $logged retry line(s) in the consumer's log, e.g. $(grep -m1 '"msg":"retrying' "$TEST_DIR/faults.log")"
    ((retries > 0)) || fail "no retry in edw_backend_retries_total"
    ((logged > 0)) || fail "no retry in the consumer's log"
    local bprod fprod bdrain fdrain
    bprod=$(echo "$n / $base_p" | bc -l)
    fprod=$(echo "$n / $fault_p" | bc -l)
    bdrain=$(echo "$n / $base_c" | bc -l)
    fdrain=$(echo "$n / $fault_c" | bc -l)
    printf '[%s] %d messages, without / with faults: produce %.0f / %.0f msg/s (%.0f %%), drain %.0f / %.0f msg/s (%.0f %%); load %s\n' \
        "$TEST_NAME" "$n" "$bprod" "$fprod" "$(echo "100 * $fprod / $bprod" | bc -l)" \
        "$bdrain" "$fdrain" "$(echo "100 * $fdrain / $bdrain" | bc -l)" \
        "$(cut -d' ' -f1-3 /proc/loadavg)" >&2
    # What the proxies injected during the faulty run (their counters now, less before it).
    local i injected
    injected=$(for i in "${!FAULT_PROXIES[@]}"; do
        jq -n --argjson a "${before[$i]:-"{}"}" --argjson b "$(proxy_stats "${FAULT_PROXIES[$i]}")" \
            '$b | with_entries(.value -= ($a[.key] // 0))'
    done | jq -rs 'map(to_entries) | flatten | group_by(.key) |
        map({key: .[0].key, value: (map(.value) | add)}) | from_entries |
        "requests=\(.requests) error500=\(.error500) error503=\(.error503) reset=\(.reset)" +
        " reset_after=\(.resetAfter) truncate=\(.truncate)" +
        " injected=\(.error500 + .error503 + .reset + .resetAfter + .truncate)" +
        " injected_pct=\((.error500 + .error503 + .reset + .resetAfter + .truncate) * 1000 / .requests | round / 10)"')
    figures faults "messages=$n $injected retries=$retries retry_log_lines=$logged" \
        "missing=0 duplicates=0 poisoned=0" \
        "drain_msg_s=$(printf %.0f "$bdrain")/$(printf %.0f "$fdrain")" \
        "produce_msg_s=$(printf %.0f "$bprod")/$(printf %.0f "$fprod")" \
        "consumer_cpu_ms_per_msg=$(echo "1000 * $base_cpu / $n" | bc -l | xargs printf %.3f)/$(echo "1000 * $fault_cpu / $n" | bc -l | xargs printf %.3f)"
}

# queue_empty: nothing visible or leased in the main queue (every message acked or poisoned;
# a message is acked only after its row is written).
queue_empty() {
    local d
    d=$(direct "$EDW_BIN" queue depth --json | tail -n 1) || return 1
    [[ $(jq '.visible + .in_flight' <<<"$d") == 0 ]]
}

# chaos_scenario N KILLS SEED [CONSUME_ARGS...]: three consumers drain N messages while the
# producer is still sending; KILLS times, at a random moment (0.1 to 0.9 s apart), a random one
# is killed with SIGKILL and restarted (RANDOM seeded with SEED: the schedule is reproducible).
# Then the survivors drain and stop on SIGTERM. Checks: zero missing rows, exactly one row per
# message, no false poison, and that the kills did interrupt work (some redelivery).
# CHAOS_RATE (producer messages/s, default 2500), CHAOS_GAP_MS (longest pause between kills,
# default 900) and CHAOS_DRAIN_S (how long the survivors may take, default 150) adapt it to
# slower emulators and longer runs. Sets CHAOS_SUMMARY.
chaos_scenario() {
    local n=$1 kills=$2 seed=$3
    shift 3
    local args=(consume "$@") i k producer t0 gap
    local -A slot
    direct "$EDW_BIN" queue create >/dev/null
    direct "$EDW_BIN" table create >/dev/null
    t0=$SECONDS
    for i in 0 1 2; do
        start_bg "$EDW_BIN" "${args[@]}" >/dev/null 2>>"$TEST_DIR/chaos-consumers.log"
        slot[$i]=$BG_PID
    done
    start_bg "$EDW_BIN" produce --count "$n" --batch 100 --rate "${CHAOS_RATE:-2500}" >/dev/null \
        2>"$TEST_DIR/chaos-producer.log"
    producer=$BG_PID
    RANDOM=$seed
    for ((k = 1; k <= kills; k++)); do
        gap=$((100 + RANDOM % (${CHAOS_GAP_MS:-900} - 99)))
        sleep "$((gap / 1000)).$(printf '%03d' $((gap % 1000)))"
        i=$((RANDOM % 3))
        kill -KILL "${slot[$i]}" 2>/dev/null || true
        wait "${slot[$i]}" 2>/dev/null || true
        start_bg "$EDW_BIN" "${args[@]}" >/dev/null 2>>"$TEST_DIR/chaos-consumers.log"
        slot[$i]=$BG_PID
    done
    wait "$producer" || fail "producer failed: $(tail -n 3 "$TEST_DIR/chaos-producer.log")"
    log "$kills consumers killed in $((SECONDS - t0)) s; letting the survivors drain"
    wait_for "${CHAOS_DRAIN_S:-150}" queue_empty || fail "queue not drained: $(direct "$EDW_BIN" queue depth --json | tail -n 1)"
    for i in 0 1 2; do
        kill -TERM "${slot[$i]}"
        wait "${slot[$i]}" || fail "a surviving consumer did not exit 0 after SIGTERM"
    done
    local v depth rows redelivered
    v=$(direct "$EDW_BIN" verify --json | tail -n 1)
    log "verify: $(jq -c '{stored, missing, redelivered, unexpected}' <<<"$v")"
    assert_eq "$(json_get "$v" .missing)" 0 "missing rows"
    assert_eq "$(json_get "$v" .stored)" "$n" "stored"
    rows=$(direct "$EDW_BIN" table count --json | tail -n 1 | jq .count)
    assert_eq "$rows" "$n" "rows in the table (exactly one per message)"
    depth=$(direct "$EDW_BIN" queue depth --json | tail -n 1)
    assert_eq "$(json_get "$depth" .poison)" 0 "false poisons"
    redelivered=$(json_get "$v" .redelivered)
    ((redelivered > 0)) || fail "no redelivery: the kills interrupted nothing"
    CHAOS_SUMMARY="$n messages, $kills SIGKILLs (seed $seed), 0 missing, 0 duplicate rows, 0 poisoned, $redelivered redelivered, $((SECONDS - t0)) s"
    log "$CHAOS_SUMMARY"
    figures chaos "messages=$n kills=$kills seed=$seed missing=$(json_get "$v" .missing)" \
        "duplicates=$((rows - n)) false_poisons=$(json_get "$depth" .poison) redelivered=$redelivered" \
        "seconds=$((SECONDS - t0)) msg_s=$((n / (SECONDS - t0 > 0 ? SECONDS - t0 : 1)))"
}

# depth_field FIELD: one field of `edw queue depth --json`, read directly.
depth_field() { direct "$EDW_BIN" queue depth --json | tail -n 1 | jq ".$1"; }
# depth_is FIELD VALUE: for wait_for (re-reads the depth on every try). FIELD `visible` or
# `in_flight` is answered by visible_count / leased_count, which a backend whose depth cannot
# tell them apart (Azure counts leased messages as queued) redefines.
depth_is() {
    local v
    case $1 in
    visible) v=$(visible_count) ;;
    in_flight) v=$(leased_count) ;;
    *) v=$(depth_field "$1") ;;
    esac
    [[ $v == "$2" ]]
}
visible_count() { depth_field visible; }
leased_count() { depth_field in_flight; }
# For Azure, whose depth counts leased messages as queued: visible ones are those a peek sees
# (at most 32, enough for these scenarios), leased ones the rest.
# shellcheck disable=SC2317 # the functions are called through depth_is
use_peek_for_visibility() {
    visible_count() { direct "$EDW_BIN" queue peek --json | tail -n 1 | jq '.messages | length'; }
    leased_count() { echo $(($(depth_field visible) - $(visible_count))); }
}

# SIGTERM, sized for Kubernetes (terminationGracePeriodSeconds 30, EDW_SHUTDOWN_GRACE below it):
#   1. one handler in flight (3 s) and nine leased but unstarted (600 s visibility): on SIGTERM
#      the nine are released with visibility 0 (visible again within a second, not after 600 s),
#      /readyz turns 503 and /metrics still answers while the started one finishes; exit 0
#      within the grace; the next consumer processes the nine; nothing lost.
#   2. a handler that outlasts the grace (30 s of work, 2 s grace): cancelled when the grace
#      ends, its lease released at once, exit 0; the message is processed by the next consumer.
sigterm_scenario() {
    local port consumer t0 rc v
    direct "$EDW_BIN" produce --count 10 >/dev/null
    port=$(free_port)
    # one pipeline: the counts below are of one loop's leases (network backends default to 2)
    start_bg "$EDW_BIN" consume --json --handler work:3000 --concurrency 1 --batch 10 \
        --pipelines 1 --visibility 600 --shutdown-grace 20 --http-port "$port" --http-addr 127.0.0.1 \
        >"$TEST_DIR/term1.out" 2>"$TEST_DIR/term1.log"
    consumer=$BG_PID
    wait_for 20 depth_is in_flight 10 || fail "the consumer did not lease all ten"
    t0=$EPOCHREALTIME
    kill -TERM "$consumer"
    wait_for 2 depth_is visible 9 ||
        fail "unstarted leases not released at once: $(direct "$EDW_BIN" queue depth --json | tail -n 1)"
    local released_s
    released_s=$(echo "$EPOCHREALTIME - $t0" | bc -l | xargs printf %.2f)
    log "nine unstarted leases visible again after $released_s s"
    # Still draining (the started handler has up to 3 s to go): not ready, metrics served.
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz") == 503 ]] ||
        fail "/readyz should be 503 while draining"
    v=$(curl -sf "http://127.0.0.1:$port/metrics") || fail "/metrics not served while draining"
    assert_eq "$(metric_sum "$v" edw_leases_released_total)" 9 "edw_leases_released_total"
    rc=0
    wait "$consumer" || rc=$?
    assert_eq "$rc" 0 "exit status after SIGTERM"
    local took
    took=$(echo "$EPOCHREALTIME - $t0" | bc -l)
    awk -v t="$took" 'BEGIN { exit !(t < 20) }' || fail "stop took $took s, more than the grace"
    local stop1_s
    stop1_s=$(printf %.2f "$took")
    assert_eq "$(tail -n 1 "$TEST_DIR/term1.out" | jq -c '[.processed, .released]')" "[1,9]" \
        "processed and released by the stopped consumer"
    v=$(last_json "$EDW_BIN" consume --exit-when-idle 2 --handler work:1)
    assert_eq "$(json_get "$v" .processed)" 9 "the rest was processed by the next consumer"
    v=$(direct "$EDW_BIN" verify --json | tail -n 1)
    assert_eq "$(json_get "$v" .missing)" 0 "missing after SIGTERM"
    assert_eq "$(json_get "$v" .stored)" 10 "stored after SIGTERM"
    # (The nine released ones were received twice: queues count a release as a delivery, so
    # their rows say dequeueCount 2. The started one was delivered once.)

    log "a handler that outlasts the grace"
    direct "$EDW_BIN" produce --count 1 >/dev/null
    start_bg "$EDW_BIN" consume --json --handler work:30000 --visibility 600 --shutdown-grace 2 \
        >"$TEST_DIR/term2.out" 2>"$TEST_DIR/term2.log"
    consumer=$BG_PID
    wait_for 20 depth_is in_flight 1 || fail "the consumer did not lease the message"
    sleep 0.5 # the handler is running
    t0=$EPOCHREALTIME
    kill -TERM "$consumer"
    rc=0
    wait "$consumer" || rc=$?
    took=$(echo "$EPOCHREALTIME - $t0" | bc -l)
    assert_eq "$rc" 0 "exit status when the grace ran out"
    awk -v t="$took" 'BEGIN { exit !(t < 6) }' || fail "stop took $took s with a 2 s grace"
    log "stopped $(echo "$took" | cut -c1-4) s after SIGTERM with a 2 s grace"
    assert_eq "$(visible_count)" 1 "the cancelled message is visible again at once"
    assert_eq "$(tail -n 1 "$TEST_DIR/term2.out" | jq -c '[.processed, .released]')" "[0,1]" \
        "processed and released when the grace ran out"
    v=$(last_json "$EDW_BIN" consume --exit-when-idle 2 --handler work:1)
    assert_eq "$(json_get "$v" .processed)" 1 "the cancelled message was processed next time"
    v=$(direct "$EDW_BIN" verify --json | tail -n 1)
    assert_eq "$(json_get "$v" .missing)" 0 "missing after a cancelled handler"
    assert_eq "$(json_get "$v" .stored)" 1 "stored after a cancelled handler"
    figures sigterm "messages=11 released_unstarted=9 released_visible_after_s=$released_s" \
        "in_flight_finished=1 stop_s=$stop1_s grace_s=20 exit=0" \
        "overrun_cancelled=1 overrun_stop_s=$(printf %.2f "$took") overrun_grace_s=2 missing=0"
}

# sigterm_unreachable_scenario LABEL RUNNER CUT...: SIGTERM while the backend cannot be reached.
# A consumer (through RUNNER, an array name as for drain_run) leases ten messages (600 s
# visibility, a 2 s handler two at a time, 4 s grace); then the command CUT... cuts it off from
# its services (kills the emulators, or makes the fault proxies in between refuse every
# request), the two started handlers finish but their rows cannot be written, and it gets
# SIGTERM. It must exit 0 within the grace plus a small margin, not after every backend call
# has used up its retries (the shutdown deadline, edw/shutdown.h and edw/retry.h), and say
# which leases it could not hand back. Sets UNREACHABLE_STOP_S.
sigterm_unreachable_scenario() {
    local label=$1 grace=4 consumer t0 rc took
    local -n cut_runner=$2
    shift 2
    direct "$EDW_BIN" produce --count 10 >/dev/null
    start_bg "${cut_runner[@]}" "$EDW_BIN" consume --json --handler work:2000 --concurrency 2 \
        --batch 10 --visibility 600 --shutdown-grace "$grace" \
        >"$TEST_DIR/$label.out" 2>"$TEST_DIR/$label.log"
    consumer=$BG_PID
    wait_for 20 depth_is in_flight 10 || fail "the consumer did not lease all ten"
    "$@"
    sleep 1 # the two started handlers finish; their rows cannot be written
    t0=$EPOCHREALTIME
    kill -TERM "$consumer"
    rc=0
    wait "$consumer" || rc=$?
    took=$(echo "$EPOCHREALTIME - $t0" | bc -l | xargs printf %.2f)
    # shellcheck disable=SC2034 # for the caller
    UNREACHABLE_STOP_S=$took
    log "stopped $took s after SIGTERM (grace $grace s, $label)"
    assert_eq "$rc" 0 "exit status after SIGTERM ($label)"
    awk -v t="$took" -v g="$grace" 'BEGIN { exit !(t < g + 2.5) }' ||
        fail "stop took $took s with a $grace s grace ($label)"
    grep -q '"msg":"8 lease(s) not handed back' "$TEST_DIR/$label.log" ||
        fail "the leases it could not hand back are not logged ($label): $(grep -c . "$TEST_DIR/$label.log") log lines"
    assert_eq "$(tail -n 1 "$TEST_DIR/$label.out" | jq -c '[.received, .processed]')" "[10,0]" \
        "received and processed ($label)"
    figures sigterm_unreachable "how=$label grace_s=$grace stop_s=$took exit=$rc in_flight=2 unstarted=8"
}

# store_outage_scenario RUNNER PROXY_URL [CONSUME_ARGS...]: the result store goes down for a
# while (every request to it through PROXY_URL, a fault proxy, answers 500) and comes back.
# RUNNER (an array name, as for drain_run) reaches the store through that proxy. While it is
# down: no row is written, no message is deleted, the leases of the held messages keep being
# renewed (none is delivered twice), the failures are logged with the service's own error and
# /readyz says 503. Once it is back everything is stored exactly once.
# readyz_says_upsert PORT: /readyz of the consumer on PORT (kept in READYZ) names the upsert.
READYZ=
readyz_says_upsert() {
    READYZ=$(curl -s "http://127.0.0.1:$1/readyz") || true
    [[ $READYZ == *upsert* ]]
}

store_outage_scenario() {
    local -n outage_env=$1
    local proxy=$2 n=200 port consumer v
    shift 2
    direct "$EDW_BIN" produce --count "$n" >/dev/null
    curl -sf -d '{"error500": 1}' "$proxy/__fault_proxy/rates" >/dev/null || fail "proxy rates"
    port=$(free_port)
    start_bg "${outage_env[@]}" "$EDW_BIN" consume --json --http-port "$port" \
        --http-addr 127.0.0.1 "$@" >"$TEST_DIR/outage.out" 2>"$TEST_DIR/outage.log"
    consumer=$BG_PID
    sleep 8 # several lease lengths (the caller passes a short --visibility)
    # Azurite's queue GC (a mark and sweep every 60 s, run inside its one thread) can answer
    # nothing for 6-12 s after thousands of deletes, and may have held the first receive.
    wait_for 30 readyz_says_upsert "$port" || true
    v=$READYZ
    [[ $v == *upsert* ]] || fail "/readyz during the store outage: $v"
    log "during the outage /readyz says: $v"
    grep -q '"msg":"store upsert failed: .*InternalFailure\|"msg":"store upsert failed: .*InternalError' \
        "$TEST_DIR/outage.log" || fail "the upsert failures are not logged with their cause"
    log "logged: $(grep -m1 '"msg":"store upsert failed' "$TEST_DIR/outage.log")"
    assert_eq "$(direct "$EDW_BIN" table count --json | tail -n 1 | jq .count)" 0 "rows during the outage"
    ! queue_empty || fail "messages were deleted without their rows"
    curl -sf -d '{"error500": 0}' "$proxy/__fault_proxy/rates" >/dev/null || fail "proxy rates"
    log "store back"
    wait_for 60 queue_empty || fail "not drained after the outage"
    v=$(curl -sf "http://127.0.0.1:$port/metrics") || fail "/metrics"
    kill -TERM "$consumer"
    wait "$consumer" || fail "consumer exit status after the outage"
    local summary
    summary=$(tail -n 1 "$TEST_DIR/outage.out")
    log "consumer: $(jq -c '{received, processed, extended, lost_leases, backend_errors}' <<<"$summary")"
    assert_eq "$(jq .received <<<"$summary")" "$n" "deliveries (leases held through the outage)"
    assert_eq "$(jq .lost_leases <<<"$summary")" 0 "leases lost during the outage"
    (($(jq .extended <<<"$summary") > 0)) || fail "no lease was renewed during the outage"
    (($(metric_sum "$v" edw_backend_retries_total 'operation="upsert"') > 0)) ||
        fail "no upsert retry counted"
    v=$(direct "$EDW_BIN" verify --json | tail -n 1)
    assert_eq "$(json_get "$v" .missing)" 0 "missing after the outage"
    assert_eq "$(json_get "$v" .stored)" "$n" "stored after the outage"
    assert_eq "$(json_get "$v" .redelivered)" 0 "rows with dequeueCount > 1 after the outage"
}

# store_rejects_scenario: a row the store can never take fails its whole batch with a
# non-retryable error. Here the exec handler answers message 7 of 20 with 900 kB of output,
# more than a DynamoDB item (400 KB) or an Azure entity (1 MiB, and 64 KiB a property) holds.
# The worker must write the other rows one by one and poison message 7 after one delivery
# with the store's reason, instead of retrying the batch for ever. Prints its figures.
store_rejects_scenario() {
    local n=20 out v p reason
    "$EDW_BIN" produce --count "$n" --batch 20 >/dev/null
    # shellcheck disable=SC2016 # the handler command is for /bin/sh, expanded there
    out=$(timeout 120 "$EDW_BIN" consume --json --exit-when-idle 3 --batch 20 --concurrency 4 \
        --handler 'exec:if grep -q "COUNT 7\""; then yes aaaaaaa | head -c 900000; else echo done; fi' \
        2>"$TEST_DIR/rejects.log" | tail -n 1) || fail "consumer failed or looped: $(tail -n 3 "$TEST_DIR/rejects.log")"
    assert_eq "$(json_get "$out" .processed)" $((n - 1)) "rows stored around the refused one"
    assert_eq "$(json_get "$out" .poisoned)" 1 "poisoned"
    assert_eq "$(json_get "$out" .received)" "$n" "deliveries (no retry of the refused row)"
    v=$("$EDW_BIN" verify --json || true) # exits 1: a row is missing
    v=$(tail -n 1 <<<"$v")
    assert_eq "$(json_get "$v" .stored)" $((n - 1)) "stored"
    assert_eq "$(json_get "$v" .missing)" 1 "missing (the poisoned one)"
    v=$(last_json "$EDW_BIN" queue depth)
    assert_eq "$(json_get "$v" .depth)" 0 "queue depth"
    assert_eq "$(json_get "$v" .poison)" 1 "poison depth"
    p=$("$EDW_BIN" queue peek --poison --json | tail -n 1)
    reason=$(jq -r '.messages[0].reason' <<<"$p")
    [[ $reason == *"the store refused the row for key '"*"-7'"* ]] || fail "poison reason: $reason"
    [[ $(jq -r '.messages[0].body' <<<"$p") == *'COUNT 7"'* ]] || fail "poisoned body: $p"
    figures store_rejects "messages=$n stored=$((n - 1)) poisoned=1 deliveries=$n" \
        "reason=\"$reason\""
}

# The malformed-body corpus (tests/corpus/bad-bodies), sent by a backend's official SDK between
# good messages. bad_input_begin creates queue `bad` and table `badresults`, loads the corpus
# into BAD_FILES (at least 25 bodies) and produces 10 good messages; the caller then sends the
# corpus, listing in BAD_SENT the files the service accepted; bad_input_drain produces 10 more
# good ones and runs one consumer (idle exit after IDLE seconds): every accepted body must be
# poisoned, the 20 good ones processed, nothing retried or left in the queue. Sets BAD_OUT
# (the consumer's summary). The caller checks the poison queue, then calls bad_input_figures.
BAD_FILES=()
BAD_SENT=()
bad_input_begin() {
    export EDW_QUEUE_NAME=bad EDW_TABLE_NAME=badresults
    "$EDW_BIN" queue create >/dev/null
    "$EDW_BIN" table create >/dev/null
    mapfile -t BAD_FILES < <(find "$EDW_SOURCE_DIR/tests/corpus/bad-bodies" -name '*.txt' | sort)
    ((${#BAD_FILES[@]} >= 25)) || fail "corpus has only ${#BAD_FILES[@]} bodies"
    "$EDW_BIN" produce --count 10 >/dev/null
}

# bad_input_drain MIN_SENT IDLE: see bad_input_begin.
bad_input_drain() {
    "$EDW_BIN" produce --count 10 >/dev/null
    ((${#BAD_SENT[@]} >= $1)) || fail "only ${#BAD_SENT[@]} bodies could be sent"
    BAD_OUT=$(last_json "$EDW_BIN" consume --exit-when-idle "$2")
    assert_eq "$(json_get "$BAD_OUT" .poisoned)" "${#BAD_SENT[@]}" "poisoned"
    assert_eq "$(json_get "$BAD_OUT" .processed)" 20 "good messages processed"
    assert_eq "$(json_get "$BAD_OUT" .failed)" 0 "nothing retried"
    assert_eq "$(json_get "$(last_json "$EDW_BIN" queue depth)" .depth)" 0 "nothing left in the queue"
}

# bad_input_figures SDK: the scenario's figures line and the closing log line.
bad_input_figures() {
    local refused=$((${#BAD_FILES[@]} - ${#BAD_SENT[@]}))
    figures bad_input "sent_with=$1 corpus=${#BAD_FILES[@]} sent=${#BAD_SENT[@]}" \
        "refused_at_send=$refused poisoned=$(json_get "$BAD_OUT" .poisoned)" \
        "poisoned_with_reason=${#BAD_SENT[@]} good=20 good_processed=$(json_get "$BAD_OUT" .processed)" \
        "retried=$(json_get "$BAD_OUT" .failed) lost=0"
    log "ok: ${#BAD_SENT[@]} poisoned intact with a reason, $refused refused at send"
}

# Faults, then a store outage, for a cloud backend whose queue and store services are reached at
# QUEUE_URL and STORE_URL (the emulators). The caller defines use_names (see fault_scenario) and
# `proxied_env QUEUE_URL STORE_URL`, which sets PROXIED_ENV to an env command prefix that points
# edw at those two services (for Azure, at the account on each). faults_then_outage N
# QUEUE_URL STORE_URL [CONSUME_ARGS...]: fault proxies fail 10 % of requests (2 % each: 500, 503
# with Retry-After, reset before the service sees the request, reset after it acted, truncated
# answer) in front of both services for fault_scenario; then the store is down for a while and
# comes back (store_outage_scenario).
faults_then_outage() {
    local n=$1 queue_url=$2 store_url=$3 queue_faulty store_faulty
    shift 3
    local rates=(--error-500 0.02 --error-503 0.02 --retry-after 1 --reset 0.02 --reset-after 0.02
        --truncate 0.02)
    start_fault_proxy queue-faults "$queue_url" "${rates[@]}" --seed 7
    queue_faulty=$PROXY_URL
    start_fault_proxy store-faults "$store_url" "${rates[@]}" --seed 8
    store_faulty=$PROXY_URL
    DIRECT_ENV=(env)
    proxied_env "$queue_faulty" "$store_faulty"
    # shellcheck disable=SC2034 # used by name (fault_scenario)
    FAULTY_ENV=("${PROXIED_ENV[@]}")
    fault_scenario "$n" FAULTY_ENV "$@"
    log "proxy in front of the queue service: $(proxy_stats "$queue_faulty")"
    log "proxy in front of the store: $(proxy_stats "$store_faulty")"

    log "the store down for a while, then back"
    # A backend may start afresh first (outage_backend, defined by the caller, sets
    # OUTAGE_QUEUE_URL and OUTAGE_STORE_URL): see azure_faults.sh.
    if declare -F outage_backend >/dev/null; then
        outage_backend
        queue_url=$OUTAGE_QUEUE_URL
        store_url=$OUTAGE_STORE_URL
    fi
    start_fault_proxy store-outage "$store_url"
    proxied_env "$queue_url" "$PROXY_URL"
    # shellcheck disable=SC2034 # used by name (store_outage_scenario)
    OUTAGE_ENV=("${PROXIED_ENV[@]}")
    use_names outage
    direct "$EDW_BIN" queue create >/dev/null
    direct "$EDW_BIN" table create >/dev/null
    store_outage_scenario OUTAGE_ENV "$PROXY_URL" --visibility 3
    log "ok"
}
