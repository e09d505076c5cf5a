#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Remove what deploy/aws/deploy.sh created. Karpenter's NodePools go first, so Karpenter itself
# terminates the instances it launched (deleting the cluster first would leave them running);
# then the cluster, Karpenter's CloudFormation stack, the IRSA roles, the queues and the table.
# Usage: deploy/aws/cleanup.sh [--dry-run] [--region REGION] [--cluster NAME] [--queue NAME] [--table NAME]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/lib/common.sh
source "$(dirname "$HERE")/lib/common.sh"

REGION=${AWS_REGION:-us-east-1}
CLUSTER_NAME=${CLUSTER_NAME:-edw}
QUEUE=${EDW_QUEUE_NAME:-edw-messages}
TABLE=${DYNAMODB_TABLE:-edw-results}
while (($#)); do
    case "$1" in
    --dry-run) DRY_RUN=1; shift ;;
    --region) REGION=$2; shift 2 ;;
    --cluster) CLUSTER_NAME=$2; shift 2 ;;
    --queue) QUEUE=$2; shift 2 ;;
    --table) TABLE=$2; shift 2 ;;
    -h | --help) sed -n '3,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
    esac
done
need aws eksctl helm kubectl
export AWS_REGION=$REGION
ACCOUNT=$(query "<account-id>" aws sts get-caller-identity --query Account --output text)

if exists eksctl get cluster --name "$CLUSTER_NAME" --region "$REGION"; then
    run aws eks update-kubeconfig --name "$CLUSTER_NAME" --region "$REGION"
    run kubectl delete namespace edw --ignore-not-found --wait=true
    run kubectl delete nodepools.karpenter.sh edw-spot edw-on-demand --ignore-not-found --wait=true
    run kubectl delete ec2nodeclasses.karpenter.k8s.aws edw --ignore-not-found --wait=true
    run helm uninstall keda --namespace keda --ignore-not-found
    run helm uninstall karpenter --namespace kube-system --ignore-not-found
    run eksctl delete cluster --name "$CLUSTER_NAME" --region "$REGION" --wait
fi
run aws cloudformation delete-stack --stack-name "Karpenter-$CLUSTER_NAME"
for who in consumer producer keda; do
    name="edw-$who-$CLUSTER_NAME"
    if exists aws iam get-role --role-name "$name" || ((DRY_RUN)); then
        run aws iam delete-role-policy --role-name "$name" --policy-name edw
        run aws iam delete-role --role-name "$name"
    fi
done
for q in "$QUEUE" "$QUEUE-poison"; do
    if exists aws sqs get-queue-url --queue-name "$q" || ((DRY_RUN)); then
        run aws sqs delete-queue --queue-url "https://sqs.$REGION.amazonaws.com/$ACCOUNT/$q"
    fi
done
if exists aws dynamodb describe-table --table-name "$TABLE" || ((DRY_RUN)); then
    run aws dynamodb delete-table --table-name "$TABLE" --output none
fi
