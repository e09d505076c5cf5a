#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# AWS test stand: fauxqs (SQS, started from its library on 127.0.0.1) and dynalite (DynamoDB)
# on free loopback ports, stopped by lib.sh's cleanup. Source after lib.sh, then call
# start_aws_emulators; it exports the environment edw and the SDK scripts read.

if [[ ! -d "${EDW_EMULATORS_DIR:?}/node_modules/fauxqs" || ! -d "$EDW_EMULATORS_DIR/node_modules/dynalite" ]]; then
    fail "emulators are not installed: run scripts/install-deps.sh (npm ci in tests/emulators)"
fi
# edw rejects unknown EDW_* variables; these three are for the test scripts only.
export -n EDW_BIN EDW_SOURCE_DIR EDW_EMULATORS_DIR
export NODE_NO_WARNINGS=1 # the SDK's "Node 20 support ends" notice would clutter stderr
SDK="$EDW_SOURCE_DIR/tests/interop/aws_sdk.mjs"

# Two distinct free ports (free_port could hand out the same one twice).
two_ports() {
    local a b
    a=$(free_port)
    b=$(free_port)
    while [[ "$a" == "$b" ]]; do b=$(free_port); done
    echo "$a $b"
}

# Sets FAUXQS_PID and DYNALITE_PID (for tests that make the services vanish).
# shellcheck disable=SC2034 # the pids are for the caller
start_aws_emulators() {
    local sqs_port ddb_port
    read -r sqs_port ddb_port < <(two_ports)
    start_bg node "$EDW_EMULATORS_DIR/fauxqs.mjs" "$sqs_port" >"$TEST_DIR/fauxqs.log" 2>&1
    FAUXQS_PID=$BG_PID
    start_bg node "$EDW_EMULATORS_DIR/node_modules/dynalite/cli.js" --host 127.0.0.1 \
        --port "$ddb_port" --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 \
        >"$TEST_DIR/dynalite.log" 2>&1
    DYNALITE_PID=$BG_PID
    export EDW_BACKEND=aws AWS_REGION=us-east-1
    export AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$sqs_port"
    export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$ddb_port"
    # The emulators do not check signatures (the SigV4 unit tests do); they need some keys.
    export AWS_ACCESS_KEY_ID=AKIDEDWTEST AWS_SECRET_ACCESS_KEY=edw-test-secret-key
    unset AWS_SESSION_TOKEN AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE AWS_ENDPOINT_URL || true
    wait_for 60 curl -sf "$AWS_ENDPOINT_URL_SQS/health" || fail "fauxqs did not start"
    wait_for 60 curl -s -o /dev/null "$AWS_ENDPOINT_URL_DYNAMODB" || fail "dynalite did not start"
}

# sdk CMD ARGS...: run the AWS SDK script (prints JSON).
sdk() { EDW_EMULATORS_DIR="$EDW_EMULATORS_DIR" node "$SDK" "$@"; }
