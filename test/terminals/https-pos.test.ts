/**
 * The POS API on a real HTTPS server, as the lead mounts it (/api/pos): the events stream
 * delivers each state as it happens over the socket, and the long poll answers early.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Hono } from "hono";
import type { Server } from "bun";
import type { TerminalSimulator } from "../../tools/terminal-simulator";
import { addTerminal, createBox, ORIGIN, type Box } from "./box";
import { startSim, tempDir, testFleet } from "./helpers";

const POIID = "P400Plus-500000005";
let sim: TerminalSimulator, box: Box, server: Server<undefined>, dir: ReturnType<typeof tempDir>;
let base = "";
let tls: { ca: string[] };

beforeAll(async () => {
  sim = await startSim(POIID, { lateMs: 1000, behaviour: "late" });
  dir = tempDir();
  box = await createBox(dir.path, { timeouts: { paymentMs: 5000 } });
  await addTerminal(box, sim, POIID);
  const cert = testFleet().issue("box.test", { sanIp: "127.0.0.1" });
  const app = new Hono().route("/api/pos", box.terminals.posApi);
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: { cert: cert.certPem, key: cert.keyPem }, fetch: app.fetch });
  base = `https://127.0.0.1:${server.port}/api/pos`;
  tls = { ca: [testFleet().root.certPem] };
});
afterAll(async () => { await box.terminals.stop(); server.stop(true); await sim.stop(); dir.dispose(); testFleet().dispose(); });

const headers = () => ({ authorization: `Bearer ${box.token}`, "content-type": "application/json", origin: ORIGIN });

test("SSE over HTTPS: in_progress arrives at once, approved when the terminal answers, then the stream ends", async () => {
  const r = await fetch(`${base}/payments`, { method: "POST", headers: { ...headers(), "idempotency-key": crypto.randomUUID() }, body: JSON.stringify({ amount: 990, currency: "EUR", reference: "sse-1" }), tls } as any);
  expect(r.status).toBe(201);
  const { id } = await r.json();
  const ev = await fetch(`${base}/payments/${id}/events`, { headers: headers(), tls } as any);
  expect(ev.headers.get("access-control-allow-origin")).toBe(ORIGIN);
  const reader = ev.body!.getReader();
  const seen: Array<{ status: string; terminal: string }> = [];
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += new TextDecoder().decode(value);
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i); buf = buf.slice(i + 2);
      const data = block.split("\n").find((l) => l.startsWith("data: "));
      if (data) seen.push({ status: JSON.parse(data.slice(6)).status, terminal: sim.ledger.size ? [...sim.ledger.values()].at(-1)!.state : "none" });
    }
  }
  // in_progress was delivered while the terminal was still working: not held back until the end.
  expect(seen.map((e) => e.status)).toEqual(["in_progress", "approved"]);
  expect(seen[0]!.terminal).not.toBe("approved");
}, 10_000);

test("long poll over HTTPS answers when the state changes, not at the end of the wait", async () => {
  const r = await fetch(`${base}/payments`, { method: "POST", headers: { ...headers(), "idempotency-key": crypto.randomUUID() }, body: JSON.stringify({ amount: 991, currency: "EUR", reference: "lp-1" }), tls } as any);
  const p = await r.json();
  const t0 = performance.now();
  const lp = await (await fetch(`${base}/payments/${p.id}?version=${p.version}&wait=20`, { headers: headers(), tls } as any)).json();
  expect(lp.status).toBe("approved");
  expect(performance.now() - t0).toBeLessThan(5000);
}, 10_000);
