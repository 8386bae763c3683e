/**
 * The payment engine: one transaction at a time per terminal, written to the journal before
 * anything is sent, and never a second Payment for a reply that was lost: the box asks
 * TransactionStatus (same SaleID/ServiceID) until it knows. A reboot mid-payment is resolved
 * the same way at start. Refunds are Reversals, journaled and resolved the same way.
 */
import type { Logger } from "../log/index";
import { TerminalError } from "./errors";
import {
  abortRequest, newServiceId, paymentRequest, readPaymentResponse, readResponse, readTransactionStatus,
  reversalRequest, transactionStatusRequest, type PaymentOutcome, type ReversalReason, type Route,
} from "./messages";
import type { Registry, TerminalHandle } from "./registry";
import { FINAL_STATES, type Journal, type Tx, type TxState } from "./store";
import { TransportError } from "./terminal-client";

export interface Timeouts {
  paymentMs: number;       // wait for a Payment reply (longer than the acquirer's ~120 s)
  reversalMs: number;
  statusMs: number;        // TransactionStatus, Abort, Diagnosis: ~10-15 s
  pollIntervalMs: number;  // between TransactionStatus questions while InProgress
  maxPollIntervalMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { paymentMs: 140_000, reversalMs: 140_000, statusMs: 12_000, pollIntervalMs: 5_000, maxPollIntervalMs: 30_000 };
const RETENTION_DAYS = 30;

export interface NewPayment {
  pairingId: string;
  idempotencyKey: string;
  bodyHash: string;
  terminalId: string;
  amountMinor: number;
  currency: string;
  reference: string;
}

export interface PaymentEngine {
  start(input: NewPayment): { tx: Tx; created: boolean };
  get(id: string): Tx | undefined;
  /** The payment a POS (pairing) started under this key, if any. */
  lookup(pairingId: string, idempotencyKey: string): Tx | undefined;
  waitForChange(id: string, version: number, ms: number): Promise<Tx | undefined>;
  subscribe(id: string, f: () => void): () => void;
  abort(id: string): Promise<Tx>;
  refund(id: string, reason: ReversalReason): Tx;
  /**
   * The way out when a terminal never tells what became of a payment (or refund) - broken,
   * replaced, reset: the administrator releases the terminal. The transaction becomes
   * "unresolved" (final; to be checked in the Adyen Customer Area) and the terminal takes
   * payments again. Only while the box is asking TransactionStatus, never mid-payment.
   */
  releaseUnresolved(terminalId: string): Tx;
  /** The transaction whose result the terminal is being asked for, if any (the settings show it). */
  awaiting(terminalId: string): Tx | undefined;
  resume(): void;
  stop(): Promise<void>;
  /** Resolves when no payment or refund is being worked on (tests, shutdown). */
  idle(): Promise<void>;
}

export const isFinal = (tx: Tx) => FINAL_STATES.has(tx.state) && !(tx.refund && ["pending", "in_progress", "unknown"].includes(tx.refund.state));

/** Pure: what a terminal's PaymentResponse means for the transaction. */
export function stateFor(o: PaymentOutcome): TxState {
  if (o.result === "Success" || o.result === "Partial") return "approved";
  if (o.errorCondition === "Aborted" || o.errorCondition === "Cancel") return "aborted";
  if (["Busy", "NotAllowed", "UnavailableDevice", "DeviceOut", "LoggedOut", "MessageFormat", "UnavailableService", "UnreachableHost"].includes(o.errorCondition ?? "")) return "failed";
  return "declined";
}

/** Pure: the error a POS sees when the terminal refused to run a payment (nothing was charged). */
const TERMINAL_REFUSALS: Record<string, { code: string; message: string }> = {
  Busy: { code: "terminal_busy", message: "The terminal is busy with another transaction (its own menu or another till); nothing was charged. Try again when it is free." },
  NotAllowed: { code: "terminal_not_allowed", message: "The terminal does not allow this payment; nothing was charged." },
  UnavailableDevice: { code: "terminal_device_unavailable", message: "The terminal's card reader or printer is unavailable; nothing was charged." },
  DeviceOut: { code: "terminal_device_out", message: "The terminal's card reader is out of order; nothing was charged." },
  LoggedOut: { code: "terminal_logged_out", message: "The terminal is logged out; log it in and try again. Nothing was charged." },
  MessageFormat: { code: "terminal_message_format", message: "The terminal could not read the request; nothing was charged." },
  UnavailableService: { code: "terminal_service_unavailable", message: "The terminal does not offer this service now; nothing was charged." },
  UnreachableHost: { code: "acquirer_unreachable", message: "The terminal could not reach the payment network; nothing was charged. Try again." },
};
export function failureFor(errorCondition: string | undefined): { code: string; message: string } {
  return TERMINAL_REFUSALS[errorCondition ?? ""] ?? { code: "terminal_refused", message: `The terminal refused the payment (${errorCondition ?? "no reason given"}); nothing was charged.` };
}

export function createPaymentEngine(deps: {
  journal: Journal;
  registry: Registry;
  logger: Logger;
  saleId: () => string;
  now: () => Date;
  timeouts: Timeouts;
}): PaymentEngine {
  const { journal, registry, timeouts } = deps;
  const log = deps.logger;
  const txs = new Map<string, Tx>();
  const byKey = new Map<string, string>();
  const listeners = new Map<string, Set<() => void>>();
  const running = new Set<Promise<void>>();
  const sleepers = new Set<() => void>();
  let stopped = false;
  const stopping = new AbortController();

  const iso = () => deps.now().toISOString();
  const keyOf = (pairingId: string, key: string) => `${pairingId}\n${key}`;
  const route = (tx: Tx): Route => ({ saleId: tx.saleId, poiid: tx.poiid });

  function notify(id: string) { for (const f of [...(listeners.get(id) ?? [])]) f(); }

  // Writes that must be on disk before something is sent (a new payment, a reversal) are
  // made at once (saveNow). Results are written just after the POS has been told
  // (save): if the box dies in between, the record still says in_progress/unknown and the
  // next start asks TransactionStatus, which gives the same answer. This keeps an fsync off
  // the POS's critical path.
  const dirty = new Map<string, Tx>();
  let flushScheduled = false;
  function flush() {
    flushScheduled = false;
    const batch = [...dirty.values()];
    dirty.clear();
    try { journal.writeMany(batch); } catch (e) {
      log.error("journal write failed", { txs: batch.map((t) => t.id), err: (e as Error).message });
      return;
    }
    if (journal.needsCompaction()) {
      try { journal.compact([...txs.values()]); } catch (e) { log.error("journal compaction failed", { err: (e as Error).message }); }
    }
  }
  function save(tx: Tx, patch: Partial<Tx>) {
    Object.assign(tx, patch, { updatedAt: iso(), version: tx.version + 1 });
    dirty.set(tx.id, tx);
    if (!flushScheduled) { flushScheduled = true; setTimeout(flush, 0); }
    notify(tx.id);
  }
  function saveNow(tx: Tx, patch: Partial<Tx>) {
    const next: Tx = { ...tx, ...patch, updatedAt: iso(), version: tx.version + 1 };
    try { journal.write(next); } catch (e) {
      throw new TerminalError("journal_write_failed", `The change could not be recorded, so nothing was sent: ${(e as Error).message}`, 503);
    }
    dirty.delete(tx.id);
    Object.assign(tx, next);
    notify(tx.id);
  }
  function track(p: Promise<void>) {
    const q = p.catch((e) => log.error("terminal worker failed", { err: String((e as Error)?.message ?? e) })).finally(() => running.delete(q));
    running.add(q);
  }
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const done = () => { clearTimeout(t); sleepers.delete(done); resolve(); };
    const t = setTimeout(done, ms);
    sleepers.add(done);
  });
  function reachable(h: TerminalHandle, err?: TerminalError) {
    if (!err) { h.reachable = true; h.lastError = undefined; return; }
    h.reachable = !(err.code === "unreachable" || err.code === "timeout" || err.code === "connection_lost");
    h.lastError = err.message;
  }
  const asTransport = (e: unknown): TransportError =>
    e instanceof TransportError ? e
      : e instanceof TerminalError ? new TransportError(e.code, e.message, "not_sent")
      : new TransportError("internal", String((e as Error)?.message ?? e), "unknown");

  function release(h: TerminalHandle, tx: Tx) { if (h.holder === tx.id) h.holder = null; }

  function finishPayment(tx: Tx, o: PaymentOutcome) {
    const state = stateFor(o);
    save(tx, { state, outcome: o, error: state === "failed" ? failureFor(o.errorCondition) : undefined });
    log.info("payment result", { tx: tx.id, terminal: tx.poiid, serviceId: tx.serviceId, state, result: o.result, errorCondition: o.errorCondition, poiTransactionId: o.poiTransaction?.transactionId, amount: tx.amountMinor, currency: tx.currency });
  }

  async function runPayment(tx: Tx, h: TerminalHandle) {
    try {
      let reply: any;
      try {
        const client = await h.client();
        log.info("payment sent", { tx: tx.id, terminal: tx.poiid, saleId: tx.saleId, serviceId: tx.serviceId, amount: tx.amountMinor, currency: tx.currency });
        reply = await client.exchange(paymentRequest(route(tx), tx.serviceId, { transactionId: tx.reference, timeStamp: tx.createdAt, amountMinor: tx.amountMinor, currency: tx.currency }), timeouts.paymentMs, stopping.signal);
        reachable(h);
      } catch (e) {
        if (stopped) return; // left in the journal as in_progress: resolved at the next start
        const err = asTransport(e);
        reachable(h, err);
        if (err.delivery !== "unknown") {
          save(tx, { state: "failed", error: { code: err.code, message: err.message } });
          log.warn("payment not taken by the terminal", { tx: tx.id, terminal: tx.poiid, serviceId: tx.serviceId, code: err.code, err: err.message });
          return;
        }
        save(tx, { state: "unknown", error: { code: err.code, message: err.message } });
        log.warn("payment reply lost: asking TransactionStatus", { tx: tx.id, terminal: tx.poiid, serviceId: tx.serviceId, code: err.code });
        return await resolvePayment(tx, h);
      }
      const r = reply?.SaleToPOIResponse;
      const o = r?.MessageHeader?.ServiceID === tx.serviceId ? readPaymentResponse(r?.PaymentResponse, tx.currency) : null;
      if (!o) {
        save(tx, { state: "unknown", error: { code: "reply_invalid", message: "The terminal's reply is not a PaymentResponse for this payment." } });
        log.warn("payment reply unusable: asking TransactionStatus", { tx: tx.id, terminal: tx.poiid, serviceId: tx.serviceId });
        return await resolvePayment(tx, h);
      }
      finishPayment(tx, o);
    } finally {
      if (isFinal(tx) || !stopped) release(h, tx);
    }
  }

  /** Asks TransactionStatus until the terminal says what became of tx. Never resends the Payment. */
  async function resolvePayment(tx: Tx, h: TerminalHandle) {
    let delay = timeouts.pollIntervalMs;
    // Until the answer, or until the administrator releases it (an answer arriving after that
    // still replaces "unresolved": it is what really happened).
    while (!stopped && tx.state === "unknown") {
      try {
        const client = await h.client();
        const reply = await client.exchange(transactionStatusRequest(route(tx), newServiceId(), { category: "Payment", saleId: tx.saleId, serviceId: tx.serviceId }), timeouts.statusMs, stopping.signal);
        reachable(h);
        const ans = readTransactionStatus(reply?.SaleToPOIResponse?.TransactionStatusResponse, "Payment");
        if (ans.kind === "done") {
          const o = readPaymentResponse(ans.inner, tx.currency);
          if (o) { finishPayment(tx, o); log.info("payment resolved by TransactionStatus", { tx: tx.id, state: tx.state }); return; }
        } else if (ans.kind === "not_found") {
          save(tx, { state: "failed", error: { code: "not_processed", message: "The terminal never received this payment: nothing was charged. Start a new payment." } });
          log.info("payment resolved by TransactionStatus: never received", { tx: tx.id, terminal: tx.poiid, serviceId: tx.serviceId });
          return;
        }
        delay = timeouts.pollIntervalMs;
      } catch (e) {
        if (stopped) return;
        const err = asTransport(e);
        reachable(h, err);
        log.warn("TransactionStatus failed; will ask again", { tx: tx.id, terminal: tx.poiid, code: err.code });
        delay = Math.min(delay * 2, timeouts.maxPollIntervalMs);
      }
      await sleep(delay);
    }
  }

  function finishReversal(tx: Tx, rr: any) {
    const resp = readResponse(rr?.Response);
    const refund = tx.refund!;
    if (resp?.result === "Success") {
      save(tx, { state: "refunded", refund: { ...refund, state: "reversed", updatedAt: iso(), error: undefined } });
    } else {
      save(tx, { refund: { ...refund, state: "failed", updatedAt: iso(), errorCondition: resp?.errorCondition, error: { code: "reversal_refused", message: `The terminal refused the reversal (${resp?.errorCondition ?? "no reason"}).` } } });
    }
    log.info("reversal result", { tx: tx.id, terminal: tx.poiid, serviceId: refund.serviceId, result: resp?.result, errorCondition: resp?.errorCondition, poiTransactionId: tx.outcome?.poiTransaction?.transactionId });
  }

  async function runReversal(tx: Tx, h: TerminalHandle) {
    const refund = tx.refund!;
    try {
      let reply: any;
      try {
        const client = await h.client();
        log.info("reversal sent", { tx: tx.id, terminal: tx.poiid, serviceId: refund.serviceId, poiTransactionId: tx.outcome?.poiTransaction?.transactionId });
        reply = await client.exchange(reversalRequest(route(tx), refund.serviceId, tx.outcome!.poiTransaction!, refund.reason as ReversalReason), timeouts.reversalMs, stopping.signal);
        reachable(h);
      } catch (e) {
        if (stopped) return;
        const err = asTransport(e);
        reachable(h, err);
        if (err.delivery !== "unknown") {
          save(tx, { refund: { ...refund, state: "failed", updatedAt: iso(), error: { code: err.code, message: err.message } } });
          return;
        }
        save(tx, { refund: { ...refund, state: "unknown", updatedAt: iso(), error: { code: err.code, message: err.message } } });
        log.warn("reversal reply lost: asking TransactionStatus", { tx: tx.id, terminal: tx.poiid, serviceId: refund.serviceId, code: err.code });
        return await resolveReversal(tx, h);
      }
      const r = reply?.SaleToPOIResponse;
      if (r?.MessageHeader?.ServiceID !== refund.serviceId || !r?.ReversalResponse) {
        save(tx, { refund: { ...refund, state: "unknown", updatedAt: iso() } });
        return await resolveReversal(tx, h);
      }
      finishReversal(tx, r.ReversalResponse);
    } finally {
      if (isFinal(tx) || !stopped) release(h, tx);
    }
  }

  async function resolveReversal(tx: Tx, h: TerminalHandle) {
    let delay = timeouts.pollIntervalMs;
    while (!stopped && tx.refund?.state === "unknown") {
      try {
        const client = await h.client();
        const reply = await client.exchange(transactionStatusRequest(route(tx), newServiceId(), { category: "Reversal", saleId: tx.saleId, serviceId: tx.refund!.serviceId }), timeouts.statusMs, stopping.signal);
        reachable(h);
        const ans = readTransactionStatus(reply?.SaleToPOIResponse?.TransactionStatusResponse, "Reversal");
        if (ans.kind === "done") return finishReversal(tx, ans.inner);
        if (ans.kind === "not_found") {
          save(tx, { refund: { ...tx.refund!, state: "failed", updatedAt: iso(), error: { code: "not_processed", message: "The terminal never received the reversal: nothing was refunded. Ask again." } } });
          return;
        }
        delay = timeouts.pollIntervalMs;
      } catch (e) {
        if (stopped) return;
        reachable(h, asTransport(e));
        delay = Math.min(delay * 2, timeouts.maxPollIntervalMs);
      }
      await sleep(delay);
    }
  }

  function awaiting(terminalId: string): Tx | undefined {
    const holder = registry.get(terminalId)?.holder;
    const tx = holder ? txs.get(holder) : undefined;
    return tx && (tx.state === "unknown" || tx.refund?.state === "unknown") ? tx : undefined;
  }

  function mustGet(id: string): Tx {
    const tx = txs.get(id);
    if (!tx) throw new TerminalError("payment_not_found", "No such payment.", 404);
    return tx;
  }

  return {
    start(input) {
      if (stopped) throw new TerminalError("stopping", "The box is shutting down.", 503);
      const k = keyOf(input.pairingId, input.idempotencyKey);
      const seen = byKey.get(k);
      if (seen) {
        const tx = txs.get(seen)!;
        if (tx.bodyHash !== input.bodyHash) throw new TerminalError("idempotency_conflict", "This Idempotency-Key was already used with a different request body.", 409, { payment: tx.id });
        return { tx, created: false };
      }
      const h = registry.get(input.terminalId);
      if (!h) throw new TerminalError("terminal_unknown", `No terminal "${input.terminalId}" is configured on this box.`, 404);
      if (h.holder) throw new TerminalError("terminal_busy", "The terminal is busy with another transaction; nothing was sent.", 409);
      const ts = iso();
      const tx: Tx = {
        id: `tx_${newServiceId()}${newServiceId()}`, pairingId: input.pairingId, idempotencyKey: input.idempotencyKey, bodyHash: input.bodyHash,
        terminalId: h.config.id, poiid: h.config.poiid, saleId: deps.saleId(), serviceId: newServiceId(),
        amountMinor: input.amountMinor, currency: input.currency, reference: input.reference,
        state: "in_progress", createdAt: ts, updatedAt: ts, version: 1,
      };
      // The journal first: if this write fails, nothing is sent.
      try { journal.write(tx); } catch (e) {
        throw new TerminalError("journal_write_failed", `The payment could not be recorded, so it was not sent: ${(e as Error).message}`, 503);
      }
      h.holder = tx.id;
      txs.set(tx.id, tx);
      byKey.set(k, tx.id);
      track(runPayment(tx, h));
      return { tx, created: true };
    },

    get: (id) => txs.get(id),
    lookup(pairingId, key) { const id = byKey.get(keyOf(pairingId, key)); return id ? txs.get(id) : undefined; },

    waitForChange(id, version, ms) {
      const tx = txs.get(id);
      if (!tx || tx.version !== version || isFinal(tx) || ms <= 0) return Promise.resolve(tx);
      return new Promise((resolve) => {
        const off = this.subscribe(id, () => { clearTimeout(t); off(); resolve(txs.get(id)); });
        const t = setTimeout(() => { off(); resolve(txs.get(id)); }, ms);
      });
    },

    subscribe(id, f) {
      let set = listeners.get(id);
      if (!set) listeners.set(id, (set = new Set()));
      set.add(f);
      return () => { set!.delete(f); if (set!.size === 0) listeners.delete(id); };
    },

    async abort(id) {
      const tx = mustGet(id);
      if (tx.state !== "in_progress" && tx.state !== "unknown") throw new TerminalError("not_in_progress", `The payment is ${tx.state}; only a payment in progress can be aborted${tx.state === "approved" ? " (refund it instead)" : ""}.`, 409);
      if (!tx.abortRequested) save(tx, { abortRequested: true });
      const h = registry.get(tx.terminalId);
      if (h) {
        try {
          const client = await h.client();
          await client.exchange(abortRequest(route(tx), newServiceId(), { category: "Payment", saleId: tx.saleId, serviceId: tx.serviceId }), timeouts.statusMs, stopping.signal);
          log.info("abort sent", { tx: tx.id, terminal: tx.poiid, serviceId: tx.serviceId });
        } catch (e) {
          log.warn("abort not delivered", { tx: tx.id, terminal: tx.poiid, code: asTransport(e).code });
          throw new TerminalError("abort_failed", `The abort did not reach the terminal: ${asTransport(e).message}`, 502);
        }
      }
      return tx;
    },

    refund(id, reason) {
      const tx = mustGet(id);
      if (tx.state === "refunded" || (tx.refund && ["pending", "in_progress", "unknown"].includes(tx.refund.state))) return tx;
      if (tx.state !== "approved" || !tx.outcome?.poiTransaction) throw new TerminalError("not_refundable", `The payment is ${tx.state}; only an approved payment can be refunded.`, 409);
      const h = registry.get(tx.terminalId);
      if (!h) throw new TerminalError("terminal_unknown", "The terminal that took this payment is no longer configured.", 409);
      if (h.holder) throw new TerminalError("terminal_busy", "The terminal is busy with another transaction; nothing was sent.", 409);
      const ts = iso();
      saveNow(tx, { refund: { serviceId: newServiceId(), reason, state: "in_progress", createdAt: ts, updatedAt: ts } }); // on disk before the Reversal is sent
      h.holder = tx.id;
      track(runReversal(tx, h));
      return tx;
    },

    awaiting,

    releaseUnresolved(terminalId) {
      const h = registry.get(terminalId);
      if (!h) throw new TerminalError("terminal_unknown", "No such terminal.", 404);
      const tx = awaiting(terminalId);
      if (!tx) throw new TerminalError("nothing_to_release", "The terminal is not waiting to tell the result of a payment or refund; nothing was changed.", 409);
      if (tx.state === "unknown") {
        saveNow(tx, { state: "unresolved", error: { code: "released_unresolved", message: "The terminal never told the result and the administrator released it: check this payment in the Adyen Customer Area (it may have been charged) before taking it again." } });
      } else {
        saveNow(tx, { refund: { ...tx.refund!, state: "unresolved", updatedAt: iso(), error: { code: "released_unresolved", message: "The terminal never told the result of the refund and the administrator released it: check it in the Adyen Customer Area before refunding again." } } });
      }
      release(h, tx);
      for (const wake of [...sleepers]) wake(); // the TransactionStatus loop notices now
      log.warn("transaction released unresolved by the administrator", { tx: tx.id, terminal: tx.poiid, serviceId: tx.serviceId, refund: tx.refund ? tx.refund.serviceId : undefined, amount: tx.amountMinor, currency: tx.currency });
      return tx;
    },

    resume() {
      const cutoff = deps.now().getTime() - RETENTION_DAYS * 86400_000;
      const all = journal.loadAll((where, err) => log.error("unreadable journal record kept aside", { where, err: String(err) }));
      for (const tx of all) {
        if (isFinal(tx) && Date.parse(tx.updatedAt) < cutoff) continue; // older than the retention: dropped by the compaction below
        txs.set(tx.id, tx);
        byKey.set(keyOf(tx.pairingId, tx.idempotencyKey), tx.id);
      }
      try { journal.compact([...txs.values()]); } catch (e) { log.error("journal compaction failed", { err: (e as Error).message }); }
      for (const tx of txs.values()) {
        if (isFinal(tx)) continue;
        const h = registry.get(tx.terminalId);
        if (!h) { log.error("unfinished payment for a terminal no longer configured", { tx: tx.id, terminal: tx.poiid, state: tx.state }); continue; }
        h.holder = tx.id;
        if (!FINAL_STATES.has(tx.state)) {
          if (tx.state !== "unknown") save(tx, { state: "unknown" });
          log.warn("resolving a payment left unfinished by a restart", { tx: tx.id, terminal: tx.poiid, serviceId: tx.serviceId });
          track(resolvePayment(tx, h).finally(() => release(h, tx)));
        } else {
          if (tx.refund!.state !== "unknown") save(tx, { refund: { ...tx.refund!, state: "unknown", updatedAt: iso() } });
          log.warn("resolving a reversal left unfinished by a restart", { tx: tx.id, terminal: tx.poiid });
          track(resolveReversal(tx, h).finally(() => release(h, tx)));
        }
      }
    },

    async stop() {
      stopped = true;
      stopping.abort();
      for (const wake of [...sleepers]) wake();
      registry.closeAll();
      await Promise.allSettled([...running]);
      flush();
      journal.close();
    },

    async idle() {
      while (running.size) await Promise.allSettled([...running]);
      flush();
    },
  };
}
