#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deploy/azure and deploy/aws scripts against stub az/aws/eksctl/kubectl/helm/curl commands
# that record every call (tests/integration/k8s/stub.sh). Checks: --dry-run changes nothing and
# prints the same plan a real run executes; the flags, federated credentials and
# least-privilege roles/policies are the ones the design needs; a second run creates nothing
# new (idempotent); the manifests the scripts render carry the created identities and pass
# schema and cross-reference checks; cleanup --dry-run deletes in a safe order.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

command -v kubectl >/dev/null || fail "kubectl not found (see scripts/install-deps.sh)"
K8S=$EDW_SOURCE_DIR/tests/integration/k8s
STUBS=$TEST_DIR/bin
mkdir -p "$STUBS"
for c in az aws eksctl kubectl helm curl; do ln -s "$K8S/stub.sh" "$STUBS/$c"; done
export STUB_REAL_KUBECTL
STUB_REAL_KUBECTL=$(command -v kubectl)
# Identity values come from the stubs' model of the cloud, never from the caller's environment.
unset RESOURCE_GROUP LOCATION CLUSTER_NAME STORAGE_ACCOUNT_NAME AZURE_QUEUE_NAME AZURE_TABLE_NAME \
    EDW_IMAGE AWS_REGION EDW_QUEUE_NAME DYNAMODB_TABLE

# deploy NAME SCRIPT ARGS...: run SCRIPT with the stubs first on PATH; its calls go to
# $TEST_DIR/NAME.log, its plan (the "+ " lines) to $TEST_DIR/NAME.plan.
deploy() {
    local name=$1 script=$2
    shift 2
    STUB_LOG="$TEST_DIR/$name.log" PATH="$STUBS:$PATH" "$EDW_SOURCE_DIR/deploy/$script" "$@" \
        >"$TEST_DIR/$name.out" 2>"$TEST_DIR/$name.err" ||
        fail "$script $*: $(tail -n 5 "$TEST_DIR/$name.err")"
    grep '^+ ' "$TEST_DIR/$name.out" >"$TEST_DIR/$name.plan" || true
    touch "$TEST_DIR/$name.log"
}
# stub ARGS...: ask the stub model directly (same state), without recording the call.
stub() { STUB_LOG=/dev/null PATH="$STUBS:$PATH" "$@"; }
# calls NAME PREFIX: recorded calls of run NAME that start with PREFIX
calls() { grep -F -- "$2" "$TEST_DIR/$1.log" | grep -c -- "^$2" || true; }
# argv NAME LINE-PREFIX FLAG: the value of FLAG in each recorded call starting with PREFIX
argv() {
    local line a
    while IFS= read -r line; do
        eval "a=($line)"
        for ((i = 0; i < ${#a[@]} - 1; i++)); do [[ ${a[i]} != "$3" ]] || echo "${a[i + 1]}"; done
    done < <(grep -- "^$2" "$TEST_DIR/$1.log")
}
has_call() { grep -q -- "$2" "$TEST_DIR/$1.log" || fail "$1: no call matching '$2'"; }
no_call() { ! grep -q -- "$2" "$TEST_DIR/$1.log" || fail "$1: unexpected call: $(grep -- "$2" "$TEST_DIR/$1.log" | head -n 1)"; }
# verbs FILE: the command words of each plan line (values differ between dry and real runs)
verbs() { sed -E "s/^\\+ //; s/ --.*//; s#$TEST_DIR/[^/ ]*/#OUT/#g" "$1"; }
checks() { # checks CLOUD DIR: the rendered manifests
    node "$K8S/validate.mjs" "$EDW_EMULATORS_DIR" "$2/edw.yaml" "$2/nodepools.yaml" >/dev/null ||
        fail "rendered $1 manifests: $(node "$K8S/validate.mjs" "$EDW_EMULATORS_DIR" "$2"/edw.yaml "$2"/nodepools.yaml)"
    node "$K8S/crossref.mjs" --cloud "$1" --edw "$EDW_BIN" --src "$EDW_SOURCE_DIR" \
        --emu "$EDW_EMULATORS_DIR" "$2/edw.yaml" "$2/nodepools.yaml" | grep -v '^note' ||
        fail "rendered $1 manifests fail cross-references"
}
yaml_get() { # yaml_get FILE KIND NAME JQ: a field of one rendered object
    node -e '
        const { parseAllDocuments } = require(process.argv[1]);
        const fs = require("fs");
        const o = parseAllDocuments(fs.readFileSync(process.argv[2], "utf8")).map((d) => d.toJS())
            .find((x) => x && x.kind === process.argv[3] && x.metadata.name === process.argv[4]);
        console.log(JSON.stringify(o ?? null));' "$EDW_EMULATORS_DIR/node_modules/yaml" "$1" "$2" "$3" |
        jq -r "$4"
}

# ================================ Azure ================================
export STUB_STATE=$TEST_DIR/azure-state
deploy az-dry azure/deploy.sh --dry-run --out "$TEST_DIR/az-dry"
# Dry run: only queries reached the (stub) cloud.
mutating=$(grep -vE '^(az (account show|aks show|group show|identity show|role definition list|role assignment list)|kubectl kustomize) ' "$TEST_DIR/az-dry.log" || true)
[[ -z "$mutating" ]] || fail "azure --dry-run ran: $mutating"
[[ $(wc -l <"$TEST_DIR/az-dry.plan") -ge 20 ]] || fail "azure --dry-run printed a short plan"

deploy az-1 azure/deploy.sh --out "$TEST_DIR/az-1"
diff <(verbs "$TEST_DIR/az-dry.plan") <(verbs "$TEST_DIR/az-1.plan") >/dev/null ||
    fail "azure dry-run plan differs from what a run executes: $(diff <(verbs "$TEST_DIR/az-dry.plan") <(verbs "$TEST_DIR/az-1.plan"))"
[[ $(grep -c . "$TEST_DIR/az-1.plan") -eq $(grep -cvE '^(az (account show|aks show|group show|identity show|role definition list|role assignment list)|kubectl kustomize) ' "$TEST_DIR/az-1.log") ]] ||
    fail "azure: the plan does not list every changing command the run made"

has_call az-1 '^az storage account create .*--allow-shared-key-access false'
no_call az-1 '^az storage account keys'
for flag in --enable-oidc-issuer --enable-workload-identity --enable-keda "--node-provisioning-mode Auto"; do
    has_call az-1 "^az aks create .*$flag"
done
ISSUER=$(stub az aks show --resource-group edw-rg --name edw-aks --query oidcIssuerProfile.issuerUrl -o tsv)
expected_fic="edw-consumer system:serviceaccount:edw:edw-consumer
edw-keda system:serviceaccount:kube-system:keda-operator
edw-producer system:serviceaccount:edw:edw-producer"
got_fic=$(paste -d' ' <(argv az-1 "az identity federated-credential create" --identity-name) \
    <(argv az-1 "az identity federated-credential create" --subject) | sort)
assert_eq "$got_fic" "$expected_fic" "federated credentials (identity, subject)"
assert_eq "$(argv az-1 "az identity federated-credential create" --issuer | sort -u)" "$ISSUER" "issuer"
assert_eq "$(argv az-1 "az identity federated-credential create" --audiences | sort -u)" \
    api://AzureADTokenExchange "audience"

# Role assignments: exactly these, each on one queue or the table.
declare -A WHO
for w in consumer producer keda; do
    WHO[$(stub az identity show --name "edw-$w" --resource-group edw-rg --query principalId -o tsv)]=$w
done
got_roles=$(paste -d'|' <(argv az-1 "az role assignment create" --assignee-object-id) \
    <(argv az-1 "az role assignment create" --role) <(argv az-1 "az role assignment create" --scope) |
    while IFS='|' read -r p role scope; do echo "${WHO[$p]:-?}|$role|${scope##*/Microsoft.Storage/storageAccounts/}"; done | sort)
SA=$(yaml_get "$TEST_DIR/az-1/edw.yaml" ScaledObject edw-consumer '.spec.triggers[0].metadata.accountName')
expected_roles=$(sort <<EOR
consumer|Storage Queue Data Message Processor|$SA/queueServices/default/queues/edw-messages
consumer|edw Queue Message Updater|$SA/queueServices/default/queues/edw-messages
consumer|Storage Queue Data Message Sender|$SA/queueServices/default/queues/edw-messages-poison
consumer|Storage Table Data Contributor|$SA/tableServices/default/tables/edwresults
producer|Storage Queue Data Message Sender|$SA/queueServices/default/queues/edw-messages
producer|Storage Table Data Contributor|$SA/tableServices/default/tables/edwresults
keda|Storage Queue Data Reader|$SA/queueServices/default/queues/edw-messages
EOR
)
assert_eq "$got_roles" "$expected_roles" "role assignments (identity|role|scope)"
no_call az-1 'role assignment create.*--role \(Owner\|Contributor\|Storage\\ Account\\ Contributor\|Storage\\ Queue\\ Data\\ Contributor\)'
roledef=$(argv az-1 "az role definition create" --role-definition)
assert_eq "$(jq -c '[.DataActions, .Actions]' "${roledef#@}")" \
    '[["Microsoft.Storage/storageAccounts/queueServices/queues/messages/write"],[]]' "custom role"

# The rendered manifests carry the identities that were federated.
checks azure "$TEST_DIR/az-1"
for w in consumer producer; do
    assert_eq "$(yaml_get "$TEST_DIR/az-1/edw.yaml" ServiceAccount "edw-$w" '.metadata.annotations["azure.workload.identity/client-id"]')" \
        "$(stub az identity show --name "edw-$w" --resource-group edw-rg --query clientId -o tsv)" "edw-$w client id"
done
assert_eq "$(yaml_get "$TEST_DIR/az-1/edw.yaml" TriggerAuthentication edw-keda-azure .spec.podIdentity.identityId)" \
    "$(stub az identity show --name edw-keda --resource-group edw-rg --query clientId -o tsv)" "KEDA identity"
has_call az-1 '^kubectl apply --server-side -f .*/edw.yaml'

# Second run over what exists: nothing is created again.
deploy az-2 azure/deploy.sh --out "$TEST_DIR/az-2"
for c in "az aks create" "az role assignment create" "az role definition create"; do no_call az-2 "^$c"; done
has_call az-2 '^az aks update .*--enable-workload-identity'

deploy az-clean azure/cleanup.sh --dry-run
grep -q '^+ az group delete --name edw-rg --yes' "$TEST_DIR/az-clean.plan" || fail "azure cleanup plan"
no_call az-clean '^az group delete'
log "azure: plan, flags, 3 federated credentials, 7 scoped role assignments, idempotent rerun: ok"

# ================================ AWS ================================
export STUB_STATE=$TEST_DIR/aws-state
deploy aws-dry aws/deploy.sh --dry-run --out "$TEST_DIR/aws-dry"
mutating=$(grep -vE '^(aws (sts get-caller-identity|dynamodb describe-table|iam get-role|eks describe-cluster)|eksctl get cluster|kubectl kustomize) ' "$TEST_DIR/aws-dry.log" || true)
[[ -z "$mutating" ]] || fail "aws --dry-run ran: $mutating"

deploy aws-1 aws/deploy.sh --out "$TEST_DIR/aws-1"
diff <(verbs "$TEST_DIR/aws-dry.plan") <(verbs "$TEST_DIR/aws-1.plan") >/dev/null ||
    fail "aws dry-run plan differs from the run: $(diff <(verbs "$TEST_DIR/aws-dry.plan") <(verbs "$TEST_DIR/aws-1.plan"))"
grep -q '^  withOIDC: true' "$TEST_DIR/aws-1/cluster.yaml" || fail "cluster without an IAM OIDC provider"
has_call aws-1 "^eksctl create cluster -f $TEST_DIR/aws-1/cluster.yaml"
has_call aws-1 '^helm upgrade --install karpenter .*settings.clusterName=edw'
has_call aws-1 '^helm upgrade --install keda .*podIdentity.aws.irsa.enabled=true'
assert_eq "$(argv aws-1 "helm upgrade --install keda" --set | grep roleArn)" \
    "podIdentity.aws.irsa.roleArn=arn:aws:iam::111122223333:role/edw-keda-edw" "KEDA IRSA role"
ISSUER_HOST=$(stub aws eks describe-cluster --name edw --region us-east-1 --query cluster.identity.oidc.issuer --output text)
ISSUER_HOST=${ISSUER_HOST#https://}
Q=arn:aws:sqs:us-east-1:111122223333:edw-messages
T=arn:aws:dynamodb:us-east-1:111122223333:table/edw-results
policy() { jq -c '[.Statement[] | {r: .Resource, a: (.Action | sort)}] | sort' "$TEST_DIR/aws-1/$1-policy.json"; }
assert_eq "$(policy consumer)" "$(jq -c 'sort' <<EOJ
[{"r":"$Q","a":["sqs:ChangeMessageVisibility","sqs:DeleteMessage","sqs:GetQueueAttributes","sqs:GetQueueUrl","sqs:ReceiveMessage"]},
 {"r":"$Q-poison","a":["sqs:GetQueueUrl","sqs:SendMessage"]},
 {"r":"$T","a":["dynamodb:BatchWriteItem","dynamodb:DescribeTable","dynamodb:GetItem","dynamodb:PutItem","dynamodb:UpdateItem"]}]
EOJ
)" "consumer policy"
assert_eq "$(policy producer)" "$(jq -c 'sort' <<EOJ
[{"r":"$Q","a":["sqs:GetQueueAttributes","sqs:GetQueueUrl","sqs:SendMessage"]},
 {"r":"$T","a":["dynamodb:DescribeTable","dynamodb:GetItem","dynamodb:PutItem","dynamodb:Query","dynamodb:Scan"]}]
EOJ
)" "producer policy"
assert_eq "$(policy keda)" "[{\"r\":\"$Q\",\"a\":[\"sqs:GetQueueAttributes\"]}]" "KEDA policy"
for w in consumer:edw:edw-consumer producer:edw:edw-producer keda:keda:keda-operator; do
    IFS=: read -r who ns sa <<<"$w"
    trust=$TEST_DIR/aws-1/$who-trust.json
    assert_eq "$(jq -r --arg h "$ISSUER_HOST" '.Statement[0].Condition.StringEquals[$h + ":sub"]' "$trust")" \
        "system:serviceaccount:$ns:$sa" "$who trust subject"
    assert_eq "$(jq -r '.Statement[0].Principal.Federated' "$trust")" \
        "arn:aws:iam::111122223333:oidc-provider/$ISSUER_HOST" "$who trusted provider"
    has_call aws-1 "^aws iam put-role-policy --role-name edw-$who-edw --policy-name edw"
done
checks aws "$TEST_DIR/aws-1"
for w in consumer producer; do
    assert_eq "$(yaml_get "$TEST_DIR/aws-1/edw.yaml" ServiceAccount "edw-$w" '.metadata.annotations["eks.amazonaws.com/role-arn"]')" \
        "arn:aws:iam::111122223333:role/edw-$w-edw" "edw-$w role annotation"
done

deploy aws-2 aws/deploy.sh --out "$TEST_DIR/aws-2"
for c in "eksctl create cluster" "aws iam create-role" "aws dynamodb create-table"; do no_call aws-2 "^$c"; done
has_call aws-2 '^aws iam update-assume-role-policy'

deploy aws-clean aws/cleanup.sh --dry-run
np=$(grep -n 'kubectl delete nodepools' "$TEST_DIR/aws-clean.plan" | cut -d: -f1)
cl=$(grep -n 'eksctl delete cluster' "$TEST_DIR/aws-clean.plan" | cut -d: -f1)
[[ -n "$np" && -n "$cl" && $np -lt $cl ]] || fail "aws cleanup must delete NodePools before the cluster"
no_call aws-clean '^eksctl delete'
log "aws: plan, OIDC, IRSA trust, scoped policies, idempotent rerun, cleanup order: ok"
