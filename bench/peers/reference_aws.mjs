// SPDX-License-Identifier: Apache-2.0
// The baseline users migrate from: the reference AWS EDW sample's consumer, reproduced from its
// description for bench/run with the official AWS SDK for JavaScript v3 (the original is Python
// with boto3; the behaviour is what matters). On purpose:
//   - new SQS and DynamoDB clients (and their credential resolution) for every message;
//   - ReceiveMessage with MaxNumberOfMessages 1;
//   - PutItem of the row (id, data, srcStamp, destStamp, messageProcessingTime), then
//     DeleteMessage;
//   - a one-second sleep per iteration (the sample's tick): at most 1 msg/s per pod;
//   - no batching, no parallelism, no poison handling.
// The only addition is an exit for the benchmark, after IDLE_S seconds without a message.
//   node reference_aws.mjs QUEUE TABLE [TICK_S=1] [IDLE_S=1]
// prints {"processed", "seconds"} (seconds excludes the idle tail).
import { createRequire } from "node:module";
import path from "node:path";

const emulators = process.env.EDW_EMULATORS_DIR ??
    path.join(import.meta.dirname, "../../tests/emulators");
const require = createRequire(path.join(emulators, "package.json"));
const sqsLib = require("@aws-sdk/client-sqs");
const ddbLib = require("@aws-sdk/client-dynamodb");

const [queue, table, tick = "1", idle = "1"] = process.argv.slice(2);
const region = process.env.AWS_REGION ?? "us-east-1";
const stamp = (ms) => new Date(ms).toISOString().replace("T", " ").replace("Z", "000");
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// The sample is given its queue URL (SQS_QUEUE_URL); look it up once, outside the measured loop.
const lookup = new sqsLib.SQSClient({ region, endpoint: process.env.AWS_ENDPOINT_URL_SQS });
const url = (await lookup.send(new sqsLib.GetQueueUrlCommand({ QueueName: queue }))).QueueUrl;
lookup.destroy();

let processed = 0;
const start = Date.now();
let last = start;
for (;;) {
    const sqs = new sqsLib.SQSClient({ region, endpoint: process.env.AWS_ENDPOINT_URL_SQS });
    const ddb = new ddbLib.DynamoDBClient({ region,
                                            endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });
    const r = await sqs.send(new sqsLib.ReceiveMessageCommand({
        QueueUrl: url, MaxNumberOfMessages: 1, WaitTimeSeconds: 0 }));
    const m = r.Messages?.[0];
    if (m) {
        const body = JSON.parse(m.Body);
        const now = Date.now();
        const src = Date.parse(body.srcStamp.replace(" ", "T") + "Z");
        await ddb.send(new ddbLib.PutItemCommand({ TableName: table, Item: {
            id: { S: body.id ?? m.MessageId }, data: { S: body.msg },
            srcStamp: { S: body.srcStamp }, destStamp: { S: stamp(now) },
            messageProcessingTime: { N: String((now - src) / 1000) } } }));
        await sqs.send(new sqsLib.DeleteMessageCommand({ QueueUrl: url,
                                                         ReceiptHandle: m.ReceiptHandle }));
        processed++;
        last = Date.now();
    }
    sqs.destroy();
    ddb.destroy();
    if (!m && Date.now() - last >= Number(idle) * 1000)
        break;
    await sleep(Number(tick) * 1000);
}
console.log(JSON.stringify({ processed, seconds: (last - start) / 1000 }));
