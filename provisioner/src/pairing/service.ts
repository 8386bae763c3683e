// The pairing exchange, the vendor side (the reference's iot-proxy `connect-box`, whose claiming
// side is closed source; ours is below). A box that is not connected asks for a code, shows it,
// and polls with the code and its secret pairing uuid; a database claims the code, proving who
// it is with its UUID and contract (enterprise) code as registered here; the box's next poll
// gets the connection (url, token, db_uuid, enterprise_code) once, and the row is deleted.
import { randomUUID, timingSafeEqual } from "node:crypto";
import type { Logger } from "../../../src/log";
import { hashEnterpriseCode, type DatabaseRecord } from "../eligibility";
import { badRequest, RpcError } from "../rpc";
import { displayCode, newPairingCode, normaliseCode } from "./codes";
import { sha256, type PairingStore } from "./store";

export const PAIRING_TTL_MS = 2 * 3600_000; // the reference's codes last about two hours

export interface PairingDeps {
  store: PairingStore;
  databases: { getDatabase(uuid: string): Promise<DatabaseRecord | null> };
  logger: Logger;
  now?: () => number;
  ttlMs?: number;
  newCode?: () => string;
}

/** The box's poll's answer: the reference's `{result}` or the top-level `{error: "expired"}`. */
export type ConnectBoxAnswer = { result: Record<string, unknown> } | { error: "expired" };

const PRINTABLE = /^[\x21-\x7e]+$/;
const str = (v: unknown, what: string, max: number): string => {
  if (typeof v !== "string" || v.length < 1 || v.length > max || !PRINTABLE.test(v)) throw badRequest(`${what} must be 1 to ${max} visible ASCII characters.`);
  return v;
};

export function createPairingService(d: PairingDeps) {
  const now = d.now ?? Date.now;
  const ttl = d.ttlMs ?? PAIRING_TTL_MS;
  return {
    async connectBox(params: Record<string, unknown>): Promise<ConnectBoxAnswer> {
      const serial = str(params.serial_number, "serial_number", 64);
      if (!params.pairing_code) {
        for (let i = 0; i < 5; i++) {
          const code = (d.newCode ?? newPairingCode)();
          const uuid = randomUUID();
          if (await d.store.create({ code, uuidHash: sha256(uuid), serial, now: now(), ttlMs: ttl })) {
            d.logger.info("pairing code issued", { serial, expires_in_s: Math.round(ttl / 1000) });
            return { result: { pairing_code: displayCode(code), pairing_uuid: uuid } };
          }
        }
        throw new RpcError(503, -32000, "No pairing code is free right now; retry later.", 30);
      }
      const code = normaliseCode(params.pairing_code);
      const uuid = typeof params.pairing_uuid === "string" ? params.pairing_uuid : "";
      const row = code ? await d.store.get(code) : null;
      if (!row || row.expiresAt <= now() || !sameHash(row.uuidHash, sha256(uuid))) return { error: "expired" };
      if (row.connection === null) return { result: {} };
      await d.store.remove(row.code);
      d.logger.info("pairing delivered to the box", { serial: row.serial, db_uuid: row.dbUuid });
      return { result: JSON.parse(row.connection) };
    },

    /** The database side: claim a code the technician read on the box. */
    async claim(params: Record<string, unknown>): Promise<{ status: "claimed"; serial_number: string }> {
      const code = normaliseCode(params.pairing_code);
      if (!code) throw badRequest("pairing_code is the 8-character code the box shows (ABCD-EFGH).");
      const url = str(params.url, "url", 2048);
      let u: URL;
      try { u = new URL(url); } catch { throw badRequest("url is not a URL."); }
      if ((u.protocol !== "https:" && u.protocol !== "http:") || u.username || u.password) throw badRequest("url must be the database's http(s) address, without credentials.");
      const token = str(params.token, "token", 512);
      const dbUuid = str(params.db_uuid, "db_uuid", 128);
      const enterpriseCode = str(params.enterprise_code, "enterprise_code", 128);
      const db = await d.databases.getDatabase(dbUuid);
      if (!db || !sameHash(db.enterpriseCodeHash, hashEnterpriseCode(enterpriseCode))) {
        d.logger.warn("pairing claim refused: unknown database or wrong contract code", { db_uuid: dbUuid });
        throw new RpcError(403, -32001, "This database is not known here with this contract code.");
      }
      const connection = JSON.stringify({ url: `${u.protocol}//${u.host}`, token, db_uuid: dbUuid, enterprise_code: enterpriseCode });
      if (!(await d.store.claim(code, dbUuid, connection, now()))) {
        d.logger.info("pairing claim refused: no open code", { db_uuid: dbUuid });
        throw new RpcError(404, -32002, "No box is waiting with this code (mistyped, expired or already claimed).");
      }
      const row = await d.store.get(code);
      d.logger.info("pairing code claimed", { db_uuid: dbUuid, serial: row?.serial });
      return { status: "claimed", serial_number: row?.serial ?? "" };
    },
  };
}
export type PairingService = ReturnType<typeof createPairingService>;

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex"), y = Buffer.from(b, "hex");
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
