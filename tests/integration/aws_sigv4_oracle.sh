#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck source-path=SCRIPTDIR
# The expectations in tests/vectors/aws-sigv4-json/cases.json (checked by the unit test
# sigv4_json) must be exactly what the AWS SDK for JavaScript v3's signer computes today:
# regenerate them with tests/interop/sigv4_oracle.mjs and compare.
source "$(dirname "$0")/lib.sh"
[[ -d "${EDW_EMULATORS_DIR:?}/node_modules/@smithy/signature-v4" ]] ||
    fail "@smithy/signature-v4 is not installed: run scripts/install-deps.sh"
committed="$EDW_SOURCE_DIR/tests/vectors/aws-sigv4-json/cases.json"
EDW_EMULATORS_DIR="$EDW_EMULATORS_DIR" NODE_NO_WARNINGS=1 \
    node "$EDW_SOURCE_DIR/tests/interop/sigv4_oracle.mjs" >"$TEST_DIR/cases.json"
diff -u "$committed" "$TEST_DIR/cases.json" || fail "committed SigV4 cases differ from the SDK's"
n=$(jq '.cases | length' "$committed")
((n >= 6)) || fail "only $n cases"
log "ok: $n cases reproduced by @smithy/signature-v4"
