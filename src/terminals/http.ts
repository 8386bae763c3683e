/** The one place errors become HTTP responses, and the JSON views the APIs return. */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "../log/index";
import { badRequest, TerminalError } from "./errors";
import { isFinal } from "./payments";
import type { Tx } from "./store";

export function onError(log: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof TerminalError) {
      return c.json({ error: { code: err.code, message: err.message, ...(err.details ?? {}) } }, err.status as 400);
    }
    if (err instanceof HTTPException) return err.getResponse();
    log.error("terminals API failure", { err: err.message, path: c.req.path });
    return c.json({ error: { code: "internal", message: "Internal error; see the box log." } }, 500);
  };
}

/** Reads a JSON body (already size-limited); 415/400 when it is not JSON. */
export async function readJson(c: Context, optional = false): Promise<unknown> {
  const text = await c.req.text();
  if (optional && text.trim() === "") return undefined;
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) throw new TerminalError("content_type_invalid", "Send the body as application/json.", 415);
  try { return JSON.parse(text); } catch { throw badRequest("body_invalid", "The body is not valid JSON."); }
}

export const BODY_LIMIT = 16 * 1024;
export const tooLarge = (c: Context) => c.json({ error: { code: "body_too_large", message: `The body must be at most ${BODY_LIMIT} bytes.` } }, 413);

/** What the POS sees of a payment. Amounts in minor units, like the request. */
export function paymentView(tx: Tx) {
  const o = tx.outcome;
  return {
    id: tx.id,
    status: tx.state,
    final: isFinal(tx),
    terminal: tx.terminalId,
    amount: tx.amountMinor,
    currency: tx.currency,
    reference: tx.reference,
    createdAt: tx.createdAt,
    updatedAt: tx.updatedAt,
    version: tx.version,
    ...(tx.abortRequested ? { abortRequested: true } : {}),
    ...(o ? { result: {
      result: o.result,
      ...(o.errorCondition ? { errorCondition: o.errorCondition } : {}),
      ...(o.authorizedMinor !== undefined ? { authorizedAmount: o.authorizedMinor } : {}),
      ...(o.brand ? { brand: o.brand } : {}),
      ...(o.cardLast4 ? { cardLast4: o.cardLast4 } : {}),
      ...(o.pspReference ? { pspReference: o.pspReference } : {}),
      ...(o.refusalReason ? { refusalReason: o.refusalReason } : {}),
      ...(o.poiTransaction ? { poiTransactionId: o.poiTransaction.transactionId } : {}),
    } } : {}),
    ...(tx.error && !FINAL_OK.has(tx.state) ? { error: tx.error } : {}),
    ...(tx.refund ? { refund: { status: tx.refund.state, reason: tx.refund.reason, ...(tx.refund.error ? { error: tx.refund.error } : {}) } } : {}),
  };
}
const FINAL_OK = new Set(["approved", "declined", "aborted", "refunded"]);

/**
 * A long poll outlives the listener's idle timeout (30 s, src/https/server.ts), which would close
 * the connection under a request still waiting: give this one request `seconds` (Bun's
 * server.timeout). The server comes as the env (src/web/front.ts passes `{ server }`); without
 * one (app.request in tests) there is nothing to do.
 */
export function holdRequest(c: Context, seconds: number): void {
  const server = (c.env as { server?: { timeout?: (req: Request, s: number) => void } } | undefined)?.server;
  try { server?.timeout?.(c.req.raw, Math.ceil(seconds)); } catch {}
}
