#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build the "lean" libcurl that edw-net.so links statically with -DEDW_CURL=lean (see
# docs/building.md): Debian's own source package of the libcurl4 installed here (same upstream
# version, same Debian patches, security fixes included), configured for HTTP and HTTPS only
# (OpenSSL, zlib, proxies, the threaded resolver, Debian's CA paths) as a static, PIC library,
# without the libcurl features edw never asks for (the second FLAGS block; docs/building.md).
# Debian's shared libcurl4 also links LDAP, Kerberos, SSH, RTMP (and through it GnuTLS), IDN,
# PSL, brotli, zstd and nghttp2, which edw never uses and which cost every consumer ~3 MB of
# resident memory and start-up time (docs/BENCHMARKS.md).
#
# The fetching and caching are scripts/lean-lib.sh's (shared with scripts/lean-mhd.sh).
# The result is cached in CACHE/VERSION-KEY (default CACHE: build/lean-curl of the checkout):
# VERSION is the installed libcurl4's Debian version, KEY a hash of the configure flags, the
# compiler flags and this recipe. Every build directory reuses it; a new libcurl4 (a Debian
# security update: `apt-get upgrade`, then re-run cmake) or changed flags build a new one. The
# source is fetched with `apt-get source` through a private source list under CACHE (the
# machine's apt configuration is not read or changed; apt checks the files against the
# archive's signed index). Needs dpkg-dev, a C compiler, make, libssl-dev and zlib1g-dev.
#
# Usage: scripts/lean-curl.sh [--cache DIR] [--jobs N] [--print-key]
# Prints the directory holding lib/libcurl.a and include/curl/ as the last line on stdout;
# progress and errors go to stderr. --print-key prints VERSION-KEY and builds nothing.
# Environment: DEBIAN_MIRROR (default http://deb.debian.org) for the source download.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lean-lib.sh
source "$ROOT/scripts/lean-lib.sh"
lean_init lean-curl -DEDW_CURL=system "$ROOT/build/lean-curl" "$@"
# Bump when the steps below change in a way the flags do not show.
RECIPE=1

lean_source_of libcurl4
# The release's configure script is used as shipped: Debian's patches to configure.ac concern
# GSSAPI, LDAP and zsh, all left out here, so no autotools are needed.
FLAGS=(--disable-shared --enable-static --with-pic --disable-dependency-tracking
    --with-openssl --with-zlib --without-gnutls --without-nss --without-wolfssl
    --without-mbedtls --without-bearssl --without-rustls
    --without-librtmp --without-libssh2 --without-libssh --without-libidn2 --without-libpsl
    --without-brotli --without-zstd --without-nghttp2 --without-ngtcp2 --without-nghttp3
    --without-quiche --without-msh3 --without-hyper --without-gssapi --without-libgsasl
    --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet --disable-tftp
    --disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher --disable-mqtt
    --disable-ftp --disable-file --disable-ntlm-wb --disable-manual --disable-versioned-symbols
    --enable-proxy --enable-threaded-resolver --enable-ipv6
    # Features edw never uses, some of them costing work on every request: the headers API
    # (7.88 stores every response header for curl_easy_header(), a malloc per header; edw reads
    # headers in its CURLOPT_HEADERFUNCTION), cookies, HSTS, alt-svc, netrc, DoH, MIME forms,
    # Digest/NTLM/SigV4 (crypto-auth: edw signs requests itself; Basic stays, for proxies),
    # TLS-SRP, Unix sockets, the option table, the progress meter and date parsing (cookies
    # and time conditions only). Not --disable-verbose: it also turns every
    # curl_easy_strerror() text, which edw's error messages quote, into "Error"
    # (tests/integration/azure_tls_chain.sh). Only flags 7.88's configure knows (it ignores
    # others).
    --disable-headers-api --disable-cookies --disable-mime --disable-netrc --disable-alt-svc
    --disable-hsts --disable-doh --disable-crypto-auth --disable-ntlm --disable-tls-srp
    --disable-unix-sockets --disable-get-easy-options --disable-progress-meter
    --disable-dateparse
    --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --with-ca-path=/etc/ssl/certs)
lean_begin "$RECIPE"
# The patches after this marker turn the tree into the GnuTLS and NSS flavours; Debian's build
# of libcurl4 (OpenSSL) takes them off again ("quilt pop" in debian/rules), and so do we.
mapfile -t flavour < <(sed -n '/^# Do not add patches below/,$ {/^[^#]/p}' \
    "$WORK/src/debian/patches/series" | tac)
for p in "${flavour[@]}"; do
    patch -d "$WORK/src" -R -p1 -s <"$WORK/src/debian/patches/$p" ||
        die "cannot take off Debian's flavour patch $p"
done
lean_configure "HTTP and HTTPS only, static, OpenSSL"
lean_make lib

mkdir -p "$WORK/out/lib" "$WORK/out/include/curl"
cp "$WORK/src/lib/.libs/libcurl.a" "$WORK/out/lib/"
cp "$WORK"/src/include/curl/*.h "$WORK/out/include/curl/"
grep -E '^  (Protocols|Features|SSL|zlib|Proxy|Resolver|ca cert)' "$WORK/configure.log" \
    >"$WORK/out/summary" || true
printf '%s\n' "${flavour[@]}" >"$WORK/out/flavour-patches-reverted"
lean_install
