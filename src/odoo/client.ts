/**
 * JSON-RPC to the database (and to the pairing service), the reference's shape: POST a JSON body
 * `{jsonrpc: "2.0", method: "call", params, id}`, the answer `{result}` or `{error}`. Every call
 * under a timeout; the outcome classified into our codes. TLS is verified (system store plus
 * NODE_EXTRA_CA_CERTS), never turned off.
 */
import type { OdooCode } from "./codes";

export type RpcOutcome =
  | { ok: true; result: unknown }
  | { ok: false; code: OdooCode; detail: string; status?: number };

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export async function callJsonRpc(url: string, params: unknown, o: { timeoutMs?: number; fetch?: FetchLike } = {}): Promise<RpcOutcome> {
  const f = o.fetch ?? ((u, i) => fetch(u, i));
  let res: Response;
  try {
    res = await f(url, {
      method: "POST", headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", method: "call", params, id: Math.floor(Math.random() * 1e9) }),
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000), redirect: "manual",
      // A fresh connection each call: these calls are rare, and a pooled connection may be bound
      // to an address DHCP has taken away (test/e2e/odoo-live-ip.test.ts).
      keepalive: false,
    });
  } catch (e) {
    return { ok: false, code: "ERR_IOT_ODOO_SETUP_UNREACHABLE", detail: describeFailure(e) };
  }
  const text = await res.text().catch(() => "");
  if (res.status !== 200) return { ok: false, code: "ERR_IOT_ODOO_SETUP_STATUS", detail: `HTTP ${res.status}`, status: res.status };
  let body: any;
  try { body = JSON.parse(text); } catch { return { ok: false, code: "ERR_IOT_ODOO_SETUP_STATUS", detail: "the answer is not JSON", status: 200 }; }
  if (body && typeof body === "object" && body.error) {
    // Odoo's shape ({error: {message, data: {message}}}), or a bare string (the pairing proxy's {error: "expired"})
    const msg = typeof body.error === "string" ? body.error : typeof body.error?.data?.message === "string" ? body.error.data.message : typeof body.error?.message === "string" ? body.error.message : "error";
    return { ok: false, code: "ERR_IOT_ODOO_SETUP_REFUSED", detail: msg.slice(0, 200) };
  }
  return { ok: true, result: body?.result ?? null };
}

function describeFailure(e: unknown): string {
  const err = e as { name?: string; code?: string; message?: string };
  if (err?.name === "TimeoutError" || err?.name === "AbortError") return "timeout";
  return `${err?.code ? `${err.code}: ` : ""}${String(err?.message ?? e).slice(0, 160)}`;
}
