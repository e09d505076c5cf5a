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
lean_init lean-mhd -DEDW_MHD=system "$ROOT/build/lean-mhd" "$@"
# Bump when the steps below change in a way the flags do not show.
RECIPE=1

lean_source_of libmicrohttpd12
# The release's configure script is used as shipped: Debian's patch (0.9.75-6: the
# PostProcessor fix of CVE-2023-27371) changes C code only, so no autotools are needed.
FLAGS=(--disable-shared --enable-static --with-pic --disable-dependency-tracking
    --disable-https --without-gnutls --disable-postprocessor --disable-bauth --disable-dauth
    --disable-httpupgrade --disable-doc --disable-examples --disable-curl --disable-nls
    --enable-messages --with-threads=posix --enable-epoll=yes)
lean_begin "$RECIPE"
lean_configure "HTTP only, no GnuTLS, static"
grep -q '^#define HTTPS_SUPPORT' "$WORK/src/MHD_config.h" &&
    die "configure enabled HTTPS although asked not to"
lean_make src/microhttpd

mkdir -p "$WORK/out/lib" "$WORK/out/include"
cp "$WORK/src/src/microhttpd/.libs/libmicrohttpd.a" "$WORK/out/lib/"
cp "$WORK/src/src/include/microhttpd.h" "$WORK/out/include/"
sed -n '/Configuration Summary/,$p' "$WORK/configure.log" >"$WORK/out/summary" || true
lean_install
