#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Remove what deploy/azure/deploy.sh created: the resource group (cluster, node resource group,
# storage account with its queues and table, managed identities with their federated
# credentials and role assignments), then the custom role, then the local kubeconfig context.
# Usage: deploy/azure/cleanup.sh [--dry-run] [--resource-group NAME] [--cluster NAME]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/lib/common.sh
source "$(dirname "$HERE")/lib/common.sh"

RESOURCE_GROUP=${RESOURCE_GROUP:-edw-rg}
CLUSTER_NAME=${CLUSTER_NAME:-edw-aks}
while (($#)); do
    case "$1" in
    --dry-run) DRY_RUN=1; shift ;;
    --resource-group) RESOURCE_GROUP=$2; shift 2 ;;
    --cluster) CLUSTER_NAME=$2; shift 2 ;;
    -h | --help) sed -n '3,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
    esac
done
need az kubectl
SUBSCRIPTION=$(query "<subscription-id>" az account show --query id -o tsv)
RG_ID="/subscriptions/$SUBSCRIPTION/resourceGroups/$RESOURCE_GROUP"

if exists az group show --name "$RESOURCE_GROUP"; then
    # Waits: the custom role can only go once no assignment uses it.
    run az group delete --name "$RESOURCE_GROUP" --yes
else
    say "resource group $RESOURCE_GROUP does not exist"
fi
have_role=$(az role definition list --name "edw Queue Message Updater" --scope "$RG_ID" \
    --query "[0].id" -o tsv 2>/dev/null || true)
if [[ -n "$have_role" ]] || ((DRY_RUN)); then
    run az role definition delete --name "edw Queue Message Updater" --scope "$RG_ID"
fi
run kubectl config delete-context "$CLUSTER_NAME"
