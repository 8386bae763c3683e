/**
 * The client of the certificate service, wire-compatible with the reference:
 * POST <base>/odoo-enterprise/iot/x509 with a JSON-RPC body. It only classifies what came
 * back; checking the certificate itself is the lifecycle's job.
 * TLS is verified against the system store (+ NODE_EXTRA_CA_CERTS); tests may pass `ca`.
 */
import type { CertError } from "./codes";

export const X509_PATH = "/odoo-enterprise/iot/x509";
const MAX_REPLY_BYTES = 1 << 20;
const DNS_NAME = /^(?=.{1,253}$)(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$/i;

export interface ProvisioningRequest {
  baseUrl: string;
  dbUuid: string;
  enterpriseCode: string;
  csrPem?: string;
  ip?: string;
  boxId?: string;
}
export interface ProvisioningResult { subjectCn: string; x509Pem: string; privateKeyPem?: string; csrNames?: string[] }
export type ProvisioningOutcome =
  | { ok: true; result: ProvisioningResult }
  | { ok: false; error: CertError; retryAfterMs?: number;
      /** The request failed before any reply and not by a timeout (no route, refused, name not
       *  found): the service did no work, so the box may retry soon (the network is often just
       *  coming up). */
      unreached?: boolean };

export interface ClientOptions {
  timeoutMs?: number;         // the service may run an ACME order while we wait (reference: 95 s)
  ca?: string[];              // extra trusted roots (tests); never disables verification
  fetchImpl?: typeof fetch;
}

export function parseRetryAfter(v: string | null, now: Date): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Math.min(Number(v) * 1000, 24 * 3600_000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now.getTime());
}

async function readCapped(res: Response): Promise<string> {
  const len = Number(res.headers.get("content-length") ?? "0");
  if (len > MAX_REPLY_BYTES) throw new Error(`reply too large (${len} bytes)`);
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_REPLY_BYTES) { await reader.cancel(); throw new Error(`reply too large (over ${MAX_REPLY_BYTES} bytes)`); }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** Why a request failed before an HTTP status, in one line (the diagnosis names the cause). */
const isTimeout = (e: unknown) => { const n = (e as { name?: string })?.name; return n === "TimeoutError" || n === "AbortError"; };

export function describeFetchError(e: unknown): string {
  const err = e as { name?: string; code?: string; message?: string };
  if (isTimeout(e)) return "timeout: the certificate service did not answer in time";
  return [err?.code, err?.message].filter(Boolean).join(": ") || String(e);
}

export async function requestCertificate(req: ProvisioningRequest, opts: ClientOptions = {}, now = () => new Date()): Promise<ProvisioningOutcome> {
  const url = new URL(X509_PATH, req.baseUrl.endsWith("/") ? req.baseUrl : req.baseUrl + "/").toString();
  const params: Record<string, string> = { db_uuid: req.dbUuid, enterprise_code: req.enterpriseCode };
  if (req.csrPem) params.csr = req.csrPem;
  if (req.ip) params.ip = req.ip;
  if (req.boxId) params.box_id = req.boxId;
  const body = JSON.stringify({ jsonrpc: "2.0", method: "call", params });
  const doFetch = opts.fetchImpl ?? fetch;
  let res: Response | null = null;
  let text: string;
  try {
    res = await doFetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body,
      redirect: "manual",
      // A fresh connection each time: the box asks about once a day, and a pooled one may be bound
      // to an address DHCP has since taken away (the request then hangs until its timeout).
      keepalive: false,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 95_000),
      ...(opts.ca ? { tls: { ca: opts.ca } } : {}),
    } as RequestInit);
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      return {
        ok: false,
        error: { name: "ERR_IOT_HTTPS_LOAD_REQUEST_STATUS", status: res.status, detail: `${res.status} ${res.statusText}`.trim() },
        retryAfterMs: parseRetryAfter(res.headers.get("retry-after"), now()),
      };
    }
    text = await readCapped(res);
  } catch (e) {
    return { ok: false, error: { name: "ERR_IOT_HTTPS_LOAD_REQUEST_EXCEPTION", detail: describeFetchError(e) }, ...(res === null && !isTimeout(e) ? { unreached: true } : {}) };
  }
  const noResult = (detail: string): ProvisioningOutcome => ({ ok: false, error: { name: "ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT", detail } });
  let json: unknown;
  try { json = JSON.parse(text); } catch { return noResult("the service's reply is not valid JSON"); }
  if (!json || typeof json !== "object") return noResult("the service's reply is not a JSON object");
  const top = json as Record<string, unknown>;
  if (top.error) return noResult("the service answered with an error");
  const result = top.result as Record<string, unknown> | null | undefined;
  if (!result || typeof result !== "object") return noResult("the service refused to provide a certificate (no result): check eligibility");
  if (result.error) return noResult(`the service refused to provide a certificate: ${String(result.error).slice(0, 200)}`);
  const subjectCn = result.subject_cn, x509Pem = result.x509_pem, privateKeyPem = result.private_key_pem;
  if (typeof subjectCn !== "string" || typeof x509Pem !== "string") return noResult("the reply lacks subject_cn or x509_pem");
  if (!DNS_NAME.test(subjectCn)) return noResult("the reply's subject_cn is not a valid DNS name");
  if (privateKeyPem !== undefined && privateKeyPem !== null && typeof privateKeyPem !== "string") return noResult("the reply's private_key_pem is not a string");
  const names = Array.isArray(result.csr_names) && result.csr_names.length <= 10 && result.csr_names.every((n) => typeof n === "string" && DNS_NAME.test(n)) ? result.csr_names as string[] : undefined;
  return { ok: true, result: { subjectCn, x509Pem, privateKeyPem: privateKeyPem || undefined, csrNames: names } };
}
