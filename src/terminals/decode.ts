/**
 * What terminals/ keeps on disk, decoded against its shape when it is read. settings.json: a
 * field of the wrong type falls back to its default, a bad terminal, origin or pairing is
 * dropped, and each is reported; the rest stands. A journal record that is not a whole
 * transaction is refused (the journal keeps it in unreadable.log). Pure.
 */
import { parseAddress } from "./terminal-client";
import { parseOrigins, parseTerminalBody } from "./validate";
import type { Pairing, Settings, TerminalConfig, Tx } from "./store";

const obj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
const printable = (v: unknown, max: number): v is string => typeof v === "string" && v.length >= 1 && v.length <= max && /^[\x20-\x7e]+$/.test(v);
const FILE = "terminals/settings.json";

export function decodeSettings(raw: Record<string, unknown>, newSaleId: () => string): { settings: Settings; problems: string[] } {
  const problems: string[] = [];
  const list = (key: string): unknown[] => {
    if (raw[key] === undefined) return [];
    if (Array.isArray(raw[key])) return raw[key] as unknown[];
    problems.push(`${FILE}: "${key}" should be a list; it was reset to an empty one`);
    return [];
  };
  let saleId = raw.saleId;
  if (!printable(saleId, 64)) {
    if (saleId !== undefined && saleId !== "") problems.push(`${FILE}: "saleId" should be 1-64 printable characters; a new one was made`);
    saleId = newSaleId();
  }

  const terminals: TerminalConfig[] = [];
  list("terminals").forEach((t, i) => {
    const name = obj(t) && printable(t.poiid, 61) ? t.poiid : `#${i + 1}`;
    try {
      if (!obj(t)) throw new Error("it is not an object");
      const b = parseTerminalBody({ address: t.address, poiid: t.poiid, keyIdentifier: t.keyIdentifier, keyVersion: t.keyVersion, passphrase: t.passphrase });
      parseAddress(b.address);
      if (terminals.some((x) => x.id === b.poiid)) { problems.push(`${FILE}: a second entry for terminal ${b.poiid} was dropped (the first one stands)`); return; }
      terminals.push({ id: b.poiid, ...b, addedAt: typeof t.addedAt === "string" ? t.addedAt : "" });
    } catch (e) {
      problems.push(`${FILE}: terminal ${name} was dropped (${(e as Error).message.replace(/\.$/, "")}); add it again in the settings`);
    }
  });

  const posOrigins: string[] = [];
  for (const o of list("posOrigins")) {
    try { const [origin] = parseOrigins({ origins: [o] }); if (!posOrigins.includes(origin!)) posOrigins.push(origin!); } catch {
      problems.push(`${FILE}: the POS origin ${JSON.stringify(o)?.slice(0, 80)} was dropped (not an https origin)`);
    }
  }

  const pairings: Pairing[] = [];
  list("pairings").forEach((p, i) => {
    if (obj(p) && printable(p.id, 64) && printable(p.name, 60) && typeof p.tokenHash === "string" && /^[0-9a-f]{64}$/.test(p.tokenHash) && !pairings.some((x) => x.id === p.id)) {
      pairings.push({ id: p.id, name: p.name, tokenHash: p.tokenHash, createdAt: typeof p.createdAt === "string" ? p.createdAt : "" });
    } else {
      problems.push(`${FILE}: POS pairing ${obj(p) && printable(p.name, 60) ? `"${p.name}"` : `#${i + 1}`} was dropped (damaged); pair that POS again`);
    }
  });
  return { settings: { version: 1, saleId: saleId as string, terminals, posOrigins, pairings }, problems };
}

const TX_STATES = new Set(["pending", "in_progress", "unknown", "approved", "declined", "aborted", "failed", "refunded", "unresolved"]);
const REFUND_STATES = new Set(["pending", "in_progress", "unknown", "reversed", "failed", "unresolved"]);
const TX_STRINGS = ["id", "pairingId", "idempotencyKey", "bodyHash", "terminalId", "poiid", "saleId", "serviceId", "currency", "reference", "createdAt", "updatedAt"] as const;

/** A journal record, or why it is not one. */
export function decodeTx(raw: unknown): Tx | string {
  if (!obj(raw)) return "not a transaction record";
  for (const k of TX_STRINGS) if (typeof raw[k] !== "string") return `"${k}" is missing or not text`;
  if (!TX_STATES.has(raw.state as string)) return `unknown state ${JSON.stringify(raw.state)?.slice(0, 40)}`;
  if (!Number.isSafeInteger(raw.amountMinor) || !Number.isSafeInteger(raw.version)) return "amount or version is not a whole number";
  if (raw.outcome !== undefined && !obj(raw.outcome)) return "the outcome is not an object";
  if (raw.error !== undefined && !(obj(raw.error) && typeof raw.error.code === "string" && typeof raw.error.message === "string")) return "the error is damaged";
  const r = raw.refund;
  if (r !== undefined && !(obj(r) && typeof r.serviceId === "string" && REFUND_STATES.has(r.state as string) && typeof r.updatedAt === "string")) return "the refund is damaged";
  return raw as unknown as Tx;
}
