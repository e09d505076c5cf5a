// SPDX-License-Identifier: Apache-2.0
// The official AWS SDK for JavaScript v3 as the independent side of edw's AWS interop tests.
// Endpoints, region and keys come from the same environment edw reads (AWS_ENDPOINT_URL_SQS,
// AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); the SDK
// packages from EDW_EMULATORS_DIR (tests/emulators/node_modules). Every command prints one
// JSON value on stdout.
//
//   send QUEUE N TAG          SDK-sent messages in the AWS sample's format (no "id"):
//                             {"msg": "TAG : COUNT i", "srcStamp": "..."}; prints the ids
//   send-files QUEUE FILE...  each file's bytes as one message body (SendMessage), in order;
//                             prints [{file, id} or {file, error}]: a body that is not UTF-8
//                             cannot be a JS string (error, not sent), and the service's own
//                             refusals (empty, characters SQS does not allow) are reported
//   drain QUEUE               receive until empty, delete, print [{id, body, attributes}]
//   redrive QUEUE DLQ N       create DLQ and QUEUE with a RedrivePolicy (maxReceiveCount N)
//   items TABLE               scan the table, print the raw items (typed attribute values)
//   get TABLE ID              GetItem, print the raw item (null when absent)
import { createRequire } from "node:module";
import path from "node:path";

const emulators = process.env.EDW_EMULATORS_DIR ?? path.join(import.meta.dirname, "../emulators");
const require = createRequire(path.join(emulators, "package.json"));
const sqsLib = require("@aws-sdk/client-sqs");
const ddbLib = require("@aws-sdk/client-dynamodb");

const region = process.env.AWS_REGION ?? "us-east-1";
const sqs = new sqsLib.SQSClient({ region, endpoint: process.env.AWS_ENDPOINT_URL_SQS });
const ddb = new ddbLib.DynamoDBClient({ region, endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });

function stamp(d) {
    const p = (n, w = 2) => String(n).padStart(w, "0");
    return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
        `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.` +
        `${p(d.getUTCMilliseconds(), 3)}000`;
}

async function queueUrl(name) {
    return (await sqs.send(new sqsLib.GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
}

async function send(queue, n, tag) {
    const url = await queueUrl(queue);
    const ids = [];
    for (let first = 0; first < n; first += 10) {
        const Entries = [];
        for (let i = first; i < Math.min(n, first + 10); i++) {
            const body = { msg: `${tag} : COUNT ${i + 1}`, srcStamp: stamp(new Date()) };
            Entries.push({ Id: `m${i}`, MessageBody: JSON.stringify(body) });
        }
        const r = await sqs.send(new sqsLib.SendMessageBatchCommand({ QueueUrl: url, Entries }));
        if (r.Failed?.length) throw new Error(`send failed: ${JSON.stringify(r.Failed)}`);
        ids.push(...r.Successful.map((s) => s.MessageId));
    }
    return ids;
}

async function sendFiles(queue, files) {
    const url = await queueUrl(queue);
    const fs = await import("node:fs");
    const out = [];
    for (const file of files) {
        let body;
        try {
            body = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(fs.readFileSync(file));
        } catch (e) {
            out.push({ file, error: `not valid UTF-8 (${e.message}): an SQS body is text` });
            continue;
        }
        try {
            const r = await sqs.send(new sqsLib.SendMessageCommand({ QueueUrl: url, MessageBody: body }));
            out.push({ file, id: r.MessageId });
        } catch (e) {
            out.push({ file, error: `${e.name}: ${e.message}` });
        }
    }
    return out;
}

async function drain(queue) {
    const url = await queueUrl(queue);
    const out = [];
    for (;;) {
        const r = await sqs.send(new sqsLib.ReceiveMessageCommand({
            QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 30,
            MessageSystemAttributeNames: ["All"], MessageAttributeNames: ["All"],
        }));
        if (!r.Messages?.length) return out;
        for (const m of r.Messages) {
            out.push({ id: m.MessageId, body: m.Body, attributes: m.Attributes ?? {},
                       messageAttributes: m.MessageAttributes ?? {} });
        }
        await sqs.send(new sqsLib.DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: r.Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
        }));
    }
}

async function redrive(queue, dlq, maxReceive) {
    const dlqUrl = (await sqs.send(new sqsLib.CreateQueueCommand({ QueueName: dlq }))).QueueUrl;
    const attrs = await sqs.send(new sqsLib.GetQueueAttributesCommand({
        QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }));
    const policy = JSON.stringify({ deadLetterTargetArn: attrs.Attributes.QueueArn,
                                    maxReceiveCount: String(maxReceive) });
    const r = await sqs.send(new sqsLib.CreateQueueCommand({
        QueueName: queue, Attributes: { RedrivePolicy: policy } }));
    return { queueUrl: r.QueueUrl, dlqUrl, policy };
}

async function items(table) {
    const out = [];
    let ExclusiveStartKey;
    do {
        const r = await ddb.send(new ddbLib.ScanCommand({ TableName: table, ExclusiveStartKey }));
        out.push(...r.Items);
        ExclusiveStartKey = r.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
}

async function get(table, id) {
    const r = await ddb.send(new ddbLib.GetItemCommand({
        TableName: table, Key: { id: { S: id } }, ConsistentRead: true }));
    return r.Item ?? null;
}

const [cmd, ...args] = process.argv.slice(2);
const commands = {
    send: () => send(args[0], Number(args[1]), args[2] ?? "Scale Test Message"),
    "send-files": () => sendFiles(args[0], args.slice(1)),
    drain: () => drain(args[0]),
    redrive: () => redrive(args[0], args[1], Number(args[2])),
    items: () => items(args[0]),
    get: () => get(args[0], args[1]),
};
if (!commands[cmd]) {
    console.error(`usage: aws_sdk.mjs ${Object.keys(commands).join("|")} ...`);
    process.exit(2);
}
try {
    console.log(JSON.stringify(await commands[cmd]()));
} catch (e) {
    console.error(`aws_sdk.mjs ${cmd}: ${e.name}: ${e.message}`);
    process.exit(1);
}
