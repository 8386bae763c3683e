/**
 * The updater's state, `<data>/update.json`: held or not, the last look at the channel, the last
 * refusal or failure, the download in progress, an installed update waiting for a quiet time.
 * Written atomically; decoded field by field: a damaged field (or file) falls back to its
 * default, never a crash. Read from disk at each use, so the CLI and the daemon see one state.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../fs/atomic";
import type { UpdateCode } from "./codes";
import { UPDATE_CODES } from "./codes";

export interface UpdateState {
  held: boolean;
  lastCheck: { at: string; channel: string; outcome: "up-to-date" | "available" | "failed"; version: string | null } | null;
  lastError: { code: UpdateCode; message: string; at: string } | null;
  download: { version: string; sha256: string; have: number; size: number; at: string } | null;
  /** Written to the other slot; waits for a quiet time and no payment to reboot. */
  pendingReboot: { version: string; installedAt: string; /** asked for by an admin or technician: reboot as soon as no payment is in flight, not only in quiet hours */ asap: boolean } | null;
}

export const DEFAULT_STATE: UpdateState = { held: false, lastCheck: null, lastError: null, download: null, pendingReboot: null };

const obj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
const text = (v: unknown, max = 512): v is string => typeof v === "string" && v.length <= max;
const count = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

export function decodeState(raw: unknown): UpdateState {
  const s: UpdateState = structuredClone(DEFAULT_STATE);
  if (!obj(raw)) return s;
  if (typeof raw.held === "boolean") s.held = raw.held;
  const c = raw.lastCheck;
  if (obj(c) && text(c.at, 64) && text(c.channel, 64) && (c.outcome === "up-to-date" || c.outcome === "available" || c.outcome === "failed") && (c.version === null || text(c.version, 128)))
    s.lastCheck = { at: c.at, channel: c.channel, outcome: c.outcome, version: c.version };
  const e = raw.lastError;
  if (obj(e) && typeof e.code === "string" && Object.hasOwn(UPDATE_CODES, e.code) && text(e.message, 1024) && text(e.at, 64)) s.lastError = { code: e.code as UpdateCode, message: e.message, at: e.at };
  const d = raw.download;
  if (obj(d) && text(d.version, 128) && text(d.sha256, 64) && count(d.have) && count(d.size) && d.have <= d.size && text(d.at, 64)) s.download = { version: d.version, sha256: d.sha256, have: d.have, size: d.size, at: d.at };
  const p = raw.pendingReboot;
  if (obj(p) && text(p.version, 128) && text(p.installedAt, 64)) s.pendingReboot = { version: p.version, installedAt: p.installedAt, asap: p.asap === true };
  return s;
}

export interface StateStore { get(): UpdateState; update(f: (s: UpdateState) => void): UpdateState }

export function openStateStore(path: string): StateStore {
  const get = (): UpdateState => {
    try { return decodeState(JSON.parse(readFileSync(path, "utf8"))); } catch { return structuredClone(DEFAULT_STATE); }
  };
  return {
    get,
    update(f) {
      const next = get();
      f(next);
      writeFileAtomic(path, JSON.stringify(next, null, 2), 0o600);
      return next;
    },
  };
}
