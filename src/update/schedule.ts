/**
 * When to look, and when a reboot is allowed. Pure: the clock and the random draw come in.
 *  - The first look a few minutes after start (3–10 min: the box settles, a fleet does not ask at once),
 *    then every 24 h ± 3 h.
 *  - A reboot into an installed update only inside the quiet window (local time, default
 *    02:00–05:00; a window may wrap past midnight) and never while a payment is in flight.
 */
export const FIRST_LOOK_MS = { min: 3 * 60_000, max: 10 * 60_000 };
export const PERIOD_MS = 24 * 3600_000;
export const JITTER_MS = 3 * 3600_000;

/** `random` is in [0, 1). */
export function nextLookDelay(first: boolean, random: number): number {
  if (first) return Math.round(FIRST_LOOK_MS.min + random * (FIRST_LOOK_MS.max - FIRST_LOOK_MS.min));
  return Math.round(PERIOD_MS - JITTER_MS + random * 2 * JITTER_MS);
}

export interface QuietWindow { startMin: number; endMin: number }
export const DEFAULT_QUIET: QuietWindow = { startMin: 2 * 60, endMin: 5 * 60 };

/** "02:00-05:00" → minutes of the day; null when it does not read. */
export function parseQuietWindow(v: string): QuietWindow | null {
  const m = /^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(v);
  if (!m) return null;
  const [h1, m1, h2, m2] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  if (h1 > 23 || h2 > 24 || m1 > 59 || m2 > 59 || (h2 === 24 && m2 !== 0)) return null;
  const w = { startMin: h1 * 60 + m1, endMin: h2 * 60 + m2 };
  return w.startMin === w.endMin ? null : w;
}

export const formatQuietWindow = (w: QuietWindow) => `${fmt(w.startMin)}-${fmt(w.endMin)}`;
const fmt = (m: number) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;

export function inQuietWindow(minuteOfDay: number, w: QuietWindow): boolean {
  return w.startMin < w.endMin ? minuteOfDay >= w.startMin && minuteOfDay < w.endMin : minuteOfDay >= w.startMin || minuteOfDay < w.endMin;
}

export type RebootDecision = { reboot: true } | { reboot: false; why: "nothing-pending" | "not-quiet-time" | "payment-in-flight" };

/** `now`: an admin's "update now" reboots at once, but still waits for a payment to end. */
export function decideReboot(i: { pending: boolean; minuteOfDay: number; window: QuietWindow; paymentInFlight: boolean; now: boolean }): RebootDecision {
  if (!i.pending) return { reboot: false, why: "nothing-pending" };
  if (i.paymentInFlight) return { reboot: false, why: "payment-in-flight" };
  if (!i.now && !inQuietWindow(i.minuteOfDay, i.window)) return { reboot: false, why: "not-quiet-time" };
  return { reboot: true };
}

export const localMinuteOfDay = (d: Date) => d.getHours() * 60 + d.getMinutes();
