/**
 * Giving start-up's pages back. Most of the box's resident memory is the executable's own code
 * (the Bun runtime and our bundle), read from the file as start-up, key generation and the first
 * TLS request touch it. Once the box has settled, those file-backed pages are handed back to the
 * kernel with madvise(MADV_PAGEOUT): the kernel drops the clean ones (read again from the file if
 * that code runs again) and keeps every page that was written (relocations, heap): nothing the
 * process holds is lost. Linux ≥ 5.4; where it is not there, nothing happens.
 */
import { readFileSync, realpathSync } from "node:fs";

const MADV_PAGEOUT = 21;

export interface Mapping { start: number; end: number; perms: string }

/** The mappings of `exe` in a /proc/<pid>/maps text. Pure. */
export function executableMappings(maps: string, exe: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of maps.split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s+(.*)$/.exec(line);
    if (!m || m[4] !== exe) continue;
    out.push({ start: parseInt(m[1]!, 16), end: parseInt(m[2]!, 16), perms: m[3]! });
  }
  return out;
}

type Madvise = (addr: number, len: number, advice: number) => number;
let madvise: Madvise | null | undefined;
function openMadvise(): Madvise | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { dlopen, FFIType: T } = require("bun:ffi") as typeof import("bun:ffi");
    const lib = dlopen("libc.so.6", { madvise: { args: [T.u64, T.u64, T.i32], returns: T.i32 } });
    return (a, l, adv) => lib.symbols.madvise(a, l, adv) as number;
  } catch { return null; }
}

const rssMb = () => { try { return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]) / 102.4) / 10; } catch { return null; } };

/** Hand the executable's resident file pages back to the kernel; says how many mappings and the RSS before and after. */
export function releaseExecutablePages(): { mappings: number; rssBeforeMb: number | null; rssAfterMb: number | null } {
  const before = rssMb();
  const none = { mappings: 0, rssBeforeMb: before, rssAfterMb: before };
  if (process.platform !== "linux") return none;
  madvise ??= openMadvise();
  if (!madvise) return none;
  let exe: string;
  try { exe = realpathSync("/proc/self/exe"); } catch { return none; }
  let n = 0;
  for (const m of executableMappings(readFileSync("/proc/self/maps", "utf8"), exe)) {
    if (madvise(m.start, m.end - m.start, MADV_PAGEOUT) === 0) n++;
  }
  return { mappings: n, rssBeforeMb: before, rssAfterMb: rssMb() };
}
