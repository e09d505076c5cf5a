#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# No secret reaches a log line, an error message, stdout or the HTTP endpoint. Every setting
# of type EDW_SET_SECRET (found in the settings tables of the source, primary name and alias)
# and the cloud SDKs' conventional secret variables are set to a marker; then every command
# runs at debug level, successfully and failing, on each compiled-in backend, and the marker
# (or its base64 decoding) must appear nowhere. A non-secret marker set the same way must
# appear, which shows the capture would catch a leak.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

MARKER=c2VjcmV0LW1hcmtlci1lZHctb2JzLXRlc3Q= # base64 of the plain marker below
PLAIN=secret-marker-edw-obs-test
OUT=$TEST_DIR/captured
: >"$OUT"

# secret_names FILE...: the environment names of settings-table rows of type EDW_SET_SECRET,
# rows of the form {"flag"|NULL, "ENV"|NULL, "ALIAS"|NULL, EDW_SET_SECRET, ... (any layout).
secret_names() {
    perl -0777 -ne '
        while (/\{\s*(?:NULL|"[^"]*")\s*,\s*(NULL|"[^"]*")\s*,\s*(NULL|"[^"]*")\s*,\s*EDW_SET_SECRET\b/g) {
            my @names = ($1, $2);
            for my $n (@names) { print "$1\n" if $n =~ /^"(.+)"$/ }
        }' "$@" | sort -u
}
# The extraction itself, on rows laid out as clang-format may lay them out.
cat >"$TEST_DIR/sample.c" <<'EOF'
    {"account-key", "EDW_SAMPLE_KEY", "SAMPLE_KEY", EDW_SET_SECRET, NULL, 0, 0, NULL,
     EDW_CMD_ALL, OFF(key), "a key"},
    {NULL, "EDW_SAMPLE_TOKEN",
     NULL, EDW_SET_SECRET, NULL, 0, 0, NULL, EDW_CMD_ALL, OFF(token), "a token"},
    {"name", "EDW_SAMPLE_NAME", NULL, EDW_SET_STRING, NULL, 0, 0, NULL, 0, OFF(name), "not"},
EOF
assert_eq "$(secret_names "$TEST_DIR/sample.c" | tr '\n' ' ')" \
    "EDW_SAMPLE_KEY EDW_SAMPLE_TOKEN SAMPLE_KEY " "secret rows found by the extraction"
mapfile -t sources < <(find "$EDW_SOURCE_DIR/src" -name '*.c')
mapfile -t from_table < <(secret_names "${sources[@]}")
conventional=(AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN
    AZURE_CLIENT_SECRET AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN)
log "secret settings in the tables: ${from_table[*]:-(none yet)}"

# The table extraction must agree with the binary: `edw config` shows each secret as ***.
for name in "${from_table[@]}"; do
    [[ $name == EDW_* ]] || continue
    line=$(env "$name=$MARKER" "$EDW_BIN" config | grep -F "(env, $name)") ||
        fail "$name is not a setting edw reads (extraction out of date?)"
    grep -qF '= ***' <<<"$line" || fail "edw config does not redact $name: $line"
done

for name in "${from_table[@]}" "${conventional[@]}"; do
    export "$name=$MARKER"
done
export EDW_LOG_LEVEL=debug
export EDW_QUEUE_NAME=queue-marker-obs # not a secret: must be visible

# run CMD...: run edw with stdout and stderr captured; the exit status does not matter here.
run() {
    {
        echo "== edw $*"
        "$EDW_BIN" "$@" </dev/null 2>&1 || echo "(exit $?)"
    } >>"$OUT"
}

run config
run config --json
port=$(free_port)
run produce --count 20 --json --http-port "$port" --http-addr 127.0.0.1
run queue depth --json
run queue peek --json
run consume --exit-when-idle 0.3 --json
run table count --json
run verify --json
run queue send 'not json'
run consume --exit-when-idle 0.3 --max-dequeue 1 --handler 'exec:exit 3' --json
run queue peek --poison --json
run consume --visibility nonsense
run produce --count 5 --sqlite-path /nonexistent/dir/edw.db

# The endpoint while a consumer runs.
start_bg "$EDW_BIN" consume --http-port "$port" --http-addr 127.0.0.1 >>"$OUT" 2>&1
consumer=$BG_PID
ready() { curl -sf --max-time 2 "http://127.0.0.1:$port/readyz" >/dev/null; }
wait_for 10 ready || fail "consumer endpoint not ready"
for path in /metrics /healthz /readyz; do
    curl -s --max-time 5 "http://127.0.0.1:$port$path" >>"$OUT"
done
kill -TERM "$consumer"
wait "$consumer" || fail "consumer failed"

# Cloud backends compiled into this build: their failures (nothing listens on the endpoint)
# must not quote a credential either. Endpoint settings are set only where edw has them.
known_env=$("$EDW_BIN" config 2>/dev/null | sed -n 's/.*(\(default\|env\), \([A-Z0-9_]*\))$/\2/p')
closed=$(free_port)
for var in EDW_AZURE_QUEUE_ENDPOINT EDW_AZURE_TABLE_ENDPOINT; do
    if grep -qx "$var" <<<"$known_env"; then
        export "$var=http://127.0.0.1:$closed/devstoreaccount1"
    fi
done
export AZURE_STORAGE_ACCOUNT_NAME=devstoreaccount1 AWS_ACCESS_KEY_ID=AKIDEXAMPLE \
    AWS_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$closed"
for backend in azure aws; do
    if ! "$EDW_BIN" config --backend "$backend" >/dev/null 2>&1; then
        log "backend $backend not in this build: skipped"
        continue
    fi
    run queue depth --backend "$backend"
    run produce --count 2 --backend "$backend"
    run consume --backend "$backend" --exit-when-idle 0.3
    run verify --backend "$backend"
done

grep -q "queue-marker-obs" "$OUT" || fail "the capture misses output: the control marker is absent"
grep -q '"level":"debug"' "$OUT" || fail "no debug lines captured"
! grep -q "Sanitizer" "$OUT" || fail "a command crashed under a sanitizer (see $OUT)"
if grep -n -e "$MARKER" -e "$PLAIN" -e "${MARKER%%=*}" "$OUT" >&2; then
    fail "a secret value appears in the output above (full capture in $OUT)"
fi
log "ok: $(wc -l <"$OUT") lines checked, $((${#from_table[@]} + ${#conventional[@]})) variables"
