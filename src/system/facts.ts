/**
 * System facts for the homepage, from `systeminformation`, refreshed in the background so a
 * page load never waits for them.
 */
import si from "systeminformation";

export interface SystemFacts { cpuTempC: number | null; memUsedPct: number | null; memTotalMb: number | null; diskUsedPct: number | null; uptimeS: number; updatedAt: string | null }

export async function readSystemFacts(dataDir: string): Promise<SystemFacts> {
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

export function createFactsCache(read: () => Promise<SystemFacts>, everyMs = 30_000) {
  let facts: SystemFacts = { cpuTempC: null, memUsedPct: null, memTotalMb: null, diskUsedPct: null, uptimeS: 0, updatedAt: null };
  let timer: ReturnType<typeof setInterval> | null = null;
  const refresh = async () => { try { facts = await read(); } catch {} };
  return {
    get: () => facts,
    start() { void refresh(); timer = setInterval(refresh, everyMs); (timer as { unref?: () => void }).unref?.(); },
    stop() { if (timer) clearInterval(timer); },
  };
}
