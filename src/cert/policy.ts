/**
 * Pure decisions about the certificate: when to fetch a new one, when to look again.
 * No I/O: every input is a plain value.
 */
const DAY = 86_400_000;
export const RENEW_FRACTION = 2 / 3;      // renew once two thirds of the lifetime have passed…
export const RENEW_LATEST_DAYS = 10;      // …and never later than 10 days before expiry

export interface HeldCert {
  notBefore: Date;
  notAfter: Date;
  temporary: boolean;                     // our self-signed placeholder
}

/** The instant from which a certificate should be replaced. */
export function renewAt(c: Pick<HeldCert, "notBefore" | "notAfter">): Date {
  const life = c.notAfter.getTime() - c.notBefore.getTime();
  const byFraction = c.notBefore.getTime() + life * RENEW_FRACTION;
  const latest = c.notAfter.getTime() - RENEW_LATEST_DAYS * DAY;
  return new Date(Math.min(byFraction, latest));
}

export type FetchReason = "missing" | "temporary" | "unreadable" | "renew" | "expired" | "ip-changed" | null;

export function fetchReason(held: HeldCert | "missing" | "unreadable", now: Date): FetchReason {
  if (held === "missing") return "missing";
  if (held === "unreadable") return "unreadable";
  if (held.temporary) return "temporary";
  if (now >= held.notAfter) return "expired";
  if (now >= renewAt(held)) return "renew";
  return null;
}

export interface ScheduleInput {
  now: Date;
  held: HeldCert | null;
  lastFailed: boolean;
  consecutiveFailures: number;
  retryAfterMs?: number;                  // from a 503's Retry-After
  /** The last failure never reached the service (no route, refused, name not found): the backoff
   *  starts at 10 s instead of 60 s, so a box whose network comes up after it started gets its
   *  certificate soon, at no cost to the service. */
  unreached?: boolean;
}

/** How long to wait before the next check: daily when healthy, sooner near renewal, backoff on failure. */
export function nextCheckDelay(i: ScheduleInput): number {
  const daily = DAY;
  if (i.lastFailed) {
    const base = i.unreached ? 10_000 : 60_000;
    const backoff = Math.min(base * 2 ** Math.max(0, i.consecutiveFailures - 1), 60 * 60_000);
    return Math.max(backoff, i.retryAfterMs ?? 0);
  }
  if (i.held && !i.held.temporary) {
    const untilRenew = renewAt(i.held).getTime() - i.now.getTime();
    return Math.max(60_000, Math.min(daily, untilRenew));
  }
  return daily;
}
