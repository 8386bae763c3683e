/**
 * The certificate lifecycle: check, fetch, verify, store, hot-swap, renew. One check at a time
 * (callers arriving during a check get that check's outcome); the old certificate stays in
 * use whenever anything goes wrong.
 */
import type { Logger } from "../log/index";
import type { ConfigStore } from "../config/store";
import { codeString, precedence, type CertError } from "./codes";
import { fetchReason, nextCheckDelay, type FetchReason } from "./policy";
import type { ProvisioningOutcome, ProvisioningRequest } from "./provisioning";
import type { CertificateStore, Generation } from "./store";
import { boxHostName, ReplyRejected, verifyPair, certInfo, type CertInfo } from "./x509";

// Loaded on first use (see keygen.ts); the Reflect polyfill must be in place before @peculiar/x509 loads.
const keygen = async () => { await import("reflect-metadata"); return import("./keygen"); };

export type Trigger = "start" | "homepage" | "timer" | "settings" | "cli" | "ip-change" | "visitor";
/** Triggers anyone on the LAN can cause without a password: together, at most one request per spacing. */
const UNAUTHENTICATED: ReadonlySet<Trigger> = new Set(["homepage", "visitor"]);

export interface CertState {
  error: CertError | null;
  checking: boolean;
  lastCheckAt: string | null;
  nextCheckAt: string | null;
  lastFetchReason: FetchReason;
  real: CertInfo | null;            // the real certificate held, if any
  serving: "real" | "temporary";
}

export interface LifecycleDeps {
  store: CertificateStore;
  config: ConfigStore;
  logger: Logger;
  request: (r: ProvisioningRequest) => Promise<ProvisioningOutcome>;
  lanIp: () => string | null;
  /** Called with the pair to serve whenever it changes (hot swap). */
  onServe: (gen: Generation) => void;
  now?: () => Date;
  /** Minimum spacing of service requests triggered without a password (homepage loads, the open check API). */
  minRequestSpacingMs?: number;
}

export function createCertificateLifecycle(d: LifecycleDeps) {
  const now = d.now ?? (() => new Date());
  const spacing = d.minRequestSpacingMs ?? 60_000;
  let state: CertState = { error: null, checking: false, lastCheckAt: null, nextCheckAt: null, lastFetchReason: null, real: null, serving: "temporary" };
  let inFlight: Promise<CertState> | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let failures = 0;
  let retryAfterUntil = 0;
  let lastRequestAt = 0;
  let servingFingerprint = "";
  const listeners = new Set<(s: CertState) => void>();

  const publish = (patch: Partial<CertState>) => {
    state = { ...state, ...patch };
    for (const l of listeners) l(state);
  };

  const serve = (gen: Generation, kind: "real" | "temporary") => {
    if (gen.info.fingerprint256 === servingFingerprint) return;
    servingFingerprint = gen.info.fingerprint256;
    d.onServe(gen);
    publish({ serving: kind });
  };

  async function ensureTemporary(): Promise<Generation> {
    const t = d.store.readTemporary();
    const ip = d.lanIp();
    if (t.kind === "ok" && now() < t.gen.info.notAfter && (!ip || t.gen.info.sans.some((s) => s === `IP Address:${ip}`))) return t.gen;
    const { generateKeyPem, createTemporaryCertPem } = await keygen();
    const keyPem = await generateKeyPem();
    const chainPem = await createTemporaryCertPem(keyPem, { boxId: d.config.get().boxId, ips: ip ? [ip] : [], now: now() });
    d.store.writeTemporary(keyPem, chainPem);
    return { keyPem, chainPem, info: certInfo(chainPem) };
  }

  /** What to serve right now, without the network: the real pair if readable, else the placeholder. */
  async function serveBest(): Promise<void> {
    const cur = d.store.readCurrent();
    if (cur.kind === "ok") { serve(cur.gen, "real"); publish({ real: cur.gen.info }); return; }
    serve(await ensureTemporary(), "temporary");
  }

  async function runCheck(trigger: Trigger): Promise<CertState> {
    const cfg = d.config.get();
    const cur = d.store.readCurrent();
    let readError: CertError | null = null;
    if (cur.kind === "ok") publish({ real: cur.gen.info });
    if (cur.kind === "unreadable") {
      readError = { name: "ERR_IOT_HTTPS_CHECK_CERT_READ_EXCEPTION", detail: cur.reason };
      d.logger.error("certificate unreadable", { reason: cur.reason });
    }
    if (!cfg.serverUrl) return finish(precedence(readError, { name: "ERR_IOT_HTTPS_CHECK_NO_SERVER" }), null);

    // An address the service has not heard is reported even with a valid certificate: the service
    // moves the DNS name. No address yet (DHCP pending) or the same one as before asks nothing.
    const ipNow = d.lanIp();
    const reason = fetchReason(cur.kind === "ok" ? { ...cur.gen.info } : cur.kind, now())
      ?? (cfg.subjectCn && ipNow && ipNow !== cfg.reportedIp ? "ip-changed" : null);
    publish({ lastFetchReason: reason });
    if (!reason) return finish(readError, null);
    // Without a real certificate and without an address yet (the runtime starts while DHCP is
    // still going on), asking now would get a certificate the box must replace seconds later,
    // when it reports its address: wait. The address watcher checks again when one appears.
    if (cur.kind !== "ok" && !ipNow && cfg.dbUuid && cfg.enterpriseCode) {
      d.logger.info("certificate request waits for a network address", { trigger });
      return finish(readError, null, true);
    }
    if (!cfg.dbUuid || !cfg.enterpriseCode) return finish(precedence(readError, { name: "ERR_IOT_HTTPS_LOAD_NO_CREDENTIAL" }), null);

    const t = now().getTime();
    if (t < retryAfterUntil) return finish(state.error ?? readError, null, true);
    if (UNAUTHENTICATED.has(trigger) && t - lastRequestAt < spacing) return finish(state.error ?? readError, null, true);
    lastRequestAt = t;

    const { generateKeyPem, createCsrPem } = await keygen();
    // Re-reporting a new IP keeps the current key, so the service can hand back the same certificate.
    let keyPem = reason === "ip-changed" && cur.kind === "ok" ? cur.gen.keyPem : d.store.readPendingKey();
    if (!keyPem) { keyPem = await generateKeyPem(); d.store.writePendingKey(keyPem); }
    const ip = d.lanIp();
    const names = cfg.csrNames ?? (cfg.subjectCn ? [cfg.subjectCn, cfg.subjectCn.replace(/^\*\./, "")] : [`iotbox-${cfg.boxId}`]);
    const csrPem = await createCsrPem(keyPem, names);
    d.logger.info("requesting certificate", { trigger, reason, url: cfg.provisioningUrl, ip });
    const out = await d.request({ baseUrl: cfg.provisioningUrl, dbUuid: cfg.dbUuid, enterpriseCode: cfg.enterpriseCode, csrPem, ip: ip ?? undefined, boxId: cfg.boxId });
    if (!out.ok) {
      if (out.retryAfterMs) retryAfterUntil = now().getTime() + out.retryAfterMs;
      d.logger.warn("certificate request failed", { code: codeString(out.error), detail: out.error.detail });
      return finish(precedence(readError, out.error), out.retryAfterMs ?? null, false, out.unreached);
    }
    const r = out.result;
    const usedKey = r.privateKeyPem ?? keyPem;
    d.logger.redact(r.privateKeyPem);
    const host = boxHostName(r.subjectCn, ip ?? "0.0.0.0");
    let info: CertInfo;
    try {
      info = verifyPair(r.x509Pem, usedKey, { now: now(), host: host ?? undefined });
    } catch (e) {
      const why = e instanceof ReplyRejected ? e.message : `the reply could not be checked (${(e as Error).message})`;
      d.logger.warn("certificate reply refused", { reason: why });
      return finish(precedence(readError, { name: "ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT", detail: `certificate refused: ${why}` }), null);
    }
    if (cur.kind === "unreadable") d.store.quarantineCurrent(now());
    d.store.writeCurrent(usedKey, r.x509Pem);
    d.store.clearPendingKey();
    d.config.update((c) => { c.subjectCn = r.subjectCn; c.reportedIp = ip; if (r.csrNames) c.csrNames = r.csrNames; });
    const stored = d.store.readCurrent();
    if (stored.kind !== "ok") return finish({ name: "ERR_IOT_HTTPS_CHECK_CERT_READ_EXCEPTION", detail: "the certificate just written could not be read back" }, null);
    serve(stored.gen, "real");
    publish({ real: info });
    d.logger.info("certificate installed", { subject: info.subject, notAfter: info.notAfter.toISOString(), issuer: info.issuer });
    return finish(null, null);
  }

  function finish(error: CertError | null, retryAfterMs: number | null, skipped = false, unreached = false): CertState {
    if (!skipped) failures = error ? failures + 1 : 0;
    const held = state.real;
    const retryLeft = Math.max(retryAfterMs ?? 0, retryAfterUntil - now().getTime());
    const delay = nextCheckDelay({ now: now(), held: held ? { ...held } : null, lastFailed: !!error, consecutiveFailures: Math.max(1, failures), retryAfterMs: retryLeft > 0 ? retryLeft : undefined, unreached });
    schedule(delay);
    publish({ error, checking: false, lastCheckAt: now().toISOString() });
    return state;
  }

  function schedule(ms: number) {
    if (timer) clearTimeout(timer);
    const clamped = Math.min(ms, 2 ** 31 - 1);
    timer = setTimeout(() => { void check("timer"); }, clamped);
    (timer as { unref?: () => void }).unref?.();
    state = { ...state, nextCheckAt: new Date(now().getTime() + clamped).toISOString() };
  }

  let recheck = false;
  function check(trigger: Trigger): Promise<CertState> {
    if (inFlight) {
      // A new address during a check may come after the check read it (e.g. a new lease while
      // the service is answering the request with the old one): check again after it.
      if (trigger === "ip-change") recheck = true;
      return inFlight;
    }
    publish({ checking: true });
    inFlight = (async () => {
      try {
        await serveBest();
        return await runCheck(trigger);
      } catch (e) {
        d.logger.error("certificate check crashed", { error: (e as Error).message });
        return finish({ name: "ERR_IOT_HTTPS_CHECK_CERT_READ_EXCEPTION", detail: (e as Error).message }, null);
      } finally {
        inFlight = null;
        if (recheck) { recheck = false; setTimeout(() => void check("ip-change"), 0); }
      }
    })();
    return inFlight;
  }

  return {
    check,
    serveBest,
    state: () => state,
    /** The box's HTTPS URL, if it has a real certificate and an address. */
    url(): string | null {
      const subject = d.config.get().subjectCn ?? state.real?.subject ?? null;
      const ip = d.lanIp();
      if (!state.real || !subject || !ip) return null;
      const host = boxHostName(subject, ip);
      return host ? `https://${host}` : null;
    },
    onChange(cb: (s: CertState) => void) { listeners.add(cb); return () => listeners.delete(cb); },
    stop() { if (timer) clearTimeout(timer); timer = null; },
  };
}
export type CertificateLifecycle = ReturnType<typeof createCertificateLifecycle>;
