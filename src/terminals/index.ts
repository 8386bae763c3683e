/**
 * The payment-terminals area, built by the composition root. Nothing here connects, reads or
 * spawns at import time: settings and the journal are read on first use (or by start()).
 */
import { join } from "node:path";
import { CURRENCY_EXPONENT, toMajor } from "./money";
import type { Hono } from "hono";
import type { Logger } from "../log/index";
import { createAdminApi } from "./admin-api";
import { newServiceId } from "./messages";
import { createPaymentEngine, DEFAULT_TIMEOUTS, type PaymentEngine, type Timeouts } from "./payments";
import { createPosApi } from "./pos-api";
import { createIotDriversApi } from "./iot-drivers";
import { createRegistry, type Registry, type TerminalState } from "./registry";
import { createJournal, loadSettings, saveSettings, terminalsDir, type Settings } from "./store";

export interface TerminalsOptions {
  dataDir: string;
  logger: Logger;
  fleetRootsPem: () => string[];
  now?: () => Date;
  /** Tests shorten these; the defaults follow the Adyen note (Payment ~140 s, status ~12 s, poll 5 s). */
  timeouts?: Partial<Timeouts>;
  /** For the reference's device protocol (/iot_drivers): the box's identifier and the connected database's origin. */
  identifier?: () => string;
  databaseOrigin?: () => string | null;
  /** The database connection token (checks the database's payload signatures on /iot_drivers). */
  connectionToken?: () => string | null;
  /** How long /iot_drivers/event holds a request (50 s; tests shorten it). */
  eventLongPollMs?: number;
}

export interface TerminalSummary {
  id: string; address: string; poiid: string; state: TerminalState; lastError?: string;
  awaiting?: { payment: string; kind: "payment" | "refund"; amount: number; currency: string; display: string; reference: string; since: string };
}

export interface Terminals {
  posApi: Hono<any>;
  adminApi: Hono<any>;
  /** The reference's /iot_drivers/{action,event} (mount at /iot_drivers and /hw_drivers). */
  iotDriversApi: Hono<any>;
  list(): Promise<TerminalSummary[]>;
  start(): Promise<void>;
  /** What was damaged in the stored settings and dropped or reset at start, for the homepage. */
  problems(): string[];
  stop(): Promise<void>;
  /** For tests and shutdown: resolves when no payment or refund is being worked on. */
  idle(): Promise<void>;
  /** True while a terminal holds a payment or refund (sent, or its result still asked for): the box must not reboot. */
  paymentInFlight(): boolean;
}

export function createTerminals(opts: TerminalsOptions): Terminals {
  const log = opts.logger.child({ area: "terminals" });
  const now = opts.now ?? (() => new Date());
  const timeouts: Timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const registry: Registry = createRegistry(opts.fleetRootsPem);
  const dir = join(opts.dataDir, "terminals");

  // Settings are read (and the folder made) on first use, never at import or construction.
  let current: Settings | null = null;
  let loadProblems: string[] = [];
  function settings(): Settings {
    if (current) return current;
    terminalsDir(opts.dataDir);
    const { settings: loaded, problems } = loadSettings(dir, () => `iotbox-${newServiceId().slice(0, 6)}`, now);
    for (const t of loaded.terminals) { log.redact(t.passphrase); registry.add(t); }
    for (const p of problems) log.warn("terminal settings damaged", { problem: p });
    saveSettings(dir, loaded);
    loadProblems = problems;
    current = loaded;
    return current;
  }
  const update = (f: (s: Settings) => void) => {
    const next = structuredClone(settings());
    f(next);
    saveSettings(dir, next); // on disk first: a failed write changes nothing
    current = next;
  };

  const engine: PaymentEngine = createPaymentEngine({ journal: createJournal(dir), registry, logger: log, saleId: () => settings().saleId, now, timeouts });

  const list = async (): Promise<TerminalSummary[]> => {
    settings();
    return registry.all().map((h) => {
      const waiting = engine.awaiting(h.config.id);
      return {
        id: h.config.id, address: h.config.address, poiid: h.config.poiid, state: registry.state(h),
        ...(h.lastError ? { lastError: h.lastError } : {}),
        // a payment or refund whose result the box keeps asking for (the settings offer to release it)
        ...(waiting ? { awaiting: { payment: waiting.id, kind: waiting.state === "unknown" ? "payment" : "refund", amount: waiting.amountMinor, currency: waiting.currency, display: `${toMajor(waiting.amountMinor, waiting.currency).toFixed(CURRENCY_EXPONENT[waiting.currency] ?? 2)} ${waiting.currency}`, reference: waiting.reference, since: waiting.updatedAt } } : {}),
      };
    });
  };

  return {
    posApi: createPosApi({ settings, engine, registry, logger: log }),
    iotDriversApi: createIotDriversApi({ engine, registry, settings, logger: log, identifier: opts.identifier ?? (() => "iotbox"), databaseOrigin: opts.databaseOrigin ?? (() => null), connectionToken: opts.connectionToken,
      longPollMs: opts.eventLongPollMs }).app,
    adminApi: createAdminApi({ settings, update, registry, logger: log, fleetRootsPem: opts.fleetRootsPem, statusTimeoutMs: timeouts.statusMs, now, list, releaseUnresolved: (id) => engine.releaseUnresolved(id) }),
    list,
    async start() { settings(); engine.resume(); },
    problems() { settings(); return loadProblems; },
    stop: () => engine.stop(),
    idle: () => engine.idle(),
    // A terminal is held from the moment a payment is accepted until its outcome is final (payments.ts).
    paymentInFlight: () => registry.all().some((h) => h.holder !== null),
  };
}
