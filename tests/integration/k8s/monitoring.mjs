// SPDX-License-Identifier: Apache-2.0
// Cross-checks of deploy/monitoring against the consumer Deployment and edw's metrics, offline:
//  - the PodMonitor selects the consumer pods (labels, namespace) on a named container port
//    that is the port edw serves (EDW_HTTP_PORT);
//  - the dashboard ConfigMap carries the sidecar label and exactly deploy/grafana's JSON;
//  - every metric a dashboard panel or alert names is one edw exposes (the `# TYPE` lines of a
//    real scrape, histograms with their _bucket/_sum/_count series);
//  - it writes the alert rules and, as recording rules, every dashboard query (Grafana's
//    variables replaced) to OUTDIR, for `promtool check rules` to parse the PromQL.
// Usage: node monitoring.mjs EMULATORS_DIR MONITORING.yaml DEPLOYMENT.yaml DASHBOARD.json SCRAPE OUTDIR
// Exit 0 when every check passes; 1 with one line per problem otherwise.
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [emu, monFile, deployFile, dashFile, scrapeFile, outDir] = process.argv.slice(2);
if (!outDir) {
    console.error("usage: node monitoring.mjs EMU MONITORING.yaml DEPLOY.yaml DASHBOARD.json SCRAPE OUTDIR");
    process.exit(2);
}
const nm = resolve(emu, "node_modules");
const { parseAllDocuments, stringify } = await import(
    pathToFileURL(join(nm, "yaml/dist/index.js"))
);
const load = (f) => parseAllDocuments(readFileSync(f, "utf8")).map((d) => d.toJS()).filter(Boolean);
const problems = [];
const mon = load(monFile);
const find = (objs, kind, name) =>
    objs.find((o) => o.kind === kind && (!name || o.metadata?.name === name));

// --- PodMonitor -> Deployment ------------------------------------------------------------------
const pm = find(mon, "PodMonitor");
const dep = find(load(deployFile), "Deployment", "edw-consumer");
if (!pm) problems.push("no PodMonitor in the monitoring manifests");
if (!dep) problems.push("no Deployment edw-consumer in the rendered overlay");
if (pm && dep) {
    const podLabels = dep.spec.template.metadata.labels ?? {};
    for (const [k, v] of Object.entries(pm.spec.selector?.matchLabels ?? {})) {
        if (podLabels[k] !== v)
            problems.push(`PodMonitor selects ${k}=${v}, consumer pods have ${k}=${podLabels[k]}`);
    }
    if (Object.keys(pm.spec.selector?.matchLabels ?? {}).length === 0)
        problems.push("PodMonitor selector is empty (would scrape every pod)");
    if (pm.metadata.namespace !== dep.metadata.namespace)
        problems.push(`PodMonitor in ${pm.metadata.namespace}, consumers in ${dep.metadata.namespace}`);
    const c = dep.spec.template.spec.containers.find((x) => x.name === "edw");
    const envPort = Number(c?.env?.find((e) => e.name === "EDW_HTTP_PORT")?.value);
    for (const ep of pm.spec.podMetricsEndpoints ?? []) {
        const port = c?.ports?.find((p) => p.name === ep.port);
        if (!port) problems.push(`PodMonitor port ${ep.port} is not a port of the edw container`);
        else if (port.containerPort !== envPort)
            problems.push(`PodMonitor port ${ep.port} is ${port.containerPort}, EDW_HTTP_PORT is ${envPort}`);
        if ((ep.path ?? "/metrics") !== "/metrics") problems.push(`PodMonitor path ${ep.path}`);
    }
}

// --- dashboard ConfigMap ---------------------------------------------------------------------
const dashText = readFileSync(dashFile, "utf8");
const dash = JSON.parse(dashText);
const cm = find(mon, "ConfigMap", "edw-grafana-dashboard");
if (!cm) problems.push("no edw-grafana-dashboard ConfigMap");
else {
    if (cm.metadata.labels?.grafana_dashboard !== "1")
        problems.push("dashboard ConfigMap lacks the grafana_dashboard: \"1\" label");
    if (cm.data?.["edw-dashboard.json"] !== dashText)
        problems.push("dashboard ConfigMap does not hold deploy/grafana/edw-dashboard.json");
}

// --- metric names ----------------------------------------------------------------------------
const exposed = new Set();
for (const m of readFileSync(scrapeFile, "utf8").matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    exposed.add(m[1]);
    if (m[2] === "histogram") for (const s of ["_bucket", "_sum", "_count"]) exposed.add(m[1] + s);
}
const queries = [];
for (const p of dash.panels ?? []) {
    if (p.type !== "row" && !(p.targets ?? []).length) problems.push(`panel "${p.title}" has no query`);
    if (p.type !== "row" && p.datasource?.uid !== "${datasource}")
        problems.push(`panel "${p.title}" does not use the \${datasource} variable`);
    for (const t of p.targets ?? []) queries.push({ where: `panel "${p.title}"`, expr: t.expr });
}
const rule = find(mon, "PrometheusRule");
if (!rule) problems.push("no PrometheusRule");
for (const g of rule?.spec.groups ?? [])
    for (const r of g.rules) queries.push({ where: `alert ${r.alert}`, expr: r.expr });
let names = 0;
for (const q of queries) {
    for (const m of q.expr.matchAll(/\bedw_[a-z_]+/g)) {
        names++;
        if (!exposed.has(m[0])) problems.push(`${q.where}: ${m[0]} is not a metric edw exposes`);
    }
}
if (names === 0) problems.push("no edw metric named anywhere");

// --- PromQL for promtool -----------------------------------------------------------------------
const grafanaVars = (e) =>
    e.replaceAll("$__rate_interval", "1m").replaceAll("$namespace", ".*").replaceAll("$pod", ".*");
writeFileSync(join(outDir, "alerts.rules.yaml"), stringify(rule?.spec ?? { groups: [] }));
const recording = queries
    .filter((q) => q.where.startsWith("panel"))
    .map((q, i) => ({ record: `edw:dashboard_query_${i}`, expr: grafanaVars(q.expr) }));
writeFileSync(
    join(outDir, "dashboard.rules.yaml"),
    stringify({ groups: [{ name: "dashboard", rules: recording }] })
);

if (problems.length) {
    for (const p of problems) console.log(`FAIL ${p}`);
    process.exit(1);
}
console.log(`ok: ${queries.length} queries, ${names} metric references, ${exposed.size} exposed names`);
