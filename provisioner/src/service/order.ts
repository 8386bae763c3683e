// A new certificate for one label and key: the cool-down after a failure, every budget checked
// and reserved in one step (store.reserveOrder), the order, and the reservation turned into an
// issuance or released. Concurrent requests for the same label and key in this process share
// one order; across instances the reservation is the label's lease.
import { randomUUID } from "node:crypto";
import type { Logger } from "../../../src/log";
import type { Issuer } from "../acme";
import { decideBudget, WEEK_MS, type BudgetLimits } from "../budget";
import { upstreamError } from "../failure";
import { RpcError } from "../rpc";
import { SERVICE_KEY_FP, type StoredCertificate, type Store } from "../store";

/** How long an order's reservation holds when its instance dies (an order is bounded to 60 s
 *  plus the TXT records' removal). */
export const ORDER_LEASE_MS = 180_000;

export interface OrdererOptions { store: Store; issuer: Issuer; logger: Logger; limits: BudgetLimits; instanceId: string; now?: () => number }

export function createOrderer(o: OrdererOptions) {
  const now = o.now ?? Date.now;
  const inflight = new Map<string, Promise<StoredCertificate>>();
  // A label whose last order failed waits before the next one (the CA counts failed validations).
  const cooldown = new Map<string, { until: number; failures: number }>();

  async function order(label: string, dbUuid: string, iotBoxLines: number, names: string[], csrPem: string | null, keyFp: string): Promise<StoredCertificate> {
    const cd = cooldown.get(label);
    if (cd && cd.until > now()) throw upstreamError("acme", "ca_cooling_down", `label ${label} cooling down after a failed order`, { retryAfterS: Math.ceil((cd.until - now()) / 1000) });
    const owner = `${o.instanceId}/${randomUUID()}`;
    const isNew = await reserve(label, dbUuid, iotBoxLines, owner);
    try {
      const started = now();
      const issued = await o.issuer.issue(names, csrPem);
      const cert: StoredCertificate = { label, keyFp, dbUuid, subjectCn: names[0]!, certPem: issued.certPem, keyPem: issued.keyPem,
        notBefore: issued.notBefore, notAfter: issued.notAfter, issuedAt: now() };
      await o.store.completeReservation(label, owner, dbUuid, cert.issuedAt, isNew); // counted before anything else can fail
      await o.store.putCertificate(cert);
      cooldown.delete(label);
      o.logger.info("certificate issued", { label, key: keyFp === SERVICE_KEY_FP ? "service" : "box", new_name: isNew,
        not_after: new Date(cert.notAfter).toISOString(), ms: now() - started });
      return cert;
    } catch (e) {
      const failures = (cooldown.get(label)?.failures ?? 0) + 1;
      cooldown.set(label, { until: now() + Math.min(600_000, 5_000 * 2 ** (failures - 1)), failures });
      await o.store.releaseReservation(label, owner).catch(() => {}); // else it stops counting at its lease's end
      throw e;
    }
  }

  /** Every budget checked and a slot reserved in one step; returns whether the name is new. */
  async function reserve(label: string, dbUuid: string, iotBoxLines: number, owner: string): Promise<boolean> {
    const t = now();
    const r = await o.store.reserveOrder({ label, dbUuid, owner, now: t, leaseMs: ORDER_LEASE_MS, windowStart: t - WEEK_MS },
      (h) => decideBudget({ ...h, databaseNewLimit: iotBoxLines + 1 }, o.limits, t));
    if (r.kind === "busy") throw new RpcError(503, -32000, "A certificate for this box is being issued; retry shortly.", 10);
    if (r.kind === "spent") {
      o.logger.warn("certificate budget spent", { label, db_uuid: dbUuid, limit: r.decision.limit, retry_after_s: r.decision.retryAfterS });
      throw new RpcError(503, -32000, "The certificate budget is spent for now; retry later.", r.decision.retryAfterS);
    }
    return r.isNew;
  }

  /** One order per label and key at a time in this process; others wait for its result. */
  return function orderOnce(label: string, dbUuid: string, iotBoxLines: number, names: string[], csrPem: string | null, keyFp: string) {
    const k = `${label} ${keyFp}`;
    let p = inflight.get(k);
    if (!p) {
      p = order(label, dbUuid, iotBoxLines, names, csrPem, keyFp).finally(() => inflight.delete(k));
      inflight.set(k, p);
    }
    return p;
  };
}
