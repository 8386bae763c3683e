/**
 * One install at a time, across the daemon and the CLI: `<os update dir>/install.lock` holding
 * the owner's pid and the boot it ran in (`<pid> <boot id>`). The lock appears already written
 * (a temporary file hard-linked into place, which fails if one exists), so another process never
 * reads an empty lock. A lock whose process is gone (a crash) or from an earlier boot (a power
 * cut: the folder survives, pids are reused) is stale and taken over, by one process at a time
 * (`install.lock.takeover`, made the same way), so two processes taking over at once do not
 * remove each other's fresh lock; a release removes only its own lock.
 */
import { closeSync, fstatSync, linkSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export type Release = () => void;

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === "EPERM"; } };

let bootIdCache: string | undefined;
/** This boot's id (Linux); "" where there is none, and then only the pid decides. */
export const bootId = (): string => {
  if (bootIdCache === undefined) { try { bootIdCache = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim().slice(0, 64); } catch { bootIdCache = ""; } }
  return bootIdCache;
};

/** Locks this process holds now: its own pid in a lock file is live only if it is in here. */
const held = new Set<string>();

/** Is the owner written in a lock file (its first 128 bytes) still running? Garbage, pid ≤ 0, or another boot: no. */
export function ownerAlive(content: string, path: string, boot = bootId()): boolean {
  const m = /^\s*(\d{1,10})(?:[ \t]+(\S{1,64}))?\s*$/.exec(content);
  if (!m) return false;
  const pid = Number(m[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (m[2] !== undefined && boot !== "" && m[2] !== boot) return false;   // written before this boot
  if (pid === process.pid) return held.has(path);
  if (pid === 1 && m[2] === undefined) return false;   // init (kill(1, 0) always answers) in a lock that names no boot: garbage
  return alive(pid);
}

/** The first bytes and the inode of a lock file; null if it is not a readable regular file. */
function readLock(path: string): { content: string; ino: number } | null {
  let fd: number;
  try { fd = openSync(path, "r"); } catch { return null; }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return null;
    const buf = Buffer.alloc(128);
    const n = readSync(fd, buf, 0, 128, 0);
    return { content: buf.subarray(0, n).toString("latin1"), ino: st.ino };
  } catch { return null; } finally { closeSync(fd); }
}

const mine = () => `${process.pid} ${bootId()}\n`;

/** Make `path` hold this process's pid and boot, whole from its first instant; false if it exists. */
function place(path: string): boolean {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, mine(), { mode: 0o600, flag: "wx" });
  try { linkSync(tmp, path); return true; } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally { try { unlinkSync(tmp); } catch {} }
}

/** Remove `path` only if it is still the file judged (same inode, same bytes), moved aside first. */
function removeIfSame(path: string, seen: { content: string; ino: number }): void {
  const aside = `${path}.stale.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try { renameSync(path, aside); } catch { return; }
  const moved = readLock(aside);
  if (!(moved !== null && moved.ino === seen.ino && moved.content === seen.content)) { try { linkSync(aside, path); } catch {} }
  try { unlinkSync(aside); } catch {}
}

export function tryLock(path: string): Release | null {
  mkdirSync(dirname(path), { recursive: true });
  if (held.has(path)) return null;
  const guard = `${path}.takeover`;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (place(path)) {
      held.add(path);
      const me = readLock(path);
      let released = false;
      return () => {
        if (released) return;
        released = true; held.delete(path);
        const now = readLock(path);   // never remove a lock that is not this one any more
        if (now && me && now.ino === me.ino && now.content === me.content) { try { unlinkSync(path); } catch {} }
      };
    }
    const seen = readLock(path);
    if (seen === null) {
      // Gone between the link and the read (retry), or not a regular file (a directory: refuse).
      try { statSync(path); return null; } catch { continue; }
    }
    if (ownerAlive(seen.content, path)) return null;
    // Stale: one process at a time takes it over (the guard); the others find the new owner.
    if (!place(guard)) {
      const g = readLock(guard);
      if (g && !ownerAlive(g.content, guard)) removeIfSame(guard, g);   // a guard left by a crash inside it
      continue;
    }
    try {
      const again = readLock(path);
      // Under the guard nobody else removes it, and nobody can replace a file that exists.
      if (again && again.ino === seen.ino && again.content === seen.content) { try { unlinkSync(path); } catch {} }
    } finally { try { unlinkSync(guard); } catch {} }
  }
  return null;
}
