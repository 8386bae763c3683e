/**
 * A box whose terminal-fleet root was never imported: the technician can fix that, so the
 * terminal test and a payment say so with a 4xx and a sentence, never a 500.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TerminalSimulator } from "../../tools/terminal-simulator";
import { addTerminal, createBox, type Box } from "./box";
import { startSim, tempDir, testFleet } from "./helpers";

const POIID = "V400m-200000031";
let sim: TerminalSimulator;
let box: Box;
let dir: ReturnType<typeof tempDir>;
let roots: string[] = [];

beforeAll(async () => {
  sim = await startSim(POIID);
  dir = tempDir();
  box = await createBox(dir.path, { fleetRootsPem: () => roots });
  await addTerminal(box, sim, POIID);
});
afterAll(async () => { await box.terminals.stop(); await sim.stop(); dir.dispose(); testFleet().dispose(); });

test("the terminal test answers 409 fleet_root_missing, then works once the root is imported", async () => {
  const r = await box.admin(`/terminals/${POIID}/test`, { method: "POST" });
  expect(r.status).toBe(409);
  const body = await r.json();
  expect(body.error.code).toBe("fleet_root_missing");
  expect(body.error.message).toContain("terminal-fleet-roots.pem");
  expect(box.logs.join("\n")).not.toContain("terminals API failure");
  roots = [testFleet().root.certPem];
  const ok = await box.admin(`/terminals/${POIID}/test`, { method: "POST" });
  expect(ok.status).toBe(200);
  expect(await ok.json()).toMatchObject({ ok: true });
  roots = [];
});

test("a payment without a fleet root fails, not sent, with the same code", async () => {
  const p = await box.pay({ amount: 5, currency: "EUR", reference: "noroot-1" });
  expect(p.status).toBeLessThan(500);
  const done = await box.settle(p.body.id);
  expect(done.status).toBe("failed");
  expect(done.error.code).toBe("fleet_root_missing");
});
