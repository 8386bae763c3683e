// Pairings on the provisioner's database (SQLite or PostgreSQL, shared by every instance): a
// code given to a box, the hash of the box's secret pairing uuid, and, once a database claimed
// the code, the connection the box is to receive (handed over once, then the row is deleted).
import { createHash } from "node:crypto";
import type { SqlDriver } from "../store";

export const PAIRING_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS pairings (
    code TEXT PRIMARY KEY,
    uuid_sha256 TEXT NOT NULL,
    serial TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    claimed_at BIGINT,
    db_uuid TEXT,
    connection TEXT)`,
  `CREATE INDEX IF NOT EXISTS pairings_expiry ON pairings (expires_at)`,
];

export const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

export interface PairingRow { code: string; uuidHash: string; serial: string; createdAt: number; expiresAt: number; claimedAt: number | null; dbUuid: string | null; connection: string | null }

export function pairingStore(driver: SqlDriver) {
  const row = (r: Record<string, unknown>): PairingRow => ({
    code: String(r.code), uuidHash: String(r.uuid_sha256), serial: String(r.serial), createdAt: Number(r.created_at), expiresAt: Number(r.expires_at),
    claimedAt: r.claimed_at === null || r.claimed_at === undefined ? null : Number(r.claimed_at), dbUuid: r.db_uuid ? String(r.db_uuid) : null,
    connection: r.connection ? String(r.connection) : null,
  });
  return {
    async migrate() { for (const s of PAIRING_SCHEMA) await driver.run(s); },
    /** False when the code is taken (the caller draws another). */
    async create(p: { code: string; uuidHash: string; serial: string; now: number; ttlMs: number }): Promise<boolean> {
      await driver.run("DELETE FROM pairings WHERE expires_at <= ?", [p.now]);
      await driver.run("INSERT INTO pairings (code, uuid_sha256, serial, created_at, expires_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [p.code, p.uuidHash, p.serial, p.now, p.now + p.ttlMs]);
      const [r] = await driver.all("SELECT uuid_sha256 FROM pairings WHERE code = ?", [p.code]);
      return r?.uuid_sha256 === p.uuidHash;
    },
    async get(code: string): Promise<PairingRow | null> {
      const [r] = await driver.all("SELECT * FROM pairings WHERE code = ?", [code]);
      return r ? row(r) : null;
    },
    /** Claims an open, unexpired code for a database: true for the one claim that wins. */
    async claim(code: string, dbUuid: string, connection: string, now: number): Promise<boolean> {
      return driver.exclusive(async (q) => {
        const [r] = await q.all("SELECT claimed_at, expires_at FROM pairings WHERE code = ?", [code]);
        if (!r || r.claimed_at !== null && r.claimed_at !== undefined || Number(r.expires_at) <= now) return false;
        await q.run("UPDATE pairings SET claimed_at = ?, db_uuid = ?, connection = ? WHERE code = ?", [now, dbUuid, connection, code]);
        return true;
      });
    },
    /** The connection was handed to the box: the row goes (the token is not kept here). */
    async remove(code: string) { await driver.run("DELETE FROM pairings WHERE code = ?", [code]); },
  };
}
export type PairingStore = ReturnType<typeof pairingStore>;
