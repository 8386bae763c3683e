/**
 * The latency the box adds on the reference's device protocol, next to /api/pos.
 *   bun bench/iot-drivers.ts            (N=500 approved payments per path; BENCH_N to change)
 *
 * direct:      a client holding the terminal key talks to the simulator itself (the floor).
 * /api/pos:    POST /api/pos/payments with "Prefer: wait=30" (one round trip, bearer token).
 * /iot_drivers: what a reference POS page does: POST /iot_drivers/action (Transaction), then
 *              long-polled POST /iot_drivers/event until the event with Response "Approved"
 *              (WaitingForCard comes first, so at least two event requests per payment).
 * One process, one simulator on loopback TLS, the box's HTTPS with keep-alive, the journal on
 * the temp folder's disk; paths interleaved in blocks of 50. Between two box payments the bench
 * waits (untimed) for the box to be idle, as bench/terminals.ts does.
 */
import { jsonCaller } from "./support/json-call";
import { BENCH_KEY as KEY, startTerminalBench } from "./support/terminal-bench";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { silentLogger } from "../src/log/index";
import { createTerminals } from "../src/terminals/index";
import { newServiceId, paymentRequest } from "../src/terminals/messages";

const N = Number(process.env.BENCH_N ?? 500);
const WARMUP = 50;
const POIID = "P400Plus-900000019";

const bench = await startTerminalBench(POIID);
const { sim, roots, boxCert, agent, keys, direct } = bench;

const dataDir = mkdtempSync(join(tmpdir(), "iotbox-bench-iot-"));
const terminals = createTerminals({ dataDir, logger: silentLogger(), fleetRootsPem: () => roots, identifier: () => "benchbox", databaseOrigin: () => null });
await terminals.start();
const app = new Hono().route("/api/pos", terminals.posApi).route("/api/terminals", terminals.adminApi).route("/iot_drivers", terminals.iotDriversApi);
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: { cert: boxCert.certPem, key: boxCert.keyPem }, fetch: app.fetch });

const call = jsonCaller(() => server.port!, agent);

await call("POST", "/api/terminals/terminals", { address: sim.address, poiid: POIID, ...KEY });
const device = (await terminals.list())[0]!.id;
const { json: pairing } = await call("POST", "/api/terminals/pos/pairings", { name: "bench" });
const auth = { authorization: `Bearer ${pairing.token}`, prefer: "wait=30" };
let seq = 0;

async function posOnce(): Promise<number> {
  const t0 = performance.now();
  const r = await call("POST", "/api/pos/payments", { amount: 1000, currency: "EUR", reference: `b${++seq}` }, { ...auth, "idempotency-key": `bench-${seq}` });
  const ms = performance.now() - t0;
  if (r.json?.status !== "approved") throw new Error(`/api/pos: ${r.status} ${JSON.stringify(r.json)}`);
  await terminals.idle();
  return ms;
}

let lastEvent = 0;
async function iotOnce(): Promise<{ ms: number; polls: number }> {
  const rpc = (path: string, params: unknown) => call("POST", `/iot_drivers${path}`, { jsonrpc: "2.0", method: "call", id: ++seq, params });
  const cid = `c${++seq}`;
  const t0 = performance.now();
  const a = await rpc("/action", { session_id: "bench", device_identifier: device, data: { messageType: "Transaction", TransactionID: `t${seq}`, cid, amount: 1000, currency: "EUR" } });
  if (a.json?.result?.status !== "success") throw new Error(`/iot_drivers/action: ${JSON.stringify(a.json)}`);
  for (let polls = 1; polls < 50; polls++) {
    const e = (await rpc("/event", { listener: { session_id: "bench", devices: [device], last_event: lastEvent } })).json?.result;
    if (!e) continue;
    lastEvent = e.time;
    if (e.result.cid !== cid) continue;
    if (e.result.Response === "Approved") { const ms = performance.now() - t0; await terminals.idle(); return { ms, polls }; }
    if (e.result.Error) throw new Error(`/iot_drivers: ${e.result.Error}`);
  }
  throw new Error("no Approved event");
}

async function directOnce(): Promise<number> {
  const t0 = performance.now();
  const r = await direct.exchange(paymentRequest({ saleId: "bench", poiid: POIID }, newServiceId(), { transactionId: `d${++seq}`, timeStamp: new Date().toISOString(), amountMinor: 1000, currency: "EUR" }), 10_000);
  const ms = performance.now() - t0;
  if (r?.SaleToPOIResponse?.PaymentResponse?.Response?.Result !== "Success") throw new Error("direct payment not approved");
  return ms;
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!; };
for (let i = 0; i < WARMUP; i++) { await directOnce(); await posOnce(); await iotOnce(); }
const d: number[] = [], p: number[] = [], q: number[] = [], polls: number[] = [];
for (let i = 0; i < N; i += 50) {
  for (let j = 0; j < 50; j++) d.push(await directOnce());
  for (let j = 0; j < 50; j++) p.push(await posOnce());
  for (let j = 0; j < 50; j++) { const r = await iotOnce(); q.push(r.ms); polls.push(r.polls); }
}

const f = (x: number) => x.toFixed(3);
console.log(`\nPayment latency, ${N} approved payments per path (ms), simulator on loopback TLS, journal on ${tmpdir()}`);
console.table([
  { path: "direct to simulator", p50: f(pct(d, 50)), p99: f(pct(d, 99)) },
  { path: "/api/pos (Prefer: wait=30)", p50: f(pct(p, 50)), p99: f(pct(p, 99)) },
  { path: "  added by the box", p50: f(pct(p, 50) - pct(d, 50)), p99: f(pct(p, 99) - pct(d, 99)) },
  { path: `/iot_drivers (action + ${pct(polls, 50)} event polls at p50)`, p50: f(pct(q, 50)), p99: f(pct(q, 99)) },
  { path: "  added by the box", p50: f(pct(q, 50) - pct(d, 50)), p99: f(pct(q, 99) - pct(d, 99)) },
]);

direct.close();
await terminals.stop();
server.stop(true);
await bench.dispose();
rmSync(dataDir, { recursive: true, force: true });
