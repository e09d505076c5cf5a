// SPDX-License-Identifier: Apache-2.0
// Azurite's own ceiling for bench/run: each operation of the consumer's work measured alone,
// C requests in flight, with as little client work as possible, so that the client does not
// take CPU from Azurite on a small machine: raw keep-alive HTTP authorised by account SAS
// tokens (made once with the official SDKs), so no request is signed on its own:
//   receive       Get Messages, 32 per call
//   delete        Delete Message
//   upsert        Insert Or Replace of N rows shaped like edw's, one PUT each
//   batch-upsert  the same N rows as entity group transactions of 32 rows in one partition
//                 (edw groups a receive batch's rows by partition the same way); sent with
//                 the SDK, whose cost is spread over 32 rows
// Azurite's cost per queue operation depends on what the queue holds, so the queue is drained
// the way a consumer drains it: in waves of C receives, each wave's messages then deleted; the
// time of receives and of deletes is added up separately. Each operation still runs alone.
// The first WARM messages and rows go through untimed, so that Azurite's JIT is warm.
//   node azure_ops_ceiling.mjs QUEUE TABLE N [C=32] [WARM=300]
// The queue must hold N + WARM messages. Connection string (account, key, endpoints) from
// AZURE_STORAGE_CONNECTION_STRING. Prints {"messages", "receive", "delete", "upsert",
// "batch_upsert"} in messages (rows) per second.
import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";

const emulators = process.env.EDW_EMULATORS_DIR ??
    path.join(import.meta.dirname, "../../tests/emulators");
const require = createRequire(path.join(emulators, "package.json"));
const sq = require("@azure/storage-queue");
const tb = require("@azure/data-tables");

const [qname, tname, nText, cText = "32", wText = "300"] = process.argv.slice(2);
const N = Number(nText), C = Number(cText), WARM = Number(wText);
const conn = process.env.AZURE_STORAGE_CONNECTION_STRING;
const part = (k) => new RegExp(`(?:^|;)${k}=([^;]*)`).exec(conn)?.[1];
const account = part("AccountName"), key = part("AccountKey");
const queueEp = part("QueueEndpoint").replace(/\/$/, "");
const tableEp = part("TableEndpoint").replace(/\/$/, "");

const expiresOn = new Date(Date.now() + 3600e3);
const qsas = sq.generateAccountSASQueryParameters({
    expiresOn, permissions: sq.AccountSASPermissions.parse("rwdlacup"),
    services: sq.AccountSASServices.parse("q").toString(),
    resourceTypes: sq.AccountSASResourceTypes.parse("sco").toString(),
}, new sq.StorageSharedKeyCredential(account, key)).toString();
const tsas = tb.generateAccountSas(new tb.AzureNamedKeyCredential(account, key), {
    expiresOn, resourceTypes: "sco",
    permissions: { query: true, add: true, update: true, delete: true, write: true, list: true },
}).replace(/^\?/, "");
const tableSdk = tb.TableClient.fromConnectionString(conn, tname, { allowInsecureConnection: true });

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function request(method, url, body, headers = {}) {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
        const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search,
                                   method, agent, headers: { "x-ms-version": "2021-12-02",
                                   ...headers, "Content-Length": body ? Buffer.byteLength(body) : 0 } },
        (res) => {
            const chunks = [];
            res.on("data", (c) => chunks.push(c));
            res.on("end", () => {
                const text = Buffer.concat(chunks).toString();
                if (res.statusCode >= 300) reject(new Error(`${method} ${u.pathname}: ${res.statusCode} ${text.slice(0, 200)}`));
                else resolve(text);
            });
        });
        req.on("error", reject);
        req.end(body);
    });
}

const receive32 = async () => {
    const xml = await request("GET", `${queueEp}/${qname}/messages?numofmessages=32&visibilitytimeout=600&${qsas}`);
    const ids = [...xml.matchAll(/<MessageId>([^<]*)<\/MessageId>/g)].map((m) => m[1]);
    const pops = [...xml.matchAll(/<PopReceipt>([^<]*)<\/PopReceipt>/g)].map((m) => m[1]);
    return ids.map((id, i) => ({ id, pop: pops[i] }));
};
const del = (m) => request("DELETE",
    `${queueEp}/${qname}/messages/${m.id}?popreceipt=${encodeURIComponent(m.pop)}&${qsas}`);
const row = (pk, rk, i) => ({
    PartitionKey: pk, RowKey: rk, data: `Scale Test Message : COUNT ${i}`,
    srcStamp: "2026-11-27 18:00:00.123456", dateStamp: "2026-11-27 18:00:00.234567",
    messageProcessingTime: 0.111111, dequeueCount: 1,
});
const upsert = (pk, rk, i) => request("PUT",
    `${tableEp}/${tname}(PartitionKey='${pk}',RowKey='${rk}')?${tsas}`, JSON.stringify(row(pk, rk, i)),
    { "Content-Type": "application/json", Accept: "application/json;odata=nometadata",
      DataServiceVersion: "3.0" });
const batch = (b) => tableSdk.submitTransaction(Array.from({ length: 32 }, (_, k) => {
    const { PartitionKey, RowKey, ...rest } = row(`b-${b}`, `r${k}`, b * 32 + k);
    return ["upsert", { partitionKey: PartitionKey, rowKey: RowKey, ...rest }, "Replace"];
}));

// Run op(i) for i in [0, total) with C in flight; returns seconds.
async function pool(total, op) {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: C }, async () => {
        while (next < total) await op(next++);
    }));
    return (performance.now() - t0) / 1000;
}

// One wave: at most `calls` receives at once; returns the messages and the seconds it took.
async function wave(calls) {
    const t0 = performance.now();
    const got = (await Promise.all(Array.from({ length: calls }, receive32))).flat();
    return { got, seconds: (performance.now() - t0) / 1000 };
}

// Warm-up, untimed.
const warm = (await wave(Math.ceil(WARM / 32))).got;
await pool(warm.length, (i) => del(warm[i]));
await pool(WARM, (i) => upsert(`warm-${i}`, `warm-${i}`, i));
await pool(Math.ceil(WARM / 32), (b) => batch(`warm${b}`));

let received = 0, tReceive = 0, tDelete = 0;
for (;;) {
    const w = await wave(C);
    if (!w.got.length) break;
    received += w.got.length;
    tReceive += w.seconds;
    tDelete += await pool(w.got.length, (i) => del(w.got[i]));
}
const up = N / await pool(N, (i) => upsert(`u-${i}`, `u-${i}`, i));
const batches = Math.ceil(N / 32);
const bup = batches * 32 / await pool(batches, (b) => batch(b));
console.log(JSON.stringify({ messages: received, receive: received / tReceive,
                             delete: received / tDelete, upsert: up, batch_upsert: bup }));
agent.destroy();
