/**
 * What the terminals area keeps on disk, all under <dataDir>/terminals/ (directory 0700,
 * files 0600; settings.json is replaced atomically, the journal is appended):
 *   settings.json       terminals (address, POIID, key id/version, passphrase), POS origins,
 *                       POS pairings (SHA-256 of each token, never the token)
 *   journal/journal.log one JSON line per change of a payment (state, ServiceID, amount, the
 *                       allow-listed outcome: brand, last 4, PSP reference - never card data or
 *                       receipts); appended, each append made durable with ONE fdatasync
 *   journal/unreadable.log  lines the journal could not read, kept for a human
 * (Older boxes kept one journal/<tx>.json per payment: read once, then folded into the log.)
 */
import {
  appendFileSync, chmodSync, closeSync, copyFileSync, existsSync, fdatasyncSync, fstatSync, mkdirSync, openSync, readdirSync,
  readFileSync, readSync, renameSync, unlinkSync, writeSync,
} from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic";
import { decodeSettings, decodeTx } from "./decode";
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

/** "unresolved": the administrator released the terminal before it told the result (final; check
 *  the payment in the Adyen Customer Area). */
export type TxState = "pending" | "in_progress" | "unknown" | "approved" | "declined" | "aborted" | "failed" | "refunded" | "unresolved";
export type RefundState = "pending" | "in_progress" | "unknown" | "reversed" | "failed" | "unresolved";
export const FINAL_STATES: ReadonlySet<TxState> = new Set(["approved", "declined", "aborted", "failed", "refunded", "unresolved"]);

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

/**
 * settings.json decoded (decode.ts): what is damaged is dropped or reset and reported, the rest
 * stands. The file as found is kept beside it whenever something in it could not be used: as
 * settings.json.corrupt-<time> when it does not parse at all (the box then starts with no
 * terminals), as settings.json.damaged-<time> when only parts were dropped.
 */
export function loadSettings(dir: string, newSaleId: () => string, now = () => new Date()): { settings: Settings; problems: string[] } {
  const path = join(dir, "settings.json");
  const empty = (): Settings => ({ version: 1, saleId: newSaleId(), terminals: [], posOrigins: [], pairings: [] });
  if (!existsSync(path)) return { settings: empty(), problems: [] };
  const stamp = now().toISOString().replace(/[:.]/g, "");
  let raw: unknown;
  try { raw = JSON.parse(readFileSync(path, "utf8")); } catch (e) { raw = e; }
  if (!raw || typeof raw !== "object" || Array.isArray(raw) || raw instanceof Error) {
    const aside = `${path}.corrupt-${stamp}`;
    renameSync(path, aside);
    const why = raw instanceof SyntaxError ? "it is not valid JSON" : raw instanceof Error ? `it could not be read (${(raw as NodeJS.ErrnoException).code ?? raw.message})` : "it does not hold an object";
    return { settings: empty(), problems: [`terminals/settings.json could not be used (${why}); it was kept as ${aside}: the terminals and POS pairings must be set again`] };
  }
  const decoded = decodeSettings(raw as Record<string, unknown>, newSaleId);
  if (decoded.problems.length) copyFileSync(path, `${path}.damaged-${stamp}`);
  return decoded;
}

export function saveSettings(dir: string, s: Settings): void {
  writeFileAtomic(join(dir, "settings.json"), JSON.stringify(s, null, 2) + "\n", FILE_MODE);
}

const asTx = (raw: unknown): Tx => { const tx = decodeTx(raw); if (typeof tx === "string") throw new Error(tx); return tx; };
const TX_FILE = /^tx_[A-Za-z0-9]{8,40}\.json$/; // the per-payment files of older boxes
const LOG = "journal.log";
/** Rewrite the log once it holds this much more than the live records (and is over 1 MiB). */
const COMPACT_MIN_BYTES = 1 << 20;

export interface Journal {
  /** Appends the transaction's new state; on the card (fdatasync) when this returns. */
  write(tx: Tx): void;
  /** Appends several states with one fdatasync for all of them. */
  writeMany(txs: Tx[]): void;
  /** The latest state of every transaction; `onUnreadable` hears about lines or files it could not read. */
  loadAll(onUnreadable?: (where: string, err: unknown) => void): Tx[];
  /** Atomically replaces the log with exactly these records (start-up pruning, size limit). */
  compact(txs: Tx[]): void;
  /** The log has grown well past its live content: time to compact. */
  needsCompaction(): boolean;
  close(): void;
}

/**
 * An append-only journal: a change is one write() of one line to a file opened O_APPEND, then
 * fdatasync. A write-then-rename of a file per payment costs two flushes (the file, then the
 * folder for the rename); this costs one, and it is what stands between the POS and the
 * terminal when a payment starts. The latest line of a transaction (highest version) wins.
 * A power cut can only cut the LAST line (appends are sequential, and nothing is sent before
 * its line is durable): that line is reported, kept in unreadable.log, and the file is
 * repaired before anything new is appended.
 */
export function createJournal(dir: string): Journal {
  const jdir = join(dir, "journal");
  const logPath = join(jdir, LOG);
  let fd: number | null = null;
  let appended = 0;          // bytes appended since the last compaction
  let compactedSize = 0;     // size of the log right after it
  let unreadableLines: string[] = [];
  let legacyRead: string[] = [];   // per-payment files of an older box that loadAll read

  function open(): number {
    if (fd !== null) return fd;
    mkdirSync(jdir, { recursive: true, mode: 0o700 });
    const f = openSync(logPath, "a+", FILE_MODE);
    // A line cut by a power failure must not swallow the next one: end the file with a newline.
    const size = fstatSync(f).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(f, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) { writeSync(f, "\n"); fdatasyncSync(f); }
    }
    compactedSize ||= size;
    fd = f;
    return f;
  }

  function append(txs: Tx[]): void {
    if (!txs.length) return;
    const f = open();
    const data = Buffer.from(txs.map((tx) => JSON.stringify(tx) + "\n").join(""));
    let off = 0;
    while (off < data.length) off += writeSync(f, data, off, data.length - off);
    fdatasyncSync(f);
    appended += data.length;
  }

  return {
    write: (tx) => append([tx]),
    writeMany: (txs) => append(txs),
    loadAll(onUnreadable) {
      const latest = new Map<string, Tx>();
      const keep = (tx: Tx) => { const cur = latest.get(tx.id); if (!cur || (tx.version ?? 0) >= (cur.version ?? 0)) latest.set(tx.id, tx); };
      unreadableLines = [];
      legacyRead = [];
      if (!existsSync(jdir)) return [];
      // Records of older boxes (one file per payment); unreadable ones stay where they are.
      for (const f of readdirSync(jdir).sort()) {
        if (!TX_FILE.test(f)) continue; // leftovers of interrupted atomic writes start with "."
        try { keep(asTx(JSON.parse(readFileSync(join(jdir, f), "utf8")))); legacyRead.push(f); } catch (err) { onUnreadable?.(f, err); }
      }
      if (existsSync(logPath)) {
        const text = readFileSync(logPath, "utf8");
        const lines = text.split("\n");
        lines.forEach((line, i) => {
          if (!line.trim() || /^\0+$/.test(line)) return;
          const cut = i === lines.length - 1; // no newline after it: the write was cut
          try {
            if (cut) throw new Error("the line was cut (no newline)");
            keep(asTx(JSON.parse(line)));
          } catch (err) {
            unreadableLines.push(line);
            onUnreadable?.(`${LOG} line ${i + 1}`, err);
          }
        });
      }
      return [...latest.values()];
    },
    compact(txs) {
      mkdirSync(jdir, { recursive: true, mode: 0o700 });
      if (unreadableLines.length) {
        appendFileSync(join(jdir, "unreadable.log"), unreadableLines.map((l) => l + "\n").join(""), { mode: FILE_MODE });
        unreadableLines = [];
      }
      const body = txs.map((tx) => JSON.stringify(tx) + "\n").join("");
      if (fd !== null) { closeSync(fd); fd = null; }
      writeFileAtomic(logPath, body, FILE_MODE);
      compactedSize = Buffer.byteLength(body) || 1;
      appended = 0;
      // the per-payment files of an older box that were read are in the log now (unreadable ones stay for a human)
      for (const f of legacyRead) { try { unlinkSync(join(jdir, f)); } catch { /* already gone */ } }
      legacyRead = [];
    },
    needsCompaction: () => appended > COMPACT_MIN_BYTES && appended > 3 * compactedSize,
    close() { if (fd !== null) { closeSync(fd); fd = null; } },
  };
}
