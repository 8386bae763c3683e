// Shared by the provisioner's end-to-end tests: a JSON-RPC call, a CSR, a TLS check.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { connect } from "node:tls";
import { createServer } from "node:https";
import type { Fleet } from "../../testkit";

export interface RpcReply { status: number; retryAfter: string | null; body: any }

export async function call(fleet: Fleet, params: Record<string, unknown>, init: { raw?: string; headers?: Record<string, string> } = {}): Promise<RpcReply> {
  const ca = await Bun.file(fleet.caBundleFile).text();
  const r = await fetch(`${fleet.provisioningUrl}/odoo-enterprise/iot/x509`, {
    method: "POST", tls: { ca }, headers: { "content-type": "application/json", ...init.headers },
    body: init.raw ?? JSON.stringify({ jsonrpc: "2.0", method: "call", params }),
  });
  const text = await r.text();
  let body: unknown = text;
  try { body = JSON.parse(text); } catch {}
  return { status: r.status, retryAfter: r.headers.get("retry-after"), body };
}

export async function boxKeyAndCsr(names: string[]) {
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${names[0]}`, keys, signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    extensions: [new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: "dns" as const, value })))] });
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64").replace(/.{64}/g, "$&\n");
  return { csrPem: csr.toString("pem"), keyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8}\n-----END PRIVATE KEY-----\n` };
}

/**
 * Serve HTTPS on loopback with the issued certificate and key, connect with a TLS client that
 * trusts only `rootPem` and asks for `servername` (the box's name "resolved" to loopback).
 * Resolves to the peer certificate's subject CN; rejects when TLS verification fails.
 */
export async function tlsCheck(certPem: string, keyPem: string, rootPem: string, servername: string): Promise<string> {
  const server = createServer({ cert: certPem, key: keyPem }, (_q, s) => s.end("ok"));
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
  const port = (server.address() as { port: number }).port;
  try {
    return await new Promise<string>((resolve, reject) => {
      const sock = connect({ host: "127.0.0.1", port, servername, ca: [rootPem] }, () => {
        const cn = sock.getPeerCertificate().subject?.CN;
        sock.end();
        resolve(Array.isArray(cn) ? cn[0]! : String(cn));
      });
      sock.on("error", reject);
    });
  } finally {
    server.close();
  }
}

export function countLog(fleet: Fleet, msg: string, where: (rec: Record<string, unknown>) => boolean = () => true): number {
  return fleet.provisionerLog().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r.msg === msg && where(r)).length;
}
