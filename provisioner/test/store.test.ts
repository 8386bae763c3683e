// The same store contract on SQLite and on PostgreSQL (a real server started by the test).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres, type Postgres } from "../../testkit";
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
  describe(`store on ${name}`, () => {
    test("databases, certificates, issuances, host records, cleanups, accounts, leases", async () => {
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

        expect(await s.tryLease(label, "one", 1000, 100)).toBe(true);
        expect(await s.tryLease(label, "two", 1050, 100)).toBe(false);
        expect(await s.tryLease(label, "two", 1101, 100)).toBe(true); // expired
        await s.releaseLease(label, "two");
        expect(await s.tryLease(label, "one", 1102, 100)).toBe(true);

        expect(await s.removeDatabase(u)).toBe(true);
        expect(await s.removeDatabase(u)).toBe(false);
      } finally { await s.close(); }
    }, 30_000);
  });
}
