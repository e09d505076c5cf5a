#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Deploy edw on AKS: Azure Queue Storage + Table storage with shared-key access disabled, an AKS
# cluster with KEDA, Microsoft Entra workload identity, the OIDC issuer and node
# autoprovisioning, one managed identity per role (consumer, producer, KEDA) federated with its
# Kubernetes service account, and least-privilege data roles scoped to the one queue / table.
# Idempotent: every step creates what is missing and leaves what exists.
#
# Usage: deploy/azure/deploy.sh [--dry-run] [options]
#   --dry-run               print every command that changes something, run none of them
#                           (read-only queries still run, to fill in ids that exist)
#   --resource-group NAME   (env RESOURCE_GROUP, default edw-rg)
#   --location REGION       (env LOCATION, default eastus)
#   --cluster NAME          (env CLUSTER_NAME, default edw-aks)
#   --storage-account NAME  (env STORAGE_ACCOUNT_NAME, default edw<8 hex of the group name>)
#   --queue NAME            (env AZURE_QUEUE_NAME, default edw-messages; poison: NAME-poison)
#   --table NAME            (env AZURE_TABLE_NAME, default edwresults)
#   --image REF             (env EDW_IMAGE, default edwregistry.azurecr.io/edw:0.1.0)
#   --scaledjob             deploy the KEDA ScaledJob variant instead of the Deployment
#   --out DIR               keep the rendered manifests here (default: a temporary directory)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DEPLOY=$(dirname "$HERE")
# shellcheck source=deploy/lib/common.sh
source "$DEPLOY/lib/common.sh"

RESOURCE_GROUP=${RESOURCE_GROUP:-edw-rg}
LOCATION=${LOCATION:-eastus}
CLUSTER_NAME=${CLUSTER_NAME:-edw-aks}
STORAGE_ACCOUNT_NAME=${STORAGE_ACCOUNT_NAME:-}
QUEUE=${AZURE_QUEUE_NAME:-edw-messages}
TABLE=${AZURE_TABLE_NAME:-edwresults}
IMAGE=${EDW_IMAGE:-edwregistry.azurecr.io/edw:0.1.0}
OVERLAY=aks
OUT=""
while (($#)); do
    case "$1" in
    --dry-run) DRY_RUN=1; shift ;;
    --resource-group) RESOURCE_GROUP=$2; shift 2 ;;
    --location) LOCATION=$2; shift 2 ;;
    --cluster) CLUSTER_NAME=$2; shift 2 ;;
    --storage-account) STORAGE_ACCOUNT_NAME=$2; shift 2 ;;
    --queue) QUEUE=$2; shift 2 ;;
    --table) TABLE=$2; shift 2 ;;
    --image) IMAGE=$2; shift 2 ;;
    --scaledjob) OVERLAY=aks-scaledjob; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h | --help) sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
    esac
done
need az kubectl
# Storage account names: 3-24 lowercase letters and digits, globally unique; derive a stable
# default from the resource group so reruns find the same account.
[[ -n "$STORAGE_ACCOUNT_NAME" ]] ||
    STORAGE_ACCOUNT_NAME="edw$(printf '%s' "$RESOURCE_GROUP" | sha256sum | cut -c1-8)"
[[ "$STORAGE_ACCOUNT_NAME" =~ ^[a-z0-9]{3,24}$ ]] || die "bad storage account name $STORAGE_ACCOUNT_NAME"
POISON="$QUEUE-poison"
# Must match deploy/k8s/base (namespace, service accounts) and the AKS KEDA add-on.
NAMESPACE=edw
CONSUMER_SA=edw-consumer
PRODUCER_SA=edw-producer
KEDA_SUBJECT=system:serviceaccount:kube-system:keda-operator
UPDATER_ROLE="edw Queue Message Updater"
if [[ -z "$OUT" ]]; then
    OUT=$(mktemp -d "${TMPDIR:-/tmp}/edw-aks.XXXXXX")
fi
mkdir -p "$OUT"
((DRY_RUN)) && say "dry run: commands that change something are printed, not run"

say "subscription"
SUBSCRIPTION=$(query "<subscription-id>" az account show --query id -o tsv)
TENANT=$(query "<tenant-id>" az account show --query tenantId -o tsv)
RG_ID="/subscriptions/$SUBSCRIPTION/resourceGroups/$RESOURCE_GROUP"

say "resource group and storage"
run az group create --name "$RESOURCE_GROUP" --location "$LOCATION" --output none
# Shared-key (account key and SAS) access off: every client authenticates with Entra ID.
run az storage account create --name "$STORAGE_ACCOUNT_NAME" --resource-group "$RESOURCE_GROUP" \
    --location "$LOCATION" --sku Standard_ZRS --kind StorageV2 --allow-shared-key-access false \
    --allow-blob-public-access false --min-tls-version TLS1_2 --https-only true --output none
SA_ID="$RG_ID/providers/Microsoft.Storage/storageAccounts/$STORAGE_ACCOUNT_NAME"
# Queues and the table through the management plane (PUT is create-or-keep): no data-plane
# role for whoever deploys, and no shared key.
API=2023-05-01
QUEUE_ID="$SA_ID/queueServices/default/queues/$QUEUE"
POISON_ID="$SA_ID/queueServices/default/queues/$POISON"
TABLE_ID="$SA_ID/tableServices/default/tables/$TABLE"
for res in "$QUEUE_ID" "$POISON_ID" "$TABLE_ID"; do
    run az rest --method put --url "https://management.azure.com$res?api-version=$API" \
        --body '{}' --output none
done

say "custom role: queue message update (lease renewal and retry delay)"
# The built-in Message Processor role can receive and delete but not update a message; edw
# updates messages to extend leases while a handler runs and to delay retries. This role adds
# exactly that one data action.
have_role=$(az role definition list --name "$UPDATER_ROLE" --scope "$RG_ID" --query "[0].id" \
    -o tsv 2>/dev/null || true)
if [[ -z "$have_role" ]]; then
    write_file "$OUT/queue-message-updater.json" <<JSON
{
  "Name": "$UPDATER_ROLE",
  "Description": "Update (change visibility of) messages in Azure Storage queues.",
  "Actions": [],
  "DataActions": ["Microsoft.Storage/storageAccounts/queueServices/queues/messages/write"],
  "NotDataActions": [],
  "AssignableScopes": ["$RG_ID"]
}
JSON
    run az role definition create --role-definition "@$OUT/queue-message-updater.json" --output none
fi

say "AKS cluster"
if exists az aks show --resource-group "$RESOURCE_GROUP" --name "$CLUSTER_NAME"; then
    # Re-assert the features edw relies on (no-ops when already on).
    run az aks update --resource-group "$RESOURCE_GROUP" --name "$CLUSTER_NAME" \
        --enable-oidc-issuer --enable-workload-identity --enable-keda --output none
else
    # Node autoprovisioning (managed Karpenter) needs Azure CNI overlay with Cilium. The system
    # pool only runs system pods; edw's nodes come from deploy/karpenter/aks NodePools.
    run az aks create --resource-group "$RESOURCE_GROUP" --name "$CLUSTER_NAME" \
        --location "$LOCATION" --tier standard --node-count 2 \
        --nodepool-taints CriticalAddonsOnly=true:NoSchedule \
        --enable-oidc-issuer --enable-workload-identity --enable-keda \
        --node-provisioning-mode Auto --network-plugin azure --network-plugin-mode overlay \
        --network-dataplane cilium --generate-ssh-keys --output none
fi
ISSUER=$(query "<oidc-issuer-url>" az aks show --resource-group "$RESOURCE_GROUP" \
    --name "$CLUSTER_NAME" --query oidcIssuerProfile.issuerUrl -o tsv)

say "managed identities and federated credentials"
declare -A CLIENT_ID PRINCIPAL_ID
for who in consumer producer keda; do
    run az identity create --name "edw-$who" --resource-group "$RESOURCE_GROUP" \
        --location "$LOCATION" --output none
    CLIENT_ID[$who]=$(query "<client-id of edw-$who>" az identity show --name "edw-$who" \
        --resource-group "$RESOURCE_GROUP" --query clientId -o tsv)
    PRINCIPAL_ID[$who]=$(query "<principal-id of edw-$who>" az identity show --name "edw-$who" \
        --resource-group "$RESOURCE_GROUP" --query principalId -o tsv)
done
federate() { # federate WHO SUBJECT
    run az identity federated-credential create --name "edw-$1-federation" \
        --identity-name "edw-$1" --resource-group "$RESOURCE_GROUP" --issuer "$ISSUER" \
        --subject "$2" --audiences api://AzureADTokenExchange --output none
}
federate consumer "system:serviceaccount:$NAMESPACE:$CONSUMER_SA"
federate producer "system:serviceaccount:$NAMESPACE:$PRODUCER_SA"
federate keda "$KEDA_SUBJECT"

say "role assignments (data plane, scoped to the queue or table)"
grant() { # grant WHO ROLE SCOPE
    local have
    have=$(az role assignment list --assignee "${PRINCIPAL_ID[$1]}" --role "$2" --scope "$3" \
        --query "[0].id" -o tsv 2>/dev/null || true)
    [[ -n "$have" ]] && return 0
    run az role assignment create --assignee-object-id "${PRINCIPAL_ID[$1]}" \
        --assignee-principal-type ServicePrincipal --role "$2" --scope "$3" --output none
}
# Consumers: receive + delete, update (leases, retry delays), poison, upsert rows.
grant consumer "Storage Queue Data Message Processor" "$QUEUE_ID"
grant consumer "$UPDATER_ROLE" "$QUEUE_ID"
grant consumer "Storage Queue Data Message Sender" "$POISON_ID"
grant consumer "Storage Table Data Contributor" "$TABLE_ID"
# Producer (and `edw verify`): send, record the run, read the rows back.
grant producer "Storage Queue Data Message Sender" "$QUEUE_ID"
grant producer "Storage Table Data Contributor" "$TABLE_ID"
# KEDA: the queue's approximate message count, nothing else.
grant keda "Storage Queue Data Reader" "$QUEUE_ID"

say "cluster credentials and KEDA identity"
run az aks get-credentials --resource-group "$RESOURCE_GROUP" --name "$CLUSTER_NAME" \
    --overwrite-existing
# The KEDA add-on's operator picks up its federated identity on restart.
run kubectl rollout restart deployment keda-operator --namespace kube-system

say "manifests"
prepare_render "$DEPLOY" "$OUT"
IMAGE_NAME=${IMAGE%:*}
IMAGE_TAG=${IMAGE##*:}
[[ "$IMAGE_NAME" != "$IMAGE" ]] || IMAGE_TAG=latest
write_file "$OUT/src/k8s/overlays/deploy/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../$OVERLAY
images:
  - name: edwregistry.azurecr.io/edw
    newName: $IMAGE_NAME
    newTag: "$IMAGE_TAG"
configMapGenerator:
  - name: edw-config
    namespace: $NAMESPACE
    behavior: merge
    literals:
      - AZURE_STORAGE_ACCOUNT_NAME=$STORAGE_ACCOUNT_NAME
      - AZURE_QUEUE_NAME=$QUEUE
      - AZURE_TABLE_NAME=$TABLE
patches:
  - target: {kind: ServiceAccount, name: $CONSUMER_SA}
    patch: |-
      - {op: replace, path: /metadata/annotations/azure.workload.identity~1client-id, value: "${CLIENT_ID[consumer]}"}
      - {op: add, path: /metadata/annotations/azure.workload.identity~1tenant-id, value: "$TENANT"}
  - target: {kind: ServiceAccount, name: $PRODUCER_SA}
    patch: |-
      - {op: replace, path: /metadata/annotations/azure.workload.identity~1client-id, value: "${CLIENT_ID[producer]}"}
      - {op: add, path: /metadata/annotations/azure.workload.identity~1tenant-id, value: "$TENANT"}
  - target: {kind: TriggerAuthentication, name: edw-keda-azure}
    patch: |-
      - {op: replace, path: /spec/podIdentity/identityId, value: "${CLIENT_ID[keda]}"}
  - target: {group: keda.sh, kind: "ScaledObject|ScaledJob"}
    patch: |-
      - {op: replace, path: /spec/triggers/0/metadata/queueName, value: "$QUEUE"}
      - {op: replace, path: /spec/triggers/0/metadata/accountName, value: "$STORAGE_ACCOUNT_NAME"}
YAML
cp "$DEPLOY/karpenter/aks/"*.yaml "$OUT/src/karpenter/deploy/"
render "$OUT/src/k8s/overlays/deploy" "$OUT/edw.yaml"
render "$OUT/src/karpenter/deploy" "$OUT/nodepools.yaml"

say "apply"
run kubectl apply --server-side -f "$OUT/nodepools.yaml"
# A Job's pod template is immutable: replace the (suspended) producer rather than patch it.
run kubectl delete job edw-producer --namespace "$NAMESPACE" --ignore-not-found
run kubectl apply --server-side -f "$OUT/edw.yaml"
say "done: manifests in $OUT; start a run with the producer Job (docs/deploy-aks.md)"
