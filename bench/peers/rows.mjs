// SPDX-License-Identifier: Apache-2.0
// What a consumer wrote, read back from its table with the official SDKs, for bench/run: the
// number of result rows and the earliest and latest dateStamp (Azure) or destStamp (DynamoDB)
// as Unix milliseconds (fractional). They give every consumer, whatever its language, the same
// clock: start-to-first-message = first - exec time; rate = count / (last - first). Rows
// without the stamp (e.g. run records) are not counted.
//   node rows.mjs azure|aws TABLE       prints {"count", "first_ms", "last_ms"}
// Endpoints: AZURE_STORAGE_CONNECTION_STRING, AWS_ENDPOINT_URL_DYNAMODB (+ AWS_REGION).
import { createRequire } from "node:module";
import path from "node:path";

const emulators = process.env.EDW_EMULATORS_DIR ??
    path.join(import.meta.dirname, "../../tests/emulators");
const require = createRequire(path.join(emulators, "package.json"));
const [kind, table] = process.argv.slice(2);

// "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) -> Unix ms with the microseconds kept.
function ms(s) {
    const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))?$/.exec(s);
    if (!m) return Infinity;
    const frac = Number(`0.${m[3] ?? "0"}`);
    return Date.parse(`${m[1]}T${m[2]}Z`) + frac * 1000;
}

let first = Infinity, last = -Infinity, count = 0;
const see = (s) => {
    const t = ms(s);
    if (!Number.isFinite(t)) return;
    count++;
    first = Math.min(first, t);
    last = Math.max(last, t);
};
if (kind === "azure") {
    const { TableClient } = require("@azure/data-tables");
    const t = TableClient.fromConnectionString(process.env.AZURE_STORAGE_CONNECTION_STRING, table,
                                               { allowInsecureConnection: true });
    for await (const e of t.listEntities({ queryOptions: { select: ["dateStamp"] } }))
        if (typeof e.dateStamp === "string") see(e.dateStamp);
} else if (kind === "aws") {
    const ddbLib = require("@aws-sdk/client-dynamodb");
    const ddb = new ddbLib.DynamoDBClient({ region: process.env.AWS_REGION ?? "us-east-1",
                                            endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });
    let key;
    do {
        const r = await ddb.send(new ddbLib.ScanCommand({ TableName: table,
            ProjectionExpression: "destStamp", ExclusiveStartKey: key }));
        for (const it of r.Items ?? [])
            if (it.destStamp?.S) see(it.destStamp.S);
        key = r.LastEvaluatedKey;
    } while (key);
} else {
    console.error("usage: node rows.mjs azure|aws TABLE");
    process.exit(2);
}
console.log(JSON.stringify({ count, first_ms: count ? first : null, last_ms: count ? last : null }));
