#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deploy/monitoring and deploy/grafana, offline: they render with `kubectl kustomize`; the
# PodMonitor and PrometheusRule validate against the Prometheus Operator schemas; the
# PodMonitor selects the consumer pods on the port edw serves; every metric the dashboard and
# the alerts name is one a real edw scrape announces; `promtool check rules` parses every
# alert and every dashboard query. Then known-bad variants must be rejected.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

command -v kubectl >/dev/null || fail "kubectl not found (see scripts/install-deps.sh)"
command -v promtool >/dev/null || fail "promtool not found (Debian package prometheus)"
EMU=$EDW_EMULATORS_DIR
K8S=$EDW_SOURCE_DIR/tests/integration/k8s
DEPLOY=$EDW_SOURCE_DIR/deploy
[[ -d "$EMU/node_modules/@kubernetes-models/prometheus-operator" ]] ||
    fail "run scripts/install-deps.sh (npm ci in $EMU)"
R=$TEST_DIR/rendered
mkdir -p "$R"

kubectl kustomize "$DEPLOY/monitoring" >"$R/monitoring.yaml" 2>"$R/err" || fail "kustomize: $(cat "$R/err")"
kubectl kustomize "$DEPLOY/k8s/overlays/aks" >"$R/aks.yaml" 2>"$R/err" || fail "kustomize: $(cat "$R/err")"
node "$K8S/validate.mjs" "$EMU" "$R/monitoring.yaml" || fail "schema validation"

# A real scrape: its `# TYPE` lines are the metric names edw exposes.
"$EDW_BIN" produce --count 20 >/dev/null
port=$(free_port)
start_bg "$EDW_BIN" consume --http-port "$port" --http-addr 127.0.0.1 >/dev/null
consumer=$BG_PID
scraped() { curl -sf --max-time 5 "http://127.0.0.1:$port/metrics" >"$R/scrape.prom"; }
wait_for 10 scraped || fail "no scrape"
kill -TERM "$consumer"
wait "$consumer" || fail "consumer failed"

# check MONITORING DASHBOARD: cross-references and metric names, then promtool on the PromQL.
# Prints every problem found; fails if there is any.
check() {
    local rc=0
    node "$K8S/monitoring.mjs" "$EMU" "$1" "$R/aks.yaml" "$2" "$R/scrape.prom" "$R" || rc=1
    promtool check rules "$R/alerts.rules.yaml" 2>&1 || rc=1
    promtool check rules "$R/dashboard.rules.yaml" 2>&1 || rc=1
    return $rc
}
out=$(check "$R/monitoring.yaml" "$DEPLOY/grafana/edw-dashboard.json") || fail "monitoring checks: $out"
log "$(grep '^ok:' <<<"$out")"

# --- the checks reject what they should -----------------------------------------------------
# must_reject NAME EXPECTED SED-EXPR [dashboard]: a mutated copy (of the rendered manifests, or
# of the dashboard JSON) must fail with a message containing EXPECTED.
must_reject() {
    local name=$1 expected=$2 expr=$3 what=${4:-manifests} out mon=$R/monitoring.yaml
    local dash=$DEPLOY/grafana/edw-dashboard.json
    if [[ $what == dashboard ]]; then
        sed -e "$expr" "$dash" >"$R/bad-$name.json"
        cmp -s "$dash" "$R/bad-$name.json" && fail "mutation $name changed nothing"
        dash=$R/bad-$name.json
    else
        sed -e "$expr" "$mon" >"$R/bad-$name.yaml"
        cmp -s "$mon" "$R/bad-$name.yaml" && fail "mutation $name changed nothing"
        mon=$R/bad-$name.yaml
    fi
    out=$(check "$mon" "$dash") && fail "$name: accepted"
    grep -qF -- "$expected" <<<"$out" || fail "$name: rejected, but not for '$expected': $out"
}
must_reject wrong-port "PodMonitor port metrcs is not a port" 's/^    port: metrics$/    port: metrcs/'
must_reject wrong-selector "PodMonitor selects app.kubernetes.io/component=producer" \
    '/selector:/,/component:/s/component: consumer/component: producer/'
must_reject unknown-metric "edw_messages_stored_total is not a metric edw exposes" \
    's/edw_messages_processed_total{outcome=\\"stored\\"/edw_messages_stored_total{outcome=\\"stored\\"/' dashboard
must_reject bad-promql "parse error" 's/sum by (reason) (rate(/sum by (reason) (rate((/' dashboard
must_reject bad-alert "parse error" \
    's/(increase(edw_messages_poisoned_total\[15m\]))/(increase(edw_messages_poisoned_total[15m])/'
log "ok"
