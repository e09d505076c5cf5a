// SPDX-License-Identifier: Apache-2.0
// Azurite's own ceiling for bench/run: each operation of the consumer's work measured alone,
// C requests in flight, with the official SDKs (Azurite checks Shared Key signatures, so raw
// unsigned HTTP is not an option; the SDK's own CPU is small next to Azurite's at these rates):
//   receive       Get Messages, 32 per call, until the queue is empty (nothing deleted)
//   delete        Delete Message for every message just received
//   upsert        Insert Or Replace of N rows shaped like edw's, one request each
//   batch-upsert  the same N rows as entity group transactions of 32 rows in one partition
//                 (edw groups a receive batch's rows by partition the same way)
// The first WARM messages and rows go through untimed, so that Azurite's JIT is warm.
//   node azure_ops_ceiling.mjs QUEUE TABLE N [C=16] [WARM=300]
// The queue must hold at least N + WARM messages. Prints {"receive", "delete", "upsert",
// "batch_upsert"} in messages (rows) per second.
import { createRequire } from "node:module";
import path from "node:path";

const emulators = process.env.EDW_EMULATORS_DIR ??
    path.join(import.meta.dirname, "../../tests/emulators");
const require = createRequire(path.join(emulators, "package.json"));
const { QueueClient } = require("@azure/storage-queue");
const { TableClient } = require("@azure/data-tables");

const [qname, tname, nText, cText = "16", wText = "300"] = process.argv.slice(2);
const N = Number(nText), C = Number(cText), WARM = Number(wText);
const conn = process.env.AZURE_STORAGE_CONNECTION_STRING;
const q = new QueueClient(conn, qname);
const t = TableClient.fromConnectionString(conn, tname, { allowInsecureConnection: true });

// Run op(i) for i in [0, total) with C in flight; returns seconds.
async function pool(total, op) {
    let next = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: C }, async () => {
        while (next < total) await op(next++);
    }));
    return Number(process.hrtime.bigint() - t0) / 1e9;
}

const row = (pk, rk, i) => ({
    partitionKey: pk, rowKey: rk, data: `Scale Test Message : COUNT ${i}`,
    srcStamp: "2026-11-27 18:00:00.123456", dateStamp: "2026-11-27 18:00:00.234567",
    messageProcessingTime: 0.111111, dequeueCount: 1,
});

// Receive until the queue is empty or `limit` messages were asked for (never more).
async function receiveAll(limit) {
    const got = [];
    let empty = 0, asked = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: C }, async () => {
        while (asked < limit && empty < 3 * C) {
            asked += 32;
            const r = await q.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 600 });
            if (!r.receivedMessageItems.length) { empty++; continue; }
            got.push(...r.receivedMessageItems);
        }
    }));
    return { got, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

// Warm-up: a few of each operation, untimed.
const warm = (await receiveAll(WARM)).got;
await pool(warm.length, (i) => q.deleteMessage(warm[i].messageId, warm[i].popReceipt));
await pool(WARM, (i) => t.upsertEntity(row(`warm-${i}`, `warm-${i}`, i), "Replace"));
await pool(Math.ceil(WARM / 32), (b) => t.submitTransaction(
    Array.from({ length: 32 }, (_, k) => ["upsert", row(`warmb-${b}`, `r${k}`, k), "Replace"])));

const rec = await receiveAll(Infinity);
const msgs = rec.got;
const receive = msgs.length / rec.seconds;
const del = msgs.length / await pool(msgs.length,
                                     (i) => q.deleteMessage(msgs[i].messageId, msgs[i].popReceipt));
const upsert = N / await pool(N, (i) => t.upsertEntity(row(`u-${i}`, `u-${i}`, i), "Replace"));
const batches = Math.ceil(N / 32);
const batchUpsert = batches * 32 / await pool(batches, (b) => t.submitTransaction(
    Array.from({ length: 32 }, (_, k) => ["upsert", row(`b-${b}`, `r${k}`, b * 32 + k), "Replace"])));
console.log(JSON.stringify({ messages: msgs.length, receive, delete: del, upsert,
                             batch_upsert: batchUpsert }));
