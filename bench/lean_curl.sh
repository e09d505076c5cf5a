#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What a lean libcurl would do to the Azure consumer's memory (issue 4's 10 MB target). Fetches
# the source of the libcurl Debian ships (same version and security patches, via `apt-get
# source` with a private source list: the machine's apt configuration is not touched), builds
# it with HTTP and HTTPS only (OpenSSL, zlib; no LDAP, RTMP, SSH, GSSAPI, IDN, PSL, brotli, zstd,
# HTTP/2) into build/lean-curl, then runs bench/rss.sh for the Azure backend twice: with
# Debian's libcurl and with the lean one first on edw's LD_LIBRARY_PATH (same binary and
# modules; the dynamic loader warns that the lean library lacks Debian's symbol versions). An
# evaluation only: edw does not ship this libcurl. Figures only.
# Usage: bench/lean_curl.sh [messages=2000] [runs=3]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
RUNS=${2:-3}
DIR=$PWD/build/lean-curl
LIB=$DIR/src/lib/.libs
mkdir -p "$DIR/apt/lists/partial"

if [[ ! -e $LIB/libcurl.so.4 ]]; then
    echo "deb-src http://deb.debian.org/debian bookworm main" >"$DIR/apt/sources.list"
    APT=(-o "Dir::Etc::SourceList=$DIR/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$DIR/apt/lists")
    apt-get "${APT[@]}" update -qq
    version=$(dpkg-query -W -f '${source:Version}' libcurl4)
    rm -rf "$DIR/dl" "$DIR/src"
    mkdir -p "$DIR/dl"
    (cd "$DIR/dl" && apt-get "${APT[@]}" source --download-only -qq "curl=$version")
    dpkg-source -x "$DIR"/dl/curl_*.dsc "$DIR/src" >/dev/null
    (cd "$DIR/src" && ./configure --disable-static --enable-shared --with-openssl --with-zlib \
        --without-gnutls --without-librtmp --without-libssh2 --without-libssh --without-libidn2 \
        --without-libpsl --without-brotli --without-zstd --without-nghttp2 --without-gssapi \
        --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet \
        --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp \
        --disable-gopher --disable-mqtt --disable-ftp --disable-file --disable-manual \
        --enable-threaded-resolver --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt \
        --with-ca-path=/etc/ssl/certs >"$DIR/configure.log" 2>&1)
    make -C "$DIR/src/lib" -j 2 >"$DIR/make.log" 2>&1
fi
printf 'lean libcurl: %s (%d libraries with its dependencies; Debian'"'"'s: %d)\n' \
    "$LIB/libcurl.so.4" "$(ldd "$LIB/libcurl.so.4" | grep -c '=>')" \
    "$(ldd "$(ldconfig -p | awk '/libcurl.so.4 .*x86-64/ {print $NF; exit}')" | grep -c '=>')"
echo "--- Debian's libcurl"
bench/rss.sh "$N" "$RUNS" azure
echo "--- lean libcurl"
RSS_LIBRARY_PATH=$LIB bench/rss.sh "$N" "$RUNS" azure 2> >(grep -v 'no version information' >&2)
