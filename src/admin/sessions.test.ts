import { expect, test } from "bun:test";
import { createSessions } from "./sessions";

test("a session is a server-side record: ended by logout, all ended by endAll, expired by time", () => {
  let t = 0;
  const s = createSessions({ now: () => t, ttlMs: 8 * 3600_000, idleMs: 3600_000 });
  const a = s.create(), b = s.create();
  expect(s.get(a.id)?.csrf).toBe(a.session.csrf);
  expect(a.session.csrf).not.toBe(b.session.csrf);      // the CSRF token belongs to its session
  s.end(a.id);
  expect(s.get(a.id)).toBeNull();
  expect(s.get(b.id)).not.toBeNull();
  s.endAll();
  expect(s.get(b.id)).toBeNull();
  const c = s.create();
  t += 3600_000;                                         // idle for an hour
  expect(s.get(c.id)).toBeNull();
  const d = s.create();
  for (let i = 0; i < 10; i++) { t += 3000_000; if (i < 9) expect(s.get(d.id)).not.toBeNull(); }
  expect(s.get(d.id)).toBeNull();                        // absolute lifetime
});

test("forged, malformed or oversized ids are not sessions; the table is bounded", () => {
  const s = createSessions({ max: 4 });
  for (const v of [undefined, "", "x", "a".repeat(43), "a".repeat(5000), "../../etc/passwd", "%00"]) expect(s.get(v)).toBeNull();
  const ids = Array.from({ length: 10 }, () => s.create().id);
  expect(s.count()).toBe(4);
  expect(s.get(ids[0])).toBeNull();
  expect(s.get(ids[9])).not.toBeNull();
});
