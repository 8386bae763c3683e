/**
 * The box's link to its database (the reference's IoT connection): connect with a token (or a
 * connection received by pairing or from iotbox.conf), register at `/iot/setup` whenever what
 * the database knows of the box changes, report the certificate's end date after every
 * certificate change, disconnect. Decisions are in plan.ts; this runner does the I/O. Failures
 * back off and are shown on the homepage; nothing here blocks a request or the certificate.
 */
import type { ConfigStore } from "../config/store";
import type { Logger } from "../log/index";
import { callJsonRpc, type FetchLike, type RpcOutcome } from "./client";
import type { OdooCode } from "./codes";
import { backoffMs, certificateEndDate, fingerprint, initialLinkState, nextStep, setupParams, type BoxFacts, type LinkState } from "./plan";
import { connectionStore, type StoredConnection } from "./store";
import { parseConnectionToken, TokenError, type Connection } from "./token";

export interface OdooLinkDeps {
  dataDir: string;
  config: ConfigStore;
  logger: Logger;
  /** What the database is told, read fresh (no network): identifier, MAC, domain or IP, version, name, devices. */
  facts: () => BoxFacts | Promise<BoxFacts>;
  /** The served real certificate's end, null while the box has only its placeholder. */
  certificateEnd: () => Date | null;
  fetch?: FetchLike;
  now?: () => number;
  /** A connection was saved: the certificate can be requested with its credential. */
  onConnected?: () => void;
  /** How often the facts are compared with what the database has (local, no network). */
  checkEveryMs?: number;
  timeoutMs?: number;
  /** The pairing code's state while not connected. */
  pairing?: () => PairingView | null;
  /** Wait before the n-th retry (tests shorten it). */
  backoff?: (failures: number) => number;
}

export interface OdooStatus {
  connected: boolean;
  server: string | null;
  dbName: string | null;
  via: StoredConnection["via"] | null;
  since: string | null;
  /** The database acknowledged the box's current facts. */
  registered: boolean;
  /** What the box last registered as (its `ip`: the HTTPS domain once it has a certificate). */
  registeredAs: string | null;
  error: { code: OdooCode; detail: string; since: string; retryAt: string | null } | null;
  /** While not connected: the pairing code shown, or why there is none (src/odoo/pairing.ts). */
  pairing: PairingView | null;
}
export interface PairingView { code: string | null; error: { code: OdooCode; detail: string } | null }

export type ConnectOutcome = { ok: true } | { ok: false; code: OdooCode; detail: string };

export function createOdooLink(d: OdooLinkDeps) {
  const log = d.logger.child({ area: "odoo" });
  const now = d.now ?? Date.now;
  const store = connectionStore(d.dataDir);
  let conn: StoredConnection | null = store.load();
  if (store.problem()) log.warn("database connection unreadable", { problem: store.problem() });
  log.redact(conn?.token);
  let state: LinkState = initialLinkState(!!conn);
  let error: OdooStatus["error"] = null;
  let registeredAs: string | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let ticker: ReturnType<typeof setInterval> | null = null;
  let stopped = false;
  let lastFacts: string | null = null;

  const post = (c: Connection, path: string, params: unknown): Promise<RpcOutcome> =>
    callJsonRpc(`${c.serverUrl}${path}`, params, { fetch: d.fetch, timeoutMs: d.timeoutMs ?? 10_000 });

  function failed(step: "register" | "report", o: Extract<RpcOutcome, { ok: false }>) {
    const failures = state.failures + 1;
    const wait = (d.backoff ?? backoffMs)(failures);
    state = { ...state, inFlight: false, failures, retryAt: now() + wait };
    const code: OdooCode = step === "report" ? "ERR_IOT_ODOO_CERT_STATUS_FAILED" : o.code;
    const detail = step === "report" ? `${o.code.replace("ERR_IOT_ODOO_SETUP_", "").toLowerCase()}: ${o.detail}` : o.detail;
    error = { code, detail, since: error?.code === code ? error.since : new Date(now()).toISOString(), retryAt: new Date(state.retryAt).toISOString() };
    log.warn(step === "register" ? "registration at the database failed" : "certificate status report failed", { code: o.code, detail: o.detail, failures, retryInS: Math.round(wait / 1000) });
  }

  /** Runs every step that is due now; a step in the future gets one timer. */
  async function pump(): Promise<void> {
    while (!stopped && conn) {
      const c = conn;
      const facts = await d.facts();
      const fp = fingerprint(facts);
      lastFacts = fp;
      const end = d.certificateEnd();
      const step = nextStep(state, fp, end ? certificateEndDate(end) : null, now());
      if (step.kind === "idle") return;
      if (step.kind === "wait") { arm(step.until - now()); return; }
      state = { ...state, inFlight: true };
      if (step.kind === "register") {
        const o = await post(c, "/iot/setup", setupParams(facts, c.token));
        if (conn !== c) { state = { ...state, inFlight: false }; continue; } // disconnected or replaced meanwhile
        if (!o.ok) { failed("register", o); continue; }
        state = { ...state, inFlight: false, registered: fp, failures: 0, retryAt: 0 };
        registeredAs = facts.ip;
        error = null;
        log.info("registered at the database", { server: c.serverUrl, identifier: facts.identifier, ip: facts.ip, devices: Object.keys(facts.devices).length });
      } else {
        const o = await post(c, "/iot/box/update_certificate_status", { identifier: facts.identifier, ssl_certificate_end_date: step.endDate });
        if (conn !== c) { state = { ...state, inFlight: false }; continue; }
        if (!o.ok) { failed("report", o); continue; }
        state = { ...state, inFlight: false, reportedEnd: step.endDate, failures: 0, retryAt: 0 };
        error = null;
        log.info("certificate end date reported to the database", { endDate: step.endDate });
      }
    }
  }
  function arm(ms: number) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => { timer = null; void nudge(); }, Math.max(0, ms));
    timer.unref?.();
  }
  let running: Promise<void> | null = null;
  /** Look now (a change the caller knows of: certificate, IP, terminals). Never throws. */
  function nudge(): Promise<void> {
    if (running) return running;
    running = pump().catch((e) => { log.error("database link failed", { err: (e as Error).message }); }).finally(() => { running = null; });
    return running;
  }

  function adopt(c: Connection, via: StoredConnection["via"]) {
    const stored: StoredConnection = { ...c, connectedAt: new Date(now()).toISOString(), via };
    log.redact(c.token);
    log.redact(c.enterpriseCode);
    store.save(stored); // the token first: a config.json without it would look connected
    d.config.update((cfg) => { cfg.serverUrl = c.serverUrl; cfg.dbUuid = c.dbUuid; cfg.enterpriseCode = c.enterpriseCode; });
    conn = stored;
    state = initialLinkState(true);
    error = null;
    registeredAs = null;
    log.info("connected to a database", { server: c.serverUrl, db: c.dbName ?? undefined, via });
    d.onConnected?.();
  }

  return {
    /**
     * Connect with a pasted token: parsed, then tried at the database (`/iot/setup`) before
     * anything is saved; a token that does not parse, a database that does not answer or that
     * refuses leaves the box as it was.
     */
    async connect(raw: string): Promise<ConnectOutcome> {
      let c: Connection;
      try { c = parseConnectionToken(raw); } catch (e) {
        if (e instanceof TokenError) return { ok: false, code: e.code, detail: e.message };
        throw e;
      }
      log.redact(c.token);
      const facts = await d.facts();
      const o = await post(c, "/iot/setup", setupParams(facts, c.token));
      if (!o.ok) {
        log.warn("connection refused: nothing saved", { server: c.serverUrl, code: o.code, detail: o.detail });
        return { ok: false, code: o.code, detail: o.detail };
      }
      adopt(c, "token");
      state = { ...state, registered: fingerprint(facts) };
      lastFacts = fingerprint(facts);
      registeredAs = facts.ip;
      void nudge();
      return { ok: true };
    },
    /** A connection that arrived otherwise (pairing, iotbox.conf): saved, then registered in the background. */
    adopt(c: Connection, via: StoredConnection["via"]) { adopt(c, via); void nudge(); },
    disconnect() {
      if (!conn) return;
      log.info("disconnected from the database", { server: conn.serverUrl });
      store.clear();
      d.config.update((cfg) => { cfg.serverUrl = null; cfg.dbUuid = null; cfg.enterpriseCode = null; });
      conn = null;
      state = initialLinkState(false);
      error = null;
      registeredAs = null;
    },
    connected: () => !!conn,
    /** The connection token (the key of the database's payload signatures); never shown or logged. */
    token: () => conn?.token ?? null,
    status(): OdooStatus {
      return {
        connected: !!conn, server: conn?.serverUrl ?? null, dbName: conn?.dbName ?? null, via: conn?.via ?? null, since: conn?.connectedAt ?? null,
        registered: !!conn && lastFacts !== null && state.registered === lastFacts, registeredAs, error,
        pairing: conn ? null : d.pairing?.() ?? null,
      };
    },
    /** Values the log bundle must scrub. */
    secrets: (): string[] => (conn ? [conn.token] : []),
    problem: () => store.problem(),
    nudge,
    start(): void {
      ticker = setInterval(() => void nudge(), d.checkEveryMs ?? 5000);
      ticker.unref?.();
      void nudge();
    },
    async stop() {
      stopped = true;
      if (ticker) clearInterval(ticker);
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
export type OdooLink = ReturnType<typeof createOdooLink>;
export { parseConnectionToken, TokenError } from "./token";
export type { BoxFacts, Device } from "./plan";
