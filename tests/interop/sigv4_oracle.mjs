// SPDX-License-Identifier: Apache-2.0
// Independent SigV4 results for edw's own JSON-protocol cases (SQS and DynamoDB requests as edw
// sends them), computed with @smithy/signature-v4 (the AWS SDK for JavaScript v3's signer) and
// Node's crypto. The output is committed as tests/vectors/aws-sigv4-json/cases.json and read by
// tests/unit/test_sigv4_json.c; the integration test aws_sigv4_oracle regenerates it and fails
// if anything differs, so the committed expectations always come from this implementation.
//
//   node sigv4_oracle.mjs > tests/vectors/aws-sigv4-json/cases.json
import crypto from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";

const emulators = process.env.EDW_EMULATORS_DIR ?? path.join(import.meta.dirname, "../emulators");
const require = createRequire(path.join(emulators, "package.json"));
const { SignatureV4 } = require("@smithy/signature-v4");

class Sha256 {
    constructor(secret) {
        this.h = secret ? crypto.createHmac("sha256", Buffer.from(secret)) :
            crypto.createHash("sha256");
    }
    update(data) { this.h.update(data); }
    async digest() { return new Uint8Array(this.h.digest()); }
}

// Captures the intermediate stages the SDK computes internally.
class Recording extends SignatureV4 {
    createCanonicalRequest(request, canonicalHeaders, payloadHash) {
        this.canonicalRequest = super.createCanonicalRequest(request, canonicalHeaders, payloadHash);
        return this.canonicalRequest;
    }
    async createStringToSign(longDate, scope, canonicalRequest, algorithm) {
        this.stringToSign = await super.createStringToSign(longDate, scope, canonicalRequest, algorithm);
        return this.stringToSign;
    }
}

const KEYS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const TEMP = { accessKeyId: "ASIAEXAMPLETEMP", secretAccessKey: "tmpSecret/with+chars=",
               sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==" };

// Bodies are compact JSON exactly as edw serialises them (jansson JSON_COMPACT: no spaces, raw
// UTF-8, '/' not escaped); the unit test checks edw sends these very bytes.
const cases = [
    { name: "sqs-receive-message", service: "sqs", region: "us-east-1", host: "sqs.us-east-1.amazonaws.com",
      time: "2026-11-27T18:00:00Z", creds: KEYS, target: "AmazonSQS.ReceiveMessage",
      body: '{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/edw-messages","MaxNumberOfMessages":10,"VisibilityTimeout":30,"WaitTimeSeconds":2,"MessageSystemAttributeNames":["ApproximateReceiveCount","SentTimestamp"]}' },
    { name: "sqs-send-batch-utf8", service: "sqs", region: "eu-west-1", host: "sqs.eu-west-1.amazonaws.com",
      time: "2027-02-28T23:59:59Z", creds: KEYS, target: "AmazonSQS.SendMessageBatch",
      body: '{"QueueUrl":"https://sqs.eu-west-1.amazonaws.com/123456789012/jobs","Entries":[{"MessageBody":"{\\"msg\\":\\"héllo ✓ \\\\\\"q\\\\\\" a/b\\",\\"srcStamp\\":\\"2027-02-28 23:59:59.000001\\",\\"id\\":\\"r-1\\"}","Id":"e0"}]}' },
    { name: "sqs-delete-batch-session-token", service: "sqs", region: "us-west-2", host: "sqs.us-west-2.amazonaws.com",
      time: "2026-01-01T00:00:00Z", creds: TEMP, target: "AmazonSQS.DeleteMessageBatch",
      body: '{"QueueUrl":"https://sqs.us-west-2.amazonaws.com/123456789012/jobs","Entries":[{"ReceiptHandle":"AQEB+/=abc","Id":"e0"},{"ReceiptHandle":"AQEB+/=def","Id":"e1"}]}' },
    { name: "dynamodb-batch-write-item", service: "dynamodb", region: "us-east-1", host: "dynamodb.us-east-1.amazonaws.com",
      time: "2026-11-27T18:00:01Z", creds: KEYS, target: "DynamoDB_20120810.BatchWriteItem",
      body: '{"RequestItems":{"edwresults":[{"PutRequest":{"Item":{"id":{"S":"r-1"},"data":{"S":"Scale Test Message : COUNT 1"},"srcStamp":{"S":"2026-11-27 18:00:00.000000"},"destStamp":{"S":"2026-11-27 18:00:00.250000"},"messageProcessingTime":{"N":"0.250000"},"dequeueCount":{"N":"1"}}}}]}}' },
    { name: "dynamodb-scan-session-token-local-port", service: "dynamodb", region: "ap-southeast-2", host: "127.0.0.1:8000",
      time: "2026-06-15T12:30:45Z", creds: TEMP, target: "DynamoDB_20120810.Scan",
      body: '{"TableName":"edwresults","ConsistentRead":true,"FilterExpression":"begins_with(#k, :p)","ExpressionAttributeNames":{"#k":"id"},"ExpressionAttributeValues":{":p":{"S":"r20261127-"}},"Segment":0,"TotalSegments":4}' },
    { name: "sqs-empty-object-body", service: "sqs", region: "us-east-1", host: "localhost:4566",
      time: "2026-11-27T18:00:00Z", creds: KEYS, target: "AmazonSQS.ListQueues", body: "{}" },
];

const out = [];
for (const c of cases) {
    const signer = new Recording({ service: c.service, region: c.region, credentials: c.creds,
                                   sha256: Sha256, applyChecksum: false });
    const request = {
        method: "POST", protocol: "https:", hostname: c.host.split(":")[0], path: "/", query: {},
        headers: { host: c.host, "content-type": "application/x-amz-json-1.0", "x-amz-target": c.target },
        body: c.body,
    };
    const signed = await signer.sign(request, { signingDate: new Date(c.time) });
    out.push({
        name: c.name, service: c.service, region: c.region, host: c.host, time: c.time,
        access_key_id: c.creds.accessKeyId, secret_access_key: c.creds.secretAccessKey,
        session_token: c.creds.sessionToken ?? null, target: c.target, body: c.body,
        canonical_request: signer.canonicalRequest, string_to_sign: signer.stringToSign,
        amz_date: signed.headers["x-amz-date"], authorization: signed.headers.authorization,
    });
}
console.log(JSON.stringify({
    provenance: "generated by tests/interop/sigv4_oracle.mjs with @smithy/signature-v4 " +
        "(AWS SDK for JavaScript v3) and node:crypto; do not edit by hand",
    cases: out,
}, null, 1));
