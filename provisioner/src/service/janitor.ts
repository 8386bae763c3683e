// Removes what must not stay in the zone: challenge TXT records whose removal failed (or whose
// order was cut short by a crash), A records of boxes not heard from for a long time, and
// refused attempts that have left the limit's window (and sources no longer known).
import type { Logger } from "../../../src/log";
import { KNOWN_SOURCE_MS } from "../attempts";
import type { DnsZone } from "../dns";
import type { Store } from "../store";

export interface JanitorOptions {
  store: Store;
  dns: DnsZone;
  logger: Logger;
  /** A TXT cleanup entry this old is handled by the janitor (younger ones belong to a live order). */
  txtGraceMs: number;
  staleHostMs: number;
  /** Refused attempts older than this no longer count (see attempts/): their rows go. */
  refusalWindowMs?: number;
  now?: () => number;
}

export function createJanitor(o: JanitorOptions) {
  const now = o.now ?? Date.now;
  let running = false;
  return {
    async sweep(): Promise<{ txtRemoved: number; hostsRemoved: number }> {
      if (running) return { txtRemoved: 0, hostsRemoved: 0 };
      running = true;
      let txtRemoved = 0, hostsRemoved = 0;
      try {
        for (const c of await o.store.pendingCleanups(now() - o.txtGraceMs)) {
          try {
            for (const r of await o.dns.find(c.name, "TXT")) if (r.content === c.content) { await o.dns.remove(r.id); txtRemoved++; }
            await o.store.removeCleanup(c.name, c.content);
          } catch (e) { o.logger.warn("janitor: TXT record not removed yet", { record: c.name, error: String((e as Error).message) }); }
        }
        if (o.refusalWindowMs !== undefined) {
          await o.store.pruneAttempts(now() - o.refusalWindowMs, now() - KNOWN_SOURCE_MS).catch((e) => o.logger.warn("janitor: refused attempts not pruned", { error: String((e as Error).message) }));
        }
        for (const h of await o.store.staleHostRecords(now() - o.staleHostMs)) {
          try {
            await o.dns.remove(h.recordId);
            await o.store.deleteHostRecord(h.label, h.boxKey);
            hostsRemoved++;
            o.logger.info("janitor: stale host record removed", { label: h.label, ip: h.ip });
          } catch (e) { o.logger.warn("janitor: stale host record not removed yet", { label: h.label, error: String((e as Error).message) }); }
        }
      } finally { running = false; }
      return { txtRemoved, hostsRemoved };
    },
  };
}
