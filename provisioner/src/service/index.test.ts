import "reflect-metadata";
import { describe, expect, test } from "bun:test";
import * as x509 from "@peculiar/x509";
import { createLogger } from "../../../src/log";
import type { Issuer } from "../acme";
import { UpstreamError, type DnsRecord, type DnsZone } from "../dns";
import { hashEnterpriseCode, REFUSAL_SENTENCE } from "../eligibility";
import { deriveLabel } from "../naming";
import { Store } from "../store";
import { openSqlite } from "../store/sqlite";
import fc from "fast-check";
import type { AttemptLimits } from "../attempts";
import { RpcError } from "../rpc";
import { createJanitor } from "./janitor";
import { createCertificateService } from ".";

const DAY = 86_400_000;

function memoryZone() {
  const recs = new Map<number, DnsRecord>();
  let next = 1;
  let failing: UpstreamError | null = null;
  const guard = () => { if (failing) throw failing; };
  const zone: DnsZone = {
    async create(r) { guard(); const id = next++; recs.set(id, { id, name: r.name, type: r.type, content: r.content }); return id; },
    async remove(id) { guard(); recs.delete(id); },
    async find(name, type) { guard(); return [...recs.values()].filter((r) => r.name === name && r.type === type); },
    async update(id, content) { guard(); recs.get(id)!.content = content; },
    async whoami() { return 1; },
  };
  return { zone, recs, fail: (e: UpstreamError | null) => { failing = e; } };
}

async function setup(opts: { now?: () => number; limits?: { newPerWeek: number; duplicatesPerWeek: number }; lifeMs?: number;
  issueDelayMs?: number; attemptLimits?: AttemptLimits; iotBoxLines?: number } = {}) {
  const store = new Store(openSqlite(":memory:"));
  await store.migrate();
  const now = opts.now ?? Date.now;
  for (const [uuid, kind] of [["prod", "production"], ["copy", "copy"]] as const) {
    await store.putDatabase({ uuid, enterpriseCodeHash: hashEnterpriseCode("CODE"), kind, subscription: "in_progress", iotBoxLines: opts.iotBoxLines ?? 2 }, now());
  }
  const dns = memoryZone();
  const orders: Array<{ names: string[]; csr: string | null }> = [];
  let issuerError: Error | null = null;
  const issuer: Issuer = {
    async issue(names, csr) {
      orders.push({ names, csr });
      if (opts.issueDelayMs) await Bun.sleep(opts.issueDelayMs); // an order takes time: others arrive meanwhile
      if (issuerError) throw issuerError;
      return { certPem: `CERT ${orders.length} ${names[0]}`, keyPem: csr ? null : `-----KEY ${orders.length}-----`, notBefore: now(), notAfter: now() + (opts.lifeMs ?? 90 * DAY) };
    },
  };
  const lines: string[] = [];
  const logger = createLogger({ write: (l) => lines.push(l) });
  const service = createCertificateService({ store, dns: dns.zone, issuer, zone: "iotbox.test", logger, instanceId: "t",
    limits: opts.limits ?? { newPerWeek: 50, duplicatesPerWeek: 5 }, minRemainingMs: 30 * DAY, hostRecordTtl: 300, now, attemptLimits: opts.attemptLimits });
  return { store, dns, orders, service, lines, failIssuer: (e: Error | null) => { issuerError = e; } };
}

const req = (p: Partial<{ dbUuid: string; enterpriseCode: string; csr: string | null; ip: string | null; boxId: string | null }> = {}) =>
  ({ id: null, dbUuid: "prod", enterpriseCode: "CODE", csr: null, ip: null, boxId: "box00001", ...p });

async function csrFor(names: string[]) {
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]) as CryptoKeyPair;
  return (await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${names[0]}`, keys, signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    extensions: [new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: "dns" as const, value })))] })).toString("pem");
}

describe("certificate service", () => {
  test("refusals all read the same; the log names the failed check", async () => {
    const s = await setup();
    for (const r of [req({ dbUuid: "nope" }), req({ enterpriseCode: "WRONG" }), req({ dbUuid: "copy" })]) {
      expect(await s.service.handle(r)).toEqual({ kind: "refused", result: { error: REFUSAL_SENTENCE } });
    }
    const logged = s.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "certificate refused").map((l) => l.failed_check);
    expect(logged).toEqual(["unknown_database", "wrong_enterprise_code", "not_production"]);
    expect(s.lines.join("\n")).not.toContain("WRONG");
    expect(s.orders).toHaveLength(0);
  });

  test("key in reply; a second request reuses the certificate instead of ordering again", async () => {
    const s = await setup();
    const label = deriveLabel("prod", "box00001");
    const a = await s.service.handle(req());
    expect(a).toEqual({ kind: "issued", result: { subject_cn: `*.${label}.iotbox.test`, x509_pem: expect.any(String), private_key_pem: "-----KEY 1-----" } });
    expect(s.orders[0]!.names).toEqual([`*.${label}.iotbox.test`, `${label}.iotbox.test`]);
    expect(await s.service.handle(req())).toEqual(a);
    expect(s.orders).toHaveLength(1);
  });

  test("concurrent first requests for one box place one order", async () => {
    const s = await setup();
    const all = await Promise.all(Array.from({ length: 8 }, () => s.service.handle(req())));
    expect(new Set(all.map((x) => JSON.stringify(x))).size).toBe(1);
    expect(s.orders).toHaveLength(1);
  });

  test("without box_id the wildcard is per database", async () => {
    const s = await setup();
    const a = await s.service.handle(req({ boxId: null }));
    const b = await s.service.handle(req({ boxId: null, ip: "10.0.0.2" }));
    expect(a.result).toEqual(b.result);
    expect((a.result as { subject_cn: string }).subject_cn).toBe(`*.${deriveLabel("prod", null)}.iotbox.test`);
  });

  test("a CSR naming the box's names goes to the CA and no key is returned; its key's certificate is reused", async () => {
    const s = await setup();
    const label = deriveLabel("prod", "box00001");
    const csr = await csrFor([`*.${label}.iotbox.test`, `${label}.iotbox.test`]);
    const a = await s.service.handle(req({ csr }));
    expect(a.result).toEqual({ subject_cn: `*.${label}.iotbox.test`, x509_pem: expect.any(String) });
    expect(s.orders[0]!.csr).toBe(csr.trim());
    expect(await s.service.handle(req({ csr }))).toEqual(a);
    expect(s.orders).toHaveLength(1);
  });

  test("a placeholder CSR gets the key-in-reply certificate and the names for the next CSR", async () => {
    const s = await setup();
    const label = deriveLabel("prod", "box00001");
    const a = await s.service.handle(req({ csr: await csrFor(["iotbox-box00001"]) }));
    expect(a.result).toEqual({ subject_cn: `*.${label}.iotbox.test`, x509_pem: expect.any(String), private_key_pem: "-----KEY 1-----",
      csr_names: [`*.${label}.iotbox.test`, `${label}.iotbox.test`] });
    expect(s.orders[0]!.csr).toBe(null);
  });

  test("renewal: a certificate close to its end is replaced; renewals do not spend the new-name budget", async () => {
    let t = 1_000 * DAY;
    const s = await setup({ now: () => t, limits: { newPerWeek: 1, duplicatesPerWeek: 5 } });
    await s.service.handle(req());
    t += 61 * DAY; // 29 days left of 90: under a third and under 30 days
    await s.service.handle(req());
    expect(s.orders).toHaveLength(2);
  });

  test("the weekly budget spent: 503 with Retry-After, no order placed", async () => {
    const s = await setup({ limits: { newPerWeek: 1, duplicatesPerWeek: 5 } });
    await s.service.handle(req());
    const e = await s.service.handle(req({ boxId: "box00002" })).catch((x) => x);
    expect(e.httpStatus).toBe(503);
    expect(e.retryAfterS).toBeGreaterThan(6 * 86400);
    expect(s.orders).toHaveLength(1);
  });

  test("one database gets at most its IoT box lines plus one new box names a week", async () => {
    const s = await setup();
    for (const id of ["box00001", "box00002", "box00003"]) expect((await s.service.handle(req({ boxId: id }))).kind).toBe("issued");
    const e = await s.service.handle(req({ boxId: "box00004" })).catch((x) => x);
    expect(e.httpStatus).toBe(503);
    expect(s.lines.some((l) => l.includes("database_new_per_week"))).toBe(true);
    expect(s.orders).toHaveLength(3);
  });

  test("a label already owned by another box is never shared: the next candidate is used", async () => {
    const s = await setup();
    await s.store.claimLabel(deriveLabel("prod", "box00001"), "copy", "box00001", 1);
    const r = await s.service.handle(req());
    expect((r.result as { subject_cn: string }).subject_cn).toBe(`*.${deriveLabel("prod", "box00001", 1)}.iotbox.test`);
    expect(await s.store.findLabel("prod", "box00001")).toBe(deriveLabel("prod", "box00001", 1));
    expect(s.lines.some((l) => l.includes("label taken by another box"))).toBe(true);
  });

  test("the A record follows the box's IP; the old one goes; public IPs get none", async () => {
    const s = await setup();
    const label = deriveLabel("prod", "box00001");
    await s.service.handle(req({ ip: "192.168.1.10" }));
    expect([...s.dns.recs.values()]).toEqual([{ id: 1, name: `192-168-1-10.${label}`, type: "A", content: "192.168.1.10" }]);
    await s.service.handle(req({ ip: "192.168.1.10" }));
    expect(s.dns.recs.size).toBe(1);
    await s.service.handle(req({ ip: "10.1.2.3" }));
    expect([...s.dns.recs.values()].map((r) => `${r.name} ${r.content}`)).toEqual([`10-1-2-3.${label} 10.1.2.3`]);
    await s.service.handle(req({ ip: "8.8.8.8", boxId: "box00002" }));
    expect(s.dns.recs.size).toBe(1);
  });

  test("the DNS provider down while the IP changes: the certificate is still served, the record is retried later", async () => {
    const s = await setup();
    await s.service.handle(req({ ip: "192.168.1.10" }));
    s.dns.fail(new UpstreamError("dnsimple", "down", 30, 500));
    expect((await s.service.handle(req({ ip: "192.168.1.11" }))).kind).toBe("issued");
    s.dns.fail(null);
    await s.service.handle(req({ ip: "192.168.1.11" }));
    expect([...s.dns.recs.values()].map((r) => r.content)).toEqual(["192.168.1.11"]);
  });

  test("a failed order is an upstream error and the label cools down", async () => {
    const s = await setup();
    s.failIssuer(new UpstreamError("acme", "refused", 300));
    await expect(s.service.handle(req())).rejects.toBeInstanceOf(UpstreamError);
    s.failIssuer(null);
    const e = await s.service.handle(req()).catch((x) => x);
    expect(e).toBeInstanceOf(UpstreamError);
    expect(e.retryAfterS).toBeGreaterThan(0);
    expect(s.orders).toHaveLength(1);
  });

  test("the janitor removes leftover TXT records and stale A records", async () => {
    let t = 1_000 * DAY;
    const s = await setup({ now: () => t });
    await s.service.handle(req({ ip: "192.168.1.10" }));
    const id = await s.dns.zone.create({ name: "_acme-challenge.x", type: "TXT", content: "k", ttl: 60 });
    await s.store.addCleanup("_acme-challenge.x", "k", t);
    const j = createJanitor({ store: s.store, dns: s.dns.zone, logger: createLogger({ write: () => {} }), txtGraceMs: 60_000, staleHostMs: 90 * DAY, now: () => t });
    expect(await j.sweep()).toEqual({ txtRemoved: 0, hostsRemoved: 0 });
    t += 2 * 60_000;
    expect(await j.sweep()).toEqual({ txtRemoved: 1, hostsRemoved: 0 });
    expect(s.dns.recs.has(id)).toBe(false);
    t += 91 * DAY;
    expect(await j.sweep()).toEqual({ txtRemoved: 0, hostsRemoved: 1 });
    expect(s.dns.recs.size).toBe(0);
  });

  test("simultaneous new boxes of one database: exactly its IoT box lines plus one are ordered", async () => {
    const s = await setup({ iotBoxLines: 1, issueDelayMs: 20 });
    const all = await Promise.all(Array.from({ length: 30 }, (_, i) => s.service.handle(req({ boxId: `made${String(i).padStart(6, "0")}` })).catch((e) => e)));
    expect(all.filter((r) => r.kind === "issued")).toHaveLength(2);
    expect(all.filter((r) => r instanceof RpcError && r.httpStatus === 503 && r.retryAfterS! > 6 * 86400)).toHaveLength(28);
    expect(s.orders).toHaveLength(2);
  });

  test("simultaneous new boxes across databases: the zone's weekly budget holds", async () => {
    const s = await setup({ iotBoxLines: 100, issueDelayMs: 20, limits: { newPerWeek: 3, duplicatesPerWeek: 5 } });
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => s.service.handle(req({ boxId: `zone${String(i).padStart(6, "0")}` })).catch((e) => e)));
    expect(all.filter((r) => r.kind === "issued")).toHaveLength(3);
    expect(s.orders).toHaveLength(3);
  });

  test("a failed order gives its budget slot back at once", async () => {
    const s = await setup({ iotBoxLines: 1 }); // lines + 1 = two new names a week
    expect((await s.service.handle(req({ boxId: "first001" }))).kind).toBe("issued");
    s.failIssuer(new UpstreamError("acme", "down", 60));
    await expect(s.service.handle(req({ boxId: "fail0001" }))).rejects.toBeInstanceOf(UpstreamError);
    s.failIssuer(null);
    expect((await s.service.handle(req({ boxId: "next0001" }))).kind).toBe("issued");
  });

  test("refused attempts: the limit per source, then 429 with Retry-After until the oldest leaves the window", async () => {
    let t = 1_000 * DAY;
    const s = await setup({ now: () => t, attemptLimits: { perSource: 3, perDatabase: 100, windowMs: 60_000 } });
    const wrong = () => s.service.handle(req({ enterpriseCode: "WRONG", boxId: null }), "198.51.100.7").catch((e) => e);
    for (let i = 0; i < 3; i++) { expect((await wrong()).kind).toBe("refused"); t += 1000; }
    const limited = await wrong();
    expect({ status: limited.httpStatus, retryAfterS: limited.retryAfterS }).toEqual({ status: 429, retryAfterS: 57 }); // the first refusal leaves at +60 s
    // Over the limit the right code is not told apart from a wrong one.
    expect(await s.service.handle(req(), "198.51.100.7").catch((e) => e)).toMatchObject({ httpStatus: 429 });
    expect((await s.service.handle(req(), "198.51.100.8")).kind).toBe("issued"); // another address is not affected
    t += 58_000;
    expect((await wrong()).kind).toBe("refused");
    expect(s.lines.join("\n")).not.toContain("WRONG");
  });

  test("a burst of wrong codes at once: at most the limit is answered, for known and unknown databases alike", async () => {
    const s = await setup({ attemptLimits: { perSource: 5, perDatabase: 1000, windowMs: 60_000 } });
    const burst = await Promise.all(Array.from({ length: 200 }, (_, i) =>
      s.service.handle(req({ enterpriseCode: `guess${i}`, dbUuid: i % 2 ? "prod" : `nope${i}` }), "203.0.113.9").catch((e) => e)));
    expect(burst.filter((r) => r.kind === "refused").length).toBeLessThanOrEqual(5);
    expect(burst.filter((r) => r instanceof RpcError && r.httpStatus === 429).length).toBeGreaterThanOrEqual(195);
  });

  test("per database: guesses from many addresses stop at the limit; a box already served from its address is not locked out", async () => {
    const s = await setup({ attemptLimits: { perSource: 10, perDatabase: 5, windowMs: 60_000 } });
    expect((await s.service.handle(req({ boxId: "shop0001" }), "192.0.2.1")).kind).toBe("issued");
    const guesses = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      s.service.handle(req({ enterpriseCode: `g${i}` }), `203.0.113.${i + 1}`).catch((e) => e)));
    expect(guesses.filter((r) => r.kind === "refused").length).toBeLessThanOrEqual(5);
    expect((await s.service.handle(req({ boxId: "shop0001" }), "192.0.2.1")).kind).toBe("issued");
    expect(await s.service.handle(req({ boxId: "shop0002" }), "192.0.2.99").catch((e) => e)).toMatchObject({ httpStatus: 429 });
  });

  test("many distinct sources: addresses rotated within one IPv6 /64 share its limit, and the janitor empties the table after the window", async () => {
    let t = 1_000 * DAY;
    const s = await setup({ now: () => t, attemptLimits: { perSource: 3, perDatabase: 1_000_000, windowMs: 60_000 } });
    const wrong = (source: string) => s.service.handle(req({ enterpriseCode: "WRONG", dbUuid: `nope-${source}` }), source).catch((e) => e);
    const rotated = [];
    for (let i = 0; i < 20; i++) rotated.push(await wrong(`2001:db8:1:2:${(i + 1).toString(16)}::1`));
    expect(rotated.filter((r) => r.kind === "refused").length).toBe(3);
    for (let i = 0; i < 300; i++) await wrong(`2001:db8:${(i + 16).toString(16)}::1`); // 300 distinct /64s
    const rows = async () => Number((await s.store.driver.all("SELECT COUNT(*) AS n FROM refused_attempts"))[0]!.n);
    expect(await rows()).toBe(2 * (3 + 300)); // a source and a database row per refusal answered; nothing for a 429
    const j = createJanitor({ store: s.store, dns: s.dns.zone, logger: createLogger({ write: () => {} }), txtGraceMs: 60_000, staleHostMs: 90 * DAY, refusalWindowMs: 60_000, now: () => t });
    await j.sweep();
    expect(await rows()).toBe(2 * 303); // still in the window
    t += 60_001;
    await j.sweep();
    expect(await rows()).toBe(0);
  });

  test("a legitimate box never meets the limit, whatever else is refused around it (generated schedules)", async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 120_000 }), who: fc.constantFrom("box", "box", "guesser", "stranger") }), { minLength: 1, maxLength: 60 }),
      async (events) => {
        let t = 1_000 * DAY;
        const s = await setup({ now: () => t, attemptLimits: { perSource: 10, perDatabase: 10, windowMs: 60_000 } });
        await s.service.handle(req({ boxId: "legit001" }), "192.0.2.10"); // served once: its address is known
        for (const e of events) {
          t += e.gapMs;
          if (e.who === "box") expect((await s.service.handle(req({ boxId: "legit001" }), "192.0.2.10")).kind).toBe("issued");
          else await s.service.handle(req({ enterpriseCode: "nope" }), e.who === "guesser" ? "203.0.113.5" : "198.51.100.5").catch(() => {});
        }
      }), { numRuns: 30 });
  });
});