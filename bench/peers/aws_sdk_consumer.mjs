// SPDX-License-Identifier: Apache-2.0
// The peer consumer for bench/aws.sh: the same work as `edw consume --handler record` written
// the way a careful user of the official AWS SDK for JavaScript v3 would: C loops, each
// receiving 10 messages, writing their items with one BatchWriteItem and deleting them with one
// DeleteMessageBatch. Exits after IDLE_S seconds without messages and prints
// {"processed", "seconds"} (seconds excludes the idle tail).
//   node aws_sdk_consumer.mjs QUEUE TABLE [CONCURRENCY=4] [IDLE_S=1]
import { createRequire } from "node:module";
import path from "node:path";

const emulators = process.env.EDW_EMULATORS_DIR ??
    path.join(import.meta.dirname, "../../tests/emulators");
const require = createRequire(path.join(emulators, "package.json"));
const sqsLib = require("@aws-sdk/client-sqs");
const ddbLib = require("@aws-sdk/client-dynamodb");

const [queue, table, conc = "4", idle = "1"] = process.argv.slice(2);
const region = process.env.AWS_REGION ?? "us-east-1";
const sqs = new sqsLib.SQSClient({ region, endpoint: process.env.AWS_ENDPOINT_URL_SQS });
const ddb = new ddbLib.DynamoDBClient({ region, endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });
const url = (await sqs.send(new sqsLib.GetQueueUrlCommand({ QueueName: queue }))).QueueUrl;

const stamp = (ms) => new Date(ms).toISOString().replace("T", " ").replace("Z", "000");
let processed = 0;
let lastWork = Date.now();
const start = Date.now();

async function loop() {
    while (Date.now() - lastWork < Number(idle) * 1000) {
        const r = await sqs.send(new sqsLib.ReceiveMessageCommand({
            QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 0,
            MessageSystemAttributeNames: ["ApproximateReceiveCount"] }));
        if (!r.Messages?.length) {
            await new Promise((res) => setTimeout(res, 20));
            continue;
        }
        const now = Date.now();
        const byId = new Map();
        for (const m of r.Messages) {
            const body = JSON.parse(m.Body);
            const src = Date.parse(body.srcStamp.replace(" ", "T") + "Z");
            byId.set(body.id ?? m.MessageId, { PutRequest: { Item: {
                id: { S: body.id ?? m.MessageId }, data: { S: body.msg },
                srcStamp: { S: body.srcStamp }, destStamp: { S: stamp(now) },
                messageProcessingTime: { N: String((now - src) / 1000) },
                dequeueCount: { N: m.Attributes?.ApproximateReceiveCount ?? "1" } } } });
        }
        let items = { [table]: [...byId.values()] };
        while (Object.keys(items).length && items[table]?.length) {
            const w = await ddb.send(new ddbLib.BatchWriteItemCommand({ RequestItems: items }));
            items = w.UnprocessedItems ?? {};
        }
        await sqs.send(new sqsLib.DeleteMessageBatchCommand({ QueueUrl: url,
            Entries: r.Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })) }));
        processed += r.Messages.length;
        lastWork = Date.now();
    }
}

await Promise.all(Array.from({ length: Number(conc) }, loop));
console.log(JSON.stringify({ processed, seconds: (lastWork - start) / 1000 }));
