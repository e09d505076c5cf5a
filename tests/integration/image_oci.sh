#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The runtime image, built without a container daemon (deploy/image/build-oci.sh, umoci):
# it is small, runs as uid 65532, holds nothing but the binary, its libraries, CA certificates
# and passwd/group, and the binary runs from the unpacked root filesystem (chroot) with only
# what the image carries: produce -> consume -> verify on SQLite and on Azure (Azurite).
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

command -v umoci >/dev/null || fail "umoci is not installed (scripts/install-deps.sh installs it)"
MAX_COMPRESSED=$((20 * 1024 * 1024))

summary=$("$EDW_SOURCE_DIR/deploy/image/build-oci.sh" --out "$TEST_DIR/oci" \
    --unpack "$TEST_DIR/bundle" | tail -n 1)
compressed=$(json_get "$summary" .compressed_bytes)
uncompressed=$(json_get "$summary" .uncompressed_bytes)
log "image size: $compressed bytes compressed (registry/pull), $uncompressed bytes unpacked"
((compressed > 0 && uncompressed > compressed)) || fail "implausible sizes: $summary"
((compressed < MAX_COMPRESSED)) || fail "image is $compressed bytes compressed, target < $MAX_COMPRESSED"

BUNDLE="$TEST_DIR/bundle"
ROOTFS="$BUNDLE/rootfs"
CONFIG="$BUNDLE/config.json"

# --- image configuration (as a runtime would apply it) -----------------------------------------
assert_eq "$(jq -c '[.process.user.uid, .process.user.gid]' "$CONFIG")" "[65532,65532]" "image user"
assert_eq "$(jq -c '.process.args' "$CONFIG")" '["/usr/local/bin/edw","consume"]' "entrypoint+cmd"
assert_eq "$(jq -r '.process.cwd' "$CONFIG")" "/tmp" "working directory"
jq -e '.process.env | index("EDW_HTTP_PORT=9090")' "$CONFIG" >/dev/null ||
    fail "image env lacks EDW_HTTP_PORT=9090: $(jq -c .process.env "$CONFIG")"

# --- contents: only what the binary needs ------------------------------------------------------
for sh in bin/sh usr/bin/sh bin/bash bin/busybox usr/bin/apt usr/bin/dpkg; do
    [[ ! -e "$ROOTFS/$sh" ]] || fail "image contains /$sh"
done
unexpected=$(cd "$ROOTFS" && find . -type f ! -path ./usr/local/bin/edw ! -path './lib*/*.so*' \
    ! -path './usr/local/lib/edw/edw-*.so' \
    ! -path './usr/lib*/*.so*' ! -path ./etc/ssl/certs/ca-certificates.crt ! -path ./etc/passwd \
    ! -path ./etc/group ! -path ./etc/nsswitch.conf)
[[ -z "$unexpected" ]] || fail "unexpected files in the image: $unexpected"
setuid=$(find "$ROOTFS" -perm /6000 -type f)
[[ -z "$setuid" ]] || fail "setuid/setgid files in the image: $setuid"
# Nothing outside /tmp is writable by the runtime user (the pod also mounts the root read-only).
writable=$(find "$ROOTFS" -path "$ROOTFS/tmp" -prune -o \( -uid 65532 -o -perm -o+w \) ! -type l -print)
[[ -z "$writable" ]] || fail "writable by the runtime user: $writable"
grep -q '^edw:x:65532:65532:' "$ROOTFS/etc/passwd" || fail "passwd has no edw user"
grep -q 'BEGIN CERTIFICATE' "$ROOTFS/etc/ssl/certs/ca-certificates.crt" || fail "no CA certificates"

# --- run the binary from the image -------------------------------------------------------------
# in_image ENV=VALUE... -- ARGS...: run /usr/local/bin/edw ARGS inside the unpacked root
# filesystem as the image's user, with the image's environment plus ENV and nothing from the host.
mapfile -t IMAGE_ENV < <(jq -r '.process.env[]' "$CONFIG")
in_image() {
    local extra=()
    while [[ $1 != -- ]]; do
        extra+=("$1")
        shift
    done
    shift
    if [[ $(id -u) -eq 0 ]]; then
        env -i "${IMAGE_ENV[@]}" "${extra[@]}" \
            chroot --userspec=65532:65532 "$ROOTFS" /usr/local/bin/edw "$@"
    else # unprivileged: a user namespace gives chroot without root (runs as the mapped root)
        env -i "${IMAGE_ENV[@]}" "${extra[@]}" \
            unshare --map-root-user chroot "$ROOTFS" /usr/local/bin/edw "$@"
    fi
}

in_image -- --help | grep -q '^usage: edw COMMAND' || fail "edw --help does not run in the image"
in_image -- consume --help | grep -q -- '--shutdown-grace' || fail "consume --help in the image"
# The network backends and the metrics server are modules the binary loads when used: each
# must load from the image, with the libraries it needs (the AWS backend's first call needs
# no server: credentials are checked first).
for m in net httpd; do
    [[ -f "$ROOTFS/usr/local/lib/edw/edw-$m.so" ]] || fail "image lacks /usr/local/lib/edw/edw-$m.so"
done
out=$(in_image EDW_BACKEND=azure -- config --json) || fail "edw config (azure) in the image: $out"
[[ $(json_get "$out" .azure_credential) != unavailable ]] || fail "edw-net.so does not load: $out"
# The image's edw-net.so has the lean libcurl linked in (build-oci.sh's default): no shared
# libcurl, and none of the libraries only Debian's libcurl brings, are in the image.
out=$(in_image -- version --json | tail -n 1) || fail "edw version in the image: $out"
assert_eq "$(json_get "$out" .libcurl_build)" lean "libcurl build in the image ($out)"
curl_libs=$(cd "$ROOTFS" && find . -name 'libcurl*' -o -name 'librtmp*' -o -name 'libldap*' \
    -o -name 'libssh2*' -o -name 'libkrb5*' -o -name 'libnghttp2*' -o -name 'libpsl*' \
    -o -name 'libbrotli*' -o -name 'libzstd*')
[[ -z $curl_libs ]] || fail "libraries of Debian's libcurl in the image: $curl_libs"
# Likewise edw-httpd.so has the lean libmicrohttpd (HTTP only): no GnuTLS and its libraries.
assert_eq "$(json_get "$out" .libmicrohttpd_build)" lean "libmicrohttpd build in the image ($out)"
mhd_libs=$(cd "$ROOTFS" && find . -name 'libmicrohttpd*' -o -name 'libgnutls*' \
    -o -name 'libnettle*' -o -name 'libhogweed*' -o -name 'libgmp*' -o -name 'libp11-kit*' \
    -o -name 'libtasn1*')
[[ -z $mhd_libs ]] || fail "libraries of Debian's libmicrohttpd in the image: $mhd_libs"

# smoke_backend NAME ENV=VALUE...: the whole workflow inside the image against one backend.
# The metrics port is moved off the image default so parallel tests cannot collide on it.
smoke_backend() {
    local backend=$1
    shift
    local env=(EDW_BACKEND="$backend" EDW_HTTP_PORT="$(free_port)" EDW_LOG_LEVEL=warn "$@")
    local n=300 out
    in_image "${env[@]}" -- queue create >/dev/null || fail "$backend: queue create"
    in_image "${env[@]}" -- table create >/dev/null || fail "$backend: table create"
    out=$(in_image "${env[@]}" -- produce --count "$n" --json | tail -n 1)
    assert_eq "$(json_get "$out" .sent)" "$n" "$backend: produced"
    out=$(in_image "${env[@]}" -- consume --exit-when-idle 1 --json | tail -n 1)
    assert_eq "$(json_get "$out" .processed)" "$n" "$backend: consumed"
    out=$(in_image "${env[@]}" -- verify --json | tail -n 1) || fail "$backend: verify: $out"
    assert_eq "$(json_get "$out" .stored)/$(json_get "$out" .missing)" "$n/0" "$backend: verified"
    log "$backend: $n messages produced, consumed and verified inside the image"
}

smoke_backend sqlite EDW_SQLITE_PATH=/tmp/edw-smoke.db
# Azure against Azurite on loopback: the image's libcurl, its libraries and its configuration
# must be enough to reach Queue and Table storage (the chroot shares the host's network).
# shellcheck source=azure_lib.sh
source "$(dirname "$0")/azure_lib.sh"
start_azurite
smoke_backend azure AZURE_STORAGE_CONNECTION_STRING="$AZURE_STORAGE_CONNECTION_STRING" \
    EDW_QUEUE_NAME=smoke EDW_TABLE_NAME=smoke
log "ok"
