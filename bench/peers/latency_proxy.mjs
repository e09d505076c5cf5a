// SPDX-License-Identifier: Apache-2.0
// A loopback HTTP proxy that holds every request for DELAY_MS before forwarding it, so a
// benchmark against local emulators sees something like a cloud round trip. Keep-alive on both
// sides; bodies and headers pass through unchanged (the emulators do not check signatures).
//   node latency_proxy.mjs LISTEN_PORT TARGET_URL DELAY_MS
import http from "node:http";

const [port, target, delay] = process.argv.slice(2);
const to = new URL(target);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => setTimeout(() => {
        const up = http.request({ host: to.hostname, port: to.port, method: req.method,
                                  path: req.url, headers: req.headers, agent }, (r) => {
            res.writeHead(r.statusCode, r.headers);
            r.pipe(res);
        });
        up.on("error", (e) => { res.writeHead(502); res.end(String(e)); });
        up.end(Buffer.concat(chunks));
    }, Number(delay)));
});
server.keepAliveTimeout = 60000;
server.listen(Number(port), "127.0.0.1", () =>
    console.log(`latency proxy 127.0.0.1:${port} -> ${target} (+${delay} ms)`));
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
