/**
 * A flood of /iot_drivers/event long polls from the LAN: the box holds at most
 * MAX_HELD_EVENT_POLLS at once; past that the oldest is answered null at once (the POS polls
 * again), so held requests and their timers stay bounded.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
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
