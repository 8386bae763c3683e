/**
 * The POS-facing API (mounted at /api/pos on the box's HTTPS name). A browser POS page on
 * another origin reaches it through CORS (configured origins only) and Chrome's Private
 * Network Access preflight; every call but the preflight carries the pairing token.
 */
import { createHash } from "node:crypto";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { streamSSE } from "hono/streaming";
import type { Logger } from "../log/index";
import { TerminalError } from "./errors";
import { BODY_LIMIT, holdRequest, onError, paymentView, readJson, tooLarge } from "./http";
import { constantTimeEqual } from "./nexo-crypto";
import { isFinal, type PaymentEngine } from "./payments";
import type { Registry } from "./registry";
import type { Settings } from "./store";
import { parseIdempotencyKey, parsePaymentBody, parseRefundBody } from "./validate";

export interface PosApiDeps {
  settings(): Settings;
  engine: PaymentEngine;
  registry: Registry;
  logger: Logger;
}

export const sha256Hex = (s: string) => createHash("sha256").update(s).digest("hex");

const ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, Prefer, Last-Event-ID";
const MAX_WAIT_S = 60;

export function findPairing(settings: Settings, authorization: string | undefined): string | null {
  const m = /^Bearer ([A-Za-z0-9_-]{20,200})$/.exec(authorization ?? "");
  if (!m) return null;
  const presented = Buffer.from(sha256Hex(m[1]!), "hex");
  let found: string | null = null;
  for (const p of settings.pairings) if (constantTimeEqual(presented, Buffer.from(p.tokenHash, "hex"))) found = p.id;
  return found;
}

export function createPosApi(deps: PosApiDeps) {
  const app = new Hono<{ Variables: { pairingId: string } }>();
  app.onError(onError(deps.logger));
  app.notFound((c) => c.json({ error: { code: "not_found", message: "No such endpoint." } }, 404));

  // CORS for the configured POS origins only, with the Private Network Access answer.
  app.use("*", async (c, next) => {
    const origin = c.req.header("origin");
    const allowed = origin !== undefined && deps.settings().posOrigins.includes(origin);
    if (origin !== undefined && !allowed) {
      return c.json({ error: { code: "origin_not_allowed", message: `The origin ${origin.slice(0, 200)} is not a configured POS origin (box settings, Terminals).` } }, 403);
    }
    if (allowed) {
      c.header("Access-Control-Allow-Origin", origin);
      c.header("Vary", "Origin");
    }
    if (c.req.method === "OPTIONS") {
      if (!allowed) return c.json({ error: { code: "origin_not_allowed", message: "A preflight needs an Origin header." } }, 403);
      c.header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      c.header("Access-Control-Allow-Headers", ALLOW_HEADERS);
      c.header("Access-Control-Max-Age", "600");
      if (c.req.header("access-control-request-private-network") === "true") c.header("Access-Control-Allow-Private-Network", "true");
      return c.body(null, 204);
    }
    if (allowed) c.header("Access-Control-Expose-Headers", "Location, Idempotent-Replayed");
    await next();
  });

  app.use("*", async (c, next) => {
    const pairingId = findPairing(deps.settings(), c.req.header("authorization"));
    if (!pairingId) {
      c.header("WWW-Authenticate", 'Bearer realm="iotbox-pos"');
      return c.json({ error: { code: "unauthorized", message: "Send the token this POS got when it was paired: Authorization: Bearer <token>." } }, 401);
    }
    c.set("pairingId", pairingId);
    await next();
  });

  app.use("*", bodyLimit({ maxSize: BODY_LIMIT, onError: tooLarge }));

  app.get("/terminals", (c) =>
    c.json({ terminals: deps.registry.all().map((h) => ({ id: h.config.id, poiid: h.config.poiid, state: deps.registry.state(h) })) }));

  app.post("/payments", async (c) => {
    const key = parseIdempotencyKey(c.req.header("idempotency-key"));
    const body = parsePaymentBody(await readJson(c));
    let terminalId = body.terminal;
    if (terminalId === undefined) {
      const all = deps.registry.all();
      if (all.length !== 1) throw new TerminalError("terminal_required", "Name the terminal (field \"terminal\"): this box has " + all.length + " terminals.", 400, { field: "terminal" });
      terminalId = all[0]!.config.id;
    }
    const canonical = JSON.stringify([terminalId, body.amountMinor, body.currency, body.reference]);
    const { tx, created } = deps.engine.start({
      pairingId: c.get("pairingId"), idempotencyKey: key, bodyHash: sha256Hex(canonical),
      terminalId, amountMinor: body.amountMinor, currency: body.currency, reference: body.reference,
    });
    c.header("Location", `./payments/${tx.id}`);
    if (!created) c.header("Idempotent-Replayed", "true");
    // "Prefer: wait=N" (RFC 7240): answer with the result if it comes within N seconds (one round trip).
    const wait = Math.min(Number(/\bwait=(\d{1,3})\b/.exec(c.req.header("prefer") ?? "")?.[1] ?? 0), MAX_WAIT_S);
    if (wait > 0) holdRequest(c, wait + 10);
    const deadline = Date.now() + wait * 1000;
    // The engine hands back the live record (one object, changed in place): compare with the
    // version number seen, not with the object, or the first change ends the wait (an
    // `unknown` while TransactionStatus is still asking).
    let seen = tx.version;
    while (!isFinal(tx) && Date.now() < deadline) {
      await deps.engine.waitForChange(tx.id, seen, deadline - Date.now());
      if (tx.version === seen) break; // the wait ran out
      seen = tx.version;
    }
    return c.json(paymentView(tx), created ? 201 : 200);
  });

  const own = (id: string, pairingId: string) => {
    const tx = deps.engine.get(id);
    if (!tx || tx.pairingId !== pairingId) throw new TerminalError("payment_not_found", "No such payment for this POS.", 404);
    return tx;
  };

  // Long poll: ?version=<the version you have>&wait=<seconds> answers as soon as it changes.
  app.get("/payments/:id", async (c) => {
    let tx = own(c.req.param("id"), c.get("pairingId"));
    const wait = Math.min(Math.max(Number(c.req.query("wait") ?? 0) || 0, 0), MAX_WAIT_S);
    const version = Number(c.req.query("version") ?? tx.version);
    if (wait > 0) { holdRequest(c, wait + 10); tx = (await deps.engine.waitForChange(tx.id, version, wait * 1000)) ?? tx; }
    return c.json(paymentView(tx));
  });

  // Server-sent events: one "payment" event per change, the stream ends with the final state.
  app.get("/payments/:id/events", (c) => {
    const tx = own(c.req.param("id"), c.get("pairingId"));
    return streamSSE(c, async (stream) => {
      let version = -1;
      let wake: (() => void) | null = null;
      const off = deps.engine.subscribe(tx.id, () => wake?.());
      stream.onAbort(() => wake?.());
      try {
        while (!stream.aborted) {
          const now = deps.engine.get(tx.id)!;
          if (now.version !== version) {
            version = now.version;
            await stream.writeSSE({ event: "payment", id: String(version), data: JSON.stringify(paymentView(now)) });
            if (isFinal(now)) break;
          }
          await new Promise<void>((r) => { const t = setTimeout(r, 15_000); wake = () => { clearTimeout(t); r(); }; });
          wake = null;
          if (deps.engine.get(tx.id)!.version === version && !stream.aborted) await stream.write(": keep-alive\n\n");
        }
      } finally { off(); }
    });
  });

  app.post("/payments/:id/abort", async (c) => {
    const tx = own(c.req.param("id"), c.get("pairingId"));
    return c.json(paymentView(await deps.engine.abort(tx.id)), 202);
  });

  app.post("/payments/:id/refund", async (c) => {
    const tx = own(c.req.param("id"), c.get("pairingId"));
    const reason = parseRefundBody(await readJson(c, true));
    const after = deps.engine.refund(tx.id, reason);
    return c.json(paymentView(after), isFinal(after) ? 200 : 202);
  });

  return app;
}
