#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The network stack and the metrics server are modules loaded only when used (include/edw/
# module.h): the binary itself links no libcurl, libcrypto or libmicrohttpd; an SQLite consumer
# runs with no module present; asking for a network backend or the metrics port without the
# module fails with a clear message and exit code; the modules load from ../lib/edw too (the
# image's layout); a file without the module's descriptor is refused.
# Runs in the ASan build too (the copied binary keeps its sanitizer runtime).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

BIN_DIR=$(dirname "$EDW_BIN")
deps=$(ldd "$EDW_BIN")
for lib in libcurl libcrypto libmicrohttpd libgnutls; do
    [[ $deps != *"$lib"* ]] || fail "edw links $lib directly: $deps"
done
# edw-net.so holds libcurl: the system's shared one, or the lean build linked in statically
# (-DEDW_CURL=lean), whose symbols must stay inside the module (only the descriptor is
# exported) and which links none of the libraries Debian's libcurl brings.
net_deps=$(ldd "$BIN_DIR/edw-net.so")
out=$("$EDW_BIN" version --json | tail -n 1) || fail "edw version: $out"
kind=$(json_get "$out" .libcurl_build)
[[ $(json_get "$out" .libcurl) == libcurl/*" ($kind"* ]] || fail "edw version: $out"
case $kind in
system) [[ $net_deps == *libcurl* ]] || fail "edw-net.so does not link libcurl: $net_deps" ;;
lean)
    for lib in libcurl libgnutls librtmp libssh2 libldap libgssapi libnghttp2 libidn2 libpsl; do
        [[ $net_deps != *"$lib"* ]] || fail "lean edw-net.so links $lib: $net_deps"
    done
    [[ $net_deps == *libssl* ]] || fail "lean edw-net.so does not link libssl: $net_deps"
    exported=$(nm -D --defined-only "$BIN_DIR/edw-net.so" | awk '{print $NF}')
    assert_eq "$exported" edw_module_net "symbols edw-net.so exports"
    ;;
*) fail "edw version: unknown libcurl build '$kind': $out" ;;
esac
# edw-httpd.so holds libmicrohttpd: the system's shared one (on Debian with GnuTLS), or the
# lean build linked in statically (-DEDW_MHD=lean), HTTP only: no GnuTLS, symbols kept inside.
httpd_deps=$(ldd "$BIN_DIR/edw-httpd.so")
kind=$(json_get "$out" .libmicrohttpd_build)
[[ $(json_get "$out" .libmicrohttpd) == libmicrohttpd/*" ($kind"* ]] || fail "edw version: $out"
case $kind in
system)
    [[ $httpd_deps == *libmicrohttpd* ]] || fail "edw-httpd.so does not link libmicrohttpd"
    ;;
lean)
    for lib in libmicrohttpd libgnutls libnettle libhogweed libgmp libp11-kit libtasn1; do
        [[ $httpd_deps != *"$lib"* ]] || fail "lean edw-httpd.so links $lib: $httpd_deps"
    done
    exported=$(nm -D --defined-only "$BIN_DIR/edw-httpd.so" | awk '{print $NF}')
    assert_eq "$exported" edw_module_httpd "symbols edw-httpd.so exports"
    ;;
*) fail "edw version: unknown libmicrohttpd build '$kind': $out" ;;
esac

# A binary alone: SQLite works, the rest says what is missing.
mkdir -p "$TEST_DIR/alone/bin"
cp "$EDW_BIN" "$TEST_DIR/alone/bin/edw"
ALONE="$TEST_DIR/alone/bin/edw"
export EDW_SQLITE_PATH="$TEST_DIR/edw.db" EDW_LOG_LEVEL=warn
out=$(last_json "$ALONE" produce --count 50) || fail "produce without modules: $out"
assert_eq "$(json_get "$out" .sent)" 50 "sent without modules"
out=$(last_json "$ALONE" consume --exit-when-idle 0.3) || fail "consume without modules: $out"
assert_eq "$(json_get "$out" .processed)" 50 "consumed without modules"

rc=0
err=$("$ALONE" queue depth --backend aws 2>&1) || rc=$?
assert_eq "$rc" 2 "exit code of --backend aws without edw-net.so"
[[ $err == *"module edw-net.so not found in $TEST_DIR/alone/bin"* ]] || fail "unclear error: $err"
out=$("$ALONE" version) || fail "edw version without modules: $out"
[[ $out == *"edw-net.so: not available (module edw-net.so not found"* ]] ||
    fail "edw version without edw-net.so: $out"
rc=0
err=$("$ALONE" consume --exit-when-idle 0.3 --http-port "$(free_port)" 2>&1) || rc=$?
((rc != 0)) || fail "consume with a metrics port but no edw-httpd.so succeeded"
[[ $err == *"module edw-httpd.so not found"* ]] || fail "unclear error: $err"

# The installed layout: bin/edw with lib/edw/edw-*.so.
mkdir -p "$TEST_DIR/alone/lib/edw"
cp "$BIN_DIR"/edw-*.so "$TEST_DIR/alone/lib/edw/"
port=$(free_port)
start_bg "$ALONE" consume --http-port "$port" --http-addr 127.0.0.1
probe() { curl -sf --max-time 2 "http://127.0.0.1:$port/healthz" >/dev/null; }
wait_for 10 probe || fail "metrics server from lib/edw/edw-httpd.so does not answer"
kill "$BG_PID"
out=$("$ALONE" config --backend azure --json | tail -n 1)
assert_eq "$(json_get "$out" .azure_credential)" managed-identity "azure credential via lib/edw/edw-net.so"

# A file that is not the module asked for (another module's descriptor) is refused, not run.
cp "$BIN_DIR/edw-httpd.so" "$TEST_DIR/alone/lib/edw/edw-net.so"
rc=0
err=$("$ALONE" queue depth --backend azure 2>&1) || rc=$?
assert_eq "$rc" 2 "exit code with a foreign edw-net.so"
[[ $err == *"no symbol edw_module_net"* ]] || fail "unclear error for a foreign module: $err"
log "ok"
