/** A reboot in the middle of a payment: the next start asks TransactionStatus until it knows. */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { addTerminal, createBox } from "./box";
import { createJournal } from "../../src/terminals/store";
import { startSim, tempDir, testFleet, waitFor } from "./helpers";

afterAll(() => testFleet().dispose());

async function interrupted(behaviour: "drop-after-charge" | "drop-before-charge") {
  const poiid = "P400Plus-300000003";
  const sim = await startSim(poiid, { behaviour });
  const dir = tempDir();
  try {
    // Long timeouts: the box is "switched off" while it still waits for the reply.
    const box1 = await createBox(dir.path, { timeouts: { paymentMs: 60_000 } });
    await addTerminal(box1, sim, poiid);
    const key = crypto.randomUUID();
    const p = await box1.pay({ amount: 2500, currency: "EUR", reference: "after-reboot" }, key);
    expect(p.status).toBe(201);
    await waitFor(() => (sim.counts.Payment ?? 0) === 1, 3000, "the payment to reach the terminal");
    await box1.terminals.stop();
    const recs = createJournal(join(dir.path, "terminals")).loadAll();
    expect(recs.map((r) => r.state)).toEqual(["in_progress"]);

    sim.setBehaviour("approve");
    const box2 = await createBox(dir.path, { token: box1.token });
    const done = await box2.settle(p.body.id);
    // The retried POST after the reboot is the same payment.
    const again = await box2.pay({ amount: 2500, currency: "EUR", reference: "after-reboot" }, key);
    expect(again.body.id).toBe(p.body.id);
    expect(sim.counts.Payment).toBe(1);
    expect(sim.counts.TransactionStatus).toBeGreaterThanOrEqual(1);
    await box2.terminals.stop();
    return { done, sim };
  } finally {
    await sim.stop();
    dir.dispose();
  }
}

test("charged before the reboot: approved after it, charged once", async () => {
  const { done, sim } = await interrupted("drop-after-charge");
  expect(done.status).toBe("approved");
  expect(sim.approved().length).toBe(1);
}, 20_000);

test("never reached the terminal: failed (not processed) after the reboot, nothing charged", async () => {
  const { done, sim } = await interrupted("drop-before-charge");
  expect(done).toMatchObject({ status: "failed", error: { code: "not_processed" } });
  expect(sim.approved().length).toBe(0);
}, 20_000);

test("the terminal is off when the box restarts: the box keeps asking until it is back", async () => {
  const poiid = "P400Plus-300000004";
  const sim = await startSim(poiid, { behaviour: "drop-after-charge" });
  const dir = tempDir();
  try {
    const box1 = await createBox(dir.path, { timeouts: { paymentMs: 60_000 } });
    await addTerminal(box1, sim, poiid);
    const p = await box1.pay({ amount: 3100, currency: "EUR", reference: "terminal-off" });
    await waitFor(() => sim.approved().length === 1, 3000, "the charge");
    await box1.terminals.stop();
    await sim.goOffline();

    const box2 = await createBox(dir.path, { token: box1.token });
    await waitFor(async () => (await box2.terminals.list())[0]!.state === "busy" && (await box2.terminals.list())[0]!.lastError, 3000, "a failed TransactionStatus");
    const meanwhile = await (await box2.pos(`/payments/${p.body.id}`)).json();
    expect(meanwhile.status).toBe("unknown");
    const other = await box2.pay({ amount: 1, currency: "EUR", reference: "must-wait" });
    expect(other.status).toBe(409); // the terminal stays reserved until the first payment is known
    sim.setBehaviour("approve");
    sim.comeOnline();
    expect((await box2.settle(p.body.id)).status).toBe("approved");
    expect(sim.counts.Payment).toBe(1);
    expect(sim.approved().length).toBe(1);
    expect((await box2.terminals.list())[0]).toMatchObject({ state: "idle" });
    await box2.terminals.stop();
  } finally {
    await sim.stop();
    dir.dispose();
  }
}, 20_000);

test("a terminal that never tells the result: the administrator releases it, the payment is 'unresolved', the terminal takes payments again", async () => {
  const poiid = "P400Plus-300000005";
  const sim = await startSim(poiid, { behaviour: "drop-after-charge" });
  const dir = tempDir();
  try {
    const box = await createBox(dir.path);
    await addTerminal(box, sim, poiid);
    const nothing = await box.admin(`/terminals/${poiid}/release`, { method: "POST" });
    expect(nothing.status).toBe(409);                  // idle: nothing to release
    const p = await box.pay({ amount: 1999, currency: "EUR", reference: "lost-forever" });
    await waitFor(() => sim.approved().length === 1, 3000, "the charge");
    await sim.goOffline();                             // broken terminal: TransactionStatus never answers
    const listed = await waitFor(async () => {
      const t = (await (await box.admin("/")).json()).terminals[0];
      return t.awaiting ? t : null;
    }, 5000, "the settings to show the payment awaited");
    expect(listed.awaiting).toMatchObject({ payment: p.body.id, kind: "payment", amount: 1999, currency: "EUR", display: "19.99 EUR", reference: "lost-forever" });
    const blocked = await box.pay({ amount: 1, currency: "EUR", reference: "must-wait" });
    expect(blocked.status).toBe(409);

    const rel = await box.admin(`/terminals/${poiid}/release`, { method: "POST" });
    expect(rel.status).toBe(200);
    expect(await rel.json()).toMatchObject({ id: p.body.id, status: "unresolved", final: true });
    const seen = await box.settle(p.body.id);
    expect(seen).toMatchObject({ status: "unresolved", error: { code: "released_unresolved" } });
    expect(box.logs.join("\n")).toContain("transaction released unresolved by the administrator");
    expect((await (await box.admin("/")).json()).terminals[0].awaiting).toBeUndefined();

    sim.setBehaviour("approve");
    sim.comeOnline();
    const next = await box.pay({ amount: 500, currency: "EUR", reference: "next-customer" });
    expect(next.status).toBe(201);
    expect((await box.settle(next.body.id)).status).toBe("approved");
    expect(sim.counts.Payment).toBe(2);                // the lost one was never sent again
    await box.terminals.stop();
    // final: a restart does not pick it up again
    const box2 = await createBox(dir.path, { token: box.token });
    expect((await box2.settle(p.body.id, 2000)).status).toBe("unresolved");
    await box2.terminals.stop();
  } finally {
    await sim.stop();
    dir.dispose();
  }
}, 30_000);
