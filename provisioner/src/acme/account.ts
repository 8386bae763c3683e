// The ACME account: its key kept in the store (the first stored wins across instances), the
// account registered once. However many orders start together on a fresh service, they share
// one registration; a failed one is forgotten so that the next order tries again.
import * as acme from "acme-client";
import type { Logger } from "../../../src/log";
import { classifyAcme, upstreamError, UpstreamError } from "../failure";
import type { Store } from "../store";
import { withCaContext } from "./transport";

export interface AccountOptions { directoryUrl: string; store: Store; logger: Logger; pollMs?: number }

/** One promise at a time: callers arriving while it runs share it; a rejection clears it. */
export function sharedUntilFailure<T>(make: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () => {
    pending ??= make().catch((e) => { pending = null; throw e; });
    return pending;
  };
}

export function createAccountClient(o: AccountOptions): () => Promise<acme.Client> {
  return sharedUntilFailure(() => withCaContext(async (ctx) => {
    try { return await register(o); } catch (e) {
      if (e instanceof UpstreamError) throw e;
      const f = classifyAcme(e, ctx.problem);
      throw upstreamError("acme", f.code, `ACME account: ${(e as Error)?.message ?? String(e)}`, { retryAfterS: f.retryAfterS });
    }
  }));
}

async function register(o: AccountOptions): Promise<acme.Client> {
  const stored = await o.store.getAccount(o.directoryUrl);
  const keyPem = stored?.keyPem ?? await o.store.putAccountKey(o.directoryUrl, (await acme.crypto.createPrivateEcdsaKey("P-256")).toString());
  const client = new acme.Client({ directoryUrl: o.directoryUrl, accountKey: keyPem, accountUrl: stored?.accountUrl ?? undefined,
    backoffAttempts: 12, backoffMin: o.pollMs ?? 100, backoffMax: 2000 });
  if (!stored?.accountUrl) {
    try { await client.createAccount({ termsOfServiceAgreed: true }); } catch (e) {
      // Another instance registered this key a moment ago: the CA answers 200 with the account's
      // URL, then acme-client sends an empty update, which Pebble refuses. The URL is known anyway.
      if (!hasAccountUrl(client)) throw e;
    }
    await o.store.setAccountUrl(o.directoryUrl, client.getAccountUrl());
    o.logger.info("ACME account registered", { directory: o.directoryUrl });
  }
  return client;
}

function hasAccountUrl(c: acme.Client): boolean {
  try { return !!c.getAccountUrl(); } catch { return false; }
}
