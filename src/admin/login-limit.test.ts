import { expect, test } from "bun:test";
import fc from "fast-check";
import { createLoginLimit } from "./login-limit";

test("an attempt is counted before its check: 50 at once → 5 checked, the rest refused", () => {
  const l = createLoginLimit({ now: () => 1000 });
  const outcomes = Array.from({ length: 50 }, () => l.begin("192.168.1.66"));
  expect(outcomes.filter((o) => o.ok).length).toBe(5);
  for (const o of outcomes) if (o.ok) o.settle(false);
  // locked out: even the right password is never checked
  expect(l.begin("192.168.1.66").ok).toBe(false);
  expect(l.lockedFor("192.168.1.66")).toBe(300);
  // another client is not affected
  expect(l.begin("192.168.1.67").ok).toBe(true);
});

test("the lock ends with the window; a success clears the count", () => {
  let t = 0;
  const l = createLoginLimit({ now: () => t });
  for (let i = 0; i < 4; i++) { const a = l.begin("c"); if (a.ok) a.settle(false); }
  const good = l.begin("c");
  expect(good.ok).toBe(true);
  if (good.ok) good.settle(true);
  for (let i = 0; i < 5; i++) expect(l.begin("c").ok).toBe(true);
  expect(l.begin("c").ok).toBe(false);
  t = 5 * 60_000 + 1;
  expect(l.begin("c").ok).toBe(true);
});

test("property: whatever the interleaving, at most 5 checks start per client per window; memory stays bounded", () => {
  fc.assert(fc.property(
    fc.array(fc.record({ client: fc.integer({ min: 0, max: 3000 }), dt: fc.integer({ min: 0, max: 20_000 }), success: fc.boolean() }), { maxLength: 400 }),
    (events) => {
      let t = 0;
      const l = createLoginLimit({ now: () => t, maxClients: 1024 });
      const started = new Map<number, number[]>();
      for (const e of events) {
        t += e.dt;
        const a = l.begin(String(e.client));
        if (!a.ok) { expect(a.retryAfterS).toBeGreaterThan(0); continue; }
        const s = (started.get(e.client) ?? []).filter((x) => t - x < 300_000);
        s.push(t);
        started.set(e.client, e.success ? [] : s);
        // never more than 5 unsettled-or-failed checks in one window for a client
        expect(s.length).toBeLessThanOrEqual(5);
        a.settle(e.success);
      }
    }), { numRuns: 200 });
});
