// SPDX-License-Identifier: Apache-2.0
// The producer peer for bench/run: `edw produce --count N` written with the official JavaScript
// SDKs the way a careful user would, one client for the run and C requests in flight:
//   aws    SendMessageBatch of 10 (the SQS maximum), C batches in flight
//   azure  Put Message one by one (Queue Storage has no batch send), C messages in flight
// Bodies are sample-compatible ({"msg", "srcStamp", "id"}), text as is (no base64).
//   node sdk_producer.mjs aws|azure QUEUE N [C=8 for aws, 32 for azure]
// prints {"sent", "seconds"}. Endpoints: AWS_ENDPOINT_URL_SQS, AZURE_STORAGE_CONNECTION_STRING.
import { createRequire } from "node:module";
import path from "node:path";

const emulators = process.env.EDW_EMULATORS_DIR ??
    path.join(import.meta.dirname, "../../tests/emulators");
const require = createRequire(path.join(emulators, "package.json"));

const [kind, queue, nText, cText] = process.argv.slice(2);
const n = Number(nText);
const conc = Number(cText ?? (kind === "aws" ? 8 : 32));
const run = `js${process.pid}`;
const stamp = () => new Date().toISOString().replace("T", " ").replace("Z", "000");
const body = (i) => JSON.stringify({ msg: `Scale Test Message : COUNT ${i}`, srcStamp: stamp(),
                                     id: `${run}-${i}` });

let send, per;
if (kind === "aws") {
    const sqsLib = require("@aws-sdk/client-sqs");
    const sqs = new sqsLib.SQSClient({ region: process.env.AWS_REGION ?? "us-east-1",
                                       endpoint: process.env.AWS_ENDPOINT_URL_SQS });
    const url = (await sqs.send(new sqsLib.GetQueueUrlCommand({ QueueName: queue }))).QueueUrl;
    per = 10;
    send = async (first, last) => {
        let entries = [];
        for (let i = first; i < last; i++) entries.push({ Id: `m${i - first}`, MessageBody: body(i + 1) });
        while (entries.length) {
            const r = await sqs.send(new sqsLib.SendMessageBatchCommand({ QueueUrl: url,
                                                                          Entries: entries }));
            const failed = new Set((r.Failed ?? []).map((f) => f.Id));
            entries = entries.filter((e) => failed.has(e.Id));
        }
    };
} else if (kind === "azure") {
    const { QueueServiceClient } = require("@azure/storage-queue");
    const q = QueueServiceClient.fromConnectionString(process.env.AZURE_STORAGE_CONNECTION_STRING)
        .getQueueClient(queue);
    per = 1;
    send = (first) => q.sendMessage(body(first + 1));
} else {
    console.error("usage: node sdk_producer.mjs aws|azure QUEUE N [C]");
    process.exit(2);
}

let next = 0;
const t0 = Date.now();
await Promise.all(Array.from({ length: conc }, async () => {
    while (next < n) {
        const first = next;
        next = Math.min(n, next + per);
        await send(first, next);
    }
}));
console.log(JSON.stringify({ sent: n, seconds: (Date.now() - t0) / 1000 }));
