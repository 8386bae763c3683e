/**
 * What the box adds between the POS and a payment terminal, and how fast the nexo crypto is.
 *   bun bench/terminals.ts            (N=2000 payments per path; BENCH_N to change)
 *
 * direct:   a client that holds the terminal key talks to the simulator itself
 *           (encrypt, HTTPS keep-alive, decrypt) - the floor.
 * box path: the POS POSTs /api/pos/payments (HTTPS keep-alive to the box, "Prefer: wait=30",
 *           bearer token, Idempotency-Key); the box validates, journals (append + fdatasync, ext4 /tmp here),
 *           encrypts, talks to the same simulator, decrypts, journals the result and answers.
 * Both paths run in this one process against the same simulator, interleaved in blocks.
 * Between two box payments the bench waits (untimed) for the box to be idle: the result's
 * journal write happens just after the POS is answered, and a real terminal never takes the
 * next payment within a millisecond. The journal write itself is timed on its own below.
 */
import { jsonCaller } from "./support/json-call";
import { BENCH_KEY as KEY, startTerminalBench } from "./support/terminal-bench";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { NexoCrypto } from "@adyen/api-library";
import { writeFileAtomic } from "../src/fs/atomic";
import { silentLogger } from "../src/log/index";
import { createTerminals } from "../src/terminals/index";
import { createJournal, type Tx } from "../src/terminals/store";
import { decryptNexo, encryptNexo } from "../src/terminals/nexo-crypto";
import { newServiceId, paymentRequest } from "../src/terminals/messages";

const N = Number(process.env.BENCH_N ?? 2000);
const WARMUP = 200;
const POIID = "P400Plus-900000009";

const bench = await startTerminalBench(POIID);
const { sim, roots, boxCert, agent, keys, direct } = bench;

// The box: the terminals area behind a real HTTPS server, as the lead mounts it. Twice: with
// the journal on disk (ext4 here, an SD card on a Pi) and on tmpfs, to show what is disk wait.
const shm = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();

async function startBox(base: string) {
  const dataDir = mkdtempSync(join(base, "iotbox-bench-"));
  const terminals = createTerminals({ dataDir, logger: silentLogger(), fleetRootsPem: () => roots });
  await terminals.start();
  const app = new Hono().route("/api/pos", terminals.posApi).route("/api/terminals", terminals.adminApi);
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: { cert: boxCert.certPem, key: boxCert.keyPem }, fetch: app.fetch });
  const call = jsonCaller(() => server.port!, agent);

  await call("POST", "/api/terminals/terminals", { address: sim.address, poiid: POIID, ...KEY });
  const { json: pairing } = await call("POST", "/api/terminals/pos/pairings", { name: "bench" });
  const auth = { authorization: `Bearer ${pairing.token}`, prefer: "wait=30" };
  return {
    terminals,
    async pay(): Promise<number> {
      const t0 = performance.now();
      const r = await call("POST", "/api/pos/payments", { amount: 1000, currency: "EUR", reference: `b${++seq}` }, { ...auth, "idempotency-key": `bench-${seq}` });
      const ms = performance.now() - t0;
      if (r.json?.status !== "approved") throw new Error(`box payment: ${r.status} ${JSON.stringify(r.json)}`);
      await terminals.idle(); // untimed: see the header
      return ms;
    },
    async close() { await terminals.stop(); server.stop(true); rmSync(dataDir, { recursive: true, force: true }); },
  };
}
let seq = 0;
const diskBox = await startBox(tmpdir());
const shmBox = await startBox(shm);

const route = { saleId: "bench", poiid: POIID };

async function directOnce(): Promise<number> {
  const t0 = performance.now();
  const r = await direct.exchange(paymentRequest(route, newServiceId(), { transactionId: `d${++seq}`, timeStamp: new Date().toISOString(), amountMinor: 1000, currency: "EUR" }), 10_000);
  const ms = performance.now() - t0;
  if (r?.SaleToPOIResponse?.PaymentResponse?.Response?.Result !== "Success") throw new Error("direct payment not approved");
  return ms;
}
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!; };
for (let i = 0; i < WARMUP; i++) { await directOnce(); await diskBox.pay(); await shmBox.pay(); }
const d: number[] = [], b: number[] = [], m: number[] = [];
for (let i = 0; i < N; i += 100) {
  for (let j = 0; j < 100; j++) d.push(await directOnce());
  for (let j = 0; j < 100; j++) b.push(await diskBox.pay());
  for (let j = 0; j < 100; j++) m.push(await shmBox.pay());
}

async function opsPerSecond(f: () => Promise<unknown>, ms = 1500): Promise<number> {
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) { await f(); n++; }
  return n / (ms / 1000);
}
const message = paymentRequest(route, "A1b2C3d4E5", { transactionId: "order-123456", timeStamp: new Date().toISOString(), amountMinor: 1234, currency: "EUR" });
const plaintext = JSON.stringify(message);
const sealed = await encryptNexo(plaintext, message.SaleToPOIRequest.MessageHeader, keys);
const encOps = await opsPerSecond(() => encryptNexo(plaintext, message.SaleToPOIRequest.MessageHeader, keys));
const decOps = await opsPerSecond(() => decryptNexo(sealed, keys));
const adyenKey = { Passphrase: KEY.passphrase, KeyIdentifier: KEY.keyIdentifier, KeyVersion: KEY.keyVersion, AdyenCryptoVersion: 1 } as any;
const libEnc = await opsPerSecond(async () => NexoCrypto.encrypt(message.SaleToPOIRequest.MessageHeader as any, plaintext, adyenKey), 1000);

// The durable write before a Payment is sent, alone: our journal's append + fdatasync, next to
// the write-and-rename per record it replaced (2 fsyncs: the file, then the folder).
const journalDir = mkdtempSync(join(tmpdir(), "iotbox-bench-journal-"));
const record = JSON.stringify({ id: "tx_x", state: "in_progress", pad: "x".repeat(500) });
const jw: number[] = [], ja: number[] = [];
for (let i = 0; i < 500; i++) { const t0 = performance.now(); writeFileAtomic(join(journalDir, `tx_${i}.json`), record, 0o600); jw.push(performance.now() - t0); }
const journal = createJournal(journalDir);
const sample = { id: "tx_benchAAAAAAAAAA", state: "in_progress", version: 1, pad: "x".repeat(500) } as unknown as Tx;
for (let i = 0; i < 500; i++) { const t0 = performance.now(); journal.write(sample); ja.push(performance.now() - t0); }
journal.close();
rmSync(journalDir, { recursive: true, force: true });

const f = (x: number) => x.toFixed(3);
const added50 = pct(b, 50) - pct(d, 50), added99 = pct(b, 99) - pct(d, 99);
console.log(`\nPayment latency, ${N} approved payments per path (ms), simulator on loopback TLS`);
console.table([
  { path: "direct to simulator", p50: f(pct(d, 50)), p99: f(pct(d, 99)) },
  { path: `POS -> box -> simulator (journal on ${tmpdir()}, disk)`, p50: f(pct(b, 50)), p99: f(pct(b, 99)) },
  { path: "added by the box", p50: f(added50), p99: f(added99) },
  { path: "  the journal write before send alone (append + 1 fdatasync)", p50: f(pct(ja, 50)), p99: f(pct(ja, 99)) },
  { path: "  (the write-and-rename it replaced: 2 fsyncs)", p50: f(pct(jw, 50)), p99: f(pct(jw, 99)) },
  { path: `POS -> box -> simulator (journal on ${shm}, tmpfs)`, p50: f(pct(m, 50)), p99: f(pct(m, 99)) },
  { path: "added by the box without disk wait", p50: f(pct(m, 50) - pct(d, 50)), p99: f(pct(m, 99) - pct(d, 99)) },
  { path: "goal: added p50 < 2 ms (durable journal on disk)", p50: added50 < 2 ? "met" : "NOT met", p99: "" },
  { path: "goal: added p50 < 2 ms (without disk wait)", p50: pct(m, 50) - pct(d, 50) < 2 ? "met" : "NOT met", p99: "" },
]);
console.log(`nexo crypto on a ${plaintext.length}-byte Payment request`);
console.table([
  { operation: "encrypt (ours, WebCrypto, derived keys cached)", "ops/s": Math.round(encOps) },
  { operation: "decrypt + HMAC check (ours)", "ops/s": Math.round(decOps) },
  { operation: "encrypt (@adyen/api-library, derives the key per message)", "ops/s": Math.round(libEnc) },
  { operation: "ratio ours/library (encrypt)", "ops/s": (encOps / libEnc).toFixed(1) + "x" },
]);

direct.close();
await diskBox.close();
await shmBox.close();
await bench.dispose();
