/**
 * A real HTTPS certificate service of our own for the box's tests: it speaks the wire format
 * (`POST /odoo-enterprise/iot/x509`, JSON-RPC), signs the box's CSR with a test CA through
 * @peculiar/x509, and can be told to misbehave in each way the box must survive.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { Crypto } from "@peculiar/webcrypto";
import { createTestCA, type TestCA } from "../../testkit/ca";

const webcrypto = new Crypto();
// Passed to each call, not set globally: other tests in this process use the native provider.
const provider = webcrypto as unknown as globalThis.Crypto;
const EC = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export type Fault =
  | "ok" | "refuse" | "timeout" | "status-404" | "status-500" | "status-503" | "invalid-json" | "empty-result"
  | "error-result" | "wrong-key" | "expired" | "other-name" | "key-in-reply"
  /** notBefore a few seconds ahead (a CA that does not backdate, a box clock a little behind) / a day ahead */
  | "starts-in-seconds" | "starts-tomorrow"
  /** a good answer after 400 ms */
  | "slow";

export interface FaultProvisioner {
  url: string;                 // https://127.0.0.1:PORT
  ca: TestCA;                  // trusts the listener AND issues the box certificates
  subjectCn: string;           // "*.<id>.iot.test"
  fault: Fault;
  requests: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

async function importCaKey(pem: string): Promise<CryptoKey> {
  const { createPrivateKey } = await import("node:crypto");
  const der = createPrivateKey(pem).export({ type: "pkcs8", format: "der" });
  return webcrypto.subtle.importKey("pkcs8", der, EC, false, ["sign"]);
}

export async function startFaultProvisioner(opts: { id?: string } = {}): Promise<FaultProvisioner> {
  const ca = createTestCA({ name: "fault provisioner CA" });
  const listener = ca.issue(["localhost"], ["127.0.0.1"]);
  const caKey = await importCaKey(ca.keyPem);
  const caCert = new x509.X509Certificate(ca.certPem);
  const id = opts.id ?? "d73e7513";
  const state: FaultProvisioner = { url: "", ca, subjectCn: `*.${id}.iot.test`, fault: "ok", requests: [], stop: async () => {} };

  const sign = async (publicKey: CryptoKey, names: string[], notBefore: Date, notAfter: Date) => {
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: Math.floor(Math.random() * 1e12).toString(16).padStart(2, "1"),
      subject: `CN=${names[0]}`, issuer: caCert.subject, notBefore, notAfter, signingAlgorithm: EC,
      publicKey, signingKey: caKey,
      extensions: [new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: "dns" as const, value }))),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth])],
    }, provider);
    return cert.toString("pem") + "\n" + ca.certPem;
  };
  const freshKeys = () => webcrypto.subtle.generateKey(EC, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;

  const server = Bun.serve({
    port: 0, hostname: "127.0.0.1",
    tls: { key: listener.keyPem, cert: listener.certPem },
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname !== "/odoo-enterprise/iot/x509" || req.method !== "POST") return new Response("not found", { status: 404 });
      const body = (await req.json().catch(() => ({}))) as { params?: Record<string, unknown> };
      const params = body.params ?? {};
      state.requests.push(params);
      const now = Date.now();
      const names = [state.subjectCn, state.subjectCn.slice(2)];
      const ok = async (pub: CryptoKey, n = names, nb = new Date(now - 60_000), na = new Date(now + 90 * 86_400_000), extra: Record<string, string> = {}) =>
        Response.json({ jsonrpc: "2.0", id: null, result: { subject_cn: state.subjectCn, x509_pem: await sign(pub, n, nb, na), ...extra } });
      const csrPub = async () => {
        const csr = new x509.Pkcs10CertificateRequest(String(params.csr));
        return csr.publicKey.export(EC, ["verify"], webcrypto as unknown as globalThis.Crypto);
      };
      switch (state.fault) {
        case "timeout": await Bun.sleep(30_000); return new Response("late");
        case "slow": await Bun.sleep(400); return ok(await csrPub());
        case "status-404": return new Response("Page not found", { status: 404 });
        case "status-500": return new Response("boom", { status: 500 });
        case "status-503": return new Response("busy", { status: 503, headers: { "retry-after": "120" } });
        case "invalid-json": return new Response("<html>not json", { headers: { "content-type": "application/json" } });
        case "empty-result": return Response.json({ jsonrpc: "2.0", id: null });
        case "error-result": return Response.json({ jsonrpc: "2.0", id: null, result: { error: "not eligible" } });
        case "wrong-key": return ok((await freshKeys()).publicKey);
        case "expired": return ok(await csrPub(), names, new Date(now - 100 * 86_400_000), new Date(now - 86_400_000));
        case "other-name": return ok(await csrPub(), ["*.someone-else.iot.test"]);
        case "starts-in-seconds": return ok(await csrPub(), names, new Date(now + 5_000), new Date(now + 90 * 86_400_000));
        case "starts-tomorrow": return ok(await csrPub(), names, new Date(now + 86_400_000), new Date(now + 90 * 86_400_000));
        case "key-in-reply": {
          const k = await freshKeys();
          const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", k.privateKey);
          return ok(k.publicKey, names, undefined, undefined, { private_key_pem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY") });
        }
        default: return ok(await csrPub());
      }
    },
  });
  state.url = `https://127.0.0.1:${server.port}`;
  state.stop = async () => { await server.stop(true); ca.cleanup(); };
  return state;
}
