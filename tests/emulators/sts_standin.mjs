// SPDX-License-Identifier: Apache-2.0
// A loopback stand-in for AWS STS AssumeRoleWithWebIdentity (Query protocol, XML answers), for
// the IRSA tests: no npm emulator implements it. It checks the request the way STS would for
// our purposes: Action and Version, the expected role ARN, and that WebIdentityToken equals the
// token file's *current* contents (re-read on every request, so a client that caches the token
// across a rotation is rejected). The token the file held before is still accepted for
// ROTATION_GRACE_MS after the file changed (its mtime): a client that read the file an instant
// before the kubelet replaced it is not caching it (and real STS accepts any unexpired token).
// Credentials are numbered and expire LIFETIME seconds after issue.
//
//   node sts_standin.mjs PORT TOKEN_FILE ROLE_ARN LIFETIME_S
//   GET /_stats -> {"exchanges", "rejected", "tokens": [distinct tokens accepted, in order],
//                   "accessKeys": [...], "sessionNames": [...]}
import fs from "node:fs";
import http from "node:http";

const [port, tokenFile, roleArn, lifetime] = process.argv.slice(2);
const stats = { exchanges: 0, rejected: 0, tokens: [], accessKeys: [], sessionNames: [] };
const ROTATION_GRACE_MS = 1000;
let current = null; // the file's contents when last read, and what it held before
let previous = null;

// Whether `token` may be exchanged now: the file's current contents, or the ones it held just
// before a rotation less than ROTATION_GRACE_MS ago.
function tokenAccepted(token) {
    const now = fs.readFileSync(tokenFile, "utf8").trim();
    if (now !== current) {
        previous = current;
        current = now;
    }
    if (token === current) return true;
    return token === previous && Date.now() - fs.statSync(tokenFile).mtimeMs < ROTATION_GRACE_MS;
}

function xmlEscape(s) {
    return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function error(res, status, code, message) {
    stats.rejected++;
    res.writeHead(status, { "Content-Type": "text/xml" });
    res.end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>` +
        `<Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message>` +
        `</Error><RequestId>standin</RequestId></ErrorResponse>`);
}

function answer(form, res) {
    if (form.get("Action") !== "AssumeRoleWithWebIdentity" || form.get("Version") !== "2011-06-15")
        return error(res, 400, "InvalidAction", "expected AssumeRoleWithWebIdentity 2011-06-15");
    if (form.get("RoleArn") !== roleArn)
        return error(res, 403, "AccessDenied", `not authorized to assume ${form.get("RoleArn")}`);
    const token = form.get("WebIdentityToken");
    if (!tokenAccepted(token))
        return error(res, 400, "InvalidIdentityToken", "token does not match the current file");
    stats.exchanges++;
    if (!stats.tokens.includes(token)) stats.tokens.push(token);
    stats.sessionNames.push(form.get("RoleSessionName"));
    const n = stats.exchanges;
    const akid = `ASIASTANDIN${String(n).padStart(6, "0")}`;
    stats.accessKeys.push(akid);
    const expires = new Date(Date.now() + Number(lifetime) * 1000).toISOString();
    // Elements in a different order than AWS's documentation on purpose: clients must parse by
    // name. The secret and token are recognisable so tests can check they never reach a log.
    res.writeHead(200, { "Content-Type": "text/xml" });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>
<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Audience>sts.amazonaws.com</Audience>
    <Credentials>
      <Expiration>${expires}</Expiration>
      <SecretAccessKey>standin-secret-${n}-do-not-log</SecretAccessKey>
      <AccessKeyId>${akid}</AccessKeyId>
      <SessionToken>standin-session-token-${n}-do-not-log</SessionToken>
    </Credentials>
    <SubjectFromWebIdentityToken>system:serviceaccount:edw:edw</SubjectFromWebIdentityToken>
    <AssumedRoleUser>
      <Arn>${xmlEscape(roleArn)}/${xmlEscape(form.get("RoleSessionName") ?? "")}</Arn>
      <AssumedRoleId>AROASTANDIN:${xmlEscape(form.get("RoleSessionName") ?? "")}</AssumedRoleId>
    </AssumedRoleUser>
    <Provider>oidc.eks.us-east-1.amazonaws.com/id/STANDIN</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>standin-${n}</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`);
}

const server = http.createServer((req, res) => {
    if (req.method === "GET" && req.url === "/_stats") {
        res.writeHead(200, { "Content-Type": "application/json" });
        return res.end(JSON.stringify(stats));
    }
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c) => { body += c; });
    req.on("end", () => {
        if (req.method !== "POST" || !req.headers["content-type"]?.startsWith(
            "application/x-www-form-urlencoded"))
            return error(res, 400, "InvalidRequest", "expected a form POST");
        answer(new URLSearchParams(body), res);
    });
});
server.listen(Number(port), "127.0.0.1", () => console.log(`sts stand-in on 127.0.0.1:${port}`));
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));
