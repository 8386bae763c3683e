// The pairing routes, mounted in the provisioner's HTTP app (src/http/app.ts):
//   POST /odoo-enterprise/iot/connect-box   the box's poll, the reference's wire format:
//        {params: {pairing_code, pairing_uuid, serial_number}} → {result: {pairing_code, pairing_uuid}}
//        | {result: {}} (not claimed yet) | {result: {url, token, db_uuid, enterprise_code}} | {error: "expired"}
//   POST /odoo-enterprise/iot/claim-box     the database claims a code:
//        {params: {pairing_code, url, token, db_uuid, enterprise_code}} → {result: {status: "claimed", serial_number}}
// JSON-RPC bodies, at most 16 KiB; errors are `{error: {code, message}}` with a 4xx.
import { Hono, type Context } from "hono";
import type { Logger } from "../../../src/log";
import { errorBody, replyId, resultBody, RpcError } from "../rpc";
import type { PairingService } from "./service";

const MAX_BODY = 16 * 1024;

async function params(c: Context): Promise<{ id: string | number | null; params: Record<string, unknown> }> {
  if (Number(c.req.header("content-length") ?? "0") > MAX_BODY) throw new RpcError(413, -32600, `The body is larger than ${MAX_BODY} bytes.`);
  let text: string;
  try { text = await c.req.text(); } catch { throw new RpcError(400, -32700, "The body ended early."); }
  if (text.length > MAX_BODY) throw new RpcError(413, -32600, `The body is larger than ${MAX_BODY} bytes.`);
  let body: unknown;
  try { body = JSON.parse(text); } catch { throw new RpcError(400, -32700, "Parse error: the body is not JSON."); }
  const p = (body as { params?: unknown } | null)?.params;
  if (!p || typeof p !== "object" || Array.isArray(p)) throw new RpcError(400, -32602, "params must be an object.");
  return { id: replyId(body), params: p as Record<string, unknown> };
}

export function createPairingApp(o: { service: PairingService; logger: Logger }) {
  const app = new Hono();
  const handle = (f: (p: Record<string, unknown>) => Promise<unknown>, raw = false) => async (c: Context) => {
    let id: string | number | null = null;
    try {
      const req = await params(c);
      id = req.id;
      const out = await f(req.params);
      return c.json(raw ? { jsonrpc: "2.0", id, ...(out as object) } : resultBody(id, out), 200);
    } catch (e) {
      const err = e instanceof RpcError ? e : new RpcError(500, -32603, "Internal error.");
      if (!(e instanceof RpcError)) o.logger.error("pairing failure", { error: String((e as Error)?.message ?? e) });
      return c.json(errorBody(id, err), err.httpStatus as 400, err.retryAfterS ? { "retry-after": String(err.retryAfterS) } : {});
    }
  };
  app.post("/odoo-enterprise/iot/connect-box", handle((p) => o.service.connectBox(p), true));
  app.post("/odoo-enterprise/iot/claim-box", handle((p) => o.service.claim(p)));
  for (const p of ["/odoo-enterprise/iot/connect-box", "/odoo-enterprise/iot/claim-box"]) app.all(p, (c) => c.json({ error: "Use POST." }, 405, { allow: "POST" }));
  return app;
}
