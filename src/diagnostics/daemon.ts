/**
 * The diagnostics service the runtime owns: runs the plan at start, on network changes and
 * periodically (fast while something is pending or shown, slower when all is well), and keeps
 * the shown codes with their hold times.
 */
import type { Logger } from "../log/index";
import { activeList, emptyHealth, pending, updateHealth, type ActiveCode, type HealthState } from "./health";
import { makePlan, DEFAULT_TIMEOUTS, type DiagnosticsTargets, type Timeouts } from "./plan";
import { hostIO, type HostIOOptions, type ProbeIO } from "./probes";
import type { Report } from "./report";
import { runDiagnosis } from "./run";
import { ipMonitorWatcher, type NetworkWatcher } from "./watch";

export interface Schedule {
  /** Between runs when nothing is wrong. */
  healthyMs: number;
  /** Between runs while a code is shown (so a repair clears quickly). */
  activeMs: number;
  /** Before the confirming run of a code that was just seen. */
  pendingMs: number;
  /** Network events closer than this are merged into one run. */
  debounceMs: number;
}
export const DEFAULT_SCHEDULE: Schedule = { healthyMs: 3000, activeMs: 1000, pendingMs: 250, debounceMs: 300 };

export interface DiagnosticsOptions {
  targets: () => DiagnosticsTargets;
  logger: Logger;
  io?: ProbeIO;
  hostIO?: HostIOOptions;
  watcher?: NetworkWatcher;
  schedule?: Partial<Schedule>;
  timeouts?: Timeouts;
  now?: () => number;
  /** Called after every run (the watch command prints it). */
  onReport?: (r: Report) => void;
}

export interface Diagnostics {
  /** Watches the network and runs the probes: the first run at once, or after `firstRunDelayMs`
   *  (a network change runs them sooner). */
  start(firstRunDelayMs?: number): void;
  stop(): void;
  runNow(): Promise<Report>;
  current(): { active: ActiveCode[]; report: Report | null };
  onChange(cb: () => void): () => void;
}

export function createDiagnostics(opts: DiagnosticsOptions): Diagnostics {
  const log = opts.logger.child({ mod: "diagnostics" });
  const sched = { ...DEFAULT_SCHEDULE, ...opts.schedule };
  const now = opts.now ?? Date.now;
  let io: ProbeIO | null = opts.io ?? null;
  let health: HealthState = emptyHealth();
  let report: Report | null = null;
  let running: Promise<Report> | null = null;
  let again = false, started = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopWatch: (() => void) | null = null;
  const listeners = new Set<() => void>();

  const once = async (): Promise<Report> => {
    io ??= hostIO(opts.hostIO);
    const r = await runDiagnosis(makePlan(opts.targets(), opts.timeouts ?? DEFAULT_TIMEOUTS), io, now);
    const before = health.shown.join(",");
    health = updateHealth(health, r.codes, now());
    report = r;
    opts.onReport?.(r);
    if (health.shown.join(",") !== before) {
      log.info("diagnosis changed", { active: health.shown, probes: Object.fromEntries(Object.entries(r.probes).map(([k, v]) => [k, v.status])) });
      for (const cb of listeners) try { cb(); } catch (e) { log.error("diagnostics listener failed", { error: String(e) }); }
    }
    return r;
  };

  const runNow = (): Promise<Report> => {
    if (running) { again = true; return running; }
    running = once().finally(() => {
      running = null;
      if (again) { again = false; schedule(0); } else schedule();
    });
    return running;
  };

  function schedule(ms?: number) {
    if (!started) return;
    clearTimeout(timer);
    const wait = ms ?? (pending(health).length ? sched.pendingMs : health.shown.length ? sched.activeMs : sched.healthyMs);
    timer = setTimeout(() => { runNow().catch((e) => log.error("diagnosis failed", { error: String(e) })); }, wait);
  }

  let debounce: ReturnType<typeof setTimeout> | undefined;
  const onNetworkChange = (why: string) => {
    log.debug("network changed", { why });
    clearTimeout(debounce);
    debounce = setTimeout(() => { if (running) again = true; else schedule(0); }, sched.debounceMs);
  };

  return {
    start(firstRunDelayMs = 0) {
      if (started) return;
      started = true;
      stopWatch = (opts.watcher ?? ipMonitorWatcher(log))(onNetworkChange);
      schedule(firstRunDelayMs);
    },
    stop() {
      started = false;
      clearTimeout(timer); clearTimeout(debounce);
      stopWatch?.(); stopWatch = null;
    },
    runNow,
    current: () => ({ active: activeList(health), report }),
    onChange(cb) { listeners.add(cb); return () => listeners.delete(cb); },
  };
}
