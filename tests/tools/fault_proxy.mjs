// SPDX-License-Identifier: Apache-2.0
// A fault-injecting HTTP proxy for tests and benchmarks. It listens on 127.0.0.1 only, on a
// port the OS picks (printed, and written to --port-file), forwards every request to one
// target, and on the way injects, at chosen rates, the failures a cloud service and the network
// produce. It exits by itself after --lifetime seconds, and on SIGTERM/SIGINT; either way it
// prints what it injected as one JSON line on stdout.
//
//   node fault_proxy.mjs --target http://127.0.0.1:PORT [options]
//
// Faults (RATE is a probability 0..1, drawn once per request; their sum must be <= 1):
//   --error-500 RATE         answer 500 without forwarding (the request never reached the service)
//   --error-503 RATE         answer 503 with Retry-After: --retry-after seconds, without forwarding
//   --reset RATE             reset the connection (TCP RST) without forwarding
//   --reset-after RATE       forward, then reset instead of answering: the service did the work
//                            but the client never hears about it
//   --truncate RATE          forward, answer with the full Content-Length but only half the body,
//                            then close the connection
//   --slow RATE              forward, then dribble the body out in 8 pieces over --slow-ms
// Delays (every request):
//   --latency-ms N           hold each request N ms before forwarding (like a cloud round trip)
//   --jitter-ms N            plus a uniform 0..N ms
//   --response-latency-ms N  hold each answer N ms after the service replied (the service has
//                            already acted: e.g. a lease started before the client knows it)
// Other:
//   --only REGEX             inject faults and delays only into requests whose
//                            "METHOD URL X-Amz-Target" matches (others pass straight through)
//   --retry-after S          Retry-After of injected 503s (default 1)
//   --slow-ms N              (default 2000)
//   --seed N                 PRNG seed, for reproducible fault sequences (default 1)
//   --lifetime S             exit after S seconds (default 600)
//   --port N                 listen port (default 0: the OS picks one)
//   --port-file FILE         write the port there once listening (written atomically)
//
// GET /__fault_proxy/stats is answered by the proxy itself (never faulted): the counters as
// JSON. POST /__fault_proxy/rates with a JSON object such as {"error500": 1} changes fault
// rates while running (keys: error500 error503 reset resetAfter truncate slow; omitted ones
// keep their value), e.g. to start and end an outage; it answers with the rates now in force. Injected errors look like the target service's own: AWS JSON-protocol errors when the
// request has X-Amz-Target, Azure Storage XML errors (with x-ms-error-code) when it has
// x-ms-version, plain text otherwise.
import fs from "node:fs";
import http from "node:http";
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({
    options: {
        target: { type: "string" },
        port: { type: "string", default: "0" },
        "port-file": { type: "string" },
        "latency-ms": { type: "string", default: "0" },
        "jitter-ms": { type: "string", default: "0" },
        "response-latency-ms": { type: "string", default: "0" },
        "error-500": { type: "string", default: "0" },
        "error-503": { type: "string", default: "0" },
        "retry-after": { type: "string", default: "1" },
        reset: { type: "string", default: "0" },
        "reset-after": { type: "string", default: "0" },
        truncate: { type: "string", default: "0" },
        slow: { type: "string", default: "0" },
        "slow-ms": { type: "string", default: "2000" },
        only: { type: "string" },
        seed: { type: "string", default: "1" },
        lifetime: { type: "string", default: "600" },
        quiet: { type: "boolean", default: false },
    },
});

function die(msg) {
    console.error(`fault_proxy: ${msg}`);
    process.exit(2);
}

function num(name, min, max) {
    const v = Number(opt[name]);
    if (!Number.isFinite(v) || v < min || v > max) die(`--${name} must be a number in ${min}..${max}`);
    return v;
}

if (!opt.target) die("--target URL is required");
const target = new URL(opt.target);
if (target.protocol !== "http:") die("--target must be an http:// URL");
const FAULTS = ["error500", "error503", "reset", "resetAfter", "truncate", "slow"];
const rates = {
    error500: num("error-500", 0, 1),
    error503: num("error-503", 0, 1),
    reset: num("reset", 0, 1),
    resetAfter: num("reset-after", 0, 1),
    truncate: num("truncate", 0, 1),
    slow: num("slow", 0, 1),
};
if (FAULTS.reduce((s, f) => s + rates[f], 0) > 1 + 1e-9) die("the fault rates add up to more than 1");
const latencyMs = num("latency-ms", 0, 600000);
const jitterMs = num("jitter-ms", 0, 600000);
const responseLatencyMs = num("response-latency-ms", 0, 600000);
const retryAfterS = num("retry-after", 0, 3600);
const slowMs = num("slow-ms", 0, 600000);
const lifetimeS = num("lifetime", 0.1, 86400);
const only = opt.only ? new RegExp(opt.only) : null;

// mulberry32: small, seedable, good enough to spread faults.
let seed = num("seed", 0, 2 ** 32) >>> 0;
function random() {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function pick() {
    let r = random();
    for (const f of FAULTS) {
        if (r < rates[f]) return f;
        r -= rates[f];
    }
    return null;
}

const stats = { requests: 0, forwarded: 0, passed: 0, upstreamErrors: 0, delayed: 0 };
for (const f of FAULTS) stats[f] = 0;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function serviceError(req, status) {
    const code = status === 503 ? "ServiceUnavailable" : "InternalFailure";
    const message = "injected by fault_proxy";
    const headers = {};
    let body;
    if (req.headers["x-amz-target"]) {
        headers["content-type"] = "application/x-amz-json-1.0";
        headers["x-amzn-errortype"] = code;
        body = JSON.stringify({ __type: `com.amazonaws.fault#${code}`, message });
    } else if (req.headers["x-ms-version"]) {
        const azure = status === 503 ? "ServerBusy" : "InternalError";
        headers["content-type"] = "application/xml";
        headers["x-ms-error-code"] = azure;
        body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${azure}</Code>` +
            `<Message>${message}</Message></Error>`;
    } else {
        headers["content-type"] = "text/plain";
        body = message;
    }
    if (status === 503) headers["retry-after"] = String(retryAfterS);
    return { headers, body: Buffer.from(body) };
}

function readBody(stream) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        stream.on("data", (c) => chunks.push(c));
        stream.on("end", () => resolve(Buffer.concat(chunks)));
        stream.on("error", reject);
    });
}

// Forward to the target; resolves to {status, headers, body} or rejects on a transport error.
function forward(req, body) {
    return new Promise((resolve, reject) => {
        const headers = { ...req.headers, host: target.host };
        const up = http.request({ host: target.hostname, port: target.port, method: req.method,
                                  path: req.url, headers, agent }, (r) => {
            readBody(r).then((b) => resolve({ status: r.statusCode, headers: r.headers, body: b }),
                             reject);
        });
        up.on("error", reject);
        up.end(body);
    });
}

function reset(res) {
    const s = res.socket;
    if (s && typeof s.resetAndDestroy === "function") s.resetAndDestroy();
    else if (s) s.destroy();
}

async function reply(req, res, up, fault) {
    const headers = { ...up.headers };
    delete headers["transfer-encoding"];
    delete headers.connection;
    delete headers["keep-alive"];
    const bodiless = req.method === "HEAD" || up.status === 204 || up.status === 304;
    if (!bodiless) headers["content-length"] = String(up.body.length);
    if (fault === "resetAfter") return reset(res);
    if (fault === "truncate" && up.body.length > 0) {
        res.writeHead(up.status, headers);
        res.write(up.body.subarray(0, Math.floor(up.body.length / 2)));
        // Let the half body leave before the connection goes, so the client sees a short body.
        return setTimeout(() => res.socket?.destroy(), 20);
    }
    if (fault === "slow" && !bodiless && up.body.length > 0) {
        res.writeHead(up.status, headers);
        const pieces = 8, step = Math.ceil(up.body.length / pieces);
        for (let i = 0; i < up.body.length; i += step) {
            if (res.destroyed) return;
            res.write(up.body.subarray(i, i + step));
            await sleep(slowMs / pieces);
        }
        return res.end();
    }
    res.writeHead(up.status, headers);
    res.end(bodiless ? undefined : up.body);
}

function setRates(update) {
    const next = { ...rates };
    for (const [k, v] of Object.entries(update)) {
        if (!FAULTS.includes(k)) throw new Error(`unknown fault '${k}'`);
        if (typeof v !== "number" || !(v >= 0 && v <= 1)) throw new Error(`${k}: not a rate`);
        next[k] = v;
    }
    if (FAULTS.reduce((s, f) => s + next[f], 0) > 1 + 1e-9) throw new Error("rates add up to more than 1");
    Object.assign(rates, next);
}

async function handle(req, res) {
    if (req.url === "/__fault_proxy/stats") {
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify(stats));
    }
    if (req.url === "/__fault_proxy/rates" && req.method === "POST") {
        try {
            setRates(JSON.parse(String(await readBody(req))));
        } catch (e) {
            res.writeHead(400, { "content-type": "text/plain" });
            return res.end(`fault_proxy: ${e.message}\n`);
        }
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify(rates));
    }
    stats.requests++;
    const body = await readBody(req);
    const subject = `${req.method} ${req.url} ${req.headers["x-amz-target"] ?? ""}`;
    const eligible = !only || only.test(subject);
    const fault = eligible ? pick() : null;
    if (!eligible) stats.passed++;
    if (fault) stats[fault]++;
    if (eligible && (latencyMs > 0 || jitterMs > 0)) {
        stats.delayed++;
        await sleep(latencyMs + random() * jitterMs);
    }
    if (fault === "error500" || fault === "error503") {
        const status = fault === "error500" ? 500 : 503;
        const e = serviceError(req, status);
        e.headers["content-length"] = String(e.body.length);
        res.writeHead(status, e.headers);
        return res.end(e.body);
    }
    if (fault === "reset") return reset(res);
    let up;
    try {
        up = await forward(req, body);
    } catch (e) {
        stats.upstreamErrors++;
        res.writeHead(502, { "content-type": "text/plain" });
        return res.end(`fault_proxy: upstream: ${e.message}`);
    }
    stats.forwarded++;
    if (eligible && responseLatencyMs > 0) await sleep(responseLatencyMs);
    return reply(req, res, up, fault);
}

const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
        if (!res.headersSent) {
            res.writeHead(500, { "content-type": "text/plain" });
            res.end(`fault_proxy: ${e.message}`);
        }
    });
});
server.keepAliveTimeout = 60000;
server.on("clientError", (_e, socket) => socket.destroy());

function finish(why) {
    console.log(JSON.stringify({ fault_proxy: "stopped", why, ...stats }));
    process.exit(0);
}

server.listen(Number(opt.port), "127.0.0.1", () => {
    const port = server.address().port;
    if (opt["port-file"]) {
        fs.writeFileSync(`${opt["port-file"]}.tmp`, `${port}\n`);
        fs.renameSync(`${opt["port-file"]}.tmp`, opt["port-file"]);
    }
    if (!opt.quiet) console.log(`fault_proxy listening on http://127.0.0.1:${port} -> ${target.href}`);
});
setTimeout(() => finish("lifetime"), lifetimeS * 1000);
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => finish(sig));
