/**
 * What the image's health check left after the last first boot of a new slot, read-only:
 *   <os update dir>/result  one line: `<ISO> installed <version>: slot B committed`
 *                                  or `<ISO> rolled-back <version>: slot B did not come up healthy; back on slot A`
 *   <os update dir>/trial   `<slot> <version>` while a trial boot is pending.
 * Parsed defensively: an unknown line is shown as it is (capped), with no outcome.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { join } from "node:path";

export interface UpdateResult { line: string; at: string | null; outcome: "installed" | "rolled-back" | null; version: string | null }

const LINE = /^(\d{4}-\d{2}-\d{2}T[0-9:.]+Z?)\s+(installed|rolled-back)\s+([^\s:]{1,128}):/;

export function parseResult(text: string): UpdateResult | null {
  // Each line capped and with control bytes (NUL padding after a power cut, CR, binary) made
  // spaces, so they never join two fields into another version. The last line that reads as a
  // verdict wins: damage after it (a NUL block, garbage) does not hide a rollback.
  const lines = text.split("\n").map((l) => l.slice(0, 300).replace(/[\u0000-\u001f\u007f]/g, " ").trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = LINE.exec(lines[i]!);
    if (m) return { line: lines[i]!, at: m[1]!, outcome: m[2] as "installed" | "rolled-back", version: m[3]! };
  }
  const line = lines.at(-1);
  return line ? { line, at: null, outcome: null, version: null } : null;
}

export function parseTrial(text: string): { slot: string; version: string } | null {
  const m = /^\s*(\S{1,32})\s+(\S{1,128})\s*$/.exec(text.split("\n")[0] ?? "");
  return m ? { slot: m[1]!, version: m[2]! } : null;
}

/** At most the first 4096 bytes of a regular file; null for anything else (a directory, a FIFO that would block, gone). */
export function readSmall(f: string): string | null {
  let fd: number;
  try { fd = openSync(f, constants.O_RDONLY | constants.O_NONBLOCK); } catch { return null; }
  try {
    if (!fstatSync(fd).isFile()) return null;
    const buf = Buffer.allocUnsafe(4096);
    let n = 0, r = 0;
    while (n < buf.length && (r = readSync(fd, buf, n, buf.length - n, n)) > 0) n += r;
    return buf.subarray(0, n).toString("utf8");
  } catch { return null; } finally { closeSync(fd); }
}

export function readOutcome(osUpdateDir: string) {
  const r = readSmall(join(osUpdateDir, "result"));
  const t = readSmall(join(osUpdateDir, "trial"));
  return { result: r === null ? null : parseResult(r), trial: t === null ? null : parseTrial(t) };
}
