#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Lay out the minimal runtime root filesystem of the edw image in DEST: the (stripped) binary,
# its modules (edw-*.so next to it, dlopen'ed for the Azure/AWS backends and /metrics; see
# include/edw/module.h) in /usr/local/lib/edw, exactly the shared libraries the dynamic loader
# resolves for the binary and the modules (ldd), the loader itself, the
# CA bundle libcurl is built to read, and passwd/group entries for the unprivileged user. No
# shell, no package manager. Used by both deploy/Dockerfile and deploy/image/build-oci.sh, so
# the two ways of building produce the same files.
# Usage: collect-rootfs.sh BINARY DEST
set -euo pipefail

[[ $# -eq 2 ]] || {
    echo "usage: $0 BINARY DEST" >&2
    exit 2
}
BIN=$1
DEST=$2
# The uid/gid the image runs as; the Kubernetes manifests use the same numbers.
EDW_UID=65532
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

[[ -x "$BIN" ]] || {
    echo "collect-rootfs: $BIN is not an executable" >&2
    exit 1
}
[[ -r "$CA_BUNDLE" ]] || {
    echo "collect-rootfs: $CA_BUNDLE missing (install ca-certificates)" >&2
    exit 1
}
if grep -qa -e __asan_init -e __ubsan_handle "$BIN"; then
    echo "collect-rootfs: $BIN is a sanitizer build; use a release build for the image" >&2
    exit 1
fi

MODULES=("$(dirname "$BIN")"/edw-*.so)
[[ -e "${MODULES[0]}" ]] || {
    echo "collect-rootfs: no modules (edw-*.so) next to $BIN" >&2
    exit 1
}

mkdir -p "$DEST"/usr/local/bin "$DEST"/usr/local/lib/edw "$DEST"/etc/ssl/certs "$DEST"/tmp
install -m 0755 "$BIN" "$DEST/usr/local/bin/edw"
strip --strip-unneeded "$DEST/usr/local/bin/edw"
for m in "${MODULES[@]}"; do
    install -m 0644 "$m" "$DEST/usr/local/lib/edw/"
    strip --strip-unneeded "$DEST/usr/local/lib/edw/$(basename "$m")"
done

# Every resolved library and the loader, copied to the path the loader will look them up by
# (symlinks followed, so merged-/usr layouts need no links in the image).
copy_lib() {
    local path=$1
    mkdir -p "$DEST$(dirname "$path")"
    cp -L "$path" "$DEST$path"
    chmod 0644 "$DEST$path"
}
found=0
declare -A copied=()
while read -r line; do
    case "$line" in
    *:) continue ;; # "FILE:" heads each file's list when ldd is given several
    *"=> not found"*)
        echo "collect-rootfs: unresolved library: $line" >&2
        exit 1
        ;;
    *"=> /"*) lib=${line#*=> } ;;
    /*) lib=$line ;;
    *) continue ;; # linux-vdso and friends have no file
    esac
    lib=${lib%% (*}
    [[ -z "${copied[$lib]:-}" ]] || continue
    copied[$lib]=1
    copy_lib "$lib"
    found=$((found + 1))
done < <(ldd "$BIN" "${MODULES[@]}")
((found > 0)) || {
    echo "collect-rootfs: ldd found no libraries (static binary?)" >&2
    exit 1
}
# Keep the loader executable: the kernel maps it as PT_INTERP.
interp=$(ldd "$BIN" | awk '$1 ~ /^\// && $2 ~ /^\(/ {print $1}')
[[ -z "$interp" ]] || chmod 0755 "$DEST$interp"

cp -L "$CA_BUNDLE" "$DEST$CA_BUNDLE"
chmod 0644 "$DEST$CA_BUNDLE"
printf 'root:x:0:0:root:/root:/nonexistent\nedw:x:%d:%d:edw:/tmp:/nonexistent\n' \
    "$EDW_UID" "$EDW_UID" >"$DEST/etc/passwd"
printf 'root:x:0:\nedw:x:%d:\n' "$EDW_UID" >"$DEST/etc/group"
# glibc's resolver reads this; without it the defaults are the same, but be explicit.
printf 'hosts: files dns\n' >"$DEST/etc/nsswitch.conf"
chmod 1777 "$DEST/tmp"
chmod 0644 "$DEST"/etc/passwd "$DEST"/etc/group "$DEST"/etc/nsswitch.conf
