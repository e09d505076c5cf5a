// SPDX-License-Identifier: Apache-2.0
// A tiny loopback forward proxy for tests/integration/http_proxy.sh: plain HTTP requests in
// absolute form ("GET http://host:port/path") are forwarded, CONNECT opens a TCP tunnel (what
// HTTPS_PROXY does). Only 127.0.0.1 targets are allowed. Each request is logged as one line
// "METHOD TARGET" on stdout. Writes its port to PORT_FILE; exits after LIFETIME_S or SIGTERM.
//   node forward_proxy.mjs PORT_FILE [LIFETIME_S=120]
import fs from "node:fs";
import http from "node:http";
import net from "node:net";

const [portFile, lifetime = "120"] = process.argv.slice(2);
const loopback = (host) => host === "127.0.0.1";

const server = http.createServer((req, res) => {
    let target;
    try {
        target = new URL(req.url);
    } catch {
        res.writeHead(400).end("absolute URL expected\n");
        return;
    }
    console.log(`${req.method} ${target.host}`);
    if (target.protocol !== "http:" || !loopback(target.hostname)) {
        res.writeHead(403).end("loopback http only\n");
        return;
    }
    const headers = { ...req.headers };
    delete headers["proxy-connection"];
    const up = http.request(
        { host: target.hostname, port: target.port, path: target.pathname + target.search,
          method: req.method, headers },
        (upRes) => {
            res.writeHead(upRes.statusCode, upRes.headers);
            upRes.pipe(res);
        });
    up.on("error", () => res.writeHead(502).end());
    req.pipe(up);
});
server.on("connect", (req, sock, head) => {
    console.log(`CONNECT ${req.url}`);
    const [host, port] = req.url.split(":");
    if (!loopback(host)) {
        sock.end("HTTP/1.1 403 Forbidden\r\n\r\n");
        return;
    }
    const up = net.connect(Number(port), host, () => {
        sock.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        up.write(head);
        up.pipe(sock);
        sock.pipe(up);
    });
    up.on("error", () => sock.destroy());
    sock.on("error", () => up.destroy());
});
server.listen(0, "127.0.0.1", () => {
    fs.writeFileSync(`${portFile}.tmp`, `${server.address().port}\n`);
    fs.renameSync(`${portFile}.tmp`, portFile);
});
setTimeout(() => process.exit(0), Number(lifetime) * 1000);
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
