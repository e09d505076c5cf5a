#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Deploy edw on EKS, the reference architecture's original home: an SQS queue (+ poison queue)
# and a DynamoDB table, an EKS cluster with an IAM OIDC provider (IRSA), Karpenter (its IAM from
# the Karpenter project's CloudFormation template), KEDA with its own IRSA role, and one IAM role
# per edw service account, scoped to the one queue and the one table. Idempotent.
#
# Usage: deploy/aws/deploy.sh [--dry-run] [options]
#   --dry-run            print every command that changes something, run none of them
#   --region REGION      (env AWS_REGION, default us-east-1)
#   --cluster NAME       (env CLUSTER_NAME, default edw)
#   --queue NAME         (env EDW_QUEUE_NAME, default edw-messages; poison: NAME-poison)
#   --table NAME         (env DYNAMODB_TABLE, default edw-results)
#   --image REF          (env EDW_IMAGE, default <account>.dkr.ecr.<region>.amazonaws.com/edw:0.1.0)
#   --scaledjob          deploy the KEDA ScaledJob variant instead of the Deployment
#   --out DIR            keep the rendered manifests and policies here (default: a temp dir)
# Versions: KUBERNETES_VERSION (1.32), KARPENTER_VERSION (1.5.0), KEDA_VERSION (2.17.2).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DEPLOY=$(dirname "$HERE")
# shellcheck source=deploy/lib/common.sh
source "$DEPLOY/lib/common.sh"

REGION=${AWS_REGION:-us-east-1}
CLUSTER_NAME=${CLUSTER_NAME:-edw}
QUEUE=${EDW_QUEUE_NAME:-edw-messages}
TABLE=${DYNAMODB_TABLE:-edw-results}
IMAGE=${EDW_IMAGE:-}
KUBERNETES_VERSION=${KUBERNETES_VERSION:-1.32}
KARPENTER_VERSION=${KARPENTER_VERSION:-1.5.0}
KEDA_VERSION=${KEDA_VERSION:-2.17.2}
OVERLAY=eks
OUT=""
while (($#)); do
    case "$1" in
    --dry-run) DRY_RUN=1; shift ;;
    --region) REGION=$2; shift 2 ;;
    --cluster) CLUSTER_NAME=$2; shift 2 ;;
    --queue) QUEUE=$2; shift 2 ;;
    --table) TABLE=$2; shift 2 ;;
    --image) IMAGE=$2; shift 2 ;;
    --scaledjob) OVERLAY=eks-scaledjob; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h | --help) sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
    esac
done
need aws eksctl helm kubectl curl
export AWS_REGION=$REGION
POISON="$QUEUE-poison"
# Must match deploy/k8s/base and the KEDA chart's service account.
NAMESPACE=edw
KEDA_NAMESPACE=keda
[[ -n "$OUT" ]] || OUT=$(mktemp -d "${TMPDIR:-/tmp}/edw-eks.XXXXXX")
mkdir -p "$OUT"
((DRY_RUN)) && say "dry run: commands that change something are printed, not run"

ACCOUNT=$(query "<account-id>" aws sts get-caller-identity --query Account --output text)
IMAGE=${IMAGE:-$ACCOUNT.dkr.ecr.$REGION.amazonaws.com/edw:0.1.0}
QUEUE_URL="https://sqs.$REGION.amazonaws.com/$ACCOUNT/$QUEUE"
QUEUE_ARN="arn:aws:sqs:$REGION:$ACCOUNT:$QUEUE"
POISON_ARN="arn:aws:sqs:$REGION:$ACCOUNT:$POISON"
TABLE_ARN="arn:aws:dynamodb:$REGION:$ACCOUNT:table/$TABLE"
role_name() { echo "edw-$1-$CLUSTER_NAME"; }
role_arn() { echo "arn:aws:iam::$ACCOUNT:role/$(role_name "$1")"; }

say "queues and table"
# CreateQueue returns the existing queue when the attributes match. edw moves poison messages
# itself (with their reason), so no redrive policy; server-side encryption on.
for q in "$QUEUE" "$POISON"; do
    run aws sqs create-queue --queue-name "$q" --attributes \
        VisibilityTimeout=30,MessageRetentionPeriod=1209600,SqsManagedSseEnabled=true \
        --query QueueUrl --output text
done
if ! exists aws dynamodb describe-table --table-name "$TABLE" --query Table.TableArn --output text; then
    run aws dynamodb create-table --table-name "$TABLE" \
        --attribute-definitions AttributeName=id,AttributeType=S \
        --key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST \
        --sse-specification Enabled=true --output none
    run aws dynamodb wait table-exists --table-name "$TABLE"
fi

say "Karpenter IAM (node role, controller policy, interruption queue)"
run curl -fsSL -o "$OUT/karpenter-cloudformation.yaml" \
    "https://raw.githubusercontent.com/aws/karpenter-provider-aws/v$KARPENTER_VERSION/website/content/en/preview/getting-started/getting-started-with-karpenter/cloudformation.yaml"
run aws cloudformation deploy --stack-name "Karpenter-$CLUSTER_NAME" \
    --template-file "$OUT/karpenter-cloudformation.yaml" --capabilities CAPABILITY_NAMED_IAM \
    --parameter-overrides "ClusterName=$CLUSTER_NAME" --no-fail-on-empty-changeset

say "EKS cluster"
# The discovery tag on the stack propagates to the VPC's subnets and security groups, which the
# EC2NodeClass (deploy/karpenter/eks) selects by it.
write_file "$OUT/cluster.yaml" <<YAML
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: $CLUSTER_NAME
  region: $REGION
  version: "$KUBERNETES_VERSION"
  tags:
    karpenter.sh/discovery: $CLUSTER_NAME
iam:
  # The IAM OIDC provider that IRSA (edw's and KEDA's roles) trusts.
  withOIDC: true
  podIdentityAssociations:
    - namespace: kube-system
      serviceAccountName: karpenter
      roleName: $CLUSTER_NAME-karpenter
      permissionPolicyARNs:
        - arn:aws:iam::$ACCOUNT:policy/KarpenterControllerPolicy-$CLUSTER_NAME
iamIdentityMappings:
  - arn: arn:aws:iam::$ACCOUNT:role/KarpenterNodeRole-$CLUSTER_NAME
    username: system:node:{{EC2PrivateDNSName}}
    groups:
      - system:bootstrappers
      - system:nodes
managedNodeGroups:
  # Runs the controllers (Karpenter, KEDA, CoreDNS); edw's nodes come from Karpenter.
  - name: system
    instanceType: m6i.large
    amiFamily: AmazonLinux2023
    desiredCapacity: 2
    minSize: 2
    maxSize: 3
    privateNetworking: true
addons:
  - name: eks-pod-identity-agent
YAML
if exists eksctl get cluster --name "$CLUSTER_NAME" --region "$REGION"; then
    run eksctl utils associate-iam-oidc-provider --cluster "$CLUSTER_NAME" --region "$REGION" --approve
else
    run eksctl create cluster -f "$OUT/cluster.yaml"
fi
ISSUER=$(query "https://oidc.eks.$REGION.amazonaws.com/id/<oidc-id>" aws eks describe-cluster \
    --name "$CLUSTER_NAME" --region "$REGION" --query cluster.identity.oidc.issuer --output text)
ISSUER_HOST=${ISSUER#https://}

say "IAM roles for service accounts (edw consumer, edw producer, KEDA)"
# irsa_role WHO NAMESPACE SERVICE_ACCOUNT POLICY_JSON: a role only that service account of this
# cluster can assume, with exactly POLICY_JSON.
irsa_role() {
    local who=$1 ns=$2 sa=$3 policy=$4 name
    name=$(role_name "$who")
    write_file "$OUT/$who-trust.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::$ACCOUNT:oidc-provider/$ISSUER_HOST"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {"StringEquals": {
      "$ISSUER_HOST:sub": "system:serviceaccount:$ns:$sa",
      "$ISSUER_HOST:aud": "sts.amazonaws.com"
    }}
  }]
}
JSON
    printf '%s\n' "$policy" | write_file "$OUT/$who-policy.json"
    if exists aws iam get-role --role-name "$name" --query Role.Arn --output text; then
        run aws iam update-assume-role-policy --role-name "$name" \
            --policy-document "file://$OUT/$who-trust.json"
    else
        run aws iam create-role --role-name "$name" \
            --assume-role-policy-document "file://$OUT/$who-trust.json" \
            --description "edw $who ($CLUSTER_NAME)" --output text --query Role.Arn
    fi
    run aws iam put-role-policy --role-name "$name" --policy-name edw \
        --policy-document "file://$OUT/$who-policy.json"
}
irsa_role consumer "$NAMESPACE" edw-consumer "{
  \"Version\": \"2012-10-17\",
  \"Statement\": [
    {\"Sid\": \"Work\", \"Effect\": \"Allow\", \"Resource\": \"$QUEUE_ARN\", \"Action\": [
      \"sqs:ReceiveMessage\", \"sqs:DeleteMessage\", \"sqs:ChangeMessageVisibility\",
      \"sqs:GetQueueAttributes\", \"sqs:GetQueueUrl\"]},
    {\"Sid\": \"Poison\", \"Effect\": \"Allow\", \"Resource\": \"$POISON_ARN\", \"Action\": [
      \"sqs:SendMessage\", \"sqs:GetQueueUrl\"]},
    {\"Sid\": \"Results\", \"Effect\": \"Allow\", \"Resource\": \"$TABLE_ARN\", \"Action\": [
      \"dynamodb:BatchWriteItem\", \"dynamodb:PutItem\", \"dynamodb:UpdateItem\",
      \"dynamodb:GetItem\", \"dynamodb:DescribeTable\"]}
  ]
}"
irsa_role producer "$NAMESPACE" edw-producer "{
  \"Version\": \"2012-10-17\",
  \"Statement\": [
    {\"Sid\": \"Send\", \"Effect\": \"Allow\", \"Resource\": \"$QUEUE_ARN\", \"Action\": [
      \"sqs:SendMessage\", \"sqs:GetQueueUrl\", \"sqs:GetQueueAttributes\"]},
    {\"Sid\": \"RunsAndVerify\", \"Effect\": \"Allow\", \"Resource\": \"$TABLE_ARN\", \"Action\": [
      \"dynamodb:PutItem\", \"dynamodb:GetItem\", \"dynamodb:Query\", \"dynamodb:Scan\",
      \"dynamodb:DescribeTable\"]}
  ]
}"
irsa_role keda "$KEDA_NAMESPACE" keda-operator "{
  \"Version\": \"2012-10-17\",
  \"Statement\": [
    {\"Sid\": \"Depth\", \"Effect\": \"Allow\", \"Resource\": \"$QUEUE_ARN\", \"Action\": [
      \"sqs:GetQueueAttributes\"]}
  ]
}"

say "cluster credentials, Karpenter and KEDA"
run aws eks update-kubeconfig --name "$CLUSTER_NAME" --region "$REGION"
run helm upgrade --install karpenter oci://public.ecr.aws/karpenter/karpenter \
    --version "$KARPENTER_VERSION" --namespace kube-system \
    --set "settings.clusterName=$CLUSTER_NAME" --set "settings.interruptionQueue=$CLUSTER_NAME" \
    --wait
run helm repo add kedacore https://kedacore.github.io/charts --force-update
run helm upgrade --install keda kedacore/keda --version "$KEDA_VERSION" \
    --namespace "$KEDA_NAMESPACE" --create-namespace \
    --set podIdentity.aws.irsa.enabled=true \
    --set "podIdentity.aws.irsa.roleArn=$(role_arn keda)" --wait

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
  - name: 111122223333.dkr.ecr.us-east-1.amazonaws.com/edw
    newName: $IMAGE_NAME
    newTag: "$IMAGE_TAG"
configMapGenerator:
  - name: edw-config
    namespace: $NAMESPACE
    behavior: merge
    literals:
      - AWS_REGION=$REGION
      - SQS_QUEUE_URL=$QUEUE_URL
      - DYNAMODB_TABLE=$TABLE
patches:
  - target: {kind: ServiceAccount, name: edw-consumer}
    patch: |-
      - {op: replace, path: /metadata/annotations/eks.amazonaws.com~1role-arn, value: "$(role_arn consumer)"}
  - target: {kind: ServiceAccount, name: edw-producer}
    patch: |-
      - {op: replace, path: /metadata/annotations/eks.amazonaws.com~1role-arn, value: "$(role_arn producer)"}
  - target: {group: keda.sh, kind: "ScaledObject|ScaledJob"}
    patch: |-
      - {op: replace, path: /spec/triggers/0/metadata/awsRegion, value: "$REGION"}
YAML
write_file "$OUT/src/karpenter/deploy/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../eks
patches:
  - target: {kind: EC2NodeClass, name: edw}
    patch: |-
      - {op: replace, path: /spec/role, value: "KarpenterNodeRole-$CLUSTER_NAME"}
      - {op: replace, path: /spec/subnetSelectorTerms/0/tags/karpenter.sh~1discovery, value: "$CLUSTER_NAME"}
      - {op: replace, path: /spec/securityGroupSelectorTerms/0/tags/karpenter.sh~1discovery, value: "$CLUSTER_NAME"}
YAML
render "$OUT/src/k8s/overlays/deploy" "$OUT/edw.yaml"
render "$OUT/src/karpenter/deploy" "$OUT/nodepools.yaml"

say "apply"
run kubectl apply --server-side -f "$OUT/nodepools.yaml"
run kubectl delete job edw-producer --namespace "$NAMESPACE" --ignore-not-found
run kubectl apply --server-side -f "$OUT/edw.yaml"
say "done: manifests in $OUT; start a run with the producer Job (docs/deploy-eks.md)"
