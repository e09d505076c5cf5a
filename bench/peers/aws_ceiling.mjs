// SPDX-License-Identifier: Apache-2.0
// The emulators' own ceiling for bench/aws.sh: the bare service calls over keep-alive HTTP
// with as little client work as possible (raw JSON protocol, no SDK, no signing: the emulators
// do not check signatures), C requests in flight:
//   sqs QUEUE C   drain QUEUE with ReceiveMessage(10) + DeleteMessageBatch: messages/s
//   ddb TABLE N C [WARM]  write N items with BatchWriteItem(25): items/s (after WARM items
//                 written untimed, so the emulator's JIT is warm)
//   ops QUEUE C [WARM]  each SQS operation alone: receive and delete WARM messages untimed,
//                 then drain the queue in waves: C ReceiveMessage(10) calls at once, then
//                 that wave's messages deleted with DeleteMessageBatch(10), C at once; the
//                 times of receives and of deletes are added up separately, so each is
//                 measured alone while the queue shrinks as it does under a consumer;
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
    let count = 0, tReceive = 0, tDelete = 0;
    for (;;) {
        let t0 = performance.now();
        const waves = await Promise.all(Array.from({ length: conc }, () =>
            call(ep, "AmazonSQS.ReceiveMessage",
                 { QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 600 })));
        const handles = waves.flatMap((r) => (r.Messages ?? []).map((m) => m.ReceiptHandle));
        if (!handles.length) break;
        tReceive += performance.now() - t0;
        t0 = performance.now();
        const batches = [];
        for (let i = 0; i < handles.length; i += 10) batches.push(handles.slice(i, i + 10));
        await Promise.all(batches.map((b) => call(ep, "AmazonSQS.DeleteMessageBatch",
            { QueueUrl, Entries: b.map((h, i) => ({ Id: `d${i}`, ReceiptHandle: h })) })));
        tDelete += performance.now() - t0;
        count += handles.length;
    }
    const receive = count / (tReceive / 1000);
    const del = count / (tDelete / 1000);
    return { what: "sqs receive, delete", count, receive, delete: del };
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
