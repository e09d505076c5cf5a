// SPDX-License-Identifier: Apache-2.0
// The emulators' own ceiling for bench/aws.sh: the bare service calls over keep-alive HTTP
// with as little client work as possible (raw JSON protocol, no SDK, no signing: the emulators
// do not check signatures), C requests in flight:
//   sqs QUEUE C   drain QUEUE with ReceiveMessage(10) + DeleteMessageBatch: messages/s
//   ddb TABLE N C [WARM]  write N items with BatchWriteItem(25): items/s (after WARM items
//                 written untimed, so the emulator's JIT is warm)
//   ops QUEUE C [WARM]  each SQS operation alone: receive and delete WARM messages untimed,
//                 then receive the rest of the queue with ReceiveMessage(10) (long lease,
//                 nothing deleted), then delete them with DeleteMessageBatch(10);
//                 prints {"receive", "delete"} in messages/s
// Prints {"what", "count", "seconds", "rate"}.
import http from "node:http";

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function call(endpoint, target, body) {
    const u = new URL(endpoint);
    const data = JSON.stringify(body);
    return new Promise((resolve, reject) => {
        const req = http.request({ host: u.hostname, port: u.port, method: "POST", path: "/", agent,
            headers: { "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target,
                       "Authorization": "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/x/aws4_request, SignedHeaders=host, Signature=0",
                       "X-Amz-Date": "20260101T000000Z", "Content-Length": Buffer.byteLength(data) } },
        (res) => {
            const chunks = [];
            res.on("data", (c) => chunks.push(c));
            res.on("end", () => {
                const text = Buffer.concat(chunks).toString();
                if (res.statusCode !== 200) reject(new Error(`${target}: ${res.statusCode} ${text}`));
                else resolve(text ? JSON.parse(text) : {});
            });
        });
        req.on("error", reject);
        req.end(data);
    });
}

async function drain(queue, conc) {
    const ep = process.env.AWS_ENDPOINT_URL_SQS;
    const { QueueUrl } = await call(ep, "AmazonSQS.GetQueueUrl", { QueueName: queue });
    let count = 0, empty = 0;
    const t0 = Date.now();
    let last = t0;
    await Promise.all(Array.from({ length: conc }, async () => {
        while (empty < 3 * conc) {
            const r = await call(ep, "AmazonSQS.ReceiveMessage",
                                 { QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 });
            if (!r.Messages?.length) { empty++; continue; }
            empty = 0;
            await call(ep, "AmazonSQS.DeleteMessageBatch", { QueueUrl,
                Entries: r.Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })) });
            count += r.Messages.length;
            last = Date.now();
        }
    }));
    return { what: "sqs receive+delete", count, seconds: (last - t0) / 1000 };
}

async function write(table, n, conc, warm = 0, prefix = "ceiling") {
    const ep = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    if (warm > 0) await write(table, warm, conc, 0, "warm");
    let next = 0;
    const t0 = Date.now();
    await Promise.all(Array.from({ length: conc }, async () => {
        while (next < n) {
            const first = next;
            next = Math.min(n, next + 25);
            const puts = [];
            for (let i = first; i < next; i++)
                puts.push({ PutRequest: { Item: { id: { S: `${prefix}-${i}` },
                    data: { S: `Scale Test Message : COUNT ${i}` },
                    srcStamp: { S: "2026-11-27 18:00:00.123456" },
                    destStamp: { S: "2026-11-27 18:00:00.234567" },
                    messageProcessingTime: { N: "0.111111" }, dequeueCount: { N: "1" } } } });
            let items = { [table]: puts };
            while (items[table]?.length) {
                const r = await call(ep, "DynamoDB_20120810.BatchWriteItem", { RequestItems: items });
                items = r.UnprocessedItems ?? {};
            }
        }
    }));
    return { what: "dynamodb batch write", count: n, seconds: (Date.now() - t0) / 1000 };
}

async function ops(queue, conc, warm) {
    const ep = process.env.AWS_ENDPOINT_URL_SQS;
    const { QueueUrl } = await call(ep, "AmazonSQS.GetQueueUrl", { QueueName: queue });
    for (let done = 0; done < warm;) {
        const r = await call(ep, "AmazonSQS.ReceiveMessage", { QueueUrl, MaxNumberOfMessages: 10 });
        if (!r.Messages?.length) break;
        await call(ep, "AmazonSQS.DeleteMessageBatch", { QueueUrl,
            Entries: r.Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })) });
        done += r.Messages.length;
    }
    const handles = [];
    let empty = 0;
    let t0 = Date.now(), last = t0;
    await Promise.all(Array.from({ length: conc }, async () => {
        while (empty < 3 * conc) {
            const r = await call(ep, "AmazonSQS.ReceiveMessage",
                                 { QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 600 });
            if (!r.Messages?.length) { empty++; continue; }
            empty = 0;
            for (const m of r.Messages) handles.push(m.ReceiptHandle);
            last = Date.now();
        }
    }));
    const receive = handles.length / ((last - t0) / 1000);
    let next = 0;
    t0 = Date.now();
    await Promise.all(Array.from({ length: conc }, async () => {
        while (next < handles.length) {
            const batch = handles.slice(next, next + 10);
            next += batch.length;
            await call(ep, "AmazonSQS.DeleteMessageBatch", { QueueUrl,
                Entries: batch.map((h, i) => ({ Id: `d${i}`, ReceiptHandle: h })) });
        }
    }));
    const del = handles.length / ((Date.now() - t0) / 1000);
    return { what: "sqs receive, delete", count: handles.length, receive, delete: del };
}

const [mode, ...a] = process.argv.slice(2);
if (mode === "ops") {
    console.log(JSON.stringify(await ops(a[0], Number(a[1] ?? 8), Number(a[2] ?? 0))));
} else {
    const r = mode === "sqs" ? await drain(a[0], Number(a[1] ?? 8))
                             : await write(a[0], Number(a[1]), Number(a[2] ?? 8),
                                           Number(a[3] ?? 0));
    console.log(JSON.stringify({ ...r, rate: r.count / r.seconds }));
}
agent.destroy();
