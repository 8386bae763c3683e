// What happens for one box's request: eligibility, then a still-valid certificate or a new
// order within the CA's limits, then the box's A record. I/O comes in through the constructor.
import type { Logger } from "../../../src/log";
import type { Issuer } from "../acme";
import { createAttemptLimiter, DEFAULT_ATTEMPT_LIMITS, sourceKey, type AttemptLimits } from "../attempts";
import { isFreshEnough, type BudgetLimits } from "../budget";
import { createCsrChecker } from "../csr";
import type { DnsZone } from "../dns";
import { checkEligibility, REFUSAL_SENTENCE } from "../eligibility";
import { boxNames, checkBoxIp, deriveLabel, hostRecordName } from "../naming";
import type { CertRequest } from "../rpc";
import { SERVICE_KEY_FP, type StoredCertificate, type Store } from "../store";
import { createOrderer } from "./order";

export interface CertReply {
  subject_cn: string;
  x509_pem: string;
  private_key_pem?: string;
  /** Our extension: the names a CSR must carry to be sent to the CA as it is. */
  csr_names?: string[];
}
export type Outcome = { kind: "issued"; result: CertReply } | { kind: "refused"; result: { error: string } };

export interface ServiceOptions {
  store: Store;
  dns: DnsZone;
  issuer: Issuer;
  zone: string;
  logger: Logger;
  limits: BudgetLimits;
  /** A certificate is reused while more than this (or a third of its life) is left. */
  minRemainingMs: number;
  hostRecordTtl: number;
  instanceId: string;
  /** Refused attempts answered per source address and per database (default 10 a minute each). */
  attemptLimits?: AttemptLimits;
  now?: () => number;
}

export function createCertificateService(o: ServiceOptions) {
  const now = o.now ?? Date.now;
  const checkCsr = createCsrChecker(2000);
  const attempts = createAttemptLimiter({ store: o.store, limits: o.attemptLimits ?? DEFAULT_ATTEMPT_LIMITS, logger: o.logger, now });
  const orderOnce = createOrderer(o);

  const reply = (c: StoredCertificate, withKey: boolean, csrNames?: string[]): CertReply => ({
    subject_cn: c.subjectCn, x509_pem: c.certPem,
    ...(withKey && c.keyPem ? { private_key_pem: c.keyPem } : {}),
    ...(csrNames ? { csr_names: csrNames } : {}),
  });

  async function followIp(label: string, boxId: string | null, ip: string | null): Promise<void> {
    if (ip === null) return;
    const check = checkBoxIp(ip);
    if (!check.ok) {
      o.logger.warn("box ip not accepted for an A record", { label, reason: check.reason });
      return;
    }
    const boxKey = boxId ?? `ip:${ip}`;
    const known = await o.store.getHostRecord(label, boxKey);
    if (known && known.ip === ip) {
      // last_seen only needs day precision (stale after weeks): spare a write on most requests.
      if (now() - known.lastSeen > 3_600_000) await o.store.touchHostRecord(label, boxKey, now());
      return;
    }
    const name = hostRecordName(ip, label);
    try {
      const existing = (await o.dns.find(name, "A"))[0];
      let id: number;
      if (existing) {
        if (existing.content !== ip) await o.dns.update(existing.id, ip);
        id = existing.id;
      } else {
        id = await o.dns.create({ name, type: "A", content: ip, ttl: o.hostRecordTtl });
      }
      await o.store.putHostRecord({ label, boxKey, ip, recordId: id, lastSeen: now() });
      if (known && known.recordId !== id) await o.dns.remove(known.recordId);
      o.logger.info("host record set", { name, ip, replaced: known?.ip ?? null });
    } catch (e) {
      // The certificate is still good; the record is retried on the box's next request.
      o.logger.warn("host record not updated", { name, error: String((e as Error).message) });
    }
  }

  return {
    /** `source`: the client's address (the refused-attempt limit counts per address). */
    async handle(req: CertRequest, source = "unknown"): Promise<Outcome> {
      const { knownSource } = await attempts.admit(source, req.dbUuid);
      const db = await o.store.getDatabase(req.dbUuid);
      const elig = checkEligibility(db, req.enterpriseCode);
      if (!elig.ok) {
        await attempts.refused(source, req.dbUuid, elig.failed);
        o.logger.warn("certificate refused", { db_uuid: req.dbUuid.slice(0, 64), failed_check: elig.failed, source: sourceKey(source) });
        return { kind: "refused", result: { error: REFUSAL_SENTENCE } };
      }
      const label = await labelFor(req.dbUuid, req.boxId);
      const names = boxNames(label, o.zone);
      const nameList = [names.wildcard, names.base];
      const lines = db!.iotBoxLines;
      let cert: StoredCertificate;
      let withKey: boolean;
      let hint: string[] | undefined;
      if (req.csr) {
        const csr = await checkCsr(req.csr, names);
        const mine = await o.store.getCertificate(label, csr.keyFingerprint);
        if (mine && isFreshEnough(mine.notBefore, mine.notAfter, now(), o.minRemainingMs)) {
          cert = mine; withKey = false;
        } else if (csr.namesMatch) {
          cert = await orderOnce(label, req.dbUuid, lines, nameList, csr.pem, csr.keyFingerprint); withKey = false;
        } else {
          // The CA signs only a CSR that names exactly what is ordered, signed by its key; a box
          // that does not know its names yet gets the key-in-reply certificate and the names to
          // put in its next CSR.
          cert = await serviceKeyCert(label, req.dbUuid, lines, nameList); withKey = true; hint = nameList;
        }
      } else {
        cert = await serviceKeyCert(label, req.dbUuid, lines, nameList); withKey = true;
      }
      await followIp(label, req.boxId, req.ip);
      await attempts.served(source, req.dbUuid, knownSource);
      return { kind: "issued", result: reply(cert, withKey, hint) };
    },
  };

  async function labelFor(dbUuid: string, boxId: string | null): Promise<string> {
    const boxKey = boxId ?? "";
    const known = await o.store.findLabel(dbUuid, boxKey);
    if (known) return known;
    for (let attempt = 0; attempt < 8; attempt++) {
      const candidate = deriveLabel(dbUuid, boxId, attempt);
      if (await o.store.claimLabel(candidate, dbUuid, boxKey, now())) return candidate;
      const raced = await o.store.findLabel(dbUuid, boxKey); // another instance claimed one for this box
      if (raced) return raced;
      o.logger.warn("label taken by another box; trying the next", { label: candidate, attempt });
    }
    throw new Error("no free label after 8 attempts");
  }

  async function serviceKeyCert(label: string, dbUuid: string, iotBoxLines: number, nameList: string[]) {
    const have = await o.store.getCertificate(label, SERVICE_KEY_FP);
    if (have && have.keyPem && isFreshEnough(have.notBefore, have.notAfter, now(), o.minRemainingMs)) return have;
    return orderOnce(label, dbUuid, iotBoxLines, nameList, null, SERVICE_KEY_FP);
  }
}

export type CertificateService = ReturnType<typeof createCertificateService>;
