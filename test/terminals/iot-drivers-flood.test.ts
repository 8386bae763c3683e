/**
 * A flood of /iot_drivers/event long polls from the LAN: the box holds at most
 * MAX_HELD_EVENT_POLLS at once; past that the oldest is answered null at once (the POS polls
 * again), so held requests and their timers stay bounded. Malformed, oversized or chunked
 * bodies on /action and /event: a JSON-RPC 4xx, never a 500.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { Hono } from "hono";
import { MAX_HELD_EVENT_POLLS } from "../../src/terminals/iot-drivers";
import { createBox, type Box } from "./box";
import { tempDir, testFleet } from "./helpers";

let box: Box, dir: ReturnType<typeof tempDir>, app: Hono;
beforeAll(async () => {
  dir = tempDir();
  box = await createBox(dir.path, { terminals: { identifier: () => "floodbox", databaseOrigin: () => null, eventLongPollMs: 20_000 } });
  app = new Hono().route("/iot_drivers", box.terminals.iotDriversApi);
});
afterAll(async () => { await box.terminals.stop(); dir.dispose(); testFleet().dispose(); });

test("more long polls than the bound: the oldest extra ones answer null at once, the rest stay held until aborted", async () => {
  const extra = 20;
  const ctrls: AbortController[] = [];
  const answered: number[] = [];
  const polls = Array.from({ length: MAX_HELD_EVENT_POLLS + extra }, (_, i) => {
    const ctrl = new AbortController();
    ctrls.push(ctrl);
    return Promise.resolve(app.request("/iot_drivers/event", { method: "POST", signal: ctrl.signal, headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: i, params: { listener: { session_id: "s", devices: ["nope"], last_event: 0 } } }) }))
      .then(async (r: Response) => { const b = await r.json() as any; expect(b.result).toBeNull(); answered.push(b.id); });
  });
  await Bun.sleep(500);
  expect(answered.sort((a, b) => a - b)).toEqual(Array.from({ length: extra }, (_, i) => i));
  for (const c of ctrls) c.abort();
  await Promise.allSettled(polls);
}, 30_000);

test("malformed and oversized bodies on /action and /event: a JSON-RPC error (4xx), never a 500, whatever the bytes or the Content-Length", async () => {
  const post = async (path: string, body: string | ReadableStream, headers: Record<string, string> = {}) => {
    const r = await app.request(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
    const j = await r.json() as any;
    return { status: r.status, j };
  };
  const json = fc.oneof(fc.string({ maxLength: 100 }), fc.json({ maxDepth: 4 }),
    fc.record({ jsonrpc: fc.constant("2.0"), id: fc.jsonValue({ maxDepth: 1 }), params: fc.jsonValue({ maxDepth: 4 }) }).map((o) => JSON.stringify(o)),
    fc.record({ params: fc.record({ device_identifier: fc.oneof(fc.constant("floodbox"), fc.string()), data: fc.jsonValue({ maxDepth: 3 }),
      listener: fc.record({ devices: fc.jsonValue({ maxDepth: 2 }), last_event: fc.oneof(fc.double(), fc.string(), fc.constant(null)) }) }) }).map((o) => JSON.stringify(o)));
  await fc.assert(fc.asyncProperty(fc.constantFrom("/iot_drivers/action", "/iot_drivers/event"), json, async (path, body) => {
    // an event poll that would be held is answered at once when its request is aborted; a short wait keeps the run quick
    const ctrl = new AbortController();
    const t = setTimeout(() => ctrl.abort(), 20);
    const r = await app.request(path, { method: "POST", signal: ctrl.signal, headers: { "content-type": "application/json" }, body });
    clearTimeout(t);
    expect(r.status).toBeLessThan(500);
    const j = await r.json() as any;
    expect(j.jsonrpc).toBe("2.0");
    if (r.status !== 200) expect(j.error.code).toBe(r.status);
  }), { numRuns: 300 });
  const big = JSON.stringify({ params: { session_id: "x".repeat(20_000) } });
  expect((await post("/iot_drivers/action", big)).status).toBe(413);
  expect((await post("/iot_drivers/action", "{}", { "content-length": "999999" })).status).toBe(413);
  const chunked = new ReadableStream({ start(c) { for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode(" ".repeat(1024))); c.close(); } });
  expect((await post("/iot_drivers/event", chunked)).status).toBe(413);
}, 60_000);
