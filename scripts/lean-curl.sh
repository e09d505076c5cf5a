#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build the "lean" libcurl that edw-net.so links statically with -DEDW_CURL=lean (see
# docs/building.md): Debian's own source package of the libcurl4 installed here (same upstream
# version, same Debian patches, security fixes included), configured for HTTP and HTTPS only
# (OpenSSL, zlib, proxies, the threaded resolver, Debian's CA paths) as a static, PIC library.
# Debian's shared libcurl4 also links LDAP, Kerberos, SSH, RTMP (and through it GnuTLS), IDN,
# PSL, brotli, zstd and nghttp2, which edw never uses and which cost every consumer ~3 MB of
# resident memory and start-up time (docs/BENCHMARKS.md).
#
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
CACHE=$ROOT/build/lean-curl
JOBS=2
PRINT_KEY=0
while (($#)); do
    case $1 in
    --cache) CACHE=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --print-key) PRINT_KEY=1; shift ;;
    -h | --help) sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "lean-curl: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org}
# Bump when the steps below change in a way the flags do not show.
RECIPE=1

die() {
    printf 'lean-curl: %s\n' "$*" >&2
    printf 'lean-curl: to build edw with the system libcurl instead, configure with -DEDW_CURL=system\n' >&2
    exit 1
}
say() { printf 'lean-curl: %s\n' "$*" >&2; }

command -v dpkg-query >/dev/null || die "needs a Debian system (dpkg-query not found)"
CURL_VERSION=$(dpkg-query -W -f '${source:Version}' libcurl4 2>/dev/null) ||
    die "Debian's libcurl4 is not installed (the lean build uses its source version)"
SOURCE=$(dpkg-query -W -f '${source:Package}' libcurl4)
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
    --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --with-ca-path=/etc/ssl/certs)
# Debian's compiler flags (hardening as its curl package: hardening=+all), without the
# -ffile-prefix-map of the current directory (it would make the key depend on where cmake ran).
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
command -v dpkg-buildflags >/dev/null || die "dpkg-buildflags not found (apt-get install dpkg-dev)"
CFLAGS=$(dpkg-buildflags --get CFLAGS | sed 's/-ffile-prefix-map=[^ ]* *//')
CPPFLAGS=$(dpkg-buildflags --get CPPFLAGS)
LDFLAGS=$(dpkg-buildflags --get LDFLAGS)
export CFLAGS CPPFLAGS LDFLAGS
# The compiler by its real file (cmake's first configure sets CC=/usr/bin/cc, a shell has cc).
CC=$(readlink -f "$(command -v "${CC:-cc}")") || die "no C compiler (${CC:-cc}) found"
export CC
KEY=$(printf '%s\n' "$RECIPE" "${FLAGS[@]}" "$CFLAGS" "$CPPFLAGS" "$LDFLAGS" "$CC" \
    "$("$CC" -dumpfullversion 2>/dev/null || true)" | sha256sum | cut -c1-12)
DIR=$CACHE/$CURL_VERSION-$KEY
if ((PRINT_KEY)); then
    echo "$CURL_VERSION-$KEY"
    exit 0
fi
if [[ -e $DIR/done ]]; then
    echo "$DIR"
    exit 0
fi

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
DIR=$CACHE/$CURL_VERSION-$KEY
# One build at a time (several build directories may be configured at once); the others wait
# and then find it done.
exec 9>"$CACHE/lock"
command -v flock >/dev/null && flock 9
if [[ -e $DIR/done ]]; then
    echo "$DIR"
    exit 0
fi

WORK=$CACHE/work.$$
rm -rf "$WORK" "$DIR"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial" "$WORK/dl"
t0=$(date +%s.%N)

# A private source list for this distribution release, its updates and security suites.
CODENAME=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[[ -n $CODENAME ]] || die "cannot tell the Debian release (VERSION_CODENAME in /etc/os-release)"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
SIGNED=""
[[ -r $KEYRING ]] && SIGNED="[signed-by=$KEYRING] "
{
    echo "deb-src ${SIGNED}$MIRROR/debian $CODENAME main"
    echo "deb-src ${SIGNED}$MIRROR/debian $CODENAME-updates main"
    echo "deb-src ${SIGNED}$MIRROR/debian-security $CODENAME-security main"
} >"$WORK/apt/sources.list"
APT=(-o "Dir::Etc::SourceList=$WORK/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$WORK/apt/lists" -o "Dir::Cache=$WORK/apt/cache"
    -o Dir::State::Status=/var/lib/dpkg/status)
# As root apt drops to user _apt for downloads, which cannot write into WORK.
[[ $(id -u) -ne 0 ]] || APT+=(-o APT::Sandbox::User=root)
say "fetching Debian's $SOURCE $CURL_VERSION source from $MIRROR (one-off; cached in $DIR)"
apt-get "${APT[@]}" update -qq >"$WORK/apt.log" 2>&1 ||
    die "apt-get update of the private source list failed ($MIRROR): $(tail -n 3 "$WORK/apt.log")"
(cd "$WORK/dl" && apt-get "${APT[@]}" source --download-only -qq "$SOURCE=$CURL_VERSION") \
    >>"$WORK/apt.log" 2>&1 ||
    die "cannot download the source of $SOURCE $CURL_VERSION from $MIRROR (the mirror keeps the" \
        "current version of each suite only: is libcurl4 up to date?): $(tail -n 3 "$WORK/apt.log")"
dsc=("$WORK"/dl/*.dsc)
# The .dsc's own signature needs the Debian developers' keyring; the archive's signed index
# already vouched for every file's hash.
dpkg-source -x "${dsc[0]}" "$WORK/src" >>"$WORK/apt.log" 2>&1 ||
    die "dpkg-source -x failed: $(tail -n 3 "$WORK/apt.log")"
# The patches after this marker turn the tree into the GnuTLS and NSS flavours; Debian's build
# of libcurl4 (OpenSSL) takes them off again ("quilt pop" in debian/rules), and so do we.
mapfile -t flavour < <(sed -n '/^# Do not add patches below/,$ {/^[^#]/p}' \
    "$WORK/src/debian/patches/series" | tac)
for p in "${flavour[@]}"; do
    patch -d "$WORK/src" -R -p1 -s <"$WORK/src/debian/patches/$p" ||
        die "cannot take off Debian's flavour patch $p"
done

t1=$(date +%s.%N)
say "configuring (HTTP and HTTPS only, static, OpenSSL)"
(cd "$WORK/src" && ./configure "${FLAGS[@]}") >"$WORK/configure.log" 2>&1 ||
    die "configure failed; the end of its log: $(tail -n 5 "$WORK/configure.log")"
t2=$(date +%s.%N)
say "building lib/ with make -j $JOBS"
make -C "$WORK/src/lib" -j "$JOBS" >"$WORK/make.log" 2>&1 ||
    die "make failed; the end of its log: $(tail -n 5 "$WORK/make.log")"
t3=$(date +%s.%N)
times=$(awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" \
    'BEGIN {printf "fetch %.0f s, configure %.0f s, make -j %d %.0f s", b - a, c - b, '"$JOBS"', d - c}')

mkdir -p "$WORK/out/lib" "$WORK/out/include/curl"
cp "$WORK/src/lib/.libs/libcurl.a" "$WORK/out/lib/"
cp "$WORK"/src/include/curl/*.h "$WORK/out/include/curl/"
cp "$WORK/configure.log" "$WORK/make.log" "$WORK/out/"
grep -E '^  (Protocols|Features|SSL|zlib|Proxy|Resolver|ca cert)' "$WORK/configure.log" \
    >"$WORK/out/summary" || true
printf '%s\n' "${FLAGS[@]}" >"$WORK/out/flags"
printf '%s\n' "${flavour[@]}" >"$WORK/out/flavour-patches-reverted"
echo "$CURL_VERSION" >"$WORK/out/version"
echo "$times" >"$WORK/out/build-time"
mv "$WORK/out" "$DIR"
touch "$DIR/done"
say "built $DIR/lib/libcurl.a ($times)"
echo "$DIR"
