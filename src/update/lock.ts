/**
 * One install at a time, across the daemon and the CLI: `<os update dir>/install.lock` made with
 * O_EXCL and holding the owner's pid. A lock whose process is gone (a crash, a power cut) is stale
 * and taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export type Release = () => void;

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === "EPERM"; } };

export function tryLock(path: string): Release | null {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return () => { if (!released) { released = true; try { unlinkSync(path); } catch {} } };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let pid = NaN;
      try { pid = Number(readFileSync(path, "utf8").trim()); } catch {}
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) return null;
      try { unlinkSync(path); } catch {}
    }
  }
  return null;
}
