/**
 * The database side of the IoT connection, as a test double speaking the reference box's wire
 * format (JSON-RPC bodies `{params}`; answers `{jsonrpc, id, result}` or Odoo's error shape
 * `{jsonrpc, id, error: {code: 200, message: "Odoo Server Error", data: {name, message}}}` with
 * HTTP 200), recording every request a box sends:
 *   POST /iot/setup                          {iot_box: {identifier, mac, ip, token, version, name}, devices}
 *                                            → result: the box's notification channel (a string)
 *   POST /iot/box/update_certificate_status  {identifier, ssl_certificate_end_date} → result: true
 * A registration with a token the database did not hand out is refused (Forbidden). `down()`
 * makes it answer 503, `hang()` makes it never answer (the box's timeout), `up()` restores it.
 * Plain HTTP on loopback by default; `tls` serves HTTPS with the given pair.
 */
import type { Server } from "bun";

export interface OdooBoxRecord { identifier: string; mac: string; ip: string; token: string; version: string; name: string }
export interface SetupCall { at: number; iot_box: OdooBoxRecord; devices: Record<string, { name: string; type: string; manufacturer: string; connection: string; subtype: string }> }
export interface CertStatusCall { at: number; identifier: string; ssl_certificate_end_date: string }

export interface OdooDbDouble {
  url: string;
  token: string;
  dbUuid: string;
  enterpriseCode: string;
  dbName: string;
  setups: SetupCall[];
  certStatus: CertStatusCall[];
  /** Every request, raw (path, body), in order. */
  requests: Array<{ path: string; body: unknown }>;
  /** The connection token in one of the reference's shapes. */
  connectionToken(shape: "pipes" | "base64" | "url"): string;
  /** The boxes the database knows, by identifier (the last registration of each). */
  boxes(): Map<string, SetupCall>;
  down(): void;
  hang(): void;
  up(): void;
  stop(): Promise<void>;
}

export async function startOdooDbDouble(o: { enterpriseCode?: string; dbUuid?: string; tls?: { certPem: string; keyPem: string }; hostname?: string;
  /** Pages served on GET (a POS page on the database's origin). */ pages?: Record<string, () => string> } = {}): Promise<OdooDbDouble> {
  const token = `tok_${crypto.randomUUID().replace(/-/g, "")}`;
  const dbUuid = o.dbUuid ?? crypto.randomUUID();
  const enterpriseCode = o.enterpriseCode ?? "M2401234";
  const dbName = "shop-prod";
  const setups: SetupCall[] = [];
  const certStatus: CertStatusCall[] = [];
  const requests: OdooDbDouble["requests"] = [];
  const known = new Map<string, SetupCall>();
  let mode: "up" | "down" | "hang" = "up";
  const hanging = new Set<() => void>();

  const answer = (id: unknown, result: unknown) => Response.json({ jsonrpc: "2.0", id: id ?? null, result });
  const odooError = (id: unknown, name: string, message: string) =>
    Response.json({ jsonrpc: "2.0", id: id ?? null, error: { code: 200, message: "Odoo Server Error", data: { name, debug: "", message, arguments: [message], context: {} } } });

  const server: Server<undefined> = Bun.serve({
    hostname: o.hostname ?? "127.0.0.1", port: 0, ...(o.tls ? { tls: { cert: o.tls.certPem, key: o.tls.keyPem } } : {}),
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (mode === "hang") return new Promise<Response>((resolve) => { const done = () => { hanging.delete(done); resolve(new Response(null, { status: 503 })); }; hanging.add(done); req.signal.addEventListener("abort", done); });
      if (mode === "down") return new Response("<html><body>503 Service Unavailable</body></html>", { status: 503, headers: { "content-type": "text/html" } });
      const page = req.method === "GET" ? o.pages?.[path] : undefined;
      if (page) return new Response(page(), { headers: { "content-type": "text/html; charset=utf-8" } });
      if (req.method !== "POST") return new Response("Method Not Allowed", { status: 405 });
      let body: any;
      try { body = await req.json(); } catch { return new Response("Bad Request", { status: 400 }); }
      requests.push({ path, body });
      const params = body?.params ?? {};
      if (path === "/iot/setup") {
        const box = params.iot_box;
        if (!box || typeof box.identifier !== "string") return odooError(body.id, "builtins.KeyError", "'identifier'");
        if (box.token !== token) return odooError(body.id, "werkzeug.exceptions.Forbidden", "403 Forbidden: invalid IoT token");
        const call: SetupCall = { at: Date.now(), iot_box: box, devices: params.devices ?? {} };
        setups.push(call);
        known.set(box.identifier, call);
        return answer(body.id, `iot_channel-${dbName}-${box.identifier}`);
      }
      if (path === "/iot/box/update_certificate_status") {
        if (!known.has(params.identifier)) return odooError(body.id, "odoo.exceptions.MissingError", "No IoT box with this identifier");
        certStatus.push({ at: Date.now(), identifier: params.identifier, ssl_certificate_end_date: params.ssl_certificate_end_date });
        return answer(body.id, true);
      }
      return new Response("<html><body>404 Not Found</body></html>", { status: 404, headers: { "content-type": "text/html" } });
    },
  });
  const url = `${o.tls ? "https" : "http"}://${o.hostname ?? "127.0.0.1"}:${server.port}`;
  return {
    url, token, dbUuid, enterpriseCode, dbName, setups, certStatus, requests,
    connectionToken(shape) {
      const pipes = `${url}|${token}|${dbUuid}|${enterpriseCode}`;
      if (shape === "pipes") return pipes;
      if (shape === "base64") return Buffer.from(pipes).toString("base64");
      return `${url}?token=${encodeURIComponent(token)}&db_uuid=${encodeURIComponent(dbUuid)}&enterprise_code=${encodeURIComponent(enterpriseCode)}&db_name=${encodeURIComponent(dbName)}`;
    },
    boxes: () => known,
    down() { mode = "down"; },
    hang() { mode = "hang"; },
    up() { mode = "up"; for (const h of [...hanging]) h(); },
    async stop() { mode = "up"; for (const h of [...hanging]) h(); await server.stop(true); },
  };
}
