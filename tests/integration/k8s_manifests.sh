#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Kubernetes manifests, offline: every overlay and NodePool set renders with
# `kubectl kustomize`; every object validates against its schema (Kubernetes core, KEDA,
# Karpenter; tests/integration/k8s/validate.mjs); the cross-references hold
# (tests/integration/k8s/crossref.mjs). Then known-bad variants must be rejected, so the checks
# are shown to bite.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

command -v kubectl >/dev/null ||
    fail "kubectl not found: the machine image provides it (see scripts/install-deps.sh)"
EMU=$EDW_EMULATORS_DIR
K8S=$EDW_SOURCE_DIR/tests/integration/k8s
[[ -d "$EMU/node_modules/kubernetes-models" ]] || fail "run scripts/install-deps.sh (npm ci in $EMU)"
DEPLOY=$EDW_SOURCE_DIR/deploy
R=$TEST_DIR/rendered
mkdir -p "$R"

render() { # render DIR NAME
    kubectl kustomize "$DEPLOY/$1" >"$R/$2.yaml" 2>"$R/$2.err" || fail "kustomize $1: $(cat "$R/$2.err")"
    [[ -s "$R/$2.yaml" ]] || fail "kustomize $1 rendered nothing"
    ! grep -qi warning "$R/$2.err" || fail "kustomize $1 warns: $(cat "$R/$2.err")"
}
render k8s/overlays/aks aks
render k8s/overlays/eks eks
render k8s/overlays/aks-scaledjob aks-scaledjob
render k8s/overlays/eks-scaledjob eks-scaledjob
render karpenter/aks nodes-aks
render karpenter/eks nodes-eks
log "rendered: $(cd "$R" && grep -c '^kind:' ./*.yaml | tr '\n' ' ')"

node "$K8S/validate.mjs" "$EMU" "$R"/*.yaml || fail "schema validation"

crossref() { # crossref CLOUD FILE...
    node "$K8S/crossref.mjs" --cloud "$1" --edw "$EDW_BIN" --src "$EDW_SOURCE_DIR" --emu "$EMU" "${@:2}"
}
crossref azure "$R/aks.yaml" "$R/nodes-aks.yaml" || fail "cross-references (aks)"
crossref aws "$R/eks.yaml" "$R/nodes-eks.yaml" || fail "cross-references (eks)"
crossref azure "$R/aks-scaledjob.yaml" "$R/nodes-aks.yaml" || fail "cross-references (aks-scaledjob)"
crossref aws "$R/eks-scaledjob.yaml" "$R/nodes-eks.yaml" || fail "cross-references (eks-scaledjob)"

# --- the checks reject what they should ---------------------------------------------------------
# must_reject NAME CLOUD EXPECTED SED-EXPR FILE NODES: a mutated copy of FILE must fail with a
# message containing EXPECTED.
must_reject() {
    local name=$1 cloud=$2 expected=$3 expr=$4 file=$5 nodes=$6 out
    sed -e "$expr" "$R/$file.yaml" >"$R/bad-$name.yaml"
    cmp -s "$R/$file.yaml" "$R/bad-$name.yaml" && fail "mutation $name changed nothing"
    if [[ $cloud == schema ]]; then
        out=$(node "$K8S/validate.mjs" "$EMU" "$R/bad-$name.yaml") && fail "$name: accepted"
    else
        out=$(crossref "$cloud" "$R/bad-$name.yaml" "$R/$nodes.yaml") && fail "$name: accepted"
    fi
    grep -qF -- "$expected" <<<"$out" || fail "$name: rejected, but not for '$expected': $out"
}
must_reject schema-type schema "must be integer" 's/maxReplicaCount: 50/maxReplicaCount: "50"/' aks ""
must_reject misplaced-field schema "does not exist in type 'IPodSecurityContext'" \
    's/^\(      *\)fsGroup: 65532/\1fsGroup: 65532\n\1readOnlyRootFilesystem: true/' aks ""
must_reject unknown-env azure "EDW_CONCURENCY is not read by edw" 's/EDW_CONCURRENCY:/EDW_CONCURENCY:/' aks nodes-aks
must_reject bad-env-value azure "edw config rejects" 's/EDW_VISIBILITY: "30"/EDW_VISIBILITY: soon/' aks nodes-aks
must_reject wrong-queue azure "queueName other" 's/queueName: edw-messages/queueName: other/' aks nodes-aks
must_reject wrong-account azure "accountName" 's/accountName: edwstorage/accountName: elsewhere/' aks nodes-aks
must_reject wrong-target azure "scaleTargetRef Deployment/edw-consumr" \
    '/scaleTargetRef:/,/name:/s/name: edw-consumer/name: edw-consumr/' aks nodes-aks
must_reject wrong-auth aws "authenticationRef edw-keda-awz" '/authenticationRef:/{n;s/edw-keda-aws/edw-keda-awz/}' eks nodes-eks
must_reject wrong-region aws "awsRegion eu-west-1" 's/awsRegion: us-east-1/awsRegion: eu-west-1/' eks nodes-eks
must_reject probe-port azure "but EDW_HTTP_PORT is 9091" 's/value: "9090"/value: "9091"/' aks nodes-aks
must_reject short-grace azure "terminationGracePeriodSeconds 20" \
    's/terminationGracePeriodSeconds: 30/terminationGracePeriodSeconds: 20/' aks nodes-aks
must_reject no-wi-label azure "azure.workload.identity/use" '/azure.workload.identity\/use/d' aks nodes-aks
must_reject no-role-arn aws "lacks a role-arn" '/eks.amazonaws.com\/role-arn/d' eks nodes-eks
must_reject writable-root aws "readOnlyRootFilesystem not true" \
    's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/' eks nodes-eks
must_reject bad-flag azure "edw produce has no flag --cont" 's/- --count/- --cont/' aks nodes-aks
must_reject no-toleration azure "do not tolerate taint kubernetes.azure.com/scalesetpriority" \
    's/key: kubernetes.azure.com\/scalesetpriority/key: example.com\/other/' aks nodes-aks
log "ok"
