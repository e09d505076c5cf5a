// SPDX-License-Identifier: Apache-2.0
// The independent side of edw's Azure interoperability tests: the official JavaScript SDKs
// (@azure/storage-queue, @azure/data-tables, pinned in tests/emulators). Every command prints
// JSON on stdout for the bash test to check with jq.
//
//   node azure_sdk.mjs send-json QUEUE N     N reference-style bodies (no "id"), raw text
//   node azure_sdk.mjs send-base64 QUEUE N   the same, base64-encoded as Functions producers do
//   node azure_sdk.mjs send-text QUEUE TEXT  one raw message
//   node azure_sdk.mjs send-file QUEUE FILE  the file's bytes as one message: as text when they
//                                            are UTF-8 that XML (and Azurite) carry unchanged,
//                                            else base64 (as
//                                            Functions producers do); prints {id, encoding}, or
//                                            {error} when the service refuses it
//   node azure_sdk.mjs receive QUEUE N       receive (and delete) up to N messages: [{id, text}]
//   node azure_sdk.mjs peek QUEUE N          peek up to N messages: [{id, text, dequeueCount}]
//   node azure_sdk.mjs rows TABLE FILTER     entities with their EDM types, all pages
//   node azure_sdk.mjs sas ACCOUNT KEY       an account SAS for queue+table, valid one hour
//
// AZURE_STORAGE_CONNECTION_STRING selects the account (Azurite in the tests).
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const emulators = process.env.EDW_EMULATORS_DIR || path.join(here, "..", "emulators");
const require = createRequire(path.join(emulators, "package.json"));
const {
    QueueServiceClient,
    StorageSharedKeyCredential,
    generateAccountSASQueryParameters,
    AccountSASPermissions,
    AccountSASServices,
    AccountSASResourceTypes,
} = require("@azure/storage-queue");
const { TableClient } = require("@azure/data-tables");

const conn = process.env.AZURE_STORAGE_CONNECTION_STRING;
if (!conn && process.argv[2] !== "sas") {
    console.error("azure_sdk.mjs: AZURE_STORAGE_CONNECTION_STRING is not set");
    process.exit(2);
}

function stamp(d) {
    // The reference producer's srcStamp: UTC "%Y-%m-%d %H:%M:%S.%f".
    const iso = d.toISOString(); // 2026-11-27T18:00:00.123Z
    return iso.slice(0, 10) + " " + iso.slice(11, 23) + "000";
}

function queue(name) {
    return QueueServiceClient.fromConnectionString(conn).getQueueClient(name);
}

async function send(name, n, base64) {
    const q = queue(name);
    await q.createIfNotExists();
    const sent = [];
    for (let i = 1; i <= n; i++) {
        const body = JSON.stringify({ msg: `Scale Test Message : COUNT ${i}`, srcStamp: stamp(new Date()) });
        const text = base64 ? Buffer.from(body, "utf8").toString("base64") : body;
        const r = await q.sendMessage(text);
        sent.push({ id: r.messageId, body });
    }
    return sent;
}

async function receive(name, n) {
    const q = queue(name);
    const out = [];
    while (out.length < n) {
        const r = await q.receiveMessages({ numberOfMessages: Math.min(32, n - out.length), visibilityTimeout: 60 });
        if (r.receivedMessageItems.length === 0) break;
        for (const m of r.receivedMessageItems) {
            out.push({ id: m.messageId, text: m.messageText, dequeueCount: m.dequeueCount });
            await q.deleteMessage(m.messageId, m.popReceipt);
        }
    }
    return out;
}

async function peek(name, n) {
    const r = await queue(name).peekMessages({ numberOfMessages: Math.min(32, n) });
    return r.peekedMessageItems.map((m) => ({ id: m.messageId, text: m.messageText, dequeueCount: m.dequeueCount }));
}

async function rows(name, filter) {
    const t = TableClient.fromConnectionString(conn, name, { allowInsecureConnection: true });
    const out = [];
    const opts = { disableTypeConversion: true, queryOptions: filter ? { filter } : {} };
    for await (const e of t.listEntities(opts)) {
        const props = {};
        for (const [k, v] of Object.entries(e)) {
            if (k === "etag" || k === "timestamp" || k === "Timestamp") continue;
            // With disableTypeConversion every property is {value, type}; keys are plain.
            props[k] = v && typeof v === "object" && "type" in v ? { value: v.value, type: v.type } : { value: v, type: typeof v };
        }
        out.push(props);
    }
    return out;
}

const [cmd, a, b] = process.argv.slice(2);
let result;
switch (cmd) {
    case "send-json":
        result = await send(a, Number(b), false);
        break;
    case "send-base64":
        result = await send(a, Number(b), true);
        break;
    case "send-text": {
        const q = queue(a);
        await q.createIfNotExists();
        const r = await q.sendMessage(b);
        result = { id: r.messageId };
        break;
    }
    case "send-file": {
        const bytes = fs.readFileSync(b);
        const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
        // Text only when it round-trips and has no character XML 1.0 cannot carry, nor a line
        // break (Azurite 3.35 drops those from message text: "a\nb" comes back as "ab").
        const raw = Buffer.from(text, "utf8").equals(bytes) &&
            !/[\u0000-\u001f\ufffe\uffff]/.test(text.replaceAll("\t", " "));
        const q = queue(a);
        await q.createIfNotExists();
        try {
            const r = await q.sendMessage(raw ? text : bytes.toString("base64"));
            result = { id: r.messageId, encoding: raw ? "text" : "base64" };
        } catch (e) {
            result = { error: `${e.statusCode ?? ""} ${e.code ?? ""} ${e.message}`.trim() };
        }
        break;
    }
    case "receive":
        result = await receive(a, Number(b));
        break;
    case "peek":
        result = await peek(a, Number(b));
        break;
    case "rows":
        result = await rows(a, b);
        break;
    case "sas":
        result = generateAccountSASQueryParameters(
            {
                expiresOn: new Date(Date.now() + 3600 * 1000),
                permissions: AccountSASPermissions.parse("rwdlacup"),
                services: AccountSASServices.parse("qt").toString(),
                resourceTypes: AccountSASResourceTypes.parse("sco").toString(),
            },
            new StorageSharedKeyCredential(a, b),
        ).toString();
        break;
    default:
        console.error("usage: azure_sdk.mjs send-json|send-base64|send-text|send-file|receive|peek|rows ...");
        process.exit(2);
}
console.log(JSON.stringify(result));
