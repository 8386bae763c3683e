/**
 * System facts for the homepage, from `systeminformation`, refreshed in the background so a
 * page load never waits for them.
 */

export interface SystemFacts { cpuTempC: number | null; memUsedPct: number | null; memTotalMb: number | null; diskUsedPct: number | null; uptimeS: number; updatedAt: string | null }

export async function readSystemFacts(dataDir: string): Promise<SystemFacts> {
  const { default: si } = await import("systeminformation");
  const [temp, mem, fs] = await Promise.all([
    si.cpuTemperature().catch(() => null),
    si.mem().catch(() => null),
    si.fsSize().catch(() => null),
  ]);
  const disk = fs?.filter((f) => dataDir.startsWith(f.mount)).sort((a, b) => b.mount.length - a.mount.length)[0] ?? fs?.find((f) => f.mount === "/") ?? null;
  return {
    cpuTempC: temp && typeof temp.main === "number" && temp.main > 0 ? Math.round(temp.main * 10) / 10 : null,
    memUsedPct: mem ? Math.round(((mem.total - mem.available) / mem.total) * 100) : null,
    memTotalMb: mem ? Math.round(mem.total / 1048576) : null,
    diskUsedPct: disk ? Math.round(disk.use) : null,
    uptimeS: Math.round(si.time().uptime),
    updatedAt: new Date().toISOString(),
  };
}

/**
 * Facts are read on demand: the first page that wants them starts a background refresh (and
 * waits for it briefly), later reads get the cached values. An idle box that nobody looks at
 * never loads systeminformation (about 10 MB of memory).
 */
export function createFactsCache(read: () => Promise<SystemFacts>, everyMs = 30_000) {
  let facts: SystemFacts = { cpuTempC: null, memUsedPct: null, memTotalMb: null, diskUsedPct: null, uptimeS: 0, updatedAt: null };
  let timer: ReturnType<typeof setInterval> | null = null;
  let first: Promise<void> | null = null;
  const refresh = async () => { try { facts = await read(); } catch {} };
  const start = () => {
    if (first) return first;
    first = refresh();
    timer = setInterval(refresh, everyMs);
    (timer as { unref?: () => void }).unref?.();
    return first;
  };
  return {
    /** The cached facts; starts the refresh in the background on first use. */
    get: () => { void start(); return facts; },
    /** Start refreshing if not yet, and wait up to `ms` for the first reading. */
    async fresh(ms = 400): Promise<SystemFacts> { await Promise.race([start(), Bun.sleep(ms)]); return facts; },
    stop() { if (timer) clearInterval(timer); },
  };
}
