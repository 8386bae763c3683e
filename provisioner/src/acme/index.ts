// One certificate order through ACME DNS-01 (`acme-client`), the `_acme-challenge` TXT records
// put and removed through the DNS zone. Every TXT record created is noted in the store first
// and removed in a `finally`; one that cannot be removed now stays noted for the janitor.
import * as acme from "acme-client";
import type { Logger } from "../../../src/log";
import type { DnsZone } from "../dns";
import { UpstreamError } from "../dns";
import { challengeRecordName } from "../naming";
import type { Store } from "../store";

export interface IssuedCertificate { certPem: string; keyPem: string | null; notBefore: number; notAfter: number }

export interface Issuer {
  /** Order a certificate for `names` ([wildcard, base]); with the box's CSR, or a key made here. */
  issue(names: string[], csrPem: string | null): Promise<IssuedCertificate>;
}

export interface AcmeIssuerOptions {
  directoryUrl: string;
  zone: string;
  dns: DnsZone;
  store: Store;
  logger: Logger;
  now?: () => number;
  /** How often order/authorization status is polled (acme-client backoff), ms. */
  pollMs?: number;
  /** A whole order gives up after this long (the box waits for the reply), ms. */
  orderTimeoutMs?: number;
  txtTtl?: number;
}

export function createAcmeIssuer(o: AcmeIssuerOptions): Issuer {
  const now = o.now ?? Date.now;
  // acme-client's shared axios instance retries a failed request 5 times, 5 to 25 s apart:
  // far longer than a box waits. One quick retry and a per-request timeout; the box is told
  // to come back (503 Retry-After) instead.
  const settings = (acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number; retryDefaultDelay: number } }).acmeSettings;
  settings.retryMaxAttempts = 1;
  settings.retryDefaultDelay = 1;
  acme.axios.defaults.timeout = 15_000;
  const orderTimeoutMs = o.orderTimeoutMs ?? 60_000;
  let client: acme.Client | null = null;
  const getClient = async () => {
    if (client) return client;
    const stored = await o.store.getAccount(o.directoryUrl);
    const keyPem = stored?.keyPem ?? await o.store.putAccountKey(o.directoryUrl, (await acme.crypto.createPrivateEcdsaKey("P-256")).toString());
    const c = new acme.Client({ directoryUrl: o.directoryUrl, accountKey: keyPem, accountUrl: stored?.accountUrl ?? undefined,
      backoffAttempts: 12, backoffMin: o.pollMs ?? 100, backoffMax: 2000 });
    if (!stored?.accountUrl) {
      await c.createAccount({ termsOfServiceAgreed: true });
      await o.store.setAccountUrl(o.directoryUrl, c.getAccountUrl());
    }
    client = c;
    return c;
  };

  return {
    async issue(names, csrPem) {
      let keyPem: string | null = null;
      let csr = csrPem;
      if (!csr) {
        const key = await acme.crypto.createPrivateEcdsaKey("P-256");
        const [, made] = await acme.crypto.createCsr({ commonName: names[0], altNames: names }, key);
        keyPem = key.toString();
        csr = made.toString();
      }
      const created = new Map<string, { id: number; name: string; content: string }>();
      const removeOne = async (key: string) => {
        const r = created.get(key);
        if (!r) return;
        try {
          await o.dns.remove(r.id);
          created.delete(key);
          await o.store.removeCleanup(r.name, r.content);
        } catch (e) {
          o.logger.warn("challenge TXT record not removed yet; the janitor will retry", { record: r.name, error: String((e as Error).message) });
        }
      };
      let c: acme.Client;
      try { c = await getClient(); } catch (e) {
        throw e instanceof UpstreamError ? e : new UpstreamError("acme", `ACME account: ${(e as Error).message}`, 60);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new UpstreamError("acme", `ACME order took longer than ${orderTimeoutMs} ms`, 60)), orderTimeoutMs);
        });
        const pem = await Promise.race([timeout, c.auto({
          csr,
          termsOfServiceAgreed: true,
          challengePriority: ["dns-01"],
          // The TXT record is checked by the CA itself; a local lookup would go to public DNS.
          skipChallengeVerification: true,
          challengeCreateFn: async (authz, challenge, keyAuthorization) => {
            if (challenge.type !== "dns-01") throw new Error(`unexpected challenge ${challenge.type}`);
            const name = challengeRecordName(authz.identifier.value, o.zone);
            await o.store.addCleanup(name, keyAuthorization, now());
            const id = await o.dns.create({ name, type: "TXT", content: keyAuthorization, ttl: o.txtTtl ?? 60 });
            created.set(`${name} ${keyAuthorization}`, { id, name, content: keyAuthorization });
          },
          challengeRemoveFn: async (authz, _challenge, keyAuthorization) => {
            await removeOne(`${challengeRecordName(authz.identifier.value, o.zone)} ${keyAuthorization}`);
          },
        })]);
        const info = acme.crypto.readCertificateInfo(pem);
        return { certPem: pem, keyPem, notBefore: info.notBefore.getTime(), notAfter: info.notAfter.getTime() };
      } catch (e) {
        if (e instanceof UpstreamError) throw e;
        const msg = (e as Error).message ?? String(e);
        // A refused or failed order: the CA counts failed validations, so do not hammer it.
        throw new UpstreamError("acme", `ACME order failed: ${msg}`, /ECONNREFUSED|ETIMEDOUT|ENOTFOUND|socket|timeout|50\d/i.test(msg) ? 60 : 300);
      } finally {
        clearTimeout(timer);
        for (const key of [...created.keys()]) await removeOne(key);
      }
    },
  };
}
