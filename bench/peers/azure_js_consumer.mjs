// SPDX-License-Identifier: Apache-2.0
// The JavaScript peer for bench/run on Azure: the work of `edw consume --handler record` written
// the way a careful user of the official SDKs (@azure/storage-queue, @azure/data-tables) would:
// one client pair for the run, C loops at once, each receiving 32 messages (the maximum),
// upserting their rows in parallel (Insert Or Replace; one partition per message, so no entity
// group transaction applies), then deleting the messages in parallel.
//   node azure_js_consumer.mjs QUEUE TABLE [C=4] [IDLE_S=1]
// Prints {"processed", "seconds"} (seconds excludes the idle tail). Connection string from
// AZURE_STORAGE_CONNECTION_STRING; message text taken as is (the producers send no base64).
import { createRequire } from "node:module";
import path from "node:path";

const emulators = process.env.EDW_EMULATORS_DIR ??
    path.join(import.meta.dirname, "../../tests/emulators");
const require = createRequire(path.join(emulators, "package.json"));
const { QueueClient } = require("@azure/storage-queue");
const { TableClient } = require("@azure/data-tables");

const [qname, tname, conc = "4", idle = "1"] = process.argv.slice(2);
const conn = process.env.AZURE_STORAGE_CONNECTION_STRING;
const q = new QueueClient(conn, qname);
const t = TableClient.fromConnectionString(conn, tname, { allowInsecureConnection: true });

const stamp = (ms) => new Date(ms).toISOString().replace("T", " ").replace("Z", "000");
let processed = 0;
const start = Date.now();
let lastWork = start;

async function loop() {
    while (Date.now() - lastWork < Number(idle) * 1000) {
        const r = await q.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 30 });
        const msgs = r.receivedMessageItems;
        if (!msgs.length) {
            await new Promise((res) => setTimeout(res, 20));
            continue;
        }
        await Promise.all(msgs.map((m) => {
            const body = JSON.parse(m.messageText);
            const now = Date.now();
            const key = body.id ?? m.messageId;
            return t.upsertEntity({
                partitionKey: key, rowKey: key, data: body.msg, srcStamp: body.srcStamp,
                dateStamp: stamp(now),
                messageProcessingTime: (now - Date.parse(body.srcStamp.replace(" ", "T") + "Z")) / 1000,
                dequeueCount: m.dequeueCount,
            }, "Replace");
        }));
        await Promise.all(msgs.map((m) => q.deleteMessage(m.messageId, m.popReceipt)));
        processed += msgs.length;
        lastWork = Date.now();
    }
}

await Promise.all(Array.from({ length: Number(conc) }, loop));
console.log(JSON.stringify({ processed, seconds: (lastWork - start) / 1000 }));
