/**
 * The payment-terminals area, built by the composition root. Nothing here connects, reads or
 * spawns at import time: settings and the journal are read on first use (or by start()).
 */
import type { Hono } from "hono";
import type { Logger } from "../log/index";
import { createAdminApi } from "./admin-api";
import { newServiceId } from "./messages";
import { createPaymentEngine, DEFAULT_TIMEOUTS, type PaymentEngine, type Timeouts } from "./payments";
import { createPosApi } from "./pos-api";
import { createRegistry, type Registry, type TerminalState } from "./registry";
import { createJournal, loadSettings, saveSettings, terminalsDir, type Settings } from "./store";

export interface TerminalsOptions {
  dataDir: string;
  logger: Logger;
  fleetRootsPem: () => string[];
  now?: () => Date;
  /** Tests shorten these; the defaults follow the Adyen note (Payment ~140 s, status ~12 s, poll 5 s). */
  timeouts?: Partial<Timeouts>;
}

export interface TerminalSummary { id: string; address: string; poiid: string; state: TerminalState; lastError?: string }

export interface Terminals {
  posApi: Hono<any>;
  adminApi: Hono<any>;
  list(): Promise<TerminalSummary[]>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** For tests and shutdown: resolves when no payment or refund is being worked on. */
  idle(): Promise<void>;
}

export function createTerminals(opts: TerminalsOptions): Terminals {
  const log = opts.logger.child({ area: "terminals" });
  const now = opts.now ?? (() => new Date());
  const timeouts: Timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const registry: Registry = createRegistry(opts.fleetRootsPem);

  let loaded: { dir: string; settings: Settings; engine: PaymentEngine } | null = null;
  function load() {
    if (loaded) return loaded;
    const dir = terminalsDir(opts.dataDir);
    const settings = loadSettings(dir, () => `iotbox-${newServiceId().slice(0, 6)}`);
    for (const t of settings.terminals) { log.redact(t.passphrase); registry.add(t); }
    const engine = createPaymentEngine({ journal: createJournal(dir), registry, logger: log, saleId: () => settings.saleId, now, timeouts });
    loaded = { dir, settings, engine };
    saveSettings(dir, settings);
    return loaded;
  }
  const settings = () => load().settings;
  const update = (f: (s: Settings) => void) => {
    const l = load();
    const next = structuredClone(l.settings);
    f(next);
    saveSettings(l.dir, next); // on disk first: a failed write changes nothing
    l.settings = next;
  };

  const list = async (): Promise<TerminalSummary[]> => {
    load();
    return registry.all().map((h) => ({
      id: h.config.id, address: h.config.address, poiid: h.config.poiid, state: registry.state(h),
      ...(h.lastError ? { lastError: h.lastError } : {}),
    }));
  };

  // The engine is created lazily; the APIs reach it through this forwarding object.
  const engine = new Proxy({} as PaymentEngine, { get: (_t, p) => (load().engine as any)[p] });

  return {
    posApi: createPosApi({ settings, engine, registry, logger: log }),
    adminApi: createAdminApi({ settings, update, registry, logger: log, fleetRootsPem: opts.fleetRootsPem, statusTimeoutMs: timeouts.statusMs, now, list }),
    list,
    async start() { load().engine.resume(); },
    async stop() { if (loaded) await loaded.engine.stop(); else registry.closeAll(); },
    idle: async () => { if (loaded) await loaded.engine.idle(); },
  };
}
