// SPDX-License-Identifier: Apache-2.0
// Azurite's own per-operation ceiling, each operation measured alone with the official SDKs
// and plenty of requests in flight: receive (batches of 32), delete, single upsert, and
// $batch upsert (32 rows in one partition). Prints one JSON object of messages (or rows) per
// second. The queue must hold at least N messages; they are received and deleted here.
//   node azure_ceiling.mjs QUEUE TABLE N [concurrency]
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(process.env.EDW_EMULATORS_DIR || path.join(here, "..", "..", "tests", "emulators"), "package.json"));
const { QueueServiceClient } = require("@azure/storage-queue");
const { TableClient } = require("@azure/data-tables");

const conn = process.env.AZURE_STORAGE_CONNECTION_STRING;
const [qname, tname, nText, cText] = process.argv.slice(2);
const N = Number(nText);
const C = Number(cText || 32);
const q = QueueServiceClient.fromConnectionString(conn).getQueueClient(qname);
const t = TableClient.fromConnectionString(conn, tname, { allowInsecureConnection: true });

// Run `op(i)` for i in [0, total) with C in flight; returns items per second.
async function pool(total, op, perOp = 1) {
    let next = 0;
    const t0 = process.hrtime.bigint();
    async function worker() {
        while (next < total) await op(next++);
    }
    await Promise.all(Array.from({ length: C }, worker));
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    return (total * perOp) / s;
}

const received = [];
const receive = await pool(Math.floor(N / 32), async () => {
    const r = await q.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 600 });
    for (const m of r.receivedMessageItems) received.push(m);
}, 32);
const del = await pool(received.length, async (i) => {
    await q.deleteMessage(received[i].messageId, received[i].popReceipt);
});
const entity = (pk, rk) => ({ partitionKey: pk, rowKey: rk, data: "Scale Test Message : COUNT 1", srcStamp: "2026-11-27 18:00:00.000000", dateStamp: "2026-11-27 18:00:01.000000", messageProcessingTime: 1.5, dequeueCount: 1 });
const upsert = await pool(N, async (i) => {
    await t.upsertEntity(entity("ceiling-single", `k${i}`), "Replace");
});
const batch = await pool(Math.floor(N / 32), async (i) => {
    await t.submitTransaction(Array.from({ length: 32 }, (_, k) => ["upsert", entity(`ceiling-b${i}`, `k${k}`), "Replace"]));
}, 32);
console.log(JSON.stringify({ receive, delete: del, upsert, batch_upsert: batch, concurrency: C }));
