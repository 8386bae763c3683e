// The JSON-RPC wire format of the reference service, and validation of what a box sends.
// Pure: a parsed body in, a request or a precise error out.
import { checkBoxIp } from "../naming";

export const MAX_BODY_BYTES = 64 * 1024;
const MAX_CSR = 16 * 1024;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const CONTROL_EXCEPT_NEWLINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/;
export const BOX_ID_RE = /^[a-z0-9]{8,32}$/;

export interface CertRequest {
  id: string | number | null;
  dbUuid: string;
  enterpriseCode: string;
  csr: string | null;
  ip: string | null;
  boxId: string | null;
}

/** An error the box can act on: an HTTP status, a JSON-RPC code and one sentence. */
export class RpcError extends Error {
  constructor(readonly httpStatus: number, readonly rpcCode: number, message: string, readonly retryAfterS?: number) {
    super(message);
  }
}

export const badRequest = (msg: string) => new RpcError(400, -32602, msg);

export function errorBody(id: CertRequest["id"], e: RpcError) {
  return { jsonrpc: "2.0", id, error: { code: e.rpcCode, message: e.message } };
}

export function resultBody(id: CertRequest["id"], result: unknown) {
  return { jsonrpc: "2.0", id, result };
}

/** The id to echo: only a string or number (anything else would be reflected input). */
export function replyId(body: unknown): CertRequest["id"] {
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const id = (body as Record<string, unknown>).id;
    if ((typeof id === "string" && id.length <= 64 && !CONTROL.test(id)) || (typeof id === "number" && Number.isFinite(id))) return id;
  }
  return null;
}

export function parseBody(text: string): unknown {
  try { return JSON.parse(text); } catch { throw new RpcError(400, -32700, "Parse error: the body is not valid JSON."); }
}

function str(params: Record<string, unknown>, key: string, opts: { required: boolean; max: number; multiline?: boolean }): string | null {
  const v = params[key];
  if (v === undefined || v === null || v === "") {
    if (opts.required) throw badRequest(`params.${key} is required.`);
    return null;
  }
  if (typeof v !== "string") throw badRequest(`params.${key} must be a string.`);
  if (v.length > opts.max) throw badRequest(`params.${key} is longer than ${opts.max} characters.`);
  if ((opts.multiline ? CONTROL_EXCEPT_NEWLINES : CONTROL).test(v)) throw badRequest(`params.${key} contains control characters.`);
  return v;
}

export function validateRequest(body: unknown): CertRequest {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new RpcError(400, -32600, "Invalid request: the body must be a JSON-RPC object.");
  const b = body as Record<string, unknown>;
  if (b.jsonrpc !== undefined && b.jsonrpc !== "2.0") throw new RpcError(400, -32600, 'Invalid request: jsonrpc must be "2.0".');
  if (b.method !== undefined && b.method !== "call") throw new RpcError(400, -32601, 'Method not found: only "call" is served.');
  const params = b.params;
  if (!params || typeof params !== "object" || Array.isArray(params)) throw badRequest("params must be an object.");
  const p = params as Record<string, unknown>;
  const dbUuid = str(p, "db_uuid", { required: true, max: 128 })!;
  const enterpriseCode = str(p, "enterprise_code", { required: true, max: 256 })!;
  const csr = str(p, "csr", { required: false, max: MAX_CSR, multiline: true });
  const ip = str(p, "ip", { required: false, max: 15 });
  const boxId = str(p, "box_id", { required: false, max: 32 });
  if (ip !== null && checkBoxIp(ip).ok === false && (checkBoxIp(ip) as { reason: string }).reason === "malformed") throw badRequest("params.ip must be a dotted IPv4 address.");
  if (boxId !== null && !BOX_ID_RE.test(boxId)) throw badRequest("params.box_id must be 8 to 32 lowercase letters or digits.");
  return { id: replyId(body), dbUuid, enterpriseCode, csr, ip, boxId };
}
