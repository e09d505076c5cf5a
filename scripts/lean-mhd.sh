#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build the "lean" libmicrohttpd that edw-httpd.so (the /metrics and probe server) links
# statically with -DEDW_MHD=lean (see docs/building.md): Debian's own source package of the
# libmicrohttpd12 installed here (same upstream version, same Debian patches), configured
# without HTTPS (edw serves plain HTTP on the pod network) and without the parts edw does not
# call (POST processor, authentication, HTTP Upgrade), as a static, PIC library. Debian's shared
# libmicrohttpd12 links GnuTLS (with p11-kit, nettle, hogweed, gmp, libtasn1, libidn2,
# libunistring, libffi) and initialises it when loaded: about 3 MB of resident memory in every
# consumer that serves /metrics (docs/BENCHMARKS.md).
#
# Fetching, caching and locking are scripts/lean-lib.sh's (shared with scripts/lean-curl.sh):
# the result is cached in CACHE/VERSION-KEY (default CACHE: build/lean-mhd of the checkout),
# VERSION being the installed libmicrohttpd12's Debian version and KEY a hash of the configure
# flags, the compiler flags and this recipe; a new libmicrohttpd12 or changed flags build a new
# one. Needs dpkg-dev, a C compiler and make.
#
# Usage: scripts/lean-mhd.sh [--cache DIR] [--jobs N] [--print-key]
# Prints the directory holding lib/libmicrohttpd.a and include/microhttpd.h as the last line on
# stdout; progress and errors go to stderr. --print-key prints VERSION-KEY and builds nothing.
# Environment: DEBIAN_MIRROR (default http://deb.debian.org) for the source download.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lean-lib.sh
source "$ROOT/scripts/lean-lib.sh"
lean_init lean-mhd -DEDW_MHD=system
CACHE=$ROOT/build/lean-mhd
JOBS=2
PRINT_KEY=0
while (($#)); do
    case $1 in
    --cache) CACHE=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --print-key) PRINT_KEY=1; shift ;;
    -h | --help) sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "lean-mhd: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
# Bump when the steps below change in a way the flags do not show.
RECIPE=1

lean_source_of libmicrohttpd12
# The release's configure script is used as shipped: Debian's patch (0.9.75-6: the
# PostProcessor fix of CVE-2023-27371) changes C code only, so no autotools are needed.
FLAGS=(--disable-shared --enable-static --with-pic --disable-dependency-tracking
    --disable-https --without-gnutls --disable-postprocessor --disable-bauth --disable-dauth
    --disable-httpupgrade --disable-doc --disable-examples --disable-curl --disable-nls
    --enable-messages --with-threads=posix --enable-epoll=yes)
lean_buildflags
lean_key "$RECIPE" "${FLAGS[@]}"
if ((PRINT_KEY)); then
    echo "$LEAN_VERSION-$KEY"
    exit 0
fi
if ! lean_cache_enter "$CACHE"; then
    echo "$DIR"
    exit 0
fi
t0=$(date +%s.%N)
lean_fetch_source

t1=$(date +%s.%N)
say "configuring (HTTP only, no GnuTLS, static)"
(cd "$WORK/src" && ./configure "${FLAGS[@]}") >"$WORK/configure.log" 2>&1 ||
    die "configure failed; the end of its log: $(tail -n 5 "$WORK/configure.log")"
grep -q '^#define HTTPS_SUPPORT' "$WORK/src/MHD_config.h" &&
    die "configure enabled HTTPS although asked not to"
t2=$(date +%s.%N)
say "building src/microhttpd with make -j $JOBS"
make -C "$WORK/src/src/microhttpd" -j "$JOBS" >"$WORK/make.log" 2>&1 ||
    die "make failed; the end of its log: $(tail -n 5 "$WORK/make.log")"
t3=$(date +%s.%N)
times=$(awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v j="$JOBS" \
    'BEGIN {printf "fetch %.0f s, configure %.0f s, make -j %d %.0f s", b - a, c - b, j, d - c}')

mkdir -p "$WORK/out/lib" "$WORK/out/include"
cp "$WORK/src/src/microhttpd/.libs/libmicrohttpd.a" "$WORK/out/lib/"
cp "$WORK/src/src/include/microhttpd.h" "$WORK/out/include/"
cp "$WORK/configure.log" "$WORK/make.log" "$WORK/out/"
sed -n '/Configuration Summary/,$p' "$WORK/configure.log" >"$WORK/out/summary" ||
    true
printf '%s\n' "${FLAGS[@]}" >"$WORK/out/flags"
echo "$times" >"$WORK/out/build-time"
lean_cache_install
say "built $DIR/lib/libmicrohttpd.a ($times)"
echo "$DIR"
