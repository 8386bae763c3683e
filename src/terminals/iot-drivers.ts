/**
 * The reference box's device protocol for the POS page (iot_drivers/controllers/driver.py,
 * tools/communication.py, event_manager.py, the payment drivers' `send_status`), over the SAME
 * payment engine and journal as /api/pos:
 *   POST /iot_drivers/action  {params: {session_id, device_identifier, data}}  (also /hw_drivers/action)
 *     data {messageType: "Transaction", TransactionID, cid, amount (minor units), currency} starts a
 *     payment; {messageType: "Cancel"} aborts the one running; the answer comes at once:
 *     {owner, session_id, iot_box_identifier, device_identifier, time, status} ("disconnected" for a
 *     device the box does not have).
 *   POST /iot_drivers/event   {params: {listener: {session_id, devices, last_event}}}  (also /hw_drivers/event)
 *     long poll (up to 50 s): the next event of those devices newer than last_event:
 *     {status: "success", result: {value, Stage, Response, Ticket, TicketMerchant, Card, CardNo,
 *     PaymentTransactionID, Error, Disconnected, cid}, iot_box_identifier, device_identifier,
 *     session_id, time, ...the action's data}.
 * Never charged twice: a Transaction is keyed by its TransactionID and cid; the same again is the
 * same payment (replayed, never resent) unless that one ended without a charge (declined, failed,
 * aborted): then it is a new attempt. A browser may call these only from the connected database's
 * origin or a configured POS origin (CORS, Private Network Access answered as for /api/pos).
 */
import { Hono, type Context } from "hono";
import type { Logger } from "../log/index";
import { parseAsPython, verifyPayloadSignature } from "../odoo/signature";
import { TerminalError } from "./errors";
import { holdRequest } from "./http";
import { sha256Hex } from "./pos-api";
import { isFinal, type PaymentEngine } from "./payments";
import type { Registry } from "./registry";
import type { Settings, Tx } from "./store";
import { parsePaymentBody } from "./validate";

/** All payments started through this protocol belong to one POS namespace in the engine. */
export const IOT_PAIRING = "iot_drivers";
const MAX_BODY = 16 * 1024;
const MAX_ATTEMPTS = 50;
/** Long polls held at once: past this, the oldest is answered null (nothing new) at once and polls again. */
export const MAX_HELD_EVENT_POLLS = 256;

export interface IotDriversDeps {
  engine: PaymentEngine;
  registry: Registry;
  settings(): Settings;
  logger: Logger;
  /** The box's identifier as the database knows it (src/odoo/identity.ts). */
  identifier: () => string;
  /** The connected database's origin (https://shop.example.com), if connected. */
  databaseOrigin: () => string | null;
  /** The connection token, the key of the database's payload signatures (null: not connected). */
  connectionToken?: () => string | null;
  longPollMs?: number;
  /** How long events stay readable for a listener that was between two polls. */
  eventTtlMs?: number;
  now?: () => number;
}

export interface DriverEvent { device_identifier: string; time: number; [k: string]: unknown }

/** Pure: the reference drivers' result for a payment as the box knows it (null: nothing to tell). */
export function resultFor(tx: Tx, cid: unknown): Record<string, unknown> | null {
  const base = { value: "", Stage: false as string | false, Response: false as string | false, Ticket: false, TicketMerchant: false, Card: false as string | false,
    CardNo: false as string | false, PaymentTransactionID: false as string | false, Error: false as string | false, Disconnected: false, cid: cid ?? false };
  const o = tx.outcome;
  switch (tx.state) {
    case "in_progress": return { ...base, Stage: tx.abortRequested ? "waitingCancel" : "WaitingForCard" };
    case "unknown": return { ...base, Stage: "WaitingForResult" }; // the reply was lost: the box asks the terminal (TransactionStatus)
    case "approved": return { ...base, Response: "Approved", Card: o?.brand ?? false, CardNo: o?.cardLast4 ?? false, PaymentTransactionID: o?.poiTransaction?.transactionId ?? o?.pspReference ?? false };
    case "declined": return { ...base, Response: "Declined", Error: `Declined by the card issuer${o?.refusalReason ? `: ${o.refusalReason}` : ""}.` };
    case "aborted": return { ...base, Stage: "Cancel" };
    case "failed": return { ...base, Error: tx.error?.message ?? "The terminal did not take the payment; nothing was charged." };
    case "unresolved": return { ...base, Disconnected: true, Error: tx.error?.message ?? "Check the transaction result manually with the payment provider." };
    case "refunded": return { ...base, Response: "Reversed" };
    default: return null;
  }
}

export function createIotDriversApi(d: IotDriversDeps) {
  const log = d.logger.child({ area: "iot_drivers" });
  const now = d.now ?? Date.now;
  const ttl = d.eventTtlMs ?? 60_000;
  const events: DriverEvent[] = [];
  const waiters = new Set<{ devices: string[]; after: number; wake: (e: DriverEvent) => void; drop: () => void }>();

  function emit(e: DriverEvent) {
    const cutoff = now() / 1000 - ttl / 1000;
    while (events.length && events[0]!.time < cutoff) events.shift();
    // Strictly increasing times: a listener's last_event then names one event exactly.
    const last = events.at(-1)?.time ?? 0;
    if (e.time <= last) e.time = last + 0.000001;
    events.push(e);
    for (const w of [...waiters]) if (w.devices.includes(e.device_identifier) && e.time > w.after) { waiters.delete(w); w.wake(e); }
  }

  const deviceEvent = (deviceId: string, sessionId: string, data: Record<string, unknown>, result: Record<string, unknown>): DriverEvent =>
    ({ status: "success", result, iot_box_identifier: d.identifier(), device_identifier: deviceId, session_id: sessionId, time: now() / 1000, ...data });

  /** Follows a payment and tells its listeners each change, until it is final. */
  function follow(tx: Tx, deviceId: string, sessionId: string, data: Record<string, unknown>) {
    let told = -1;
    const tell = () => {
      if (tx.version === told) return;
      told = tx.version;
      const r = resultFor(tx, data.cid);
      if (r) emit(deviceEvent(deviceId, sessionId, data, r));
      if (isFinal(tx)) off();
    };
    const off = d.engine.subscribe(tx.id, tell);
    tell();
  }

  /** The payment for this TransactionID/cid: the same one again, or a new attempt after one that charged nothing. */
  function startTransaction(deviceId: string, sessionId: string, data: Record<string, unknown>) {
    const tid = data.TransactionID, cid = data.cid;
    if ((typeof tid !== "string" && typeof tid !== "number") || String(tid).length > 60) throw new TerminalError("transaction_id_invalid", "TransactionID must be a number or a string of at most 60 characters.", 400);
    const body = parsePaymentBody({ amount: data.amount, currency: data.currency, reference: String(tid).replace(/[^\x20-\x7e]/g, "?").slice(0, 64) || "-" });
    const base = `iot:${sha256Hex(JSON.stringify([String(tid), cid ?? null])).slice(0, 40)}`;
    const bodyHash = sha256Hex(JSON.stringify([deviceId, body.amountMinor, body.currency, body.reference]));
    for (let n = 1; n <= MAX_ATTEMPTS; n++) {
      const key = n === 1 ? base : `${base}#${n}`;
      const seen = d.engine.lookup(IOT_PAIRING, key);
      if (seen && isFinal(seen) && ["declined", "failed", "aborted"].includes(seen.state)) continue; // nothing charged: a new attempt
      const { tx, created } = d.engine.start({ pairingId: IOT_PAIRING, idempotencyKey: key, bodyHash, terminalId: deviceId, amountMinor: body.amountMinor, currency: body.currency, reference: body.reference });
      log.info(created ? "transaction started" : "transaction replayed", { tx: tx.id, device: deviceId, attempt: n });
      follow(tx, deviceId, sessionId, data);
      return tx;
    }
    throw new TerminalError("too_many_attempts", "Too many attempts for this TransactionID and cid; start a new payment line.", 409);
  }

  async function action(p: Record<string, unknown>) {
    const sessionId = typeof p.session_id === "string" ? p.session_id.slice(0, 100) : "0";
    const deviceId = typeof p.device_identifier === "string" ? p.device_identifier : "";
    let data: unknown = p.data ?? {};
    if (typeof data === "string") { try { data = JSON.parse(data); } catch { throw new TerminalError("data_invalid", "data is not JSON.", 400); } }
    if (!data || typeof data !== "object" || Array.isArray(data)) throw new TerminalError("data_invalid", "data must be an object.", 400);
    const dat = data as Record<string, unknown>;
    const base = { owner: sessionId, session_id: sessionId, iot_box_identifier: d.identifier(), device_identifier: deviceId, time: now() / 1000 };
    if (deviceId === d.identifier()) return (dat.action ?? "test_protocol") === "test_protocol" ? { ...base, status: "success" } : {};
    const h = d.registry.get(deviceId);
    if (!h) { log.warn("action for a device the box does not have", { device: deviceId.slice(0, 80) }); return { ...base, status: "disconnected" }; }
    const fail = (e: unknown) => {
      const msg = e instanceof TerminalError ? e.message : String((e as Error)?.message ?? e);
      emit(deviceEvent(deviceId, sessionId, dat, { ...resultFor({ state: "failed", error: { code: "x", message: msg } } as Tx, dat.cid)! }));
      return { ...base, status: "error", message: msg, ...(e instanceof TerminalError ? { code: e.code } : {}) };
    };
    switch (dat.messageType) {
      case "Transaction":
        try { startTransaction(deviceId, sessionId, dat); return { ...base, status: "success" }; } catch (e) { return fail(e); }
      case "Cancel": {
        const holder = h.holder ? d.engine.get(h.holder) : undefined;
        if (!holder || holder.pairingId !== IOT_PAIRING || isFinal(holder)) {
          emit(deviceEvent(deviceId, sessionId, dat, { ...resultFor({ state: "aborted" } as Tx, dat.cid)!, Error: "No transaction in progress to cancel." }));
          return { ...base, status: "success" };
        }
        try { await d.engine.abort(holder.id); return { ...base, status: "success" }; } catch (e) { return fail(e); }
      }
      default:
        return { ...base, status: "error", message: `messageType ${JSON.stringify(String(dat.messageType ?? "")).slice(0, 40)} is not supported by this terminal (Transaction, Cancel).` };
    }
  }

  function event(p: Record<string, unknown>, signal: AbortSignal): Promise<DriverEvent | null> {
    const l = p.listener as { session_id?: unknown; devices?: unknown; last_event?: unknown } | undefined;
    if (!l || typeof l !== "object") throw new TerminalError("listener_invalid", "params.listener {session_id, devices, last_event} is required.", 400);
    const sessionId = typeof l.session_id === "string" ? l.session_id.slice(0, 100) : "0";
    const devices = Array.isArray(l.devices) ? l.devices.filter((x): x is string => typeof x === "string").slice(0, 50)
      : l.devices && typeof l.devices === "object" ? Object.keys(l.devices).slice(0, 50) : [];
    const after = typeof l.last_event === "number" && Number.isFinite(l.last_event) ? l.last_event : 0;
    const ready = events.find((e) => devices.includes(e.device_identifier) && e.time > after && e.time >= now() / 1000 - ttl / 1000);
    if (ready) return Promise.resolve({ ...ready, session_id: sessionId });
    return new Promise((resolve) => {
      const w = { devices, after, wake: (e: DriverEvent) => { clearTimeout(t); resolve({ ...e, session_id: sessionId }); },
        drop: () => { clearTimeout(t); waiters.delete(w); resolve(null); } };
      const t = setTimeout(() => { waiters.delete(w); resolve(null); }, d.longPollMs ?? 50_000);
      signal.addEventListener("abort", w.drop);
      waiters.add(w);
      if (waiters.size > MAX_HELD_EVENT_POLLS) waiters.values().next().value!.drop();
    });
  }

  const allowed = (origin: string) => origin === d.databaseOrigin() || d.settings().posOrigins.includes(origin);
  const app = new Hono();
  // CORS for the database's origin and the POS origins only (the reference answers any origin).
  app.use("*", async (c, next) => {
    const origin = c.req.header("origin");
    if (origin !== undefined && !allowed(origin)) {
      return c.json({ jsonrpc: "2.0", id: null, error: { code: 403, message: `The origin ${origin.slice(0, 200)} is neither the connected database nor a configured POS origin.` } }, 403);
    }
    if (origin !== undefined) { c.header("Access-Control-Allow-Origin", origin); c.header("Vary", "Origin"); }
    if (c.req.method === "OPTIONS") {
      if (origin === undefined) return c.json({ jsonrpc: "2.0", id: null, error: { code: 403, message: "A preflight needs an Origin header." } }, 403);
      c.header("Access-Control-Allow-Methods", "POST, OPTIONS");
      c.header("Access-Control-Allow-Headers", "Content-Type, Authorization");
      c.header("Access-Control-Max-Age", "600");
      if (c.req.header("access-control-request-private-network") === "true") c.header("Access-Control-Allow-Private-Network", "true");
      return c.body(null, 204);
    }
    await next();
  });

  const rpc = (f: (p: Record<string, unknown>, c: Context) => Promise<unknown>) => async (c: Context) => {
    let id: unknown = null;
    try {
      if (Number(c.req.header("content-length") ?? "0") > MAX_BODY) throw new TerminalError("body_too_large", `The body must be at most ${MAX_BODY} bytes.`, 413);
      const text = await c.req.text();
      if (text.length > MAX_BODY) throw new TerminalError("body_too_large", `The body must be at most ${MAX_BODY} bytes.`, 413);
      let body: any;
      try { body = JSON.parse(text); } catch { throw new TerminalError("body_invalid", "The body is not JSON.", 400); }
      id = typeof body?.id === "string" || typeof body?.id === "number" ? body.id : null;
      const p = body?.params;
      if (!p || typeof p !== "object" || Array.isArray(p)) throw new TerminalError("params_invalid", "params must be an object.", 400);
      checkSignature(c, text);
      return c.json({ jsonrpc: "2.0", id, result: await f(p, c) });
    } catch (e) {
      if (!(e instanceof TerminalError)) { log.error("iot_drivers failure", { err: String((e as Error)?.message ?? e) }); }
      const err = e instanceof TerminalError ? e : new TerminalError("internal", "Internal error; see the box log.", 500);
      return c.json({ jsonrpc: "2.0", id, error: { code: err.status, message: err.message, data: { name: err.code, message: err.message } } }, err.status as 400);
    }
  };
  /**
   * A database that signs its payloads (the reference's `Authorization` HMAC, src/odoo/signature.ts)
   * gets its signature checked: a wrong or stale one is refused. The reference does not sign these
   * two routes, so an unsigned call stays allowed (the origin rules above still apply).
   */
  const checkSignature = (c: Context, text: string) => {
    const signature = c.req.header("authorization");
    if (signature === undefined) return;
    const token = d.connectionToken?.() ?? null;
    const params = (parseAsPython(text) as { params?: unknown }).params;
    const now = (d.now ?? Date.now)() / 1000;
    if (!token || !verifyPayloadSignature(c.req.url, params, signature.trim(), token, now)) {
      log.warn("iot_drivers: signature refused", { path: c.req.path, connected: !!token });
      throw new TerminalError("signature_invalid", "Authentication failed: the payload signature does not match this box's connection (or is older than 5 s).", 403);
    }
  };
  // Mounted at /iot_drivers and at the older /hw_drivers (src/web/compose.ts).
  app.post("/action", rpc((p) => action(p)));
  app.post("/event", rpc((p, c) => { holdRequest(c, (d.longPollMs ?? 50_000) / 1000 + 10); return event(p, c.req.raw.signal); }));
  return { app, events: () => events.slice() };
}
