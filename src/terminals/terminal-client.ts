/**
 * One terminal's HTTPS transport: POST https://<address>/nexo with the message protected, the
 * reply unprotected. The terminal's certificate must chain to the configured fleet root(s)
 * (and only those) and its CN must be `<POIID>.(test|live).terminal.adyen.com` for the
 * configured POIID; there is no hostname check (terminals have no DNS name).
 *
 * node:https with a keep-alive Agent, not fetch: in Bun 1.4.5 both enforce `ca` and
 * `checkServerIdentity`, but fetch with custom TLS options opens a new TLS connection per
 * request (~1.3 ms on loopback) where the Agent reuses it (~0.25 ms); test/terminals/tls
 * proves the checks hold.
 */
import https from "node:https";
import type { PeerCertificate } from "node:tls";
import { notSetUp, TerminalError } from "./errors";
import { protect, unprotect, type NexoKeys } from "./nexo-crypto";

/** Whether the terminal may have acted on a request that failed. */
export type Delivery = "not_sent" | "rejected" | "unknown";

export class TransportError extends TerminalError {
  constructor(code: string, message: string, readonly delivery: Delivery) {
    super(code, message, 502, { delivery });
  }
}

export interface TerminalEndpoint { address: string; poiid: string; keys: NexoKeys }

export interface TerminalClient {
  /** Sends a clear `{SaleToPOIRequest}`; resolves with the clear `{SaleToPOIResponse}`, or null for an empty 200 (Abort). */
  exchange(message: any, timeoutMs: number, signal?: AbortSignal): Promise<any | null>;
  close(): void;
}

const CN_MISMATCH = "terminal certificate CN";
const MAX_REPLY = 1 << 20;

export function expectedCns(poiid: string): string[] {
  return [`${poiid}.test.terminal.adyen.com`, `${poiid}.live.terminal.adyen.com`];
}

export function checkTerminalCertificate(poiid: string, cert: Pick<PeerCertificate, "subject">): Error | undefined {
  const raw = cert?.subject?.CN as unknown;
  const cn = Array.isArray(raw) ? raw : [raw];
  if (cn.length === 1 && expectedCns(poiid).includes(String(cn[0]))) return undefined;
  return new Error(`${CN_MISMATCH} "${String(raw)}" does not name the configured POIID ${poiid} (expected ${expectedCns(poiid).join(" or ")})`);
}

const UNTRUSTED = /^(UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|CERT_|ERR_TLS|ERR_SSL|HOSTNAME_MISMATCH)/;
const NOT_SENT = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EADDRNOTAVAIL"]);

export function classifyTransportError(err: any, address: string): TransportError {
  if (err instanceof TransportError) return err;
  const code = String(err?.code ?? "");
  const msg = String(err?.message ?? err);
  if (msg.includes(CN_MISMATCH)) return new TransportError("tls_cn_mismatch", `Refused ${address}: the ${msg}.`, "not_sent");
  if (code === "CERT_NOT_YET_VALID") return new TransportError("tls_untrusted", `Refused ${address}: its certificate is not valid yet. Is the box's clock set (NTP)?`, "not_sent");
  if (UNTRUSTED.test(code)) return new TransportError("tls_untrusted", `Refused ${address}: its certificate does not chain to the configured terminal-fleet root (${code}).`, "not_sent");
  if (NOT_SENT.has(code)) return new TransportError("unreachable", `Cannot reach the terminal at ${address} (${code}).`, "not_sent");
  return new TransportError("connection_lost", `The connection to ${address} failed before a reply (${code || msg}).`, "unknown");
}

export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(address.trim());
  const port = m?.[3] ? Number(m[3]) : 8443;
  if (!m || port < 1 || port > 65535) throw new TerminalError("address_invalid", `"${address}" is not a terminal address (IP or host, optional :port).`, 400);
  return { host: (m[1] ?? m[2])!, port };
}

export function createTerminalClient(ep: TerminalEndpoint, fleetRootsPem: string[]): TerminalClient {
  const { host, port } = parseAddress(ep.address);
  if (fleetRootsPem.length === 0) throw notSetUp("fleet_root_missing", "No terminal-fleet root certificate is configured: put the fleet's root certificate(s) as terminal-fleet-roots.pem on the boot partition (SD card), restart the box, then test again.");
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 4,
    ca: fleetRootsPem,
    minVersion: "TLSv1.2",
    checkServerIdentity: (_host: string, cert: PeerCertificate) => checkTerminalCertificate(ep.poiid, cert),
  } as https.AgentOptions);

  async function exchange(message: any, timeoutMs: number, signal?: AbortSignal): Promise<any | null> {
    const body = await protect(message, ep.keys);
    const text = await new Promise<string>((resolve, reject) => {
      let settled = false;
      const fail = (e: unknown) => { if (!settled) { settled = true; clearTimeout(timer); reject(classifyTransportError(e, ep.address)); } };
      const req = https.request({
        host, port, path: "/nexo", method: "POST", agent, servername: undefined,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_REPLY) { req.destroy(); fail(new TransportError("reply_invalid", "The terminal's reply is too large.", "unknown")); }
          else chunks.push(c);
        });
        res.on("end", () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) reject(new TransportError("terminal_http_error", `The terminal answered HTTP ${status}.`, "unknown"));
          else resolve(Buffer.concat(chunks).toString("utf8"));
        });
        res.on("error", fail);
      });
      const timer = setTimeout(() => {
        fail(new TransportError("timeout", `No reply from ${ep.address} within ${timeoutMs} ms.`, "unknown"));
        req.destroy();
      }, timeoutMs);
      req.on("error", fail);
      const onAbort = () => { fail(new TransportError("cancelled", "The box stopped waiting for the terminal.", "unknown")); req.destroy(); };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on("close", () => signal?.removeEventListener("abort", onAbort));
      req.end(body);
    });
    if (text.trim() === "") return null;
    let parsed: any;
    try { parsed = JSON.parse(text); } catch { throw new TransportError("reply_invalid", "The terminal's reply is not JSON.", "unknown"); }
    if (Array.isArray(parsed?.errors)) {
      // e.g. {"errors":["Nexo Service: crypto error (3)"]}: the terminal refused the message itself.
      const what = parsed.errors.map(String).join("; ").slice(0, 200);
      const crypto = /crypto/i.test(what);
      throw new TransportError(crypto ? "terminal_crypto_error" : "terminal_rejected",
        crypto ? `The terminal could not verify the message (${what}): check the key identifier, version and passphrase.` : `The terminal refused the message: ${what}`, "rejected");
    }
    try {
      return await unprotect(text, ep.keys);
    } catch (e) {
      throw new TransportError("reply_unreadable", `The terminal's reply does not verify: ${(e as Error).message}`, "unknown");
    }
  }

  return { exchange, close: () => agent.destroy() };
}
