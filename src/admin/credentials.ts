/**
 * What grants access to the settings, stored apart from the rest of the configuration:
 * `<data>/admin.json` (0600, written atomically) holds the admin password's argon2id hash, and
 * `<data>/admin.claimed` records that a password was ever chosen. Damaging `config.json` does
 * not touch either. "The first visitor chooses the password" holds only for a box that never
 * had one; a box that had one and lost it (damaged or missing file) stays locked until a
 * technician proves physical access with an `admin_password` line in iotbox.conf.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { writeFileAtomic, fsyncDir } from "../fs/atomic";

export type AccessState = "set" | "open" | "locked";

interface AdminFile { version: 1; passwordHash: string | null; setAt: string | null; lockedReason?: string }

const HASH_SHAPE = /^\$argon2(id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;

/** Decode the file's text against its schema; null when it is not a valid admin file. */
export function decodeAdminFile(text: string): AdminFile | null {
  let v: unknown;
  try { v = JSON.parse(text); } catch { return null; }
  if (!v || typeof v !== "object" || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (o.version !== 1) return null;
  if (o.passwordHash !== null && (typeof o.passwordHash !== "string" || !HASH_SHAPE.test(o.passwordHash))) return null;
  if (o.setAt !== null && typeof o.setAt !== "string") return null;
  if (o.lockedReason !== undefined && typeof o.lockedReason !== "string") return null;
  return { version: 1, passwordHash: o.passwordHash as string | null, setAt: o.setAt as string | null, ...(typeof o.lockedReason === "string" ? { lockedReason: o.lockedReason } : {}) };
}

/** The pure decision: what the settings allow, from what is on the card. */
export function decideAccess(f: { file: AdminFile | null | "damaged"; claimed: boolean; asideCopies: boolean; usedElsewhere: boolean }): { state: AccessState; reason?: string } {
  if (f.file && f.file !== "damaged" && f.file.passwordHash) return { state: "set" };
  if (f.file === "damaged") return { state: "locked", reason: "the stored admin password could not be read" };
  if (f.file?.lockedReason) return { state: "locked", reason: f.file.lockedReason };
  if (f.claimed || f.asideCopies) return { state: "locked", reason: "the stored admin password is missing" };
  if (f.usedElsewhere) return { state: "locked", reason: "the box holds payment-terminal settings but no admin password" };
  return { state: "open" };
}

export interface CredentialOptions {
  dataDir: string;
  /** A hash still in an older config.json (moved here on first start). */
  legacyHash?: string | null;
  /** True when other stored state shows the box was set up by an admin (terminals, pairings). */
  usedElsewhere?: () => boolean;
  now?: () => Date;
}

export function openCredentials(o: CredentialOptions) {
  const file = join(o.dataDir, "admin.json");
  const claimedFile = join(o.dataDir, "admin.claimed");
  const now = o.now ?? (() => new Date());
  const write = (f: AdminFile) => writeFileAtomic(file, JSON.stringify(f, null, 2) + "\n", 0o600);
  const claim = () => { if (!existsSync(claimedFile)) { writeFileSync(claimedFile, `${now().toISOString()}\n`, { mode: 0o600 }); fsyncDir(dirname(claimedFile)); } };
  const stamp = () => now().toISOString().replace(/[:.]/g, "");

  let current: AdminFile | null | "damaged" = null;
  let readProblem: string | null = null;
  if (existsSync(file)) {
    let text: string | null = null;
    try { text = readFileSync(file, "utf8"); } catch (e) { readProblem = `admin.json could not be read (${(e as NodeJS.ErrnoException).code ?? "error"})`; }
    const decoded = text === null ? null : decodeAdminFile(text);
    if (decoded) current = decoded;
    else {
      current = "damaged";
      readProblem ??= "admin.json is damaged";
      // Kept for a human; the box stays locked (the lock is written over the damaged file).
      try { copyFileSync(file, `${file}.corrupt-${stamp()}`); } catch {}
      try { write({ version: 1, passwordHash: null, setAt: null, lockedReason: "the stored admin password could not be read" }); } catch {}
    }
  } else if (o.legacyHash && HASH_SHAPE.test(o.legacyHash)) {
    current = { version: 1, passwordHash: o.legacyHash, setAt: null };
    write(current);
  }
  // The hash is written first and the marker after it, so a power cut between the two never
  // locks a box that has a password; the marker is made good here on the next start.
  if (current && current !== "damaged" && current.passwordHash) { try { claim(); } catch {} }
  const asideCopies = () => { try { return readdirSync(o.dataDir).some((n) => n.startsWith(`${basename(file)}.corrupt-`)); } catch { return true; } };
  let decision = decideAccess({ file: current, claimed: existsSync(claimedFile), asideCopies: asideCopies(), usedElsewhere: o.usedElsewhere?.() ?? false });
  if (decision.state === "locked" && current === null) {
    try { write({ version: 1, passwordHash: null, setAt: null, lockedReason: decision.reason! }); } catch {}
  }

  return {
    state: (): AccessState => decision.state,
    hash: (): string | null => (decision.state === "set" && current && current !== "damaged" ? current.passwordHash : null),
    /** Why the box is locked, for the homepage and the log; null when it is not. */
    problem: (): string | null => (decision.state === "locked" ? `${decision.reason}${readProblem && !decision.reason?.includes("could not be read") ? ` (${readProblem})` : ""}` : null),
    /** Store a new hash (first choice, change, or the technician's iotbox.conf): the lock ends. */
    setHash(hash: string) {
      if (!HASH_SHAPE.test(hash)) throw new Error("not an argon2 hash");
      const next: AdminFile = { version: 1, passwordHash: hash, setAt: now().toISOString() };
      write(next);
      claim();
      current = next;
      decision = { state: "set" };
    },
  };
}
export type Credentials = ReturnType<typeof openCredentials>;
