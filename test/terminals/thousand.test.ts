/**
 * 1,000 payments over 4 simulated terminals, a tenth of the replies lost or delayed (plus
 * some declines, Busy answers and POS retries of the same Idempotency-Key). Every payment
 * must end resolved, the box and the terminals' ledgers must agree, nothing charged twice,
 * and no Payment ever sent twice.
 */
import { afterAll, expect, test } from "bun:test";
import type { Behaviour, TerminalSimulator } from "../../tools/terminal-simulator";
import { addTerminal, createBox } from "./box";
import { startSim, tempDir, testFleet } from "./helpers";

afterAll(() => testFleet().dispose());

/** Deterministic per payment number, so a failure can be replayed. */
function behaviourFor(n: number): Behaviour {
  const r = ((n * 2654435761) >>> 0) % 100;
  if (r < 4) return "drop-after-charge";   // reply lost after charging
  if (r < 8) return "late";                // reply later than the box waits
  if (r < 10) return "drop-before-charge"; // request lost
  if (r < 14) return "decline";
  if (r < 16) return "busy";
  return "approve";
}

test("1,000 payments, 10% of replies lost or delayed: all resolved, no double charge", async () => {
  const TERMINALS = 4, PER_TERMINAL = 250;
  const dir = tempDir();
  const sims: TerminalSimulator[] = [];
  const box = await createBox(dir.path, { timeouts: { paymentMs: 150, statusMs: 150, pollIntervalMs: 15, maxPollIntervalMs: 60 } });
  try {
    for (let t = 0; t < TERMINALS; t++) {
      const poiid = `P400Plus-40000000${t}`;
      const sim = await startSim(poiid, { lateMs: 300, behaviour: (cat, n) => (cat === "Payment" ? behaviourFor(n + t * 1000) : "approve") });
      sims.push(sim);
      await addTerminal(box, sim, poiid);
    }
    const results: Array<{ sim: TerminalSimulator; reference: string; final: any }> = [];
    let replays = 0;
    const t0 = performance.now();
    await Promise.all(sims.map(async (sim, t) => {
      for (let i = 0; i < PER_TERMINAL; i++) {
        const reference = `t${t}-order-${i}`, key = `k-${t}-${i}`;
        const body = { terminal: `P400Plus-40000000${t}`, amount: 100 + i, currency: "EUR", reference };
        const p = await box.pay(body, key);
        if (p.status !== 201) throw new Error(`payment ${reference}: ${p.status} ${JSON.stringify(p.body)}`);
        if (i % 7 === 0) { // the POS lost our answer and retries with the same key
          const again = await box.pay(body, key);
          if (again.body.id !== p.body.id) throw new Error("a retry created a second payment");
          replays++;
        }
        results.push({ sim, reference, final: await box.settle(p.body.id, 10_000) });
      }
    }));
    const seconds = (performance.now() - t0) / 1000;

    expect(results.length).toBe(TERMINALS * PER_TERMINAL);
    const byStatus: Record<string, number> = {};
    for (const r of results) byStatus[r.final.status] = (byStatus[r.final.status] ?? 0) + 1;
    console.log(`1000-payment run: ${seconds.toFixed(1)} s, ${JSON.stringify(byStatus)}, ${replays} same-key retries`);
    for (const r of results) expect(["approved", "declined", "failed"]).toContain(r.final.status);

    for (const sim of sims) {
      expect(sim.doubleCharges()).toEqual([]);
      expect(sim.counts.Payment).toBe(PER_TERMINAL); // never a second Payment for one transaction
      expect(sim.counts.TransactionStatus ?? 0).toBeGreaterThan(0);
    }
    // The box and the terminals agree on every payment.
    for (const r of results) {
      const charged = r.sim.approved().filter((e) => e.saleTransactionId === r.reference);
      expect({ ref: r.reference, charged: charged.length }).toEqual({ ref: r.reference, charged: r.final.status === "approved" ? 1 : 0 });
      if (charged[0]) expect(r.final.result.poiTransactionId).toBe(charged[0].poiTransactionId!);
    }
    expect(byStatus.approved).toBeGreaterThan(800);
  } finally {
    await box.terminals.stop();
    for (const s of sims) await s.stop();
    dir.dispose();
  }
}, 120_000);
