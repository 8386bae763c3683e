// How many refused attempts (wrong enterprise code, unknown or ineligible database) a source
// address and a database may make, and where a request comes from. Pure: times and addresses in.
import { isIP } from "node:net";

export interface AttemptLimits {
  /** Refused attempts answered per window, per source address (an IPv6 /64 counts as one). */
  perSource: number;
  /** The same per database uuid presented (known or not, so that a 429 does not tell which exist). */
  perDatabase: number;
  windowMs: number;
}

export interface AttemptHistory {
  /** Times of refused attempts in the window from this source, and for this database. */
  source: number[];
  database: number[];
  /** This source has been served a certificate for this database: the per-database limit (the
   *  one an attacker elsewhere could spend) does not apply to it; the per-source one still does. */
  knownSource: boolean;
}

export type AttemptDecision = { ok: true } | { ok: false; scope: "source" | "database"; retryAfterS: number };

/**
 * Before the credentials are checked, `pending` = 0: a request is admitted while fewer than the
 * limit were refused in the window. After a refusal has been counted, `pending` = 1 (the refusal
 * itself is in the history): it is answered only if it fits the limit, otherwise it gets a 429
 * like any request over the limit would, so that answers beyond the limit tell nothing.
 */
export function decideAttempt(h: AttemptHistory, limits: AttemptLimits, now: number, pending: 0 | 1 = 0): AttemptDecision {
  const source = blocked(h.source, limits.perSource, limits.windowMs, now, pending);
  if (source !== null) return { ok: false, scope: "source", retryAfterS: source };
  if (h.knownSource) return { ok: true };
  const database = blocked(h.database, limits.perDatabase, limits.windowMs, now, pending);
  if (database !== null) return { ok: false, scope: "database", retryAfterS: database };
  return { ok: true };
}

/** null when under the limit; otherwise seconds until enough refusals have left the window. */
function blocked(times: number[], limit: number, windowMs: number, now: number, pending: 0 | 1): number | null {
  const inWindow = times.filter((t) => t > now - windowMs).sort((a, b) => a - b);
  const over = inWindow.length - pending - limit; // >= 0: blocked
  if (over < 0) return null;
  const freesAt = inWindow[over]! + windowMs; // once this one leaves, one slot is free again
  return Math.max(1, Math.ceil((freesAt - now) / 1000));
}

/** The key a source address is counted under: IPv4 as it is, IPv6 by its /64 (one subscriber). */
export function sourceKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  return `${expandIpv6(address).slice(0, 4).join(":")}::/64`;
}

function expandIpv6(a: string): string[] {
  const [head, tail] = a.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""));
}

/**
 * The client's address: the peer's, unless the peer is a trusted proxy; then the right-most
 * X-Forwarded-For entry that is not itself a trusted proxy (entries further left are whatever
 * the client wrote).
 */
export function clientAddress(peer: string, forwardedFor: string | null | undefined, trustedProxies: ReadonlySet<string>): string {
  if (!trustedProxies.has(peer) || !forwardedFor) return peer;
  const hops = forwardedFor.split(",").map((s) => s.trim()).filter((s) => isIP(s) !== 0);
  for (let i = hops.length - 1; i >= 0; i--) if (!trustedProxies.has(hops[i]!)) return hops[i]!;
  return peer;
}
