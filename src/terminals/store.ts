/**
 * What the terminals area keeps on disk, all under <dataDir>/terminals/ (directory 0700,
 * files 0600, every write atomic):
 *   settings.json       terminals (address, POIID, key id/version, passphrase), POS origins,
 *                       POS pairings (SHA-256 of each token, never the token)
 *   journal/<tx>.json   one file per payment: state, ServiceID, amount, the allow-listed
 *                       outcome (brand, last 4, PSP reference) - never card data or receipts
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic";
import type { PaymentOutcome } from "./messages";

export interface TerminalConfig {
  id: string;
  address: string;
  poiid: string;
  keyIdentifier: string;
  keyVersion: number;
  passphrase: string;
  addedAt: string;
}

export interface Pairing { id: string; name: string; tokenHash: string; createdAt: string }

export interface Settings {
  version: 1;
  saleId: string;
  terminals: TerminalConfig[];
  posOrigins: string[];
  pairings: Pairing[];
}

export type TxState = "pending" | "in_progress" | "unknown" | "approved" | "declined" | "aborted" | "failed" | "refunded";
export type RefundState = "pending" | "in_progress" | "unknown" | "reversed" | "failed";
export const FINAL_STATES: ReadonlySet<TxState> = new Set(["approved", "declined", "aborted", "failed", "refunded"]);

export interface Tx {
  id: string;
  pairingId: string;
  idempotencyKey: string;
  bodyHash: string;
  terminalId: string;
  poiid: string;
  saleId: string;
  serviceId: string;
  amountMinor: number;
  currency: string;
  reference: string;
  state: TxState;
  createdAt: string;
  updatedAt: string;
  version: number;
  abortRequested?: boolean;
  outcome?: PaymentOutcome;
  error?: { code: string; message: string };
  refund?: {
    serviceId: string;
    reason: string;
    state: RefundState;
    createdAt: string;
    updatedAt: string;
    error?: { code: string; message: string };
    errorCondition?: string;
  };
}

const FILE_MODE = 0o600;

export function terminalsDir(dataDir: string): string {
  const dir = join(dataDir, "terminals");
  mkdirSync(join(dir, "journal"), { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  chmodSync(join(dir, "journal"), 0o700);
  return dir;
}

export function loadSettings(dir: string, newSaleId: () => string): Settings {
  const path = join(dir, "settings.json");
  if (!existsSync(path)) return { version: 1, saleId: newSaleId(), terminals: [], posOrigins: [], pairings: [] };
  const s = JSON.parse(readFileSync(path, "utf8")) as Settings;
  return { version: 1, saleId: s.saleId || newSaleId(), terminals: s.terminals ?? [], posOrigins: s.posOrigins ?? [], pairings: s.pairings ?? [] };
}

export function saveSettings(dir: string, s: Settings): void {
  writeFileAtomic(join(dir, "settings.json"), JSON.stringify(s, null, 2) + "\n", FILE_MODE);
}

const TX_FILE = /^tx_[A-Za-z0-9]{8,40}\.json$/;

export interface Journal {
  write(tx: Tx): void;
  /** Every readable record; `onUnreadable` hears about the others (they are kept on disk for a human). */
  loadAll(onUnreadable?: (file: string, err: unknown) => void): Tx[];
  remove(id: string): void;
}

export function createJournal(dir: string): Journal {
  const jdir = join(dir, "journal");
  return {
    write: (tx) => writeFileAtomic(join(jdir, `${tx.id}.json`), JSON.stringify(tx), FILE_MODE),
    loadAll(onUnreadable) {
      const out: Tx[] = [];
      if (!existsSync(jdir)) return out;
      for (const f of readdirSync(jdir)) {
        if (!TX_FILE.test(f)) continue; // leftovers of interrupted atomic writes start with "."
        try { out.push(JSON.parse(readFileSync(join(jdir, f), "utf8")) as Tx); } catch (err) { onUnreadable?.(f, err); }
      }
      return out;
    },
    remove: (id) => { try { unlinkSync(join(jdir, `${id}.json`)); } catch {} },
  };
}
