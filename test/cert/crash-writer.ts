// Child process of the crash test: replaces the certificate generation in a tight loop until killed.
import { readFileSync } from "node:fs";
import { createCertificateStore } from "../../src/cert/store";
const [certDir, pairsFile] = process.argv.slice(2);
const pairs = JSON.parse(readFileSync(pairsFile!, "utf8")) as Array<{ keyPem: string; chainPem: string }>;
const store = createCertificateStore(certDir!);
process.stdout.write("ready\n");
for (let i = 0; ; i++) { const p = pairs[i % pairs.length]!; store.writeCurrent(p.keyPem, p.chainPem); }
