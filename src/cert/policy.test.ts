import { expect, test } from "bun:test";
import { fetchReason, nextCheckDelay, renewAt } from "./policy";

const DAY = 86_400_000;
const t0 = new Date("2026-01-01T00:00:00Z");
const cert = (days: number, temporary = false) => ({ notBefore: t0, notAfter: new Date(t0.getTime() + days * DAY), temporary });

test("a 90-day certificate renews at two thirds of its life (30 days left)", () => {
  expect(renewAt(cert(90)).toISOString()).toBe(new Date(t0.getTime() + 60 * DAY).toISOString());
});
test("a 45-day certificate renews 15 days before expiry", () => {
  expect((cert(45).notAfter.getTime() - renewAt(cert(45)).getTime()) / DAY).toBe(15);
});
test("never later than 10 days before expiry, even for long certificates", () => {
  const c = cert(12);
  expect(renewAt(c).getTime()).toBeLessThanOrEqual(c.notAfter.getTime() - 10 * DAY);
  const year = cert(397);
  expect((year.notAfter.getTime() - renewAt(year).getTime()) / DAY).toBeGreaterThanOrEqual(10);
});
test("why a certificate is fetched", () => {
  expect(fetchReason("missing", t0)).toBe("missing");
  expect(fetchReason("unreadable", t0)).toBe("unreadable");
  expect(fetchReason(cert(90, true), t0)).toBe("temporary");
  expect(fetchReason(cert(90), new Date(t0.getTime() + 10 * DAY))).toBeNull();
  expect(fetchReason(cert(90), new Date(t0.getTime() + 61 * DAY))).toBe("renew");
  expect(fetchReason(cert(90), new Date(t0.getTime() + 91 * DAY))).toBe("expired");
});
test("checks back off on failure, honour Retry-After, and wake up for renewal", () => {
  expect(nextCheckDelay({ now: t0, held: null, lastFailed: true, consecutiveFailures: 1 })).toBe(60_000);
  expect(nextCheckDelay({ now: t0, held: null, lastFailed: true, consecutiveFailures: 3 })).toBe(240_000);
  expect(nextCheckDelay({ now: t0, held: null, lastFailed: true, consecutiveFailures: 30 })).toBe(3600_000);
  expect(nextCheckDelay({ now: t0, held: null, lastFailed: true, consecutiveFailures: 1, retryAfterMs: 7200_000 })).toBe(7200_000);
  // a failure that never reached the service (network still coming up): 10 s, 20 s, ... up to 1 h
  expect(nextCheckDelay({ now: t0, held: null, lastFailed: true, consecutiveFailures: 1, unreached: true })).toBe(10_000);
  expect(nextCheckDelay({ now: t0, held: null, lastFailed: true, consecutiveFailures: 3, unreached: true })).toBe(40_000);
  expect(nextCheckDelay({ now: t0, held: null, lastFailed: true, consecutiveFailures: 30, unreached: true })).toBe(3600_000);
  expect(nextCheckDelay({ now: new Date(t0.getTime() + 59.5 * DAY), held: cert(90), lastFailed: false, consecutiveFailures: 0 })).toBe(DAY / 2);
  expect(nextCheckDelay({ now: t0, held: cert(90), lastFailed: false, consecutiveFailures: 0 })).toBe(DAY);
});
