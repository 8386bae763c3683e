/**
 * Long polls outlive the listener's idle timeout (30 s on the box; 1 s here): /iot_drivers/event
 * (held up to 50 s on a box; 6 s here: Bun's idle timer has a 4 s granularity) and /api/pos's `?wait=` and `Prefer: wait=` ask Bun for more time for
 * their one request (server.timeout), so the connection is not closed under them. Real sockets:
 * Bun.serve with the server passed as the env, as src/web/front.ts does.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Server } from "bun";
import { Hono } from "hono";
import type { TerminalSimulator } from "../../tools/terminal-simulator";
import { addTerminal, createBox, type Box } from "./box";
import { startSim, tempDir, testFleet } from "./helpers";

const POIID = "P400Plus-800000018";
let sim: TerminalSimulator, box: Box, dir: ReturnType<typeof tempDir>, server: Server<undefined>, id: string;

beforeAll(async () => {
  sim = await startSim(POIID, { lateMs: 6000 });
  dir = tempDir();
  box = await createBox(dir.path, { timeouts: { paymentMs: 10_000 }, terminals: { identifier: () => "b", eventLongPollMs: 6000 } });
  await addTerminal(box, sim, POIID);
  id = (await box.terminals.list())[0]!.id;
  const app = new Hono().route("/iot_drivers", box.terminals.iotDriversApi).route("/api/pos", box.terminals.posApi);
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 1, fetch: (req, srv) => app.fetch(req, { server: srv }) });
});
afterAll(async () => { server.stop(true); await box.terminals.stop(); await sim.stop(); dir.dispose(); testFleet().dispose(); });

test("held 6 s behind a 1 s idle timeout: GET /api/pos/payments/:id?wait= answers the result and /iot_drivers/event answers null; no connection cut", async () => {
  sim.setBehaviour("late");
  const started = await fetch(`http://127.0.0.1:${server.port}/api/pos/payments`, { method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${box.token}`, "idempotency-key": crypto.randomUUID() },
    body: JSON.stringify({ amount: 500, currency: "EUR", reference: "slow-1" }) }).then((r) => r.json()) as any;
  expect(started.status).toBe("in_progress");
  const t = Date.now();
  const [poll, event] = await Promise.all([
    // A GET on a fresh connection (no body read on it): Bun's idle timeout would close it while it waits.
    fetch(`http://127.0.0.1:${server.port}/api/pos/payments/${started.id}?version=${started.version}&wait=10`, { headers: { authorization: `Bearer ${box.token}` }, keepalive: false }).then((r) => r.json()),
    fetch(`http://127.0.0.1:${server.port}/iot_drivers/event`, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 3, params: { listener: { session_id: "s", devices: [id], last_event: Date.now() / 1000 + 60 } } }) }).then((r) => r.json()),
  ]);
  expect(poll).toMatchObject({ status: "approved", final: true });
  expect(event).toEqual({ jsonrpc: "2.0", id: 3, result: null });
  expect(Date.now() - t).toBeGreaterThan(5000);
}, 30_000);
