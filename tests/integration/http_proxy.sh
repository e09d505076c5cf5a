#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Proxies, as users configure them for libcurl (http_proxy, HTTPS_PROXY, NO_PROXY), in whichever
# libcurl edw-net.so was built with (-DEDW_CURL=system or lean, which must keep proxy support):
# the Azure backend reaches Azurite through a loopback forward proxy, over plain HTTP (absolute
# requests) and over HTTPS (a CONNECT tunnel, the certificate still verified end to end), and
# NO_PROXY bypasses it.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=azure_lib.sh
source "$(dirname "$0")/azure_lib.sh"

export EDW_LOG_LEVEL=warn EDW_QUEUE_NAME=proxyq EDW_TABLE_NAME=proxyrows
unset http_proxy https_proxy HTTPS_PROXY ALL_PROXY all_proxy no_proxy NO_PROXY
start_bg node "$EDW_SOURCE_DIR/tests/tools/forward_proxy.mjs" "$TEST_DIR/proxy.port" 110 \
    >"$TEST_DIR/proxy.log"
wait_for 20 test -s "$TEST_DIR/proxy.port" || fail "the forward proxy did not start"
PROXY=http://127.0.0.1:$(cat "$TEST_DIR/proxy.port")

# through_proxy N: the workflow of N messages; the proxy log must grow.
through_proxy() {
    local n=$1 before out
    before=$(wc -l <"$TEST_DIR/proxy.log")
    "$EDW_BIN" queue create >/dev/null || fail "queue create through the proxy"
    "$EDW_BIN" table create >/dev/null || fail "table create through the proxy"
    out=$(last_json "$EDW_BIN" produce --count "$n")
    assert_eq "$(json_get "$out" .sent)" "$n" "sent through the proxy"
    out=$(last_json "$EDW_BIN" consume --exit-when-idle 0.5)
    assert_eq "$(json_get "$out" .processed)" "$n" "consumed through the proxy"
    (($(wc -l <"$TEST_DIR/proxy.log") > before)) || fail "nothing went through the proxy"
}

# Plain HTTP: libcurl reads the lower-case http_proxy only.
start_azurite
http_proxy=$PROXY through_proxy 20
grep -q "^GET 127.0.0.1:$AZ_QUEUE_PORT$" "$TEST_DIR/proxy.log" ||
    fail "no queue request in the proxy log: $(head -n 5 "$TEST_DIR/proxy.log")"
# NO_PROXY: the same requests go direct.
before=$(wc -l <"$TEST_DIR/proxy.log")
out=$(http_proxy=$PROXY NO_PROXY=127.0.0.1 last_json "$EDW_BIN" queue depth)
assert_eq "$(json_get "$out" .depth)" 0 "queue depth with NO_PROXY"
assert_eq "$(wc -l <"$TEST_DIR/proxy.log")" "$before" "requests through the proxy with NO_PROXY"
kill "$AZURITE_PID"

# HTTPS through a CONNECT tunnel, certificate verified against the test's own CA.
P=$TEST_DIR/pki
mkdir -p "$P"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$P/key.pem" -out "$P/cert.pem" -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >"$P/openssl.log" 2>&1 ||
    fail "openssl: $(cat "$P/openssl.log")"
start_azurite --cert "$P/cert.pem" --key "$P/key.pem"
export EDW_CA_FILE=$P/cert.pem
HTTPS_PROXY=$PROXY through_proxy 20
grep -q "^CONNECT 127.0.0.1:$AZ_QUEUE_PORT$" "$TEST_DIR/proxy.log" ||
    fail "no CONNECT to the queue port in the proxy log: $(tail -n 5 "$TEST_DIR/proxy.log")"
log "ok: http_proxy, HTTPS_PROXY (CONNECT) and NO_PROXY with $("$EDW_BIN" version | tail -n 1)"
