#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Stand-in for az, aws, eksctl, kubectl, helm and curl in the deploy-script tests (invoked
# through symlinks of those names). Every call is appended to $STUB_LOG as one line: the
# command name and its arguments, shell-quoted. Read-only queries answer from a small model of
# the cloud kept in $STUB_STATE (things created by earlier calls exist, ids are derived from
# names), so a second run can show that the scripts are idempotent. `kubectl kustomize` runs the
# real kubectl ($STUB_REAL_KUBECTL): rendering is local and its output is what the test checks.
set -euo pipefail
name=$(basename "$0")
line=$name
for a in "$@"; do line+=" $(printf '%q' "$a")"; done
echo "$line" >>"${STUB_LOG:?}"
state=${STUB_STATE:?}
mkdir -p "$state"
key() { printf '%s' "$*" | sha256sum | cut -c1-16; }
guid() { # a stable GUID-shaped id for a name
    local h
    h=$(printf '%s' "$1" | sha256sum)
    echo "${h:0:8}-${h:8:4}-${h:12:4}-${h:16:4}-${h:20:12}"
}
has() { [[ -e "$state/$(key "$@")" ]]; }
add() { touch "$state/$(key "$@")"; }
arg() { # arg FLAG ARGS...: the value after FLAG
    local f=$1
    shift
    while (($#)); do
        [[ $1 == "$f" ]] && { echo "$2"; return; }
        shift
    done
}

case "$name" in
az)
    case "$1 $2" in
    "account show")
        case "$(arg --query "$@")" in
        id) echo 11111111-2222-3333-4444-555555555555 ;;
        tenantId) echo aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee ;;
        esac ;;
    "aks show")
        has aks "$(arg --name "$@")" || exit 3
        [[ "$(arg --query "$@")" != oidcIssuerProfile.issuerUrl ]] ||
            echo "https://eastus.oic.prod-aks.azure.com/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/$(guid "$(arg --name "$@")")/" ;;
    "aks create") add aks "$(arg --name "$@")" ;;
    "group show") has group "$(arg --name "$@")" || exit 3 ;;
    "group create") add group "$(arg --name "$@")" ;;
    "identity show")
        n=$(arg --name "$@")
        has identity "$n" || exit 3
        case "$(arg --query "$@")" in
        clientId) guid "client $n" ;;
        principalId) guid "principal $n" ;;
        esac ;;
    "identity create") add identity "$(arg --name "$@")" ;;
    "role definition")
        case "$3" in
        list) ! has roledef "$(arg --name "$@")" || guid "roledef $(arg --name "$@")" ;;
        create) add roledef "$(jq -r .Name "$(arg --role-definition "$@" | sed 's/^@//')")" ;;
        esac ;;
    "role assignment")
        k=("$(arg --role "$@")" "$(arg --scope "$@")")
        case "$3" in
        list) ! has ra "$(arg --assignee "$@")" "${k[@]}" || guid "ra $(arg --assignee "$@") ${k[*]}" ;;
        create) add ra "$(arg --assignee-object-id "$@")" "${k[@]}" ;;
        esac ;;
    esac ;;
aws)
    case "$1 $2" in
    "sts get-caller-identity") echo 111122223333 ;;
    "sqs create-queue")
        add sqs "$(arg --queue-name "$@")"
        echo "https://sqs.${AWS_REGION:-us-east-1}.amazonaws.com/111122223333/$(arg --queue-name "$@")" ;;
    "sqs get-queue-url")
        has sqs "$(arg --queue-name "$@")" || exit 254
        echo "https://sqs.${AWS_REGION:-us-east-1}.amazonaws.com/111122223333/$(arg --queue-name "$@")" ;;
    "dynamodb describe-table")
        has ddb "$(arg --table-name "$@")" || exit 254
        echo "arn:aws:dynamodb:${AWS_REGION:-us-east-1}:111122223333:table/$(arg --table-name "$@")" ;;
    "dynamodb create-table") add ddb "$(arg --table-name "$@")" ;;
    "iam get-role")
        has role "$(arg --role-name "$@")" || exit 254
        echo "arn:aws:iam::111122223333:role/$(arg --role-name "$@")" ;;
    "iam create-role") add role "$(arg --role-name "$@")" ;;
    "eks describe-cluster")
        has eks "$(arg --name "$@")" || exit 254
        echo "https://oidc.eks.${AWS_REGION:-us-east-1}.amazonaws.com/id/$(key "$(arg --name "$@")" | tr a-f A-F)" ;;
    "cloudformation describe-stacks") has cfn "$(arg --stack-name "$@")" || exit 254 ;;
    "cloudformation deploy") add cfn "$(arg --stack-name "$@")" ;;
    esac ;;
eksctl)
    case "$1 $2" in
    "get cluster") has eks "$(arg --name "$@")" || exit 1 ;;
    "create cluster") add eks "$(yq_name=$(arg -f "$@"); sed -n 's/^  name: //p' "$yq_name" | head -n 1)" ;;
    esac ;;
kubectl)
    [[ $1 != kustomize ]] || exec "${STUB_REAL_KUBECTL:?}" "$@" ;;
curl)
    out=$(arg -o "$@")
    [[ -z "$out" ]] || echo "# template fetched by the stub" >"$out" ;;
esac
exit 0
