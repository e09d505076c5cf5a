#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TLS as the real services present it: Azurite over HTTPS with a leaf certificate issued by an
# intermediate CA under a root CA (made here; only the root is trusted, through EDW_CA_FILE),
# Shared Key auth. Checks that the whole chain verifies (a self-signed certificate skips the
# checks of CA signatures: OpenSSL set up without its digest table fails exactly those, see
# docs/BENCHMARKS.md), that responses far larger than edw's 4 KiB curl receive buffer arrive
# whole, that an untrusted chain is refused, and that GNUTLS_NO_IMPLICIT_INIT, which edw sets
# only while it loads its modules, does not reach the handler's environment (a value the user
# set does).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=azure_lib.sh
source "$(dirname "$0")/azure_lib.sh"

command -v openssl >/dev/null || fail "openssl is not installed (scripts/install-deps.sh)"
P=$TEST_DIR/pki
mkdir -p "$P"
ossl() { openssl "$@" >>"$P/openssl.log" 2>&1 || fail "openssl $1: $(cat "$P/openssl.log")"; }
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$P/ca.ext"
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$P/leaf.ext"
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$P/root.key" -out "$P/root.pem" -days 2 \
    -subj /CN=edw-test-root -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign
ossl req -newkey rsa:2048 -nodes -keyout "$P/int.key" -out "$P/int.csr" -subj /CN=edw-test-int
ossl x509 -req -in "$P/int.csr" -CA "$P/root.pem" -CAkey "$P/root.key" -CAcreateserial \
    -out "$P/int.pem" -days 2 -sha384 -extfile "$P/ca.ext"
ossl req -newkey rsa:2048 -nodes -keyout "$P/leaf.key" -out "$P/leaf.csr" -subj /CN=127.0.0.1
ossl x509 -req -in "$P/leaf.csr" -CA "$P/int.pem" -CAkey "$P/int.key" -CAcreateserial \
    -out "$P/leaf.pem" -days 2 -sha256 -extfile "$P/leaf.ext"
cat "$P/leaf.pem" "$P/int.pem" >"$P/chain.pem"
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$P/other.key" -out "$P/other.pem" -days 2 \
    -subj /CN=edw-test-other

start_azurite --cert "$P/chain.pem" --key "$P/leaf.key"
unset GNUTLS_NO_IMPLICIT_INIT
export EDW_QUEUE_NAME=tlsq EDW_TABLE_NAME=tlsrows

# Untrusted: the chain ends at a root edw was not given
set +e
err=$(EDW_CA_FILE="$P/other.pem" "$EDW_BIN" queue create 2>&1)
code=$?
set -e
((code != 0)) || fail "queue create succeeded with an untrusted certificate chain"
[[ "$err" == *"certificate"* || "$err" == *"SSL"* ]] || fail "untrusted chain, unclear error: $err"

export EDW_CA_FILE="$P/root.pem"
"$EDW_BIN" queue create >"$TEST_DIR/setup.out" 2>&1 || fail "queue create: $(cat "$TEST_DIR/setup.out")"
"$EDW_BIN" table create >>"$TEST_DIR/setup.out" 2>&1 || fail "table create: $(cat "$TEST_DIR/setup.out")"

# 40 bodies of 20 kB: a receive of 32 is a response of about 1 MB, read 4 KiB at a time
out=$(last_json "$EDW_BIN" produce --count 40 --body-bytes 20000)
assert_eq "$(json_get "$out" .sent)" 40 "produce sent"
ENVS=$TEST_DIR/handler-env
out=$(last_json "$EDW_BIN" consume --exit-when-idle 1 \
    --handler "exec:echo \"\${GNUTLS_NO_IMPLICIT_INIT-unset}\" >>$ENVS; wc -c" 2>"$TEST_DIR/consume.err")
assert_eq "$(json_get "$out" .processed)" 40 "consumed over https: $(cat "$TEST_DIR/consume.err")"
out=$(last_json "$EDW_BIN" table count)
assert_eq "$(json_get "$out" .count)" 40 "table count"
assert_eq "$(sort -u "$ENVS")" unset "GNUTLS_NO_IMPLICIT_INIT in the handler's environment"

# A value the user set is theirs: kept, and passed on
out=$(last_json "$EDW_BIN" produce --count 3)
out=$(GNUTLS_NO_IMPLICIT_INIT=0 last_json "$EDW_BIN" consume --exit-when-idle 1 \
    --handler "exec:echo \"\${GNUTLS_NO_IMPLICIT_INIT-unset}\" >>$ENVS.user" 2>>"$TEST_DIR/consume.err")
assert_eq "$(json_get "$out" .processed)" 3 "consumed with GNUTLS_NO_IMPLICIT_INIT=0"
assert_eq "$(sort -u "$ENVS.user")" 0 "a user's GNUTLS_NO_IMPLICIT_INIT"
log "ok"
