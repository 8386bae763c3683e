/**
 * Making keys, CSRs and the temporary self-signed certificate, with @peculiar/webcrypto and
 * @peculiar/x509. Loaded only when a key or certificate must be made (first start, renewal):
 * a box that holds a valid certificate does not carry these libraries in memory.
 */
import "reflect-metadata"; // @peculiar/x509 (tsyringe) needs it, before its import
import { Crypto } from "@peculiar/webcrypto";
import * as x509 from "@peculiar/x509";
import { createPrivateKey, createPublicKey, randomBytes } from "node:crypto";

const webcrypto = new Crypto();
// Passed to each call, not set globally: other code in the same process may use the native provider.
const provider = webcrypto as unknown as globalThis.Crypto;
const EC = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export async function generateKeyPem(): Promise<string> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"]);
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return x509.PemConverter.encode(pkcs8, "PRIVATE KEY");
}

async function importEcKeyPair(keyPem: string): Promise<CryptoKeyPair> {
  const priv = createPrivateKey(keyPem);
  const pkcs8 = priv.export({ type: "pkcs8", format: "der" });
  const spki = createPublicKey(priv).export({ type: "spki", format: "der" });
  const privateKey = await webcrypto.subtle.importKey("pkcs8", pkcs8, EC, true, ["sign"]);
  const publicKey = await webcrypto.subtle.importKey("spki", spki, EC, true, ["verify"]);
  return { privateKey, publicKey } as CryptoKeyPair;
}

/**
 * A CSR for the box's own key. Before the first certificate the box does not know its names and
 * sends a placeholder; the service answers with the names a CA will sign (`csr_names`), which
 * the box uses from then on, so that its key never leaves it.
 */
export async function createCsrPem(keyPem: string, names: string[]): Promise<string> {
  const keys = await importEcKeyPair(keyPem);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${names[0]}`,
    keys,
    signingAlgorithm: EC,
    extensions: [new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: "dns" as const, value })))],
  }, provider);
  return csr.toString("pem");
}

/** The placeholder served before a real certificate exists (names: the box's IP and id). */
export async function createTemporaryCertPem(keyPem: string, opts: { boxId: string; ips: string[]; now: Date }): Promise<string> {
  const keys = await importEcKeyPair(keyPem);
  const sans: x509.JsonGeneralName[] = [{ type: "dns", value: `iotbox-${opts.boxId}` }, { type: "dns", value: "localhost" }];
  for (const ip of opts.ips) sans.push({ type: "ip", value: ip });
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString("hex").replace(/^[89a-f]/, "1"),
    name: `CN=iotbox-${opts.boxId} temporary, O=iotbox`,
    notBefore: new Date(opts.now.getTime() - 3600_000),
    notAfter: new Date(opts.now.getTime() + 825 * 86_400_000),
    signingAlgorithm: EC,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sans),
    ],
  }, provider);
  return cert.toString("pem");
}

