// SPDX-License-Identifier: Apache-2.0
// An HTTP/1.1 server on 127.0.0.1 (port picked by the OS, printed as {"port": N}) that answers
// every request at once with 204 and a few Azure-like headers: the baseline for measuring
// the HTTP transport's own CPU cost per request, without a slow emulator in the way.
import http from "node:http";

const s = http.createServer({ keepAliveTimeout: 60000 }, (req, res) => {
    req.resume();
    req.on("end", () => {
        res.writeHead(204, { "x-ms-request-id": "00000000-0000-0000-0000-000000000000", "x-ms-version": "2019-02-02", Date: new Date().toUTCString() });
        res.end();
    });
});
s.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: s.address().port })));
process.on("SIGTERM", () => process.exit(0));
