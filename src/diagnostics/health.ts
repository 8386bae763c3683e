/**
 * Which codes are shown: a code becomes visible once it has been seen continuously for its
 * hold time (registry), and disappears on the first run that no longer sees it. Pure.
 */
import { REGISTRY, type Code, type LedClass, type Severity } from "./codes";

/** `detail`: what the last run saw (the probe's own words), for the homepage and the logs. */
export interface ActiveCode { code: Code; severity: Severity; since: string; led: LedClass; detail?: string }
export interface HealthState { seen: Partial<Record<Code, number>> /* first seen, ms */; shown: Code[] }
export const emptyHealth = (): HealthState => ({ seen: {}, shown: [] });

export function updateHealth(prev: HealthState, codes: Code[], nowMs: number): HealthState {
  const seen: HealthState["seen"] = {};
  for (const c of codes) seen[c] = prev.seen[c] ?? nowMs;
  const shown = codes.filter((c) => nowMs - seen[c]! >= REGISTRY[c].holdMs);
  return { seen, shown };
}

/** Codes seen but not yet shown: the daemon re-runs soon to confirm them. */
export const pending = (s: HealthState): Code[] => (Object.keys(s.seen) as Code[]).filter((c) => !s.shown.includes(c));

export function activeList(s: HealthState, details: Partial<Record<Code, string>> = {}): ActiveCode[] {
  return s.shown.map((code) => ({ code, severity: REGISTRY[code].severity, since: new Date(s.seen[code]!).toISOString(), led: REGISTRY[code].led,
    ...(details[code] ? { detail: details[code] } : {}) }));
}

/** How long until the earliest pending code has held long enough to be shown (0 when none is pending). */
export function holdRemaining(s: HealthState, nowMs: number): number {
  const waits = pending(s).map((c) => s.seen[c]! + REGISTRY[c].holdMs - nowMs);
  return waits.length ? Math.max(0, Math.min(...waits)) : 0;
}

/** The cause to name next to ERR_IOT_HTTPS_LOAD_REQUEST_EXCEPTION (most basic first). */
export function primaryCause(active: Array<{ code: string }>): string | null {
  return active[0]?.code ?? null;
}
