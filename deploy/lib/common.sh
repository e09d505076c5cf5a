#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Helpers shared by deploy/azure and deploy/aws scripts (sourced, not run).
#   run CMD...            print CMD (shell-quoted, prefixed "+ "); run it unless --dry-run
#   query DEFAULT CMD...  read-only command whose output is needed later: always run (it
#                         changes nothing); in --dry-run a failure or empty answer yields
#                         DEFAULT (e.g. "<client id of edw-consumer>") so the plan still prints
#   exists CMD...         read-only existence check: status of CMD, output discarded
#   prepare_render DEPLOY_DIR OUT: copy the manifests to OUT/src, so a generated overlay
#                         (OUT/src/k8s/overlays/deploy, OUT/src/karpenter/deploy) can refer to
#                         them by relative path as kustomize requires
# Globals: DRY_RUN (0/1).
DRY_RUN=${DRY_RUN:-0}

say() { echo "== $*" >&2; }
die() {
    echo "error: $*" >&2
    exit 1
}

print_cmd() {
    local out="+" a
    for a in "$@"; do out+=" $(printf '%q' "$a")"; done
    echo "$out"
}

run() {
    print_cmd "$@"
    ((DRY_RUN)) || "$@"
}

query() {
    local default=$1 out
    shift
    if out=$("$@" 2>/dev/null) && [[ -n "$out" ]]; then
        printf '%s\n' "$out"
    elif ((DRY_RUN)); then
        printf '%s\n' "$default"
    else
        die "command failed or returned nothing: $(print_cmd "$@")"
    fi
}

exists() { "$@" >/dev/null 2>&1; }

need() {
    local c
    for c in "$@"; do command -v "$c" >/dev/null || die "$c is required (see the deploy doc)"; done
}

# write_file PATH: stdin to PATH, and show it in the plan (files feed commands that follow).
write_file() {
    cat >"$1"
    echo "# wrote $1:"
    sed 's/^/#   /' "$1"
}

prepare_render() {
    rm -rf "$2/src"
    mkdir -p "$2/src"
    cp -R "$1/k8s" "$1/keda" "$1/karpenter" "$2/src/"
    mkdir -p "$2/src/k8s/overlays/deploy" "$2/src/karpenter/deploy"
}

# render DIR FILE: kubectl kustomize (local, changes nothing: runs in --dry-run too).
render() {
    kubectl kustomize "$1" >"$2" || die "kustomize $1 failed"
    echo "# rendered $2 ($(grep -c '^kind:' "$2") objects)"
}
