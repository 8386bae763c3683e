// The limit on refused attempts: a guesser of enterprise codes (or of database uuids) gets at
// most `perSource` answers per window from one address and `perDatabase` for one database,
// however many instances serve, because the count is in the shared database. Over the limit a
// request is answered 429 + Retry-After *before* its credentials are checked, so a correct code
// sent then is not told apart from a wrong one. A box asks about once a day and is never refused
// when eligible, so it never meets the limit unless someone is guessing from its address.
import type { Logger } from "../../../src/log";
import type { Refusal } from "../eligibility";
import { RpcError } from "../rpc";
import type { Store } from "../store";
import { decideAttempt, sourceKey, type AttemptDecision, type AttemptLimits } from "./decide";

export { clientAddress, decideAttempt, sourceKey, type AttemptLimits } from "./decide";

export const DEFAULT_ATTEMPT_LIMITS: AttemptLimits = { perSource: 10, perDatabase: 10, windowMs: 60_000 };

export interface AttemptLimiterOptions { store: Store; limits: AttemptLimits; logger: Logger; now?: () => number }

/** A source that was served a certificate for a database stays known for this long. */
export const KNOWN_SOURCE_MS = 90 * 86_400_000;

export const TOO_MANY_SENTENCE = "Too many refused attempts from this address or for this database; retry later.";

export function createAttemptLimiter(o: AttemptLimiterOptions) {
  const now = o.now ?? Date.now;
  const keys = (source: string, dbUuid: string) => { const src = sourceKey(source); return { src, source: `source:${src}`, database: `database:${dbUuid}` }; };
  const tooMany = (d: Exclude<AttemptDecision, { ok: true }>) => new RpcError(429, -32029, TOO_MANY_SENTENCE, d.retryAfterS);
  const history = async (k: ReturnType<typeof keys>, dbUuid: string) => {
    const t = now();
    return o.store.attemptHistory({ sourceKey: k.source, databaseKey: k.database, dbUuid, source: k.src,
      since: t - o.limits.windowMs, knownSince: t - KNOWN_SOURCE_MS });
  };
  return {
    /** Throws a 429 RpcError when this source or database is over the limit. */
    async admit(source: string, dbUuid: string): Promise<{ knownSource: boolean }> {
      const k = keys(source, dbUuid);
      const h = await history(k, dbUuid);
      const d = decideAttempt(h, o.limits, now());
      if (!d.ok) {
        o.logger.debug("attempt limited", { scope: d.scope, source: k.src, retry_after_s: d.retryAfterS });
        throw tooMany(d);
      }
      return { knownSource: h.knownSource };
    },
    /** Counts a refusal; throws a 429 RpcError when it did not fit the limit (a concurrent burst). */
    async refused(source: string, dbUuid: string, failed: Refusal): Promise<void> {
      const k = keys(source, dbUuid);
      const at = now();
      await o.store.addRefusals([k.source, k.database], at);
      const d = decideAttempt(await history(k, dbUuid), o.limits, now(), 1);
      if (d.ok) return;
      o.logger.warn("refused attempts over the limit", { scope: d.scope, source: k.src, failed_check: failed, retry_after_s: d.retryAfterS });
      throw tooMany(d);
    },
    /** This source got a certificate for this database: remember it (see AttemptHistory.knownSource). */
    async served(source: string, dbUuid: string, known: boolean): Promise<void> {
      if (!known) await o.store.addKnownSource(dbUuid, sourceKey(source), now());
    },
  };
}

export type AttemptLimiter = ReturnType<typeof createAttemptLimiter>;
