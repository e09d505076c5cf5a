// SPDX-License-Identifier: Apache-2.0
// The peer for bench/azure.sh: a consumer written with the official JavaScript SDKs the way
// a careful user would. Batches of 32, the rows of a batch upserted in parallel, then its
// messages deleted in parallel; one client pair reused for the whole run. Ends after `idle`
// seconds without messages and prints {"processed", "seconds"} (idle time not counted).
//   node azure_sdk_consumer.mjs QUEUE TABLE [idle_s]
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(process.env.EDW_EMULATORS_DIR || path.join(here, "..", "..", "tests", "emulators"), "package.json"));
const { QueueServiceClient } = require("@azure/storage-queue");
const { TableClient } = require("@azure/data-tables");

const conn = process.env.AZURE_STORAGE_CONNECTION_STRING;
const [qname, tname, idleText] = process.argv.slice(2);
const idleMs = Number(idleText || 1) * 1000;
const q = QueueServiceClient.fromConnectionString(conn).getQueueClient(qname);
const t = TableClient.fromConnectionString(conn, tname, { allowInsecureConnection: true });

function stamp(d) {
    const iso = d.toISOString();
    return iso.slice(0, 10) + " " + iso.slice(11, 23) + "000";
}

let processed = 0;
const t0 = Date.now();
let last = t0;
for (;;) {
    const r = await q.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 30 });
    const msgs = r.receivedMessageItems;
    if (msgs.length === 0) {
        if (Date.now() - last >= idleMs) break;
        await new Promise((res) => setTimeout(res, 50));
        continue;
    }
    await Promise.all(msgs.map((m) => {
        const body = JSON.parse(m.messageText);
        const now = new Date();
        const key = body.id || m.messageId;
        return t.upsertEntity({
            partitionKey: key, rowKey: key, data: body.msg, srcStamp: body.srcStamp,
            dateStamp: stamp(now), messageProcessingTime: (now - Date.parse(body.srcStamp.replace(" ", "T") + "Z")) / 1000,
            dequeueCount: m.dequeueCount,
        }, "Replace");
    }));
    await Promise.all(msgs.map((m) => q.deleteMessage(m.messageId, m.popReceipt)));
    processed += msgs.length;
    last = Date.now();
}
console.log(JSON.stringify({ processed, seconds: (last - t0) / 1000 }));
