# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# What the "lean" library recipes share (scripts/lean-curl.sh for libcurl, scripts/lean-mhd.sh
# for libmicrohttpd; docs/building.md): the installed Debian package's source version, Debian's
# compiler flags, the cache key, one build at a time with an atomic install into the cache, and
# `apt-get source` of that exact version through a private source list (the machine's apt
# configuration is not read or changed; apt checks the files against the archive's signed
# index). Sourced, not run. A recipe calls, in this order:
#   lean_init NAME FALLBACK CACHE "$@"
#                                NAME for messages, FALLBACK: the cmake option to avoid the build,
#                                CACHE: the default cache; parses the recipe's arguments
#                                (--cache DIR, --jobs N, --print-key, --help)
#   lean_source_of BINARY_PKG    sets LEAN_SOURCE, LEAN_VERSION (its source package, version),
#                                LEAN_PACKAGE (BINARY_PKG)
#   lean_begin RECIPE            (FLAGS: the recipe's configure flags) Debian's compiler flags,
#                                the cache key; prints DIR and exits if it is built (or with
#                                --print-key the key), else locks the cache, makes WORK (gone at
#                                exit) and fetches the patched source tree into WORK/src
#   lean_configure WHAT          ./configure FLAGS in WORK/src
#   lean_make SUBDIR             make -C WORK/src/SUBDIR
#   lean_install                 WORK/out (the recipe put the library and headers there) becomes
#                                DIR, with the logs and flags, complete or not at all; prints DIR
# Environment: DEBIAN_MIRROR (default http://deb.debian.org) for the source download.

LEAN_NAME=lean
LEAN_FALLBACK=""
FLAGS=() # the recipe's configure flags, set by the recipe after lean_init

# lean_init NAME FALLBACK CACHE ARGS...: the prefix of messages, the way around a failed build,
# and the recipe's arguments: CACHE (default $3), JOBS, PRINT_KEY. --help prints the recipe's
# header comment.
lean_init() {
    LEAN_NAME=$1
    LEAN_FALLBACK=$2
    CACHE=$3
    shift 3
    JOBS=2
    PRINT_KEY=0
    while (($#)); do
        case $1 in
        --cache) CACHE=$2; shift 2 ;;
        --jobs) JOBS=$2; shift 2 ;;
        --print-key) PRINT_KEY=1; shift ;;
        -h | --help) sed -n '3,/^[^#]/ {/^#/ s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        *) echo "$LEAN_NAME: unknown argument '$1' (see --help)" >&2; exit 2 ;;
        esac
    done
}

die() {
    printf '%s: %s\n' "$LEAN_NAME" "$*" >&2
    [[ -z $LEAN_FALLBACK ]] ||
        printf '%s: to build edw without it, configure with %s\n' "$LEAN_NAME" "$LEAN_FALLBACK" >&2
    exit 1
}
say() { printf '%s: %s\n' "$LEAN_NAME" "$*" >&2; }

# lean_source_of PKG: LEAN_SOURCE and LEAN_VERSION of the installed binary package PKG.
lean_source_of() {
    command -v dpkg-query >/dev/null || die "needs a Debian system (dpkg-query not found)"
    LEAN_VERSION=$(dpkg-query -W -f '${source:Version}' "$1" 2>/dev/null) ||
        die "Debian's $1 is not installed (the lean build uses its source version)"
    LEAN_SOURCE=$(dpkg-query -W -f '${source:Package}' "$1")
    LEAN_PACKAGE=$1
}

# lean_buildflags: Debian's compiler flags (hardening as Debian's packages: hardening=+all),
# without the -ffile-prefix-map of the current directory (it would make the key depend on where
# cmake ran), and the compiler by its real file (cmake's first configure sets CC=/usr/bin/cc, a
# shell has cc).
lean_buildflags() {
    export DEB_BUILD_MAINT_OPTIONS=hardening=+all
    command -v dpkg-buildflags >/dev/null ||
        die "dpkg-buildflags not found (apt-get install dpkg-dev)"
    CFLAGS=$(dpkg-buildflags --get CFLAGS | sed 's/-ffile-prefix-map=[^ ]* *//')
    CPPFLAGS=$(dpkg-buildflags --get CPPFLAGS)
    LDFLAGS=$(dpkg-buildflags --get LDFLAGS)
    export CFLAGS CPPFLAGS LDFLAGS
    CC=$(readlink -f "$(command -v "${CC:-cc}")") || die "no C compiler (${CC:-cc}) found"
    export CC
}

# lean_key RECIPE FLAGS...: KEY, 12 hex digits over the recipe number, the configure flags, the
# compiler flags, the compiler and its version.
lean_key() {
    KEY=$(printf '%s\n' "$@" "$CFLAGS" "$CPPFLAGS" "$LDFLAGS" "$CC" \
        "$("$CC" -dumpfullversion 2>/dev/null || true)" | sha256sum | cut -c1-12)
}

# lean_cache_enter CACHE: DIR for LEAN_VERSION-KEY; 1 if it is built. Otherwise waits for the lock
# (several build directories may be configured at once; the others wait and then find it done)
# and prepares WORK.
lean_cache_enter() {
    DIR=$1/$LEAN_VERSION-$KEY
    [[ ! -e $DIR/done ]] || return 1
    mkdir -p "$1"
    local cache
    cache=$(cd "$1" && pwd)
    DIR=$cache/$LEAN_VERSION-$KEY
    exec 9>"$cache/lock"
    if command -v flock >/dev/null; then flock 9; fi
    [[ ! -e $DIR/done ]] || return 1
    WORK=$cache/work.$$
    rm -rf "$WORK" "$DIR"
    trap 'rm -rf "$WORK"' EXIT
    mkdir -p "$WORK/out"
}

# lean_fetch_source: Debian's LEAN_SOURCE at LEAN_VERSION, unpacked with its patches into WORK/src.
lean_fetch_source() {
    local mirror=${DEBIAN_MIRROR:-http://deb.debian.org}
    mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial" "$WORK/dl"
    # A private source list for this distribution release, its updates and security suites.
    local codename keyring=/usr/share/keyrings/debian-archive-keyring.gpg signed=""
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [[ -n $codename ]] || die "cannot tell the Debian release (VERSION_CODENAME in /etc/os-release)"
    [[ ! -r $keyring ]] || signed="[signed-by=$keyring] "
    {
        echo "deb-src ${signed}$mirror/debian $codename main"
        echo "deb-src ${signed}$mirror/debian $codename-updates main"
        echo "deb-src ${signed}$mirror/debian-security $codename-security main"
    } >"$WORK/apt/sources.list"
    local apt=(-o "Dir::Etc::SourceList=$WORK/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$WORK/apt/lists" -o "Dir::Cache=$WORK/apt/cache"
        -o Dir::State::Status=/var/lib/dpkg/status)
    # As root apt drops to user _apt for downloads, which cannot write into WORK.
    [[ $(id -u) -ne 0 ]] || apt+=(-o APT::Sandbox::User=root)
    say "fetching Debian's $LEAN_SOURCE $LEAN_VERSION source from $mirror (one-off; cached in $DIR)"
    apt-get "${apt[@]}" update -qq >"$WORK/apt.log" 2>&1 ||
        die "apt-get update of the private source list failed ($mirror):" \
            "$(tail -n 3 "$WORK/apt.log")"
    (cd "$WORK/dl" && apt-get "${apt[@]}" source --download-only -qq "$LEAN_SOURCE=$LEAN_VERSION") \
        >>"$WORK/apt.log" 2>&1 ||
        die "cannot download the source of $LEAN_SOURCE $LEAN_VERSION from $mirror (the mirror" \
            "keeps the current version of each suite only: is $LEAN_PACKAGE up to date?):" \
            "$(tail -n 3 "$WORK/apt.log")"
    local dsc=("$WORK"/dl/*.dsc)
    # The .dsc's own signature needs the Debian developers' keyring; the archive's signed index
    # already vouched for every file's hash.
    dpkg-source -x "${dsc[0]}" "$WORK/src" >>"$WORK/apt.log" 2>&1 ||
        die "dpkg-source -x failed: $(tail -n 3 "$WORK/apt.log")"
}

# lean_begin RECIPE: everything before configure (see the top). RECIPE is bumped when a
# recipe's steps change in a way its FLAGS do not show.
lean_begin() {
    lean_buildflags
    lean_key "$1" "${FLAGS[@]}"
    if ((PRINT_KEY)); then
        echo "$LEAN_VERSION-$KEY"
        exit 0
    fi
    if ! lean_cache_enter "$CACHE"; then
        echo "$DIR"
        exit 0
    fi
    LEAN_T0=$(date +%s.%N)
    lean_fetch_source
    LEAN_T1=$(date +%s.%N)
}

# lean_configure WHAT: ./configure with the recipe's FLAGS; WHAT says what is built.
lean_configure() {
    say "configuring ($1)"
    (cd "$WORK/src" && ./configure "${FLAGS[@]}") >"$WORK/configure.log" 2>&1 ||
        die "configure failed; the end of its log: $(tail -n 5 "$WORK/configure.log")"
    LEAN_T2=$(date +%s.%N)
}

# lean_make SUBDIR: builds only the library's directory of the source tree.
lean_make() {
    say "building $1 with make -j $JOBS"
    make -C "$WORK/src/$1" -j "$JOBS" >"$WORK/make.log" 2>&1 ||
        die "make failed; the end of its log: $(tail -n 5 "$WORK/make.log")"
    local t3
    t3=$(date +%s.%N)
    LEAN_TIMES=$(awk -v a="$LEAN_T0" -v b="$LEAN_T1" -v c="$LEAN_T2" -v d="$t3" -v j="$JOBS" \
        'BEGIN {printf "fetch %.0f s, configure %.0f s, make -j %d %.0f s", b - a, c - b, j, d - c}')
}

# lean_install: WORK/out becomes DIR, complete or not at all, with the build's logs, flags and
# times; prints DIR, the recipe's answer to cmake.
lean_install() {
    cp "$WORK/configure.log" "$WORK/make.log" "$WORK/out/"
    printf '%s\n' "${FLAGS[@]}" >"$WORK/out/flags"
    echo "$LEAN_TIMES" >"$WORK/out/build-time"
    echo "$LEAN_VERSION" >"$WORK/out/version"
    mv "$WORK/out" "$DIR"
    touch "$DIR/done"
    say "built in $DIR ($LEAN_TIMES)"
    echo "$DIR"
}
