// One certificate order through ACME DNS-01 (`acme-client`), the `_acme-challenge` TXT records
// put and removed through the DNS zone. Every TXT record created is noted in the store first
// and removed in a `finally`; one that cannot be removed now stays noted for the janitor.
import * as acme from "acme-client";
import type { Logger } from "../../../src/log";
import type { DnsZone } from "../dns";
import { classifyAcme, upstreamError, UpstreamError } from "../failure";
import { challengeRecordName } from "../naming";
import type { Store } from "../store";
import { createAccountClient } from "./account";
import { tuneAcmeTransport, withCaContext } from "./transport";

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
  // One quick retry and a per-request timeout; the box is told to come back (503 Retry-After).
  tuneAcmeTransport(15_000);
  const orderTimeoutMs = o.orderTimeoutMs ?? 60_000;
  const account = createAccountClient({ directoryUrl: o.directoryUrl, store: o.store, logger: o.logger, pollMs: o.pollMs });

  return {
    async issue(names, csrPem) {
      const { csr, keyPem } = csrPem ? { csr: csrPem, keyPem: null } : await serviceKeyCsr(names);
      const client = await account();
      const records = challengeRecords(o, now);
      return withCaContext(async (ctx) => {
        try {
          const pem = await withDeadline(orderTimeoutMs, client.auto({
            csr,
            termsOfServiceAgreed: true,
            challengePriority: ["dns-01"],
            // The TXT record is checked by the CA itself; a local lookup would go to public DNS.
            skipChallengeVerification: true,
            challengeCreateFn: records.create,
            challengeRemoveFn: records.remove,
          }));
          const info = acme.crypto.readCertificateInfo(pem);
          return { certPem: pem, keyPem, notBefore: info.notBefore.getTime(), notAfter: info.notAfter.getTime() };
        } catch (e) {
          if (e instanceof UpstreamError) throw e;
          const f = classifyAcme(e, ctx.problem);
          throw upstreamError("acme", f.code, `ACME order failed: ${(e as Error)?.message ?? String(e)}`, { retryAfterS: f.retryAfterS, status: ctx.problem?.status });
        } finally {
          await records.removeAll();
        }
      });
    },
  };
}

async function serviceKeyCsr(names: string[]) {
  const key = await acme.crypto.createPrivateEcdsaKey("P-256");
  const [, made] = await acme.crypto.createCsr({ commonName: names[0], altNames: names }, key);
  return { csr: made.toString(), keyPem: key.toString() };
}

/** The order's challenge TXT records: noted before creation, removed by content. */
function challengeRecords(o: AcmeIssuerOptions, now: () => number) {
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
  return {
    async create(authz: { identifier: { value: string } }, challenge: { type: string }, keyAuthorization: string) {
      if (challenge.type !== "dns-01") throw new Error(`unexpected challenge ${challenge.type}`);
      const name = challengeRecordName(authz.identifier.value, o.zone);
      await o.store.addCleanup(name, keyAuthorization, now());
      const id = await o.dns.create({ name, type: "TXT", content: keyAuthorization, ttl: o.txtTtl ?? 60 });
      created.set(`${name} ${keyAuthorization}`, { id, name, content: keyAuthorization });
    },
    async remove(authz: { identifier: { value: string } }, _challenge: unknown, keyAuthorization: string) {
      await removeOne(`${challengeRecordName(authz.identifier.value, o.zone)} ${keyAuthorization}`);
    },
    async removeAll() { for (const key of [...created.keys()]) await removeOne(key); },
  };
}

function withDeadline<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(upstreamError("acme", "ca_timeout", `ACME order took longer than ${ms} ms`)), ms);
  });
  return Promise.race([deadline, work]).finally(() => clearTimeout(timer));
}
