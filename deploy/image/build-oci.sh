#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Assemble the edw runtime image as an OCI image layout with umoci: no container daemon, no
# registry, no root needed for the build itself. The files are the ones deploy/Dockerfile puts
# in its final stage (both use collect-rootfs.sh), so CI can build, measure and run the image
# that users get from `docker build -f deploy/Dockerfile .`.
#
# Usage: build-oci.sh [--binary PATH] [--curl lean|system] [--mhd lean|system] [--out DIR]
#                     [--tag TAG] [--unpack DIR]
#   --binary PATH  use this edw binary (default: a fresh Release build of this checkout)
#   --curl KIND    libcurl of that build (-DEDW_CURL, docs/building.md; default lean)
#   --mhd KIND     libmicrohttpd of that build (-DEDW_MHD, docs/building.md; default lean)
#   --out DIR      where the layout goes: DIR/layout (default: build/oci)
#   --tag TAG      image tag inside the layout (default: latest)
#   --unpack DIR   also unpack the image as a runtime bundle (DIR/rootfs, DIR/config.json)
# The last line on stdout is a JSON summary: layout, tag, compressed and uncompressed bytes.
# Copy to a registry with e.g. `skopeo copy oci:build/oci/layout:latest docker://REGISTRY/edw:TAG`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=""
OUT="$ROOT/build/oci"
TAG=latest
UNPACK=""
CURL=lean
MHD=lean
while (($#)); do
    case "$1" in
    --binary) BIN=$2; shift 2 ;;
    --curl) CURL=$2; shift 2 ;;
    --mhd) MHD=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --tag) TAG=$2; shift 2 ;;
    --unpack) UNPACK=$2; shift 2 ;;
    -h | --help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-oci: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
command -v umoci >/dev/null || {
    echo "build-oci: umoci not found (apt-get install umoci, or scripts/install-deps.sh)" >&2
    exit 1
}

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK="$OUT/work"
rm -rf "$WORK" "$OUT/layout"
mkdir -p "$WORK"

if [[ -z "$BIN" ]]; then
    # Same flags as the Dockerfile's builder stage. The lean libcurl and libmicrohttpd come from
    # the checkout's caches (build/lean-curl, build/lean-mhd), built there once.
    cmake -S "$ROOT" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
        -DEDW_WERROR=ON -DEDW_CURL="$CURL" -DEDW_MHD="$MHD" >/dev/null
    cmake --build "$WORK/build" -j "$(nproc)" >/dev/null
    BIN="$WORK/build/edw"
fi

"$ROOT/deploy/image/collect-rootfs.sh" "$BIN" "$WORK/rootfs"

ROOTLESS=()
[[ $(id -u) -eq 0 ]] || ROOTLESS=(--rootless)
IMAGE="$OUT/layout:$TAG"
umoci init --layout "$OUT/layout"
umoci new --image "$IMAGE"
# One layer holding the whole root filesystem (owned by root, like a Dockerfile COPY).
umoci insert "${ROOTLESS[@]}" --image "$IMAGE" --history.created_by "collect-rootfs.sh" \
    "$WORK/rootfs" /
# Non-root by uid (Kubernetes' runAsNonRoot can only verify a numeric user), the binary as
# entrypoint, consume as the default command, metrics port documented.
umoci config --image "$IMAGE" --os linux --architecture "$(dpkg --print-architecture 2>/dev/null || echo amd64)" \
    --config.user 65532:65532 --config.entrypoint /usr/local/bin/edw --config.cmd consume \
    --config.workingdir /tmp --config.exposedports 9090/tcp --config.stopsignal SIGTERM \
    --config.env EDW_HTTP_PORT=9090 \
    --config.label org.opencontainers.image.title=edw \
    --config.label org.opencontainers.image.source=deploy/Dockerfile \
    --history.created_by "umoci config"
umoci gc --layout "$OUT/layout"

# Compressed: every blob the layout references (what a registry stores and a node pulls).
# Uncompressed: the bytes of the files in the root filesystem.
compressed=$(find "$OUT/layout/blobs" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
uncompressed=$(find "$WORK/rootfs" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')

if [[ -n "$UNPACK" ]]; then
    rm -rf "$UNPACK"
    umoci unpack "${ROOTLESS[@]}" --image "$IMAGE" "$UNPACK" >/dev/null
fi
printf '{"layout":"%s","tag":"%s","compressed_bytes":%d,"uncompressed_bytes":%d}\n' \
    "$OUT/layout" "$TAG" "$compressed" "$uncompressed"
