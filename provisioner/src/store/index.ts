// Storage behind one small interface; SQLite (bun:sqlite) and PostgreSQL (Bun.SQL) only differ
// in how a statement is run (see ./sqlite.ts, ./postgres.ts).
import type { BudgetDecision, IssuanceHistory } from "../budget";
import type { AttemptHistory } from "../attempts/decide";
import type { DatabaseRecord } from "../eligibility";
import { SCHEMA } from "./schema";

export type Row = Record<string, unknown>;

/** Runs SQL with `?` placeholders. */
export interface Queries {
  all(sql: string, params?: unknown[]): Promise<Row[]>;
  run(sql: string, params?: unknown[]): Promise<void>;
}

export interface SqlDriver extends Queries {
  /** Runs `fn` in a transaction that no other exclusive section runs alongside: not in this
   *  process, nor in another instance sharing the database. `fn` must use the queries it is given. */
  exclusive<T>(fn: (q: Queries) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  kind: "sqlite" | "postgres";
}

export interface StoredCertificate {
  label: string;
  keyFp: string;
  dbUuid: string;
  subjectCn: string;
  certPem: string;
  keyPem: string | null;
  notBefore: number;
  notAfter: number;
  issuedAt: number;
}

export interface HostRecord { label: string; boxKey: string; ip: string; recordId: number; lastSeen: number }

export const SERVICE_KEY_FP = "service";

export interface ReservationRequest { label: string; dbUuid: string; owner: string; now: number; leaseMs: number; windowStart: number }
export type ReservationOutcome =
  | { kind: "reserved"; isNew: boolean }
  | { kind: "busy" } // another order for this label is running (here or on another instance)
  | { kind: "spent"; decision: Extract<BudgetDecision, { ok: false }> };

export type History = Omit<IssuanceHistory, "databaseNewLimit">;

const num = (v: unknown) => Number(v);

export class Store {
  constructor(readonly driver: SqlDriver) {}

  async migrate(): Promise<void> {
    for (const stmt of SCHEMA) await this.driver.run(stmt);
  }

  async ping(): Promise<void> { await this.driver.all("SELECT 1 AS one"); }
  close() { return this.driver.close(); }

  // databases
  async putDatabase(d: DatabaseRecord, now: number): Promise<void> {
    await this.driver.run(`INSERT INTO databases (uuid, enterprise_code_sha256, kind, subscription, iot_box_lines, updated_at)
      VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (uuid) DO UPDATE SET enterprise_code_sha256 = excluded.enterprise_code_sha256,
      kind = excluded.kind, subscription = excluded.subscription, iot_box_lines = excluded.iot_box_lines, updated_at = excluded.updated_at`,
    [d.uuid, d.enterpriseCodeHash, d.kind, d.subscription, d.iotBoxLines, now]);
  }
  async removeDatabase(uuid: string): Promise<boolean> {
    const had = await this.getDatabase(uuid);
    await this.driver.run("DELETE FROM databases WHERE uuid = ?", [uuid]);
    return had !== null;
  }
  async getDatabase(uuid: string): Promise<DatabaseRecord | null> {
    const [r] = await this.driver.all("SELECT * FROM databases WHERE uuid = ?", [uuid]);
    return r ? toDatabase(r) : null;
  }
  async listDatabases(): Promise<DatabaseRecord[]> {
    return (await this.driver.all("SELECT * FROM databases ORDER BY uuid")).map(toDatabase);
  }

  // labels
  async findLabel(dbUuid: string, boxKey: string): Promise<string | null> {
    const [r] = await this.driver.all("SELECT label FROM labels WHERE db_uuid = ? AND box_key = ?", [dbUuid, boxKey]);
    return r ? String(r.label) : null;
  }
  /** True when `label` is now (or already was) this box's; false when another box owns it. */
  async claimLabel(label: string, dbUuid: string, boxKey: string, now: number): Promise<boolean> {
    await this.driver.run("INSERT INTO labels (label, db_uuid, box_key, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", [label, dbUuid, boxKey, now]);
    const [r] = await this.driver.all("SELECT db_uuid, box_key FROM labels WHERE label = ?", [label]);
    return r?.db_uuid === dbUuid && r?.box_key === boxKey;
  }

  // certificates
  async getCertificate(label: string, keyFp: string): Promise<StoredCertificate | null> {
    const [r] = await this.driver.all("SELECT * FROM certificates WHERE label = ? AND key_fp = ?", [label, keyFp]);
    return r ? toCert(r) : null;
  }
  async putCertificate(c: StoredCertificate): Promise<void> {
    await this.driver.run(`INSERT INTO certificates (label, key_fp, db_uuid, subject_cn, cert_pem, key_pem, not_before, not_after, issued_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (label, key_fp) DO UPDATE SET db_uuid = excluded.db_uuid, subject_cn = excluded.subject_cn,
      cert_pem = excluded.cert_pem, key_pem = excluded.key_pem, not_before = excluded.not_before, not_after = excluded.not_after, issued_at = excluded.issued_at`,
    [c.label, c.keyFp, c.dbUuid, c.subjectCn, c.certPem, c.keyPem, c.notBefore, c.notAfter, c.issuedAt]);
  }

  // issuance history and reservations (the CA's limits)
  /**
   * Decides (with `decide`, pure) and reserves the budget for one order in one exclusive
   * section: a reservation counts as an issuance at its time until it ends or expires.
   */
  async reserveOrder(r: ReservationRequest, decide: (h: History) => BudgetDecision): Promise<ReservationOutcome> {
    return this.driver.exclusive(async (q) => {
      await q.run("DELETE FROM order_reservations WHERE expires_at <= ?", [r.now]);
      if ((await q.all("SELECT owner FROM order_reservations WHERE label = ?", [r.label])).length) return { kind: "busy" as const };
      const d = decide(await readHistory(q, r.label, r.dbUuid, r.windowStart));
      if (!d.ok) return { kind: "spent" as const, decision: d };
      await q.run("INSERT INTO order_reservations (label, owner, db_uuid, was_new, reserved_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        [r.label, r.owner, r.dbUuid, d.isNew ? 1 : 0, r.now, r.now + r.leaseMs]);
      return { kind: "reserved" as const, isNew: d.isNew };
    });
  }
  /** The order got its certificate: the reservation becomes an issuance (counted first, then freed). */
  async completeReservation(label: string, owner: string, dbUuid: string, at: number, wasNew: boolean): Promise<void> {
    await this.recordIssuance(label, dbUuid, at, wasNew);
    await this.releaseReservation(label, owner);
  }
  async releaseReservation(label: string, owner: string): Promise<void> {
    await this.driver.run("DELETE FROM order_reservations WHERE label = ? AND owner = ?", [label, owner]);
  }
  async recordIssuance(label: string, dbUuid: string, at: number, wasNew: boolean): Promise<void> {
    await this.driver.run("INSERT INTO issuances (label, db_uuid, issued_at, was_new) VALUES (?, ?, ?, ?)", [label, dbUuid, at, wasNew ? 1 : 0]);
  }
  async issuanceHistory(label: string, dbUuid: string, since: number): Promise<History> {
    return readHistory(this.driver, label, dbUuid, since);
  }

  // refused attempts
  async attemptHistory(a: { sourceKey: string; databaseKey: string; dbUuid: string; source: string; since: number; knownSince: number }): Promise<AttemptHistory> {
    const rows = await this.driver.all(`SELECT scope_key, at FROM refused_attempts WHERE scope_key IN (?, ?) AND at > ?
      UNION ALL SELECT 'known' AS scope_key, seen_at AS at FROM known_sources WHERE db_uuid = ? AND source = ? AND seen_at > ?`,
    [a.sourceKey, a.databaseKey, a.since, a.dbUuid, a.source, a.knownSince]);
    const times = (key: string) => rows.filter((r) => r.scope_key === key).map((r) => num(r.at));
    return { source: times(a.sourceKey), database: times(a.databaseKey), knownSource: rows.some((r) => r.scope_key === "known") };
  }
  async addRefusals(keys: string[], at: number): Promise<void> {
    for (const k of keys) await this.driver.run("INSERT INTO refused_attempts (scope_key, at) VALUES (?, ?)", [k, at]);
  }
  /** Refusals that left the limit's window, and known sources not served since `knownBefore`. */
  async pruneAttempts(refusalsBefore: number, knownBefore: number): Promise<void> {
    await this.driver.run("DELETE FROM refused_attempts WHERE at <= ?", [refusalsBefore]);
    await this.driver.run("DELETE FROM known_sources WHERE seen_at <= ?", [knownBefore]);
  }
  async addKnownSource(dbUuid: string, source: string, at: number): Promise<void> {
    await this.driver.run(`INSERT INTO known_sources (db_uuid, source, seen_at) VALUES (?, ?, ?)
      ON CONFLICT (db_uuid, source) DO UPDATE SET seen_at = excluded.seen_at`, [dbUuid, source, at]);
  }

  // host A records
  async getHostRecord(label: string, boxKey: string): Promise<HostRecord | null> {
    const [r] = await this.driver.all("SELECT * FROM host_records WHERE label = ? AND box_key = ?", [label, boxKey]);
    return r ? toHost(r) : null;
  }
  async putHostRecord(h: HostRecord): Promise<void> {
    await this.driver.run(`INSERT INTO host_records (label, box_key, ip, record_id, last_seen) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (label, box_key) DO UPDATE SET ip = excluded.ip, record_id = excluded.record_id, last_seen = excluded.last_seen`,
    [h.label, h.boxKey, h.ip, h.recordId, h.lastSeen]);
  }
  async touchHostRecord(label: string, boxKey: string, now: number): Promise<void> {
    await this.driver.run("UPDATE host_records SET last_seen = ? WHERE label = ? AND box_key = ?", [now, label, boxKey]);
  }
  async deleteHostRecord(label: string, boxKey: string): Promise<void> {
    await this.driver.run("DELETE FROM host_records WHERE label = ? AND box_key = ?", [label, boxKey]);
  }
  async staleHostRecords(before: number): Promise<HostRecord[]> {
    return (await this.driver.all("SELECT * FROM host_records WHERE last_seen < ?", [before])).map(toHost);
  }

  // TXT records to clean up
  async addCleanup(name: string, content: string, now: number): Promise<void> {
    await this.driver.run("INSERT INTO dns_cleanup (name, content, created_at) VALUES (?, ?, ?) ON CONFLICT (name, content) DO NOTHING", [name, content, now]);
  }
  async removeCleanup(name: string, content: string): Promise<void> {
    await this.driver.run("DELETE FROM dns_cleanup WHERE name = ? AND content = ?", [name, content]);
  }
  async pendingCleanups(createdBefore: number): Promise<Array<{ name: string; content: string }>> {
    return (await this.driver.all("SELECT name, content FROM dns_cleanup WHERE created_at < ?", [createdBefore]))
      .map((r) => ({ name: String(r.name), content: String(r.content) }));
  }

  // ACME account
  async getAccount(directoryUrl: string): Promise<{ keyPem: string; accountUrl: string | null } | null> {
    const [r] = await this.driver.all("SELECT key_pem, account_url FROM acme_accounts WHERE directory_url = ?", [directoryUrl]);
    return r ? { keyPem: String(r.key_pem), accountUrl: r.account_url ? String(r.account_url) : null } : null;
  }
  /** Keeps the first key stored (another instance may have raced us); returns the one in force. */
  async putAccountKey(directoryUrl: string, keyPem: string): Promise<string> {
    await this.driver.run("INSERT INTO acme_accounts (directory_url, key_pem) VALUES (?, ?) ON CONFLICT (directory_url) DO NOTHING", [directoryUrl, keyPem]);
    return (await this.getAccount(directoryUrl))!.keyPem;
  }
  async setAccountUrl(directoryUrl: string, url: string): Promise<void> {
    await this.driver.run("UPDATE acme_accounts SET account_url = ? WHERE directory_url = ?", [url, directoryUrl]);
  }
}

/** Issuances in the window plus the reservations of orders still running, which count as issued. */
async function readHistory(q: Queries, label: string, dbUuid: string, since: number): Promise<History> {
  const times = async (sql: string, params: unknown[]) => (await q.all(sql, params)).map((r) => num(r.t));
  const newIssuances = await times(`SELECT issued_at AS t FROM issuances WHERE was_new = 1 AND issued_at > ?
    UNION ALL SELECT reserved_at AS t FROM order_reservations WHERE was_new = 1`, [since]);
  const databaseNewIssuances = await times(`SELECT issued_at AS t FROM issuances WHERE was_new = 1 AND db_uuid = ? AND issued_at > ?
    UNION ALL SELECT reserved_at AS t FROM order_reservations WHERE was_new = 1 AND db_uuid = ?`, [dbUuid, since, dbUuid]);
  const labelIssuances = await times(`SELECT issued_at AS t FROM issuances WHERE label = ? AND issued_at > ?
    UNION ALL SELECT reserved_at AS t FROM order_reservations WHERE label = ?`, [label, since, label]);
  const [ever] = await q.all("SELECT COUNT(*) AS n FROM issuances WHERE label = ?", [label]);
  return { newIssuances, databaseNewIssuances, labelIssuances, labelEverIssued: num(ever?.n) > 0 };
}

function toDatabase(r: Row): DatabaseRecord {
  return { uuid: String(r.uuid), enterpriseCodeHash: String(r.enterprise_code_sha256), kind: r.kind as DatabaseRecord["kind"],
    subscription: r.subscription as DatabaseRecord["subscription"], iotBoxLines: num(r.iot_box_lines) };
}
function toCert(r: Row): StoredCertificate {
  return { label: String(r.label), keyFp: String(r.key_fp), dbUuid: String(r.db_uuid), subjectCn: String(r.subject_cn), certPem: String(r.cert_pem),
    keyPem: r.key_pem === null || r.key_pem === undefined ? null : String(r.key_pem), notBefore: num(r.not_before), notAfter: num(r.not_after), issuedAt: num(r.issued_at) };
}
function toHost(r: Row): HostRecord {
  return { label: String(r.label), boxKey: String(r.box_key), ip: String(r.ip), recordId: num(r.record_id), lastSeen: num(r.last_seen) };
}
