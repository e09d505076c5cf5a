// SPDX-License-Identifier: Apache-2.0
// Validate rendered Kubernetes manifests against the schemas of their kinds, offline:
//  1. the JSON-schema validators of the pinned @kubernetes-models packages (types, enums,
//     required fields, formats) for Kubernetes core, KEDA and Karpenter objects;
//  2. TypeScript's excess-property check against the same packages' type declarations, which
//     catches what the schemas let through: unknown or misplaced fields (a typo, or a
//     container-level field put in the pod securityContext) that the API server drops or,
//     with strict field validation, rejects.
// Usage: node validate.mjs EMULATORS_DIR FILE.yaml...   (multi-document YAML, e.g. kustomize output)
// Exit 0 when every object passes; 1 with one line per problem otherwise.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [emu, ...files] = process.argv.slice(2);
if (!emu || files.length === 0) {
    console.error("usage: node validate.mjs EMULATORS_DIR FILE.yaml...");
    process.exit(2);
}
const nm = resolve(emu, "node_modules");
const { parseAllDocuments } = await import(pathToFileURL(join(nm, "yaml/dist/index.js")));

// apiVersion/kind -> model module (relative to node_modules). A kind without an entry is an
// error: nothing is accepted unchecked.
const MODELS = {
    "v1/Namespace": "kubernetes-models/v1/Namespace",
    "v1/ServiceAccount": "kubernetes-models/v1/ServiceAccount",
    "v1/ConfigMap": "kubernetes-models/v1/ConfigMap",
    "v1/Service": "kubernetes-models/v1/Service",
    "apps/v1/Deployment": "kubernetes-models/apps/v1/Deployment",
    "batch/v1/Job": "kubernetes-models/batch/v1/Job",
    "batch/v1/CronJob": "kubernetes-models/batch/v1/CronJob",
    "policy/v1/PodDisruptionBudget": "kubernetes-models/policy/v1/PodDisruptionBudget",
    "keda.sh/v1alpha1/ScaledObject": "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject",
    "keda.sh/v1alpha1/ScaledJob": "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledJob",
    "keda.sh/v1alpha1/TriggerAuthentication":
        "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication",
    "karpenter.sh/v1/NodePool": "@kubernetes-models/karpenter/karpenter.sh/v1/NodePool",
    "karpenter.k8s.aws/v1/EC2NodeClass":
        "@kubernetes-models/karpenter/karpenter.k8s.aws/v1/EC2NodeClass",
    "monitoring.coreos.com/v1/PodMonitor":
        "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor",
    "monitoring.coreos.com/v1/PrometheusRule":
        "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule",
};

const problems = [];
const objects = [];
for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
        if (doc.errors.length) {
            problems.push(`${file}: YAML: ${doc.errors[0].message}`);
            continue;
        }
        const obj = doc.toJS();
        if (obj === null) continue;
        objects.push({ file, obj, id: `${file}: ${obj.kind}/${obj.metadata?.name}` });
    }
}
if (objects.length === 0) problems.push("no objects found");

// 1. JSON schema
for (const o of objects) {
    const key = `${o.obj.apiVersion}/${o.obj.kind}`;
    o.module = MODELS[key];
    if (!o.module) {
        problems.push(`${o.id}: no schema known for ${key}`);
        continue;
    }
    const mod = await import(pathToFileURL(join(nm, `${o.module}.js`)));
    const Model = mod[o.obj.kind];
    try {
        new Model(o.obj).validate();
    } catch (e) {
        problems.push(`${o.id}: schema: ${e.message}`);
    }
}

// 2. unknown fields: every object as a typed object literal, one compile for all of them.
const typed = objects.filter((o) => o.module);
if (typed.length) {
    const dir = mkdtempSync(join(tmpdir(), "edw-k8s-validate-"));
    try {
        const lines = [];
        const ranges = [];
        const aliases = new Map();
        for (const o of typed) {
            if (!aliases.has(o.module)) {
                const alias = `T${aliases.size}`;
                aliases.set(o.module, alias);
                lines.push(`import type { I${o.obj.kind} as ${alias} } from ` +
                    `${JSON.stringify(join(nm, `${o.module}.js`))};`);
            }
        }
        typed.forEach((o, i) => {
            const body = JSON.stringify(o.obj, null, 2).split("\n");
            const start = lines.length + 1;
            lines.push(`export const o${i}: ${aliases.get(o.module)} = ${body[0]}`, ...body.slice(1));
            lines[lines.length - 1] += ";";
            ranges.push({ start, end: lines.length, o });
        });
        writeFileSync(join(dir, "objects.ts"), lines.join("\n") + "\n");
        const tsc = spawnSync(process.execPath, [join(nm, "typescript/bin/tsc"), "--noEmit",
            "--strict", "--skipLibCheck", "--target", "es2022", "--module", "nodenext",
            "--moduleResolution", "nodenext", join(dir, "objects.ts")], { encoding: "utf8" });
        if (tsc.error) throw tsc.error;
        for (const line of (tsc.stdout + tsc.stderr).split("\n")) {
            const m = /objects\.ts\((\d+),\d+\): error TS\d+: (.*)$/.exec(line);
            if (!m) {
                if (line.trim() && tsc.status !== 0 && !/^\s/.test(line)) problems.push(`tsc: ${line}`);
                continue;
            }
            const n = Number(m[1]);
            const r = ranges.find((x) => n >= x.start && n <= x.end);
            const at = lines[n - 1].trim();
            problems.push(`${r ? r.o.id : "?"}: fields: ${m[2]} (at ${at})`);
        }
        if (tsc.status !== 0 && !problems.length) problems.push(`tsc failed: ${tsc.stdout}${tsc.stderr}`);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

if (problems.length) {
    for (const p of problems) console.log(`FAIL ${p}`);
    process.exit(1);
}
console.log(`ok: ${objects.length} objects valid (${[...new Set(objects.map((o) => o.obj.kind))].join(", ")})`);
