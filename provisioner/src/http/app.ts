// The HTTP face: POST /odoo-enterprise/iot/x509 (JSON-RPC) and GET /health. One place maps
// errors to responses; nothing unexpected leaves as more than "Internal error".
import { Hono } from "hono";
import type { Logger } from "../../../src/log";
import { UpstreamError } from "../failure";
import { errorBody, MAX_BODY_BYTES, parseBody, replyId, resultBody, RpcError, validateRequest } from "../rpc";
import type { CertificateService } from "../service";

export interface AppOptions {
  service: Pick<CertificateService, "handle">;
  logger: Logger;
  health: () => Promise<Record<string, unknown>>;
  /** The client's address, from the request and the server (Bun passes it as the env). */
  sourceOf?: (req: Request, env: unknown) => string;
  /** The pairing routes (src/pairing/app.ts): a box's poll for its connection, a database's claim. */
  pairing?: Hono;
  /** The system-update channel (src/updates/app.ts): manifests and bundles from a folder. */
  updates?: Hono;
}

/** The client stopped sending (hung up mid-body): nothing to answer, nothing wrong here. */
class ClientGone extends Error {}

async function readBody(req: Request): Promise<Uint8Array> {
  try { return new Uint8Array(await req.arrayBuffer()); } catch (e) {
    throw new ClientGone(String((e as Error)?.message ?? e));
  }
}

export function createApp(o: AppOptions) {
  const app = new Hono();

  app.post("/odoo-enterprise/iot/x509", async (c) => {
    let id: string | number | null = null;
    try {
      const declared = Number(c.req.header("content-length") ?? "0");
      if (declared > MAX_BODY_BYTES) throw new RpcError(413, -32600, `The body is larger than ${MAX_BODY_BYTES} bytes.`);
      const buf = await readBody(c.req.raw);
      if (buf.byteLength > MAX_BODY_BYTES) throw new RpcError(413, -32600, `The body is larger than ${MAX_BODY_BYTES} bytes.`);
      let text: string;
      try { text = new TextDecoder("utf-8", { fatal: true }).decode(buf); } catch { throw new RpcError(400, -32700, "Parse error: the body is not UTF-8."); }
      const body = parseBody(text);
      id = replyId(body);
      const req = validateRequest(body);
      const out = await o.service.handle(req, o.sourceOf?.(c.req.raw, c.env) ?? "unknown");
      return c.json(resultBody(id, out.result), 200);
    } catch (e) {
      if (e instanceof ClientGone) {
        o.logger.info("client went away", { stage: "body", error: e.message });
        return c.json(errorBody(id, new RpcError(400, -32700, "The body ended early.")), 400);
      }
      let err: RpcError;
      if (e instanceof RpcError) err = e;
      else if (e instanceof UpstreamError) {
        o.logger.warn("upstream failure", { upstream: e.upstream, class: e.code, status: e.status ?? null, error: e.message, retry_after_s: e.retryAfterS });
        err = new RpcError(503, -32000, "The certificate service cannot issue right now; retry later.", e.retryAfterS);
      } else {
        o.logger.error("unexpected error", { error: String((e as Error)?.message ?? e), stack: (e as Error)?.stack?.split("\n").slice(0, 6).join(" | ") });
        err = new RpcError(500, -32603, "Internal error.");
      }
      // 429s are logged by the attempt limiter (one line per key going over, not one per request).
      if (err.httpStatus >= 400 && err.httpStatus < 500 && err.httpStatus !== 429) o.logger.info("bad request", { status: err.httpStatus, error: err.message });
      const headers: Record<string, string> = err.retryAfterS ? { "retry-after": String(err.retryAfterS) } : {};
      return c.json(errorBody(id, err), err.httpStatus as 400, headers);
    }
  });
  app.all("/odoo-enterprise/iot/x509", (c) => c.json({ error: "Use POST." }, 405, { allow: "POST" }));

  if (o.pairing) app.route("/", o.pairing);
  if (o.updates) app.route("/", o.updates);

  app.get("/health", async (c) => {
    try { return c.json({ status: "ok", ...(await o.health()) }); } catch (e) {
      o.logger.warn("health check failed", { error: String((e as Error).message) });
      return c.json({ status: "unavailable" }, 503);
    }
  });

  app.notFound((c) => c.json({ error: "Not found." }, 404));
  app.onError((e, c) => {
    o.logger.error("unhandled error", { error: String(e?.message ?? e) });
    return c.json({ error: "Internal error." }, 500);
  });
  return app;
}
