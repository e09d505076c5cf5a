#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install what building and testing edw needs on Debian 12: the C toolchain and libraries,
# test tools, and the pinned npm emulators/SDKs (tests/emulators, from the committed lock).
# Idempotent; needs root (or sudo) for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PKGS=(build-essential cmake pkg-config libsqlite3-dev libjansson-dev libcurl4-openssl-dev
    libssl-dev libexpat1-dev libmicrohttpd-dev)
# -DEDW_CURL=lean (scripts/lean-curl.sh) builds libcurl from Debian's source package.
BUILD_PKGS+=(dpkg-dev zlib1g-dev)
TEST_PKGS=(libcmocka-dev jq sqlite3 libxml2-utils procps shellcheck clang libclang-rt-14-dev nodejs npm openssl curl
    umoci prometheus)

# prometheus: only for promtool (checks scrapes, alert rules and dashboard queries). Its
# service is not started: Debian's policy-rc.d in containers, and no systemd, see to that.
want=("${BUILD_PKGS[@]}")
[[ "${1:-}" == "--build-only" ]] || want+=("${TEST_PKGS[@]}")

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere than Debian (as on the CI image); any node >= 20 will do.
if command -v node >/dev/null && command -v npm >/dev/null; then
    filtered=()
    for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
    missing=("${filtered[@]}")
fi
if ((${#missing[@]})); then
    SUDO=""
    [[ $(id -u) -eq 0 ]] || SUDO=sudo
    echo "installing: ${missing[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

if [[ "${1:-}" != "--build-only" ]]; then
    # npm ci wipes and reinstalls; skip it while node_modules matches the committed lock.
    stamp=tests/emulators/node_modules/.edw-installed-lock
    if ! cmp -s tests/emulators/package-lock.json "$stamp"; then
        (cd tests/emulators && npm ci --no-audit --no-fund --loglevel=error)
        cp tests/emulators/package-lock.json "$stamp"
    fi
fi

# kubectl renders the Kubernetes manifests in tests (`kubectl kustomize`). Debian 12's own
# kubernetes-client (1.20) embeds kustomize 2.0.3, too old for components and `patches`, so it
# is not installed here; the CI machine image provides a current kubectl. Say so when it is
# missing rather than fail later with a puzzling kustomize error.
if [[ "${1:-}" != "--build-only" ]] &&
    ! kubectl version --client 2>/dev/null | grep -q 'Kustomize Version: v[5-9]'; then
    echo "warning: kubectl with kustomize v5 or later not found: the manifest tests" \
        "(tests/integration/k8s_manifests.sh, deploy_dry_run.sh) need it" >&2
fi
