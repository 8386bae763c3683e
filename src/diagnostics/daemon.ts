/**
 * The diagnostics service the runtime owns. Local facts (carrier, addresses, routes, resolver
 * files) are watched, not probed: a change runs the probes. What leaves the LAN is probed only
 * for a reason: at start, after a local change, after a failed certificate request, when someone
 * opens the homepage or asks /api/status or `iotbox diagnose` (visits: at most once per 30 s), and
 * otherwise by a light periodic check at most once every 10 minutes, with jitter so that a fleet
 * does not probe in step. While a code is shown the re-checks back off (seconds, then minutes)
 * and speed up again while the homepage is open. The shown codes keep their hold times.
 */
import type { Logger } from "../log/index";
import { activeList, emptyHealth, holdRemaining, pending, updateHealth, type ActiveCode, type HealthState } from "./health";
import { makePlan, DEFAULT_TIMEOUTS, type DiagnosticsTargets, type Plan, type Timeouts } from "./plan";
import { hostIO, type HostIOOptions, type ProbeIO } from "./probes";
import type { DnsLookup, Report } from "./report";
import { runDiagnosis } from "./run";
import { ipMonitorWatcher, type NetworkWatcher } from "./watch";

export interface Schedule {
  /** Between periodic checks while all is well: at least this, plus a random part of `jitterMs`. */
  healthyMs: number;
  jitterMs: number;
  /** The first re-check while a code is shown and nobody looks; it doubles up to `activeMaxMs`. */
  activeMs: number;
  activeMaxMs: number;
  /** Between re-checks while a code is shown or pending and the homepage is open. */
  openMs: number;
  /** A visit counts the homepage as open this long (the open page asks /api/status every 5 s). */
  pageOpenMs: number;
  /** A visit runs the probes only when the last run started longer ago than this. */
  visitMinMs: number;
  /** A failed certificate request runs the probes unless a run started this recently. */
  certMinMs: number;
  /** Shortest wait before the run that confirms a code just seen. */
  pendingMs: number;
  /** Network events closer than this are merged into one run. */
  debounceMs: number;
}
export const DEFAULT_SCHEDULE: Schedule = {
  healthyMs: 600_000, jitterMs: 120_000, activeMs: 5_000, activeMaxMs: 300_000, openMs: 3_000, pageOpenMs: 15_000,
  visitMinMs: 30_000, certMinMs: 2_000, pendingMs: 250, debounceMs: 300,
};

/** The clock and timers the daemon schedules with (a simulated day in the benchmark). */
export interface Timers { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(h: unknown): void }
const realTimers: Timers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) };

export interface DiagnosticsOptions {
  targets: () => DiagnosticsTargets;
  logger: Logger;
  io?: ProbeIO;
  hostIO?: HostIOOptions;
  watcher?: NetworkWatcher;
  schedule?: Partial<Schedule>;
  timeouts?: Timeouts;
  now?: () => number;
  timers?: Timers;
  random?: () => number;
  /** Called after every run (the watch command prints it). */
  onReport?: (r: Report) => void;
}

export interface Diagnostics {
  /** Watches the network and runs the probes: the first run at once, or after `firstRunDelayMs`
   *  (a network change runs them sooner). */
  start(firstRunDelayMs?: number): void;
  stop(): void;
  /** A full run now (shared with a run in progress). */
  runNow(): Promise<Report>;
  /** The homepage was opened or /api/status asked: probe if the last run is 30 s old, and re-check faster while a code is shown. */
  visit(): void;
  /** A certificate request failed before any HTTP answer: look for the cause now. */
  certificateFailed(): void;
  current(): { active: ActiveCode[]; report: Report | null };
  onChange(cb: () => void): () => void;
}

/** Names a light check asks in turn, one per check: the box's name (or canary), then each public host. */
const rotation = (plan: Plan) => [...plan.privateNames.slice(0, 1), ...plan.publicNames].map((n) => n.name);

export function createDiagnostics(opts: DiagnosticsOptions): Diagnostics {
  const log = opts.logger.child({ mod: "diagnostics" });
  const sched = { ...DEFAULT_SCHEDULE, ...opts.schedule };
  const now = opts.now ?? Date.now;
  const timers = opts.timers ?? realTimers;
  const random = opts.random ?? Math.random;
  let io: ProbeIO | null = opts.io ?? null;
  let health: HealthState = emptyHealth();
  let report: Report | null = null;
  let running: Promise<Report> | null = null;
  let again = false, started = false;
  let timer: unknown, timerAt = Infinity, debounce: unknown;
  let stopWatch: (() => void) | null = null;
  let lastStart = -Infinity, lastVisit = -Infinity, lastDuration = 0, activeStreak = 0, turn = 0;
  const known = new Map<string, DnsLookup>(); // the last real answer per name (a light check reuses them)
  let lastLocal: string | null = null;        // the local facts the last run saw
  /** Carrier, addresses, default route, resolvers: read from sysfs, procfs and files, no packet sent. */
  const localFacts = (x: ProbeIO) => JSON.stringify([x.links(), x.addresses(), x.gateway().address, x.systemResolvers()]);
  const listeners = new Set<() => void>();

  const pageOpen = () => now() - lastVisit < sched.pageOpenMs;

  const probe = async (kind: "full" | "light"): Promise<Report> => {
    io ??= hostIO(opts.hostIO);
    const plan = makePlan(opts.targets(), opts.timeouts ?? DEFAULT_TIMEOUTS);
    const names = rotation(plan);
    const light = kind === "light" && names.length && names.every((n) => known.has(n))
      ? { ask: [names[turn++ % names.length]!], previous: [...known.values()] } : undefined;
    const r = await runDiagnosis(plan, io, now, light ? { light } : {});
    for (const l of r.observations.dnsSystem ?? []) if (!l.cached) known.set(l.name, l);
    return r;
  };

  const once = async (kind: "full" | "light"): Promise<Report> => {
    lastStart = now();
    io ??= hostIO(opts.hostIO);
    lastLocal = localFacts(io);
    let r = await probe(kind);
    // A light check that saw anything wrong is not a verdict: the full run is.
    if (r.kind === "light" && (r.codes.length || Object.values(r.probes).some((p) => p.status === "failed"))) { opts.onReport?.(r); r = await probe("full"); }
    lastDuration = now() - lastStart;
    const before = health.shown.join(",");
    health = updateHealth(health, r.codes, now());
    report = r;
    opts.onReport?.(r); // after the health update: current() already has this run's verdict
    activeStreak = health.shown.length ? activeStreak + 1 : 0;
    if (health.shown.join(",") !== before) {
      log.info("diagnosis changed", { active: health.shown, details: r.details, probes: Object.fromEntries(Object.entries(r.probes).map(([k, v]) => [k, v.status])) });
      for (const cb of listeners) try { cb(); } catch (e) { log.error("diagnostics listener failed", { error: String(e) }); }
    }
    return r;
  };

  const run = (kind: "full" | "light"): Promise<Report> => {
    if (running) { again = true; return running; }
    running = once(kind).finally(() => {
      running = null;
      if (again) { again = false; schedule(0); } else schedule();
    });
    return running;
  };

  /** The wait before the next run, from the state; the periodic one is light. */
  function nextWait(): { ms: number; kind: "full" | "light" } {
    if (pending(health).length) return { ms: Math.max(sched.pendingMs, holdRemaining(health, now()) - lastDuration), kind: "full" };
    if (health.shown.length) {
      const backoff = Math.min(sched.activeMs * 2 ** Math.max(0, activeStreak - 1), sched.activeMaxMs);
      return { ms: pageOpen() ? Math.min(sched.openMs, backoff) : backoff, kind: "full" };
    }
    return { ms: sched.healthyMs + Math.floor(random() * sched.jitterMs), kind: "light" };
  }

  function schedule(ms?: number, kind?: "full" | "light") {
    if (!started) return;
    const w = ms === undefined ? nextWait() : { ms, kind: kind ?? "full" };
    timers.clearTimeout(timer);
    timerAt = now() + w.ms;
    timer = timers.setTimeout(() => { timerAt = Infinity; run(w.kind).catch((e) => log.error("diagnosis failed", { error: String(e) })); }, w.ms);
  }

  /** Run soon for a reason: at once, or at `at` if that is later. A run in progress is followed by
   *  another for news (a change, a failure), not for a visit: that run is fresh enough. */
  const soon = (at = now(), news = true) => {
    if (running) { if (news) again = true; return; }
    const ms = Math.max(0, at - now());
    if (now() + ms < timerAt) schedule(ms, "full");
  };

  const onNetworkChange = (why: string) => {
    log.debug("network changed", { why });
    timers.clearTimeout(debounce);
    // A netlink event that changed none of the facts the diagnosis reads (an IPv6 router
    // advertisement refreshing a lifetime, a resolver file rewritten alike) is no reason to probe.
    debounce = timers.setTimeout(() => {
      io ??= hostIO(opts.hostIO);
      if (lastLocal !== null && localFacts(io) === lastLocal) { log.debug("network event without a change", { why }); return; }
      soon();
    }, sched.debounceMs);
  };

  return {
    start(firstRunDelayMs = 0) {
      if (started) return;
      started = true;
      stopWatch = (opts.watcher ?? ipMonitorWatcher(log))(onNetworkChange);
      schedule(firstRunDelayMs, "full");
    },
    stop() {
      started = false;
      timers.clearTimeout(timer); timers.clearTimeout(debounce); timerAt = Infinity;
      stopWatch?.(); stopWatch = null;
    },
    runNow: () => run("full"),
    visit() {
      const t = now();
      lastVisit = t;
      if (!started) return;
      if (t - lastStart >= sched.visitMinMs) soon(t, false);
      else if (health.shown.length || pending(health).length) soon(lastStart + sched.openMs, false);
    },
    certificateFailed() {
      if (started) soon(lastStart + sched.certMinMs);
    },
    current: () => ({ active: activeList(health, report?.details), report }),
    onChange(cb) { listeners.add(cb); return () => listeners.delete(cb); },
  };
}
