#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Start Azurite (queue + table; blob comes along) on 127.0.0.1 with ports the OS picks, in
# memory, without telemetry. The process becomes Azurite itself (exec), so the caller stops it
# by this script's pid. Azurite prints the ports it got:
#   Azurite Queue service is successfully listening at http://127.0.0.1:PORT
#   Azurite Table service is successfully listening at http://127.0.0.1:PORT
# azurite_ports LOGFILE (in tests/integration/azure_lib.sh) reads them back.
# Extra arguments go to Azurite (e.g. -d debug.log to see every string-to-sign).
set -euo pipefail
DIR=$(cd "$(dirname "$0")" && pwd)
AZURITE="$DIR/node_modules/azurite/dist/src/azurite.js"
if [[ ! -f "$AZURITE" ]]; then
    echo "azurite.sh: $AZURITE missing; run 'npm ci' in $DIR (scripts/install-deps.sh does)" >&2
    exit 1
fi
exec node "$AZURITE" \
    --blobHost 127.0.0.1 --blobPort "${AZURITE_BLOB_PORT:-0}" \
    --queueHost 127.0.0.1 --queuePort "${AZURITE_QUEUE_PORT:-0}" \
    --tableHost 127.0.0.1 --tablePort "${AZURITE_TABLE_PORT:-0}" \
    --inMemoryPersistence --extentMemoryLimit 256 \
    --disableTelemetry --skipApiVersionCheck "$@"
