// SPDX-License-Identifier: Apache-2.0
// A loopback TCP proxy that holds every chunk going to the server for DELAY ms (order kept),
// so each request arrives DELAY ms later: a stand-in for a network round trip to a real
// storage account. Listens on 127.0.0.1 with a port the OS picks and prints {"port": N}.
//   node delay_proxy.mjs TARGET_PORT [DELAY_MS]
import net from "node:net";

const target = Number(process.argv[2]);
const delay = Number(process.argv[3] || 20);
const server = net.createServer((client) => {
    const upstream = net.connect({ host: "127.0.0.1", port: target });
    let chain = Promise.resolve();
    client.on("data", (chunk) => {
        client.pause(); // keep ordering simple: one chunk at a time
        chain = chain.then(() => new Promise((res) => setTimeout(res, delay))).then(() => {
            upstream.write(chunk);
            client.resume();
        });
    });
    upstream.pipe(client);
    const close = () => { client.destroy(); upstream.destroy(); };
    client.on("error", close);
    upstream.on("error", close);
    client.on("end", () => chain.then(() => upstream.end()));
    upstream.on("end", () => client.end());
});
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));
process.on("SIGTERM", () => process.exit(0));
