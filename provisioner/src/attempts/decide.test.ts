import { describe, expect, test } from "bun:test";
import { isIP } from "node:net";
import fc from "fast-check";
import { clientAddress, decideAttempt, sourceKey, type AttemptHistory } from "./decide";

const limits = { perSource: 10, perDatabase: 10, windowMs: 60_000 };
const none: AttemptHistory = { source: [], database: [], knownSource: false };

describe("refused-attempt limit", () => {
  test("admitted under the limit; at the limit, told to come back when the oldest refusal leaves the window", () => {
    const nine = Array.from({ length: 9 }, (_, i) => 1000 + i * 1000);
    expect(decideAttempt({ ...none, source: nine }, limits, 20_000)).toEqual({ ok: true });
    expect(decideAttempt({ ...none, source: [...nine, 10_000] }, limits, 20_000)).toEqual({ ok: false, scope: "source", retryAfterS: 41 });
    expect(decideAttempt({ ...none, source: [...nine, 10_000] }, limits, 61_001)).toEqual({ ok: true }); // the first has left
    expect(decideAttempt({ ...none, database: [...nine, 10_000] }, limits, 20_000)).toMatchObject({ ok: false, scope: "database" });
  });

  test("a source already served for the database is exempt from its per-database limit, not from its own", () => {
    const ten = Array.from({ length: 10 }, (_, i) => 1000 + i);
    expect(decideAttempt({ source: [], database: ten, knownSource: true }, limits, 2000)).toEqual({ ok: true });
    expect(decideAttempt({ source: ten, database: [], knownSource: true }, limits, 2000)).toMatchObject({ ok: false, scope: "source" });
  });

  test("whatever the arrival times, the refusals answered in any window never exceed the limit", () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 300_000 }), { maxLength: 200 }), (arrivals) => {
      const counted: number[] = [], answered: number[] = [];
      for (const t of [...arrivals].sort((a, b) => a - b)) {
        if (!decideAttempt({ ...none, source: counted }, limits, t).ok) continue; // 429 before the check
        counted.push(t);
        if (decideAttempt({ ...none, source: counted }, limits, t, 1).ok) answered.push(t);
      }
      for (const t of answered) expect(answered.filter((x) => x > t - limits.windowMs && x <= t).length).toBeLessThanOrEqual(limits.perSource);
    }));
  });

  test("source keys: IPv4 as it is, IPv4-mapped as IPv4, IPv6 by /64", () => {
    expect(sourceKey("192.0.2.1")).toBe("192.0.2.1");
    expect(sourceKey("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(sourceKey("2001:db8:0:1:aaaa::1")).toBe("2001:db8:0:1::/64");
    expect(sourceKey("2001:0db8:0000:0001:ffff:ffff:ffff:ffff")).toBe("2001:db8:0:1::/64");
    expect(sourceKey("::1")).toBe("0:0:0:0::/64");
  });

  test("X-Forwarded-For is believed only from a trusted proxy, and only its right-most untrusted hop", () => {
    const trusted = new Set(["10.0.0.5"]);
    expect(clientAddress("198.51.100.1", "1.2.3.4", trusted)).toBe("198.51.100.1");
    expect(clientAddress("10.0.0.5", "6.6.6.6, 198.51.100.2", trusted)).toBe("198.51.100.2");
    expect(clientAddress("10.0.0.5", "198.51.100.2, 10.0.0.5", trusted)).toBe("198.51.100.2");
    expect(clientAddress("10.0.0.5", "not-an-ip", trusted)).toBe("10.0.0.5");
    expect(clientAddress("10.0.0.5", null, trusted)).toBe("10.0.0.5");
  });

  test("any X-Forwarded-For (oversized, malformed, forged) and any address: no throw, the peer or an untrusted hop, a bounded key", () => {
    const trusted = new Set(["10.0.0.5", "::1"]);
    const hop = fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.string({ maxLength: 50 }), fc.constantFrom("10.0.0.5", "::1", "", " , "));
    fc.assert(fc.property(fc.constantFrom("10.0.0.5", "198.51.100.1", "::1"), fc.array(hop, { maxLength: 60 }), (peer, hops) => {
      const xff = hops.join(",");
      const got = clientAddress(peer, xff, trusted);
      if (!trusted.has(peer)) expect(got).toBe(peer);
      else if (got !== peer) { expect(isIP(got)).not.toBe(0); expect(xff).toContain(got); expect(trusted.has(got)).toBe(false); }
      expect(sourceKey(got).length).toBeLessThanOrEqual(45 + 4);
    }));
    expect(clientAddress("10.0.0.5", `${"9.9.9.9,".repeat(20_000)}x`, trusted)).toBe("9.9.9.9");
    for (const a of [fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 64 })]) fc.assert(fc.property(a, (x) => { sourceKey(x); }));
  });
});
