// SPDX-License-Identifier: Apache-2.0
// A tiny loopback HTTP server for checking tests/tools/fault_proxy.mjs: answers every request
// with 200 and "echo:METHOD:URL:BODY" followed by PAD bytes of padding, so truncation shows.
// Writes its port to PORT_FILE; exits after LIFETIME_S seconds or on SIGTERM.
//   node echo_server.mjs PORT_FILE [PAD=1000] [LIFETIME_S=120]
import fs from "node:fs";
import http from "node:http";

const [portFile, pad = "1000", lifetime = "120"] = process.argv.slice(2);
const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end(`echo:${req.method}:${req.url}:${Buffer.concat(chunks)}:${"x".repeat(Number(pad))}`);
    });
});
server.listen(0, "127.0.0.1", () => {
    fs.writeFileSync(`${portFile}.tmp`, `${server.address().port}\n`);
    fs.renameSync(`${portFile}.tmp`, portFile);
});
setTimeout(() => process.exit(0), Number(lifetime) * 1000);
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
