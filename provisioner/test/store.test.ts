// The same store contract on SQLite and on PostgreSQL (a real server started by the test).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { startPostgres, type Postgres } from "../../testkit";
import { decideBudget } from "../src/budget";
import { Store } from "../src/store";
import { openPostgres } from "../src/store/postgres";
import { openSqlite } from "../src/store/sqlite";

let pg: Postgres;
let dir: string;
beforeAll(async () => { pg = await startPostgres(); dir = mkdtempSync(join(tmpdir(), "iotbox-store-")); }, 60_000);
afterAll(async () => { await pg?.stop(); if (dir) rmSync(dir, { recursive: true, force: true }); }, 30_000);

const drivers: Array<[string, () => Store]> = [
  ["sqlite", () => new Store(openSqlite(join(dir, `s-${crypto.randomUUID()}.db`)))],
  ["postgres", () => new Store(openPostgres(pg.url))],
];

for (const [name, open] of drivers) {
  /** A migrated store for one test, closed after it. */
  const withStore = async (f: (s: Store) => Promise<void>) => {
    const s = open();
    try { await s.migrate(); await f(s); } finally { await s.close(); }
  };
  describe(`store on ${name}`, () => {
    test("databases, certificates, issuances, host records, cleanups, accounts", async () => {
      const s = open();
      try {
        await s.migrate();
        await s.migrate(); // idempotent
        const u = `db-${crypto.randomUUID()}`;
        await s.putDatabase({ uuid: u, enterpriseCodeHash: "aa", kind: "production", subscription: "in_progress", iotBoxLines: 2 }, 1);
        await s.putDatabase({ uuid: u, enterpriseCodeHash: "bb", kind: "test", subscription: "closed", iotBoxLines: 0 }, 2);
        expect(await s.getDatabase(u)).toEqual({ uuid: u, enterpriseCodeHash: "bb", kind: "test", subscription: "closed", iotBoxLines: 0 });
        expect((await s.listDatabases()).some((d) => d.uuid === u)).toBe(true);

        const label = `l${crypto.randomUUID().slice(0, 8)}`;
        expect(await s.claimLabel(label, u, "box1", 1)).toBe(true);
        expect(await s.claimLabel(label, u, "box1", 2)).toBe(true);
        expect(await s.claimLabel(label, u, "box2", 3)).toBe(false);
        expect(await s.findLabel(u, "box1")).toBe(label);
        expect(await s.findLabel(u, "box2")).toBe(null);
        const cert = { label, keyFp: "service", dbUuid: u, subjectCn: `*.${label}.z`, certPem: "C1", keyPem: "K1", notBefore: 10, notAfter: 2_000_000_000_000, issuedAt: 11 };
        await s.putCertificate(cert);
        await s.putCertificate({ ...cert, certPem: "C2", keyPem: null });
        expect(await s.getCertificate(label, "service")).toEqual({ ...cert, certPem: "C2", keyPem: null });
        expect(await s.getCertificate(label, "other")).toBe(null);

        const t = 1_700_000_000_000;
        await s.recordIssuance(label, u, t - 10, true);
        await s.recordIssuance(label, u, t - 5, false);
        await s.recordIssuance(`${label}b`, u, t - 4, true);
        const h = await s.issuanceHistory(label, u, t - 7);
        expect(h.labelIssuances).toEqual([t - 5]);
        expect(h.databaseNewIssuances).toEqual([t - 4]);
        expect(h.labelEverIssued).toBe(true);

        await s.putHostRecord({ label, boxKey: "b", ip: "10.0.0.1", recordId: 7, lastSeen: 100 });
        await s.putHostRecord({ label, boxKey: "b", ip: "10.0.0.2", recordId: 8, lastSeen: 100 });
        await s.touchHostRecord(label, "b", 200);
        expect(await s.getHostRecord(label, "b")).toEqual({ label, boxKey: "b", ip: "10.0.0.2", recordId: 8, lastSeen: 200 });
        expect((await s.staleHostRecords(201)).some((x) => x.label === label)).toBe(true);
        await s.deleteHostRecord(label, "b");
        expect(await s.getHostRecord(label, "b")).toBe(null);

        await s.addCleanup(`_acme-challenge.${label}`, "v", 5);
        await s.addCleanup(`_acme-challenge.${label}`, "v", 6);
        expect((await s.pendingCleanups(10)).filter((c) => c.name === `_acme-challenge.${label}`)).toEqual([{ name: `_acme-challenge.${label}`, content: "v" }]);
        await s.removeCleanup(`_acme-challenge.${label}`, "v");
        expect((await s.pendingCleanups(10)).filter((c) => c.name === `_acme-challenge.${label}`)).toEqual([]);

        const dirUrl = `https://acme/${label}`;
        expect(await s.putAccountKey(dirUrl, "KEY-A")).toBe("KEY-A");
        expect(await s.putAccountKey(dirUrl, "KEY-B")).toBe("KEY-A");
        await s.setAccountUrl(dirUrl, "https://acme/acct/1");
        expect(await s.getAccount(dirUrl)).toEqual({ keyPem: "KEY-A", accountUrl: "https://acme/acct/1" });

        expect(await s.removeDatabase(u)).toBe(true);
        expect(await s.removeDatabase(u)).toBe(false);
      } finally { await s.close(); }
    }, 30_000);

    test("a reservation is the label's lease and counts as an issuance until it is completed, released or expires", () => withStore(async (s) => {
      const u = `db-${crypto.randomUUID()}`, label = `l${crypto.randomUUID().slice(0, 8)}`;
      const t = 1_700_000_000_000;
      const allowTwo = (h: Parameters<Parameters<Store["reserveOrder"]>[1]>[0]) => decideBudget({ ...h, databaseNewLimit: 2 }, { newPerWeek: 1e6, duplicatesPerWeek: 5 }, t);
      const req = (lbl: string, owner: string, now = t) => ({ label: lbl, dbUuid: u, owner, now, leaseMs: 1000, windowStart: now - 7 * 86_400_000 });
      expect(await s.reserveOrder(req(label, "a"), allowTwo)).toEqual({ kind: "reserved", isNew: true });
      expect(await s.reserveOrder(req(label, "b"), allowTwo)).toEqual({ kind: "busy" });
      expect((await s.issuanceHistory(`${label}x`, u, t - 1)).databaseNewIssuances).toEqual([t]);
      expect(await s.reserveOrder(req(`${label}2`, "c"), allowTwo)).toEqual({ kind: "reserved", isNew: true });
      expect((await s.reserveOrder(req(`${label}3`, "d"), allowTwo)).kind).toBe("spent");
      await s.releaseReservation(`${label}2`, "c");
      expect((await s.reserveOrder(req(`${label}3`, "d", t + 1), allowTwo)).kind).toBe("reserved");
      await s.completeReservation(label, "a", u, t + 2, true);
      expect((await s.issuanceHistory(label, u, t - 1)).labelIssuances).toEqual([t + 2]);
      expect((await s.reserveOrder(req(`${label}4`, "e", t + 3), allowTwo)).kind).toBe("spent"); // the issuance and label3's reservation
      // label3's instance died: its reservation stops counting when its lease ends.
      expect((await s.reserveOrder(req(`${label}4`, "e", t + 1 + 1000), allowTwo)).kind).toBe("reserved");
    }), 30_000);

    test("refused attempts and known sources: counted per key in the window, pruned by age", () => withStore(async (s) => {
      const k = crypto.randomUUID().slice(0, 8);
      const q = (since: number) => s.attemptHistory({ sourceKey: `source:${k}`, databaseKey: `database:${k}`, dbUuid: k, source: "192.0.2.1", since, knownSince: 0 });
      await s.addRefusals([`source:${k}`, `database:${k}`], 100);
      await s.addRefusals([`source:${k}`], 200);
      expect(await q(0)).toEqual({ source: [100, 200], database: [100], knownSource: false });
      expect((await q(150)).source).toEqual([200]);
      await s.addKnownSource(k, "192.0.2.1", 300);
      expect((await q(0)).knownSource).toBe(true);
      await s.pruneAttempts(150, 300);
      expect(await q(0)).toEqual({ source: [200], database: [], knownSource: false });
    }), 30_000);

    test("simultaneous reservations never exceed the budget (generated budgets and request mixes)", async () => {
      const stores = name === "postgres" ? [open(), open()] : [open()]; // two PostgreSQL clients = two instances
      try {
        await stores[0]!.migrate();
        let clock = Date.now(); // each run on its own millisecond: earlier runs' reservations are filtered out below
        await fc.assert(fc.asyncProperty(
          fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 25 }), fc.integer({ min: 1, max: 25 }),
          async (lines, zoneLimit, mine, others) => {
            const t = (clock += 10), run = crypto.randomUUID().slice(0, 8);
            const zone = { newPerWeek: zoneLimit, duplicatesPerWeek: 5 };
            const reserve = (i: number, db: string, limit: number) => stores[i % stores.length]!.reserveOrder(
              { label: `${run}-${db}-${i}`, dbUuid: `${run}-${db}`, owner: `o${i}`, now: t, leaseMs: 60_000, windowStart: t - 7 * 86_400_000 },
              (h) => decideBudget({ ...h, newIssuances: h.newIssuances.filter((x) => x >= t), databaseNewLimit: limit }, zone, t));
            const all = await Promise.all([
              ...Array.from({ length: mine }, (_, i) => reserve(i, "mine", lines + 1)),
              ...Array.from({ length: others }, (_, i) => reserve(1000 + i, "other", 100)),
            ]);
            const reservedMine = all.slice(0, mine).filter((r) => r.kind === "reserved").length;
            const reserved = all.filter((r) => r.kind === "reserved").length;
            expect(reservedMine).toBeLessThanOrEqual(lines + 1);
            expect(reserved).toBeLessThanOrEqual(zoneLimit);
            expect(reserved).toBe(Math.min(zoneLimit, Math.min(mine, lines + 1) + others)); // and nothing is refused needlessly
          }), { numRuns: 15 });
      } finally { for (const st of stores) await st.close(); }
    }, 60_000);
  });
}
