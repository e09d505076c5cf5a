// SPDX-License-Identifier: Apache-2.0
// Start fauxqs (the SQS emulator) from its library, bound to 127.0.0.1 only: its CLI binds
// 0.0.0.0. Usage: node fauxqs.mjs PORT   Prints "fauxqs listening on <url>" when ready and
// stops on SIGTERM/SIGINT.
import { buildApp } from "fauxqs";

const port = Number(process.argv[2] ?? "0");
const app = buildApp({ logger: false, host: "127.0.0.1" });
const address = await app.listen({ port, host: "127.0.0.1" });
console.log(`fauxqs listening on ${address}`);
for (const sig of ["SIGTERM", "SIGINT"]) {
    process.on(sig, () => app.close().then(() => process.exit(0)));
}
