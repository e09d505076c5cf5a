// SPDX-License-Identifier: Apache-2.0
// A loopback stand-in for Microsoft Entra ID's token endpoint (workload identity) and for a
// managed identity endpoint (IDENTITY_ENDPOINT), for edw's integration tests only.
//
//   node entra_standin.mjs DIR CERT KEY
//
// Listens on https://127.0.0.1:<free port>, writes the port to DIR/port. Behaviour is read
// from files in DIR on every request, so the test can change it mid-run:
//   DIR/expect_file  path of the federated token file: the client_assertion must equal its
//                    current content (trailing newline trimmed), else 400 AADSTS700024
//   DIR/mode         ok (default) | aadsts | 500 | garbage | hang | expired
//   DIR/ttl          token lifetime in seconds (default 30)
// Each issued access token is appended to DIR/issued (one per line), each accepted assertion
// to DIR/assertions, and each request's outcome to DIR/requests.
// Tokens are unsigned JWTs that Azurite's `--oauth basic` accepts: aud https://storage.azure.com,
// iss https://sts.windows.net/<tenant>/, iat/nbf/exp. Azurite does not check signatures.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';

const [dir, certFile, keyFile] = process.argv.slice(2);
const read = (name, dflt) => {
    try {
        return fs.readFileSync(path.join(dir, name), 'utf8').trim() || dflt;
    } catch {
        return dflt;
    }
};
const note = (name, line) => fs.appendFileSync(path.join(dir, name), line + '\n');
const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
let serial = 0;

function issue(tenant, mode) {
    const now = Math.floor(Date.now() / 1000);
    const ttl = Number(read('ttl', '30'));
    const exp = mode === 'expired' ? now - 60 : now + ttl;
    const jwt = [
        b64url({ alg: 'none', typ: 'JWT' }),
        b64url({ aud: 'https://storage.azure.com', iss: `https://sts.windows.net/${tenant}/`,
                 iat: now - 5, nbf: now - 5, exp, oid: `canary-access-${++serial}` }),
        'sig',
    ].join('.');
    note('issued', jwt);
    return { jwt, ttl }; // 'expired' claims a lifetime its JWT does not have
}

function reply(res, status, body) {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function failure(res, mode) {
    if (mode === 'aadsts') {
        reply(res, 400, { error: 'invalid_client', error_codes: [70021],
                          error_description: 'AADSTS70021: No matching federated identity ' +
                                             'record found for presented assertion.' });
    } else if (mode === '500') {
        reply(res, 500, { error: 'temporarily_unavailable' });
    } else if (mode === 'garbage') {
        reply(res, 200, '{"access_token": "half');
    } else if (mode === 'hang') {
        setTimeout(() => res.destroy(), 60000).unref();
    } else {
        return false;
    }
    return true;
}

const server = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) },
    (req, res) => {
        let body = '';
        req.on('data', (c) => { body += c; });
        req.on('end', () => {
            const mode = read('mode', 'ok');
            const url = new URL(req.url, 'https://127.0.0.1');
            note('requests', `${req.method} ${url.pathname} ${mode}`);
            if (failure(res, mode))
                return;
            if (req.method === 'GET' && url.pathname === '/msi') {
                // managed identity (App Service style)
                if (req.headers['x-identity-header'] !== read('identity_header', '') ||
                    url.searchParams.get('resource') !== 'https://storage.azure.com/' ||
                    url.searchParams.get('api-version') !== '2019-08-01')
                    return reply(res, 400, { error: 'invalid_request' });
                const t = issue('msi', mode);
                return reply(res, 200, { access_token: t.jwt, token_type: 'Bearer',
                                         expires_in: String(t.ttl),
                                         expires_on: String(Math.floor(Date.now() / 1000) + t.ttl),
                                         resource: 'https://storage.azure.com/' });
            }
            const m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
            if (req.method !== 'POST' || !m)
                return reply(res, 404, { error: 'not_found' });
            const form = new URLSearchParams(body);
            if (form.get('grant_type') !== 'client_credentials' ||
                form.get('client_assertion_type') !==
                    'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' ||
                form.get('scope') !== 'https://storage.azure.com/.default' ||
                form.get('client_id') !== read('client_id', ''))
                return reply(res, 400, { error: 'invalid_request',
                                         error_description: 'AADSTS900144: bad request' });
            let current = '';
            try {
                current = fs.readFileSync(read('expect_file', ''), 'utf8').replace(/\s+$/, '');
            } catch { /* missing: nothing matches */ }
            if (!current || form.get('client_assertion') !== current)
                return reply(res, 400, { error: 'invalid_client', error_codes: [700024],
                                         error_description: 'AADSTS700024: Client assertion ' +
                                                            'is not within its valid time range.' });
            note('assertions', current);
            const t = issue(m[1], mode);
            reply(res, 200, { token_type: 'Bearer', expires_in: t.ttl, ext_expires_in: t.ttl,
                              access_token: t.jwt });
        });
    });
server.listen(0, '127.0.0.1', () => {
    fs.writeFileSync(path.join(dir, 'port.tmp'), String(server.address().port));
    fs.renameSync(path.join(dir, 'port.tmp'), path.join(dir, 'port'));
});
process.on('SIGTERM', () => process.exit(0));
