// The CA's limits, decided before an order is placed (pure). Let's Encrypt: 50 new certificates
// per registered domain per 7 days (renewals of the same names exempt), 5 duplicates (same
// names) per 7 days. When a limit is reached the box is told when to come back (Retry-After).
export const WEEK_MS = 7 * 24 * 3600 * 1000;

export interface BudgetLimits {
  newPerWeek: number;       // new names (a label never issued before), whole zone
  duplicatesPerWeek: number; // any issuance for one label
}

export interface IssuanceHistory {
  /** Issuance times (ms) in the last week of labels that were new then, across the zone. */
  newIssuances: number[];
  /** The same, for the requesting database only. */
  databaseNewIssuances: number[];
  /** New names one database may get per 7 days: its IoT box lines plus one (a replaced box),
   *  so one database's credentials cannot spend the whole zone's budget. */
  databaseNewLimit: number;
  /** Issuance times (ms) in the last week for this label. */
  labelIssuances: number[];
  /** Whether this label was ever issued (then an order is a renewal for the per-domain limit). */
  labelEverIssued: boolean;
}

export type BudgetDecision = { ok: true; isNew: boolean } | { ok: false; retryAfterS: number; limit: "new_per_week" | "duplicates_per_week" | "database_new_per_week" };

export function decideBudget(h: IssuanceHistory, limits: BudgetLimits, now: number): BudgetDecision {
  const inWindow = (ts: number[]) => ts.filter((t) => t > now - WEEK_MS).sort((a, b) => a - b);
  const retryAfter = (sorted: number[], limit: number) => {
    // The window frees a slot when the oldest issuance that keeps us at the limit leaves it.
    const oldest = sorted[sorted.length - limit] ?? now;
    return Math.max(60, Math.ceil((oldest + WEEK_MS - now) / 1000));
  };
  const label = inWindow(h.labelIssuances);
  if (label.length >= limits.duplicatesPerWeek) return { ok: false, retryAfterS: retryAfter(label, limits.duplicatesPerWeek), limit: "duplicates_per_week" };
  if (!h.labelEverIssued) {
    const mine = inWindow(h.databaseNewIssuances);
    if (mine.length >= h.databaseNewLimit) return { ok: false, retryAfterS: retryAfter(mine, h.databaseNewLimit), limit: "database_new_per_week" };
    const fresh = inWindow(h.newIssuances);
    if (fresh.length >= limits.newPerWeek) return { ok: false, retryAfterS: retryAfter(fresh, limits.newPerWeek), limit: "new_per_week" };
    return { ok: true, isNew: true };
  }
  return { ok: true, isNew: false };
}

/** Renew early: a certificate is reused while more than max(minRemaining, a third of its life) is left. */
export function isFreshEnough(notBefore: number, notAfter: number, now: number, minRemainingMs: number): boolean {
  const life = notAfter - notBefore;
  return notAfter - now > Math.max(minRemainingMs, life / 3);
}
